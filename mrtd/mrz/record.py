"""`MrzRecord`: the facts an MRZ carries, in MRZ form (Doc 9303 Parts 4-7)."""

from __future__ import annotations

from dataclasses import dataclass

from mrtd.model import DocumentFormat, PartialDate, Sex


@dataclass(frozen=True, slots=True)
class MrzRecord:
    """MRZ-level facts of one document.

    Names are in MRZ form (A-Z, components joined by `<`), as they stand in the MRZ (so truncated when
    the name did not fit). `issuing_state` and `nationality` are 3-character fields (`D<<`).
    `document_number` carries no trailing fillers and may exceed 9 characters in TD1 and TD2 (it then
    overflows into the optional data, Part 5 note j / Part 6). `optional_data` carries no trailing
    fillers; `optional_data_2` is TD1 line 2 positions 19-29 only.
    """

    format: DocumentFormat
    document_code: str
    issuing_state: str
    primary_identifier: str
    secondary_identifier: str
    document_number: str
    nationality: str
    date_of_birth: PartialDate
    sex: Sex
    date_of_expiry: PartialDate
    optional_data: str = ""
    optional_data_2: str = ""

    @property
    def lines(self) -> tuple[str, ...]:
        """The MRZ lines (raises `ValidationError` when the record cannot be written)."""
        from mrtd.mrz.formats import build

        return build(self)

    @property
    def check_digits(self) -> dict[str, str]:
        """Each check digit as printed, by name: document_number, date_of_birth, date_of_expiry,
        optional_data (TD3), composite (TD1, TD2, TD3)."""
        from mrtd.mrz.formats import check_digits

        return check_digits(self)

    @property
    def document_number_check_digit(self) -> str:
        return self.check_digits["document_number"]

    @property
    def date_of_birth_check_digit(self) -> str:
        return self.check_digits["date_of_birth"]

    @property
    def date_of_expiry_check_digit(self) -> str:
        return self.check_digits["date_of_expiry"]

    @property
    def composite_check_digit(self) -> str | None:
        """None for visas, which have no composite check digit (Part 7)."""
        return self.check_digits.get("composite")

    @property
    def holder_name(self) -> str:
        """The name as a person reads it: primary, then secondary identifier, fillers as spaces."""
        return " ".join(p for p in (_spaced(self.primary_identifier), _spaced(self.secondary_identifier)) if p)

    def as_dict(self) -> dict[str, str]:
        """Plain fields for JSON output; names with spaces where the MRZ has fillers (`ESPANOLA ESPANOLA`)."""
        return {
            "format": self.format.value,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "primary_identifier": _spaced(self.primary_identifier),
            "secondary_identifier": _spaced(self.secondary_identifier),
            "document_number": self.document_number,
            "nationality": self.nationality,
            "date_of_birth": self.date_of_birth.iso(),
            "sex": self.sex.value,
            "date_of_expiry": self.date_of_expiry.iso(),
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
        }


def _spaced(mrz_name: str) -> str:
    """An MRZ name component with its inner fillers as spaces."""
    return " ".join(part for part in mrz_name.split("<") if part)
