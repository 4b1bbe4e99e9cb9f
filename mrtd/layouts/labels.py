"""Captions, titles, endorsements and sex markers in the issuing State's language plus English, French
and Spanish, chosen by document code.

The words are data (`labels.toml`), and so is what each document code is called (`documents.toml`);
this module only picks and orders them.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mrtd.errors import ConfigurationError
from mrtd.layouts.fonts import is_rtl_text


@functools.lru_cache(maxsize=2)
def _data(name: str) -> Mapping[str, Any]:
    return tomllib.loads(resources.files("mrtd.layouts").joinpath(name).read_text("utf-8"))


def _labels() -> Mapping[str, Any]:
    return _data("labels.toml")


def document_type(document_code: str) -> Mapping[str, str]:
    """The title, number caption and endorsement keys of a document code (`PE`, then `P`)."""
    table = _data("documents.toml")["code"]
    code = document_code.upper().replace("<", "")
    found: Mapping[str, str] | None = table.get(code) or table.get(code[:1])
    if found is None:
        raise ConfigurationError(f"documents.toml: no document type for document code {document_code!r}")
    return found


def translations() -> tuple[str, ...]:
    return tuple(_labels()["translations"])


def language_for_state(state: str) -> str:
    """The national language of a State's documents (`en` when the table does not know the State)."""
    return str(_labels()["state_language"].get(state.replace("<", "").upper(), "en"))


def known_languages() -> frozenset[str]:
    return frozenset(_labels()["label"]["surname"])


def is_rtl(language: str) -> bool:
    return language in _labels()["rtl"]["languages"]


@dataclass(frozen=True, slots=True)
class Caption:
    """A caption split by direction: the national words when they read right-to-left, and the rest."""

    rtl: str
    ltr: str


def _words(table: Mapping[str, str], language: str, what: str) -> list[str]:
    order = [language, *translations()]
    out: list[str] = []
    for lang in order:
        if lang not in table:
            if lang == language:
                continue  # a language without this word falls back to the translations
            raise ConfigurationError(f"labels.toml: {what} has no {lang!r} entry")
        word = table[lang]
        if word not in out:
            out.append(word)
    return out


def _split(words: list[str], language: str, table: Mapping[str, str]) -> Caption:
    if is_rtl(language) and language in table and is_rtl_text(table[language]):
        national = table[language]
        return Caption(national, " / ".join(w for w in words if w != national))
    return Caption("", " / ".join(words))


def caption(key: str, language: str) -> Caption:
    table = _labels()["label"].get(key)
    if table is None:
        raise ConfigurationError(f"labels.toml: no label {key!r}")
    return _split(_words(table, language, f"label.{key}"), language, table)


def title(document_code: str, language: str) -> Caption:
    key = document_type(document_code)["title"]
    table = _labels()["title"].get(key)
    if table is None:
        raise ConfigurationError(f"labels.toml: no document title {key!r} (document code {document_code!r})")
    return _split(_words(table, language, f"title.{key}"), language, table)


def number_caption(document_code: str) -> str:
    """The caption key of the document number: `passport_number` on passports, else `document_number`."""
    return document_type(document_code).get("number", "document_number")


def endorsement(document_code: str, language: str) -> tuple[str, ...]:
    """The standing endorsement of a document code in the national language and English (none: ())."""
    key = document_type(document_code).get("endorsement")
    if key is None:
        return ()
    table = _labels()["endorsement"][key]
    return tuple(dict.fromkeys(table[lang] for lang in (language, "en") if lang in table))


def sex_marker(sex: str, language: str) -> str:
    """`F`, or the national initial with the translation (`Ж/F`) when the national language needs one."""
    code = sex.upper() if sex.upper() in ("F", "M") else "X"
    table = _labels()["sex"]
    national = table.get(language, table["en"])[code]
    return national if national == code else f"{national}/{code}"
