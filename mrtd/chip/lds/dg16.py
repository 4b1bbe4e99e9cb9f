"""DG16 (tag 70): persons to notify (Doc 9303-10 §4.7.16): 02 01 n, then A1, A2, ... one per person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import Tlv, TlvError, only, tlv
from mrtd.chip.lds.fields import partial_date_bytes, read_partial_date
from mrtd.model import PartialDate

TAG = 0x70
CLAUSE = "Doc 9303-10 §4.7.16"


@dataclass(frozen=True, slots=True)
class PersonToNotify:
    name: str  # 5F51, MRZ-style `<` separators
    date_recorded: PartialDate | None = None  # 5F50 yyyymmdd
    telephone: str | None = None  # 5F52
    address: str | None = None  # 5F53


@dataclass(frozen=True, slots=True)
class Dg16:
    persons: tuple[PersonToNotify, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, persons: Sequence[PersonToNotify]) -> Dg16:
        if not 1 <= len(persons) <= 15:  # templates A1..AF
            raise TlvError(f"DG16: needs 1 to 15 persons, got {len(persons)} [{CLAUSE}]")
        body = tlv(0x02, bytes((len(persons),)))
        for i, p in enumerate(persons):
            if not p.name:
                raise TlvError(f"DG16.person[{i}].name: required [{CLAUSE}]")
            inner = b""
            if p.date_recorded is not None:
                inner += tlv(0x5F50, partial_date_bytes(p.date_recorded))
            inner += tlv(0x5F51, p.name.encode("utf-8"))
            if p.telephone:
                inner += tlv(0x5F52, p.telephone.encode("utf-8"))
            if p.address:
                inner += tlv(0x5F53, p.address.encode("utf-8"))
            body += tlv(0xA1 + i, inner)
        return cls(tuple(persons), tlv(TAG, body))

    @classmethod
    def decode(cls, data: bytes) -> Dg16:
        parts = only(data, TAG, "DG16", CLAUSE).children()
        if not parts or parts[0].tag != 0x02 or len(parts[0].value) != 1:
            raise TlvError(f"DG16: must start with the count 02 01 n [{CLAUSE}]")
        persons = tuple(_person(p, i) for i, p in enumerate(parts[1:]))
        if len(persons) != parts[0].value[0]:
            raise TlvError(f"DG16: announces {parts[0].value[0]} persons but holds {len(persons)} [{CLAUSE}]")
        return cls(persons, bytes(data))


def _person(obj: Tlv, i: int) -> PersonToNotify:
    what = f"DG16.person[{i}]"
    if not 0xA1 <= obj.tag <= 0xAF:
        raise TlvError(f"{what}: expected template A1..AF, found {obj.tag:X} [{CLAUSE}]")
    values: dict[int, bytes] = {}
    for e in obj.children():
        if e.tag not in (0x5F50, 0x5F51, 0x5F52, 0x5F53) or e.tag in values:
            raise TlvError(f"{what}: unexpected or repeated tag {e.tag:X} [{CLAUSE}]")
        values[e.tag] = e.value
    if 0x5F51 not in values:
        raise TlvError(f"{what}: the name (5F51) is missing [{CLAUSE}]")

    def text(tag: int) -> str | None:
        if tag not in values:
            return None
        try:
            return values[tag].decode("utf-8")
        except UnicodeDecodeError:
            raise TlvError(f"{what}.{tag:X}: not UTF-8 text [{CLAUSE}]") from None

    date = read_partial_date(values[0x5F50], f"{what}.5F50", CLAUSE) if 0x5F50 in values else None
    return PersonToNotify(text(0x5F51) or "", date, text(0x5F52), text(0x5F53))
