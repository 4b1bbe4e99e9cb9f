"""Captions, titles and sex markers in the issuing State's language plus English, French and Spanish.

The words are data (`labels.toml`); this module only picks and orders them.
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


@functools.lru_cache(maxsize=1)
def _labels() -> Mapping[str, Any]:
    return tomllib.loads(resources.files("mrtd.layouts").joinpath("labels.toml").read_text("utf-8"))


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
    kind = document_code[:1].upper()
    table = _labels()["title"].get(kind)
    if table is None:
        raise ConfigurationError(f"labels.toml: no document title for document code {document_code!r}")
    return _split(_words(table, language, f"title.{kind}"), language, table)


def sex_marker(sex: str, language: str) -> str:
    """`F`, or the national initial with the translation (`Ж/F`) when the national language needs one."""
    code = sex.upper() if sex.upper() in ("F", "M") else "X"
    table = _labels()["sex"]
    national = table.get(language, table["en"])[code]
    return national if national == code else f"{national}/{code}"
