"""National characters to MRZ characters (Doc 9303 Part 3 §6 Tables A, B, C, and the §4.6 punctuation rules).

The issuer's choices (Table A's options, Table B's language column) are site configuration, passed in as
`NameOptions`. A character the tables do not cover is refused with an `InputError` that names it: a
guessed transliteration would put a wrong name into a travel document.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mrtd.errors import ConfigurationError, InputError
from mrtd.mrz._data import load
from mrtd.mrz.charset import LETTERS

CLAUSE_TRANSLITERATION = "Doc 9303-3 §6"
CLAUSE_PUNCTUATION = "Doc 9303-3 §4.6"

CYRILLIC_LANGUAGES = ("be", "bg", "mk", "ru", "sr", "uk")

# §4.6: hyphens, commas and spaces separate name components; apostrophes join the parts with no filler.
_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212,\u060c<")
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u02bb`\u00b4\u02b9\u2032")


@dataclass(frozen=True, slots=True)
class NameOptions:
    """The issuer's transliteration choices (site configuration).

    `latin` overrides Table A where it lists options, e.g. `{"Ñ": "NXX", "Ü": "UXX", "Ä": "A"}`; the
    defaults are the first option (Ä->AE, Å->AA, Ñ->N, Ö->OE, Ü->UE). `cyrillic_language` picks Table B's
    language column ("be", "bg", "mk", "ru", "sr", "uk") or None for the default column.
    """

    latin: Mapping[str, str] = field(default_factory=dict)
    cyrillic_language: str | None = None

    def __post_init__(self) -> None:
        table = load("table_a")["characters"]
        clean: dict[str, str] = {}
        for key, value in self.latin.items():
            ch = unicodedata.normalize("NFC", key).upper()
            entry = table.get(ch)
            if entry is None or len(entry["options"]) < 2:
                raise ConfigurationError(
                    f"name options: {key!r} is not a Table A character with options [{CLAUSE_TRANSLITERATION} Table A]"
                )
            if value not in entry["options"]:
                allowed = ", ".join(entry["options"])
                raise ConfigurationError(
                    f"name options: {key!r} -> {value!r} is not one of Table A's options ({allowed}) "
                    f"[{CLAUSE_TRANSLITERATION} Table A]"
                )
            clean[ch] = value
        object.__setattr__(self, "latin", MappingProxyType(dict(sorted(clean.items()))))
        if self.cyrillic_language is not None and self.cyrillic_language not in CYRILLIC_LANGUAGES:
            raise ConfigurationError(
                f"name options: cyrillic_language {self.cyrillic_language!r} is not one of "
                f"{', '.join(CYRILLIC_LANGUAGES)} [{CLAUSE_TRANSLITERATION} Table B]"
            )

    def __hash__(self) -> int:
        return hash((tuple(self.latin.items()), self.cyrillic_language))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NameOptions):
            return NotImplemented
        return dict(self.latin) == dict(other.latin) and self.cyrillic_language == other.cyrillic_language


DEFAULT_NAME_OPTIONS = NameOptions()


@dataclass(frozen=True, slots=True)
class _Tables:
    simple: dict[str, str]  # Table A, Table B (language column applied) and Table C letters
    cyrillic_first: dict[str, str]  # Table B values for the first character of a component
    arabic_kind: dict[str, str]  # Table C: teh-marbuta, shadda, ignored, not-encoded
    teh_marbuta_end: str


@functools.lru_cache(maxsize=32)
def _tables(options: NameOptions) -> _Tables:
    simple: dict[str, str] = {}
    for ch, entry in load("table_a")["characters"].items():
        simple[ch] = options.latin.get(ch, entry["options"][0])
    lang = options.cyrillic_language
    first: dict[str, str] = {}
    for ch, entry in load("table_b")["characters"].items():
        simple[ch] = entry["languages"].get(lang, entry["default"]) if lang else entry["default"]
        if lang and lang in entry["first_character"]:
            first[ch] = entry["first_character"][lang]
    kinds: dict[str, str] = {}
    end = "XAH"
    for ch, entry in load("table_c")["characters"].items():
        if entry["kind"] == "letter":
            simple[ch] = entry["mrz"]
        else:
            kinds[ch] = entry["kind"]
            if entry["kind"] == "teh-marbuta":
                simple[ch] = entry["mrz"]
                end = entry["end_of_component"]
    return _Tables(simple, first, kinds, end)


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "unnamed character")
    return f"{ch!r} (U+{ord(ch):04X} {name})"


def _is_separator(ch: str) -> bool:
    return ch in _SEPARATORS or ch.isspace()


def components(text: str, options: NameOptions = DEFAULT_NAME_OPTIONS) -> list[str]:
    """The MRZ components (A-Z only) of one name part written in any supported script.

    Spaces, hyphens and commas separate components; apostrophes and other punctuation are dropped
    (§4.6); letters go through Tables A, B and C (§6). Numerals are refused (§4.6).
    """
    tables = _tables(options)
    simple = tables.simple
    s = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).upper())
    out: list[str] = []
    cur: list[str] = []
    last = ""  # MRZ value of the last letter, for shadda
    n = len(s)
    for i, ch in enumerate(s):
        if ch in LETTERS:
            cur.append(ch)
            last = ch
            continue
        value = simple.get(ch)
        if value is not None:
            kind = tables.arabic_kind.get(ch)
            if kind == "teh-marbuta":
                value = tables.teh_marbuta_end if _ends_component(s, i + 1, n, tables) else value
            elif not cur and ch in tables.cyrillic_first:
                value = tables.cyrillic_first[ch]
            cur.append(value)
            last = value
            continue
        if _is_separator(ch):
            if cur:
                out.append("".join(cur))
                cur = []
            last = ""
            continue
        kind = tables.arabic_kind.get(ch)
        if kind == "ignored":
            continue
        if kind == "shadda":
            if not last:
                raise InputError(
                    f"name: shadda with no letter to double in {text!r} [{CLAUSE_TRANSLITERATION} Table C]"
                )
            # A doubled X-digraph keeps one X: XDZ doubled is XDZDZ (App. B, footnote to Table C).
            doubled = last[1:] if len(last) > 1 and last[0] == "X" else last
            cur.append(doubled)
            continue
        if kind == "not-encoded":
            raise InputError(
                f"name: {_describe(ch)} has no MRZ value in Table C; give the name in another form "
                f"[{CLAUSE_TRANSLITERATION} Table C]"
            )
        if ch in _APOSTROPHES:
            continue
        category = unicodedata.category(ch)
        if category == "Nd" or category == "No" or category == "Nl":
            raise InputError(f"name: numeral {_describe(ch)} is not allowed in a name [{CLAUSE_PUNCTUATION}]")
        if category.startswith("P") or category == "Cf":
            continue  # other punctuation is dropped without a filler; format controls (ZWNJ) carry nothing
        raise InputError(
            f"name: cannot transliterate {_describe(ch)}: it is not in Tables A, B or C "
            f"[{CLAUSE_TRANSLITERATION}]"
        )
    if cur:
        out.append("".join(cur))
    return out


def _ends_component(s: str, j: int, n: int, tables: _Tables) -> bool:
    """True when nothing but marks follows position j up to a separator or the end (for teh marbuta)."""
    while j < n:
        ch = s[j]
        kind = tables.arabic_kind.get(ch)
        if kind in ("ignored", "shadda") or unicodedata.category(ch) == "Cf":
            j += 1
            continue
        return _is_separator(ch) or (ch in _APOSTROPHES and j + 1 == n)
    return True


def transliterate(text: str, options: NameOptions = DEFAULT_NAME_OPTIONS) -> str:
    """National characters to MRZ characters: A-Z, with `<` between components (e.g. `TERESA<CANON`).

    Raises `InputError` naming the first character it cannot map.
    """
    return "<".join(components(text, options))
