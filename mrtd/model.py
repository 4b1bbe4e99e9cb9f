"""Plain frozen data shared by every floor: sex, partial dates, document format and code, holder, document.

These are the application-level facts as the issuing office knows them (names may be in national
characters). The MRZ floor derives its machine-readable form from them; nothing here knows Doc 9303's
layouts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from mrtd.errors import InputError


class Sex(Enum):
    """Sex as Doc 9303 Part 3 §4.8 knows it: F, M, or unspecified (X in the VIZ, `<` in the MRZ)."""

    FEMALE = "F"
    MALE = "M"
    UNSPECIFIED = "X"

    @property
    def mrz(self) -> str:
        return "<" if self is Sex.UNSPECIFIED else self.value

    @classmethod
    def parse(cls, text: str) -> Sex:
        t = text.strip().upper()
        if t in ("", "<", "X"):
            return cls.UNSPECIFIED
        try:
            return cls(t)
        except ValueError:
            raise InputError(f"sex: {text!r} is not F, M or X") from None


class DocumentFormat(Enum):
    """The five machine-readable formats of Doc 9303 Parts 4 to 7."""

    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRVA = "MRV-A"
    MRVB = "MRV-B"

    @property
    def line_count(self) -> int:
        return 3 if self is DocumentFormat.TD1 else 2

    @property
    def line_length(self) -> int:
        return {"TD1": 30, "TD2": 36, "TD3": 44, "MRV-A": 44, "MRV-B": 36}[self.value]

    @property
    def is_visa(self) -> bool:
        return self in (DocumentFormat.MRVA, DocumentFormat.MRVB)

    @classmethod
    def parse(cls, text: str) -> DocumentFormat:
        t = text.strip().upper().replace("_", "-")
        aliases = {"MRVA": "MRV-A", "MRVB": "MRV-B"}
        try:
            return cls(aliases.get(t, t))
        except ValueError:
            raise InputError(f"format: {text!r} is not one of TD1, TD2, TD3, MRV-A, MRV-B") from None


_CODE = re.compile(r"^[A-Z][A-Z<]?$")


@dataclass(frozen=True, slots=True)
class DocumentCode:
    """The first two MRZ characters (`PP`, `P<`, `ID`, `I<`, `V<`, ...). A single letter means `X<`."""

    value: str

    def __post_init__(self) -> None:
        v = self.value.upper()
        if not _CODE.match(v):
            raise InputError(f"document.code: {self.value!r} is not one or two MRZ letters")
        object.__setattr__(self, "value", v.ljust(2, "<"))

    @property
    def kind(self) -> str:
        """The first letter: P (passport), I/A/C (official travel document), V (visa)."""
        return self.value[0]

    def __str__(self) -> str:
        return self.value


_PARTIAL = re.compile(r"^(\d{4}|XXXX)-(\d{2}|XX)-(\d{2}|XX)$")


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date whose parts may be unknown (Doc 9303 Part 3 §4.7: `XX` in the application, `<` in the MRZ).

    A known day with an unknown month is refused: it means nothing.
    """

    year: int | None
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.year is not None and not 1 <= self.year <= 9999:
            raise InputError(f"year {self.year} is out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise InputError(f"month {self.month} is not 1..12")
        if self.day is not None:
            if self.month is None:
                raise InputError("a day is given with an unknown month")
            # With an unknown year, allow 29 February (a leap year may have been meant).
            year = self.year if self.year is not None else 2000
            try:
                dt.date(year, self.month, self.day)
            except ValueError:
                raise InputError(f"day {self.day} does not exist in month {self.month}") from None

    @classmethod
    def of(cls, d: dt.date) -> PartialDate:
        return cls(d.year, d.month, d.day)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """`1974-08-12`, `1974-08-XX`, `1974-XX-XX` or `XXXX-XX-XX` (lower-case x accepted)."""
        m = _PARTIAL.match(text.strip().upper())
        if not m:
            raise InputError(f"{text!r} is not a date (YYYY-MM-DD, with XX for unknown parts)")
        y, mo, d = (None if p.startswith("X") else int(p) for p in m.groups())
        return cls(y, mo, d)

    @property
    def is_complete(self) -> bool:
        return self.year is not None and self.month is not None and self.day is not None

    def to_date(self) -> dt.date:
        if self.year is None or self.month is None or self.day is None:
            raise InputError(f"{self.iso()} is not a complete date")
        return dt.date(self.year, self.month, self.day)

    def earliest(self) -> dt.date | None:
        """The first day this partial date can mean (None when the year is unknown)."""
        if self.year is None:
            return None
        return dt.date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        y = f"{self.year:04d}" if self.year is not None else "XXXX"
        m = f"{self.month:02d}" if self.month is not None else "XX"
        d = f"{self.day:02d}" if self.day is not None else "XX"
        return f"{y}-{m}-{d}"

    def __str__(self) -> str:
        return self.iso()


@dataclass(frozen=True, slots=True)
class Holder:
    """The person the document is issued to. Names are as the office wrote them (any script).

    The `*_latin` fields are the authority's own spelling in Latin letters, printed in the VIZ in place
    of the MRZ transliteration when the name (or place) is written in another script (Doc 9303-3 §3:
    the VIZ may spell a name differently from the MRZ).
    """

    primary_identifier: str
    secondary_identifier: str
    nationality: str
    date_of_birth: PartialDate
    sex: Sex
    place_of_birth: str = ""
    primary_identifier_latin: str = ""
    secondary_identifier_latin: str = ""
    place_of_birth_latin: str = ""
    personal_number: str = ""
    name_in_national_characters: str = ""
    other_names: tuple[str, ...] = ()
    address: str = ""
    telephone: str = ""
    profession: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    """One travel document: what it is, who issued it, its dates, and its holder.

    `number` is None until the issuing office allocates one. `optional_data_2` is the second optional
    data field that only TD1 has (line 2, positions 19-29). `can` is the 6-digit card access number
    for PACE, when the document prints one. `observations` is the office's own endorsement text (e.g.
    the destination of an emergency travel document), printed after the document type's standing one.
    """

    code: DocumentCode
    format: DocumentFormat
    issuing_state: str
    holder: Holder
    date_of_expiry: dt.date
    date_of_issue: dt.date | None = None
    number: str | None = None
    authority: str = ""
    optional_data: str = ""
    optional_data_2: str = ""
    can: str = ""
    observations: str = ""


@dataclass(frozen=True, slots=True)
class Application:
    """An application as read from a file: the document to issue and the images that go with it.

    Image paths are already resolved against the application file's folder.
    """

    document: Document
    portrait: Path | None = None
    signature: Path | None = None
    source: str = ""
    fingerprints: tuple[tuple[str, Path], ...] = ()  # ("right-index", path), ... for DG3
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
