"""The few ASN.1 DER pieces the LDS needs: OIDs, INTEGERs, strings, AlgorithmIdentifiers.

The encoders of INTEGER, OID, SEQUENCE and OCTET STRING are the PKI's (`mrtd.pki._der`), re-exported.
Written by hand (on top of `tlv`) rather than through pyasn1 because EF.SOD and SecurityInfos must keep
the exact bytes they were read from, and because building a whole LDS must take well under a millisecond.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from mrtd.chip.lds.tlv import Tlv, TlvError, expect, tlv
from mrtd.pki._der import der_int, der_oid
from mrtd.pki._der import octets as octets
from mrtd.pki._der import seq as seq

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18

integer = der_int  # minimal two's complement (X.690 §8.3)
oid = der_oid  # the complete 06 L ... encoding of a dotted OID, validated and cached


def set_of(*items: bytes) -> bytes:
    """A DER SET OF: members sorted by their encodings (X.690 §11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def printable(text: str) -> bytes:
    return tlv(PRINTABLE_STRING, text.encode("ascii"))


def context(n: int, value: bytes, *, constructed: bool = True) -> bytes:
    return tlv((0xA0 if constructed else 0x80) | n, value)


@lru_cache(maxsize=512)
def _oid_text(body: bytes) -> str:
    if not body or body[-1] & 0x80:
        raise TlvError("OID: empty or truncated subidentifier [X.690 §8.19]")
    arcs: list[int] = []
    value = 0
    fresh = True
    for b in body:
        if fresh and b == 0x80:
            raise TlvError("OID: subidentifier with a leading 0x80 byte [X.690 §8.19.2]")
        value = (value << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def read_oid(obj: Tlv, what: str) -> str:
    expect(obj, OID, what, "X.690 §8.19")
    return _oid_text(obj.value)


def read_int(obj: Tlv, what: str) -> int:
    expect(obj, INTEGER, what, "X.690 §8.3")
    if not obj.value:
        raise TlvError(f"{what}: empty INTEGER [X.690 §8.3.1]")
    return int.from_bytes(obj.value, "big", signed=True)


def read_octets(obj: Tlv, what: str) -> bytes:
    return expect(obj, OCTET_STRING, what, "X.690 §8.7").value


def read_string(obj: Tlv, what: str) -> str:
    if obj.tag not in (PRINTABLE_STRING, UTF8_STRING, 0x16, 0x1A):
        raise TlvError(f"{what}: expected a character string, found tag {obj.tag:X}")
    try:
        return obj.value.decode("utf-8")
    except UnicodeDecodeError:
        raise TlvError(f"{what}: not valid text") from None


def utc_time(when: dt.datetime) -> bytes:
    """UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)."""
    w = when.astimezone(dt.UTC)
    if w.year < 2050:
        return tlv(UTC_TIME, w.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(GENERALIZED_TIME, w.strftime("%Y%m%d%H%M%SZ").encode())


def children(obj: Tlv, tag: int, what: str, clause: str = "X.690") -> tuple[Tlv, ...]:
    return expect(obj, tag, what, clause).children()


@dataclass(frozen=True, slots=True)
class AlgorithmIdentifier:
    """`SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`, keeping the parameters' exact bytes."""

    oid: str
    parameters: bytes | None = None  # the whole parameters element (e.g. 0500), or None when absent

    def encode(self) -> bytes:
        return seq(oid(self.oid), self.parameters or b"")

    @classmethod
    def read(cls, obj: Tlv, what: str) -> AlgorithmIdentifier:
        parts = children(obj, SEQUENCE, what, "RFC 5280 §4.1.1.2")
        if not parts or len(parts) > 2:
            raise TlvError(f"{what}: an AlgorithmIdentifier has an OID and at most one parameter")
        return cls(read_oid(parts[0], what), parts[1].raw if len(parts) == 2 else None)
