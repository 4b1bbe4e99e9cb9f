"""EF.CVCA (FID 011C in the eMRTD application): the Certification Authority References of the chip's
Terminal Authentication trust points, most recent first, each as `42 L CAR`, the file padded with zeros
to 36 bytes (BSI TR-03110-1 §A.1.2.5). A terminal reads it to pick the certificate chain to send."""

from __future__ import annotations

from collections.abc import Sequence

from mrtd.asn1.tlv import TlvError, read_tlv, tlv

SIZE = 36
CLAUSE = "TR-03110-1 §A.1.2.5"


def create(cars: Sequence[str]) -> bytes:
    if not 1 <= len(cars) <= 2:
        raise TlvError(f"EF.CVCA: one or two CARs, got {len(cars)} [{CLAUSE}]")
    body = b"".join(tlv(0x42, car.encode("latin-1")) for car in cars)
    if len(body) > SIZE or any(len(c) > 16 for c in cars):
        raise TlvError(f"EF.CVCA: CARs of at most 16 characters [{CLAUSE}]")
    return body + bytes(SIZE - len(body))


def decode(data: bytes) -> list[str]:
    out, pos = [], 0
    while pos < len(data) and data[pos] == 0x42:
        obj, pos = read_tlv(data, pos)
        out.append(obj.value.decode("latin-1"))
    if not out or any(data[pos:]):
        raise TlvError(f"EF.CVCA: not 42 CAR objects followed by zero padding [{CLAUSE}]")
    return out
