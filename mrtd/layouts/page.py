"""The view-model of a printed page: plain values, already in their VIZ form.

The renderer draws exactly these; it never looks at a Document. Whoever builds a `PageData` (the CLI or
the issuance pipeline) formats the dates (Doc 9303 Part 3 §3.8), transliterates the names and builds the
MRZ lines with the MRZ floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mrtd.errors import InputError
from mrtd.layouts.labels import sex_marker

_MRZ_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


@dataclass(frozen=True, slots=True)
class PageData:
    """What a data page shows.

    `surname`/`given_names` are the names as the office wrote them (any script);
    `surname_latin`/`given_names_latin` their Latin form, printed beside them when different: the
    authority's own spelling when it gave one, else the MRZ transliteration. `place_of_birth_latin`
    likewise. `sex` is `F`, `M` or `X`; dates are VIZ strings; `mrz` the lines to print in OCR-B.
    `observations` are paragraphs (the document type's standing endorsement, then the office's own).
    The seal is either a barcode's modules (`seal_modules`: rows of `1` dark / `0` light, quiet zone
    included, drawn as vectors) or an image (`seal`).
    """

    document_code: str
    issuing_state: str
    issuing_state_name: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    mrz: tuple[str, ...]
    language: str = "en"
    surname_latin: str = ""
    given_names_latin: str = ""
    name_national: str = ""
    place_of_birth: str = ""
    place_of_birth_latin: str = ""
    personal_number: str = ""
    date_of_issue: str = ""
    authority: str = ""
    address: str = ""
    can: str = ""
    observations: tuple[str, ...] = ()
    passport_number: str = ""
    number_of_entries: str = ""
    duration_of_stay: str = ""
    seal_modules: tuple[str, ...] = ()
    portrait: bytes | None = field(default=None, repr=False)
    signature: bytes | None = field(default=None, repr=False)
    seal: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for i, line in enumerate(self.mrz):
            bad = sorted(set(line) - _MRZ_ALPHABET)
            if bad:
                raise InputError(f"mrz.line{i + 1}: characters {''.join(bad)!r} are not MRZ characters "
                                 "[Doc 9303-3 §4.3]")
        if self.can and not (len(self.can) == 6 and self.can.isdigit()):
            raise InputError("can: a card access number is 6 digits [Doc 9303-11 §4.4]")
        rows = self.seal_modules
        if rows and (len({len(r) for r in rows}) != 1 or any(set(r) - {"0", "1"} for r in rows)):
            raise InputError("seal_modules: rows of equal length made of 0 and 1 are required")

    def values(self, name: str) -> tuple[str, ...]:
        """The text lines of a VIZ field (a name in national characters, then its transliteration)."""
        if name == "type":
            return (self.document_code.replace("<", ""),)
        if name == "sex":
            return (sex_marker(self.sex, self.language),)
        if name == "surname":
            return _with_latin(self.surname, self.surname_latin)
        if name == "given_names":
            return _with_latin(self.given_names, self.given_names_latin)
        if name == "place_of_birth":
            return _with_latin(self.place_of_birth, self.place_of_birth_latin)
        if name == "observations":
            return tuple(p for p in self.observations if p)
        value: str = getattr(self, name)
        return (value,) if value else ()


def _with_latin(national: str, latin: str) -> tuple[str, ...]:
    if latin and latin.casefold() != national.casefold():
        return (national, latin)
    return (national,) if national else ()
