"""Dates in the MRZ (YYMMDD, `<` for unknown parts; Doc 9303 Part 3 §4.7) and in the VIZ (Part 3 §3.8).

Two-digit years are resolved against a reference date passed in (nothing here reads the clock):
  - date of birth: the latest year not after the reference such that the date is not after it,
    i.e. the 100 years up to the reference;
  - date of expiry: the year within [reference year - 50, reference year + 49].
"""

from __future__ import annotations

import datetime as dt

from mrtd.errors import InputError
from mrtd.model import PartialDate

CLAUSE_DATES = "Doc 9303-3 §4.7"
CLAUSE_VIZ_DATES = "Doc 9303-3 §3.8"

_DIGITS = frozenset("0123456789")

# Part 3 §3.8 Table 1: abbreviations of months in English, French and Spanish.
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    "fr": ("JAN", "FÉV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOÛT", "SEPT", "OCT", "NOV", "DÉC"),
    "es": ("ENE", "FEB", "MAR", "ABR", "MAYO", "JUN", "JUL", "AGO", "SEPT", "OCT", "NOV", "DIC"),
}


def encode_date(d: PartialDate) -> str:
    """YYMMDD with `<<` for each unknown part."""
    y = f"{d.year % 100:02d}" if d.year is not None else "<<"
    m = f"{d.month:02d}" if d.month is not None else "<<"
    day = f"{d.day:02d}" if d.day is not None else "<<"
    return y + m + day


def split_date(text: str) -> tuple[int | None, int | None, int | None]:
    """The (yy, mm, dd) parts of an MRZ date (None where `<<`); raises `InputError` when malformed."""
    if len(text) != 6:
        raise InputError(f"{text!r} is not 6 characters (YYMMDD) [{CLAUSE_DATES}]")
    parts: list[int | None] = []
    for k in range(0, 6, 2):
        pair = text[k : k + 2]
        if pair == "<<":
            parts.append(None)
        elif pair[0] in _DIGITS and pair[1] in _DIGITS:
            parts.append(int(pair))
        else:
            raise InputError(f"{text!r}: {pair!r} is neither two digits nor '<<' [{CLAUSE_DATES}]")
    return parts[0], parts[1], parts[2]


def _checked(year: int | None, month: int | None, day: int | None, text: str) -> PartialDate:
    if month is not None and not 1 <= month <= 12:
        raise InputError(f"{text!r}: month {month:02d} does not exist [{CLAUSE_DATES}]")
    if day is not None and month is None:
        raise InputError(f"{text!r}: a day with an unknown month [{CLAUSE_DATES}]")
    if day is not None and month is not None:
        try:
            dt.date(year if year is not None else 2000, month, day)
        except ValueError:
            where = f" {year}" if year is not None else ""
            raise InputError(
                f"{text!r}: day {day:02d} does not exist in month {month:02d}{where} [{CLAUSE_DATES}]"
            ) from None
    return PartialDate(year, month, day)


def check_date_text(text: str) -> PartialDate:
    """Validate an MRZ date without a century: the year is kept as 2000 + YY (a leap century), or None."""
    yy, mm, dd = split_date(text)
    return _checked(None if yy is None else 2000 + yy, mm, dd, text)


def birth_date(text: str, reference: dt.date) -> PartialDate:
    """An MRZ date of birth, its century chosen so that it is not after `reference`."""
    yy, mm, dd = split_date(text)
    if yy is None:
        return _checked(None, mm, dd, text)
    year = reference.year - (reference.year - yy) % 100
    earliest = dt.date(year, mm or 1, dd or 1) if _valid_ymd(year, mm or 1, dd or 1) else None
    if earliest is None or earliest > reference:
        year -= 100
    return _checked(year, mm, dd, text)


def expiry_date(text: str, reference: dt.date) -> PartialDate:
    """An MRZ date of expiry, its century chosen within [reference year - 50, reference year + 49]."""
    yy, mm, dd = split_date(text)
    if yy is None:
        return _checked(None, mm, dd, text)
    low = reference.year - 50
    return _checked(low + (yy - low) % 100, mm, dd, text)


def _valid_ymd(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def viz_date(d: PartialDate | dt.date, language: str = "en", *, numeric: bool = False) -> str:
    """The VIZ form of a date (Part 3 §3.8): `12 AUG 1974`; `language="en/fr"` gives `12 AUG/AOÛT 1974`;
    `numeric=True` gives `12 08 1974` (the numeric form §3.8 allows; `language` is then not used).

    Unknown parts are written with X: `XX XX 1942`. `language` is one or more of en, fr, es joined by `/`.
    """
    if isinstance(d, dt.date):
        d = PartialDate.of(d)
    # PartialDate.iso() writes each part, X for an unknown one: YYYY-MM-DD.
    year, month, day = d.iso().split("-")
    if numeric:
        return f"{day} {month} {year}"
    langs = [p.strip().lower() for p in language.split("/")]
    for lang in langs:
        if lang not in _MONTHS:
            raise InputError(f"viz date: language {lang!r} is not en, fr or es [{CLAUSE_VIZ_DATES} Table 1]")
    if d.month is not None:
        month = "/".join(dict.fromkeys(_MONTHS[lang][d.month - 1] for lang in langs))
    return f"{day} {month} {year}"
