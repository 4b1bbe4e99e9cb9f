"""DG11 (tag 6B): additional personal details (Doc 9303-10 §4.7.11), every tag of Table 42."""

from __future__ import annotations

from dataclasses import dataclass

from mrtd.chip.lds.fields import FieldSpec, TagListGroup
from mrtd.model import PartialDate

TAG = 0x6B
CLAUSE = "Doc 9303-10 §4.7.11"
SPECS = (
    FieldSpec(0x5F0E, "full_name", "text"),
    FieldSpec(0xA0, "other_names", "list", 0x5F0F),
    FieldSpec(0x5F10, "personal_number", "text"),
    FieldSpec(0x5F2B, "date_of_birth", "date"),
    FieldSpec(0x5F11, "place_of_birth", "text"),
    FieldSpec(0x5F42, "address", "text"),
    FieldSpec(0x5F12, "telephone", "text"),
    FieldSpec(0x5F13, "profession", "text"),
    FieldSpec(0x5F14, "title", "text"),
    FieldSpec(0x5F15, "personal_summary", "text"),
    FieldSpec(0x5F16, "proof_of_citizenship", "bytes"),
    FieldSpec(0x5F17, "other_td_numbers", "text"),
    FieldSpec(0x5F18, "custody_information", "text"),
)


@dataclass(frozen=True, slots=True)
class Dg11Fields:
    """The values; names use `<` separators as in the MRZ (`SMITH<<JOHN<J`), text is UTF-8."""

    full_name: str | None = None
    other_names: tuple[str, ...] = ()
    personal_number: str | None = None
    date_of_birth: PartialDate | None = None
    place_of_birth: str | None = None
    address: str | None = None
    telephone: str | None = None
    profession: str | None = None
    title: str | None = None
    personal_summary: str | None = None
    proof_of_citizenship: bytes | None = None
    other_td_numbers: str | None = None
    custody_information: str | None = None


@dataclass(frozen=True, slots=True)
class Dg11(TagListGroup[Dg11Fields]):
    TAG = TAG
    NAME = "DG11"
    CLAUSE = CLAUSE
    SPECS = SPECS
    FIELDS = Dg11Fields
