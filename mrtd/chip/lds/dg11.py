"""DG11 (tag 6B): additional personal details (Doc 9303-10 §4.7.11), every tag of Table 42."""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from typing import Any

from mrtd.chip.lds.fields import FieldSpec, decode_fields, encode_fields
from mrtd.chip.lds.tlv import Tlv, only
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
class Dg11:
    fields: Dg11Fields
    tag_list: tuple[int, ...]
    unknown: tuple[Tlv, ...] = ()
    raw: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, fields: Dg11Fields) -> Dg11:
        return cls.decode(encode_fields(SPECS, {f.name: getattr(fields, f.name) for f in dc_fields(fields)}, TAG, "DG11", CLAUSE))

    @classmethod
    def decode(cls, data: bytes) -> Dg11:
        top = only(data, TAG, "DG11", CLAUSE)
        values: dict[str, Any]
        values, listed, extra = decode_fields(SPECS, top, "DG11", CLAUSE)
        return cls(Dg11Fields(**values), listed, extra, bytes(data))
