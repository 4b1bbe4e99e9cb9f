"""EF.CardAccess: the unsigned SecurityInfos in the master file, at least one PACEInfo (Doc 9303-11 §9.2.12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import TlvError
from mrtd.chip.lds.securityinfos import PaceInfo, SecurityInfo, SecurityInfos

CLAUSE = "Doc 9303-11 §9.2.12"


@dataclass(frozen=True, slots=True)
class CardAccess:
    security_infos: SecurityInfos
    raw: bytes = field(repr=False)

    @property
    def pace_infos(self) -> tuple[PaceInfo, ...]:
        return self.security_infos.of_type(PaceInfo)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, infos: Sequence[SecurityInfo]) -> CardAccess:
        if not any(isinstance(i, PaceInfo) for i in infos):
            raise TlvError(f"EF.CardAccess: at least one PACEInfo is required [{CLAUSE}]")
        si = SecurityInfos.create(infos)
        return cls(si, si.raw)

    @classmethod
    def decode(cls, data: bytes) -> CardAccess:
        si = SecurityInfos.decode(data, "EF.CardAccess")
        return cls(si, bytes(data))
