"""DG1 (tag 61): the MRZ as one run of ASCII characters under tag 5F1F (Doc 9303-10 §4.7.1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import TlvError, expect, only, tlv

TAG = 0x61
CLAUSE = "Doc 9303-10 §4.7.1"
# characters per line by total length: TD1 3 x 30, TD2/MRV-B 2 x 36, TD3/MRV-A 2 x 44
_LINE_LENGTH = {90: 30, 72: 36, 88: 44}
_MRZ_CHARS = re.compile(r"^[A-Z0-9<]*$")


@dataclass(frozen=True, slots=True)
class Dg1:
    mrz: str  # all lines concatenated, no line breaks
    raw: bytes = field(repr=False)

    @property
    def lines(self) -> tuple[str, ...]:
        n = _LINE_LENGTH[len(self.mrz)]
        return tuple(self.mrz[i : i + n] for i in range(0, len(self.mrz), n))

    @property
    def document_code(self) -> str:
        return self.mrz[0:2]

    @property
    def issuing_state(self) -> str:
        return self.mrz[2:5]

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, lines: Sequence[str]) -> Dg1:
        mrz = "".join(lines)
        _check(mrz)
        return cls(mrz, tlv(TAG, tlv(0x5F1F, mrz.encode("ascii"))))

    @classmethod
    def decode(cls, data: bytes) -> Dg1:
        top = only(data, TAG, "DG1", CLAUSE)
        inner = top.children()
        if len(inner) != 1:
            raise TlvError(f"DG1: expected one 5F1F object, found {len(inner)} [{CLAUSE}]")
        value = expect(inner[0], 0x5F1F, "DG1", CLAUSE).value
        try:
            mrz = value.decode("ascii")
        except UnicodeDecodeError:
            raise TlvError(f"DG1.5F1F: the MRZ is not ASCII [{CLAUSE}]") from None
        _check(mrz)
        return cls(mrz, bytes(data))


def _check(mrz: str) -> None:
    if len(mrz) not in _LINE_LENGTH:
        raise TlvError(f"DG1.5F1F: the MRZ has {len(mrz)} characters, not 88 (TD3), 90 (TD1) or 72 (TD2) [{CLAUSE}]")
    if not _MRZ_CHARS.match(mrz):
        raise TlvError("DG1.5F1F: the MRZ holds characters other than A-Z, 0-9 and < [Doc 9303-3 §4.3]")
