"""DG13 (tag 6D): optional details, issuer-defined (Doc 9303-10 §4.7.13); kept as opaque bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

from mrtd.asn1.tlv import only, tlv

TAG = 0x6D
CLAUSE = "Doc 9303-10 §4.7.13"


@dataclass(frozen=True, slots=True)
class Dg13:
    content: bytes  # the value inside tag 6D, whatever the issuer put there
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, content: bytes) -> Dg13:
        return cls(bytes(content), tlv(TAG, content))

    @classmethod
    def decode(cls, data: bytes) -> Dg13:
        return cls(only(data, TAG, "DG13", CLAUSE).value, bytes(data))
