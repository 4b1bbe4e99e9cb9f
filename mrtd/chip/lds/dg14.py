"""DG14 (tag 6E): SecurityInfos for Chip Authentication, PACE and ECDSA Active Authentication
(Doc 9303-10 §4.7.14, Doc 9303-11 §9.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from mrtd.asn1.tlv import only, tlv
from mrtd.chip.lds.securityinfos import SecurityInfo, SecurityInfos

TAG = 0x6E
CLAUSE = "Doc 9303-10 §4.7.14"


@dataclass(frozen=True, slots=True)
class Dg14:
    security_infos: SecurityInfos
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, infos: Sequence[SecurityInfo]) -> Dg14:
        si = SecurityInfos.create(infos)
        return cls(si, tlv(TAG, si.raw))

    @classmethod
    def decode(cls, data: bytes) -> Dg14:
        return _decode(bytes(data))


@lru_cache(maxsize=8)  # a personalisation reads DG14 in its plan check, for PACE and for Chip Authentication
def _decode(data: bytes) -> Dg14:
    top = only(data, TAG, "DG14", CLAUSE)
    return Dg14(SecurityInfos.decode(top.value, "DG14.SecurityInfos"), data)
