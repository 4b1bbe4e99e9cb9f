"""ASN.1 values on top of `tlv`: OBJECT IDENTIFIER, INTEGER, strings, times, AlgorithmIdentifier; writers
emit DER, readers read what the element's rules allow (a BER OCTET STRING may come in segments).

Written by hand (not pyasn1) for the reasons `tlv` gives, and because building a whole LDS must take
well under a millisecond.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from mrtd.asn1.tlv import DER, Tlv, TlvError, expect, string_value, tlv

SEQUENCE = 0x30
SET = 0x31
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
IA5_STRING = 0x16
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
VISIBLE_STRING = 0x1A
NULL_DER = b"\x05\x00"


def integer(value: int) -> bytes:
    """INTEGER in minimal two's complement (X.690 §8.3)."""
    length = (value.bit_length() + 8) // 8 if value >= 0 else ((-value - 1).bit_length() + 8) // 8
    return tlv(INTEGER, value.to_bytes(max(length, 1), "big", signed=True))


@lru_cache(maxsize=512)
def oid(dotted: str) -> bytes:
    """The complete DER encoding (06 L ...) of a dotted OID."""
    try:
        parts = [int(p) for p in dotted.split(".")]
    except ValueError:
        raise TlvError(f"OID {dotted!r} is not dotted decimal") from None
    if len(parts) < 2 or parts[0] > 2 or (parts[0] < 2 and parts[1] > 39) or min(parts) < 0:
        raise TlvError(f"OID {dotted!r} is not a valid object identifier [X.690 §8.19]")
    body = bytearray()
    for arc in [parts[0] * 40 + parts[1], *parts[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


def seq(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """A DER SET OF: members sorted by their encodings (X.690 §11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def printable(text: str) -> bytes:
    return tlv(PRINTABLE_STRING, text.encode("ascii"))


def context(n: int, value: bytes, *, constructed: bool = True) -> bytes:
    return tlv((0xA0 if constructed else 0x80) | n, value)


def time(when: dt.datetime) -> bytes:
    """UTCTime up to 2049, GeneralizedTime from 2050, whole seconds in UTC (RFC 5280 §4.1.2.5)."""
    w = when.astimezone(dt.UTC)
    if w.year < 2050:
        return tlv(UTC_TIME, w.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(GENERALIZED_TIME, w.strftime("%Y%m%d%H%M%SZ").encode())


def generalized_time(when: dt.datetime) -> bytes:
    """GeneralizedTime in whole seconds, UTC (where a structure asks for it whatever the year)."""
    return tlv(GENERALIZED_TIME, when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ").encode())


@lru_cache(maxsize=512)
def oid_text(body: bytes) -> str:
    """The dotted form of an OID's content octets."""
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
    try:
        return oid_text(obj.value)
    except TlvError as exc:
        raise TlvError(f"{what}: {exc} at offset {obj.offset}") from None


def read_int(obj: Tlv, what: str) -> int:
    expect(obj, INTEGER, what, "X.690 §8.3")
    if not obj.value:
        raise TlvError(f"{what}: empty INTEGER at offset {obj.offset} [X.690 §8.3.1]")
    return int.from_bytes(obj.value, "big", signed=True)


def read_octets(obj: Tlv, what: str) -> bytes:
    """An OCTET STRING's octets; segments of a BER constructed one are joined (X.690 §8.7.3)."""
    if obj.tag == OCTET_STRING | 0x20:
        return string_value(obj, what)
    return expect(obj, OCTET_STRING, what, "X.690 §8.7").value


def read_string(obj: Tlv, what: str) -> str:
    if obj.tag not in (PRINTABLE_STRING, UTF8_STRING, IA5_STRING, VISIBLE_STRING):
        raise TlvError(f"{what}: expected a character string, found tag {obj.tag:X} at offset {obj.offset}")
    try:
        return obj.value.decode("utf-8")
    except UnicodeDecodeError:
        raise TlvError(f"{what}: not valid text at offset {obj.offset}") from None


def read_time(obj: Tlv, what: str) -> dt.datetime:
    """UTCTime (years 1950..2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime, in UTC."""
    text = obj.value.decode("ascii", "replace")
    try:
        if obj.tag == UTC_TIME:
            t = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
            if t.year >= 2050:
                t = t.replace(year=t.year - 100)
        elif obj.tag == GENERALIZED_TIME:
            t = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise TlvError(f"{what}: tag {obj.tag:X} at offset {obj.offset} is not a time [RFC 5280 §4.1.2.5]")
    except ValueError:
        raise TlvError(f"{what}: {text!r} at offset {obj.offset} is not a time [RFC 5280 §4.1.2.5]") from None
    return t.replace(tzinfo=dt.UTC)


def children(obj: Tlv, tag: int, what: str, clause: str = "X.690") -> tuple[Tlv, ...]:
    return expect(obj, tag, what, clause).children(what=what)


def sequence_items(data: bytes, what: str = "SEQUENCE") -> list[bytes]:
    """The exact bytes of each element of the DER SEQUENCE or SET that `data` is, exactly."""
    top = Tlv.decode(data, what=what, rules=DER)
    if top.tag not in (SEQUENCE, SET):
        raise TlvError(f"{what}: expected SEQUENCE or SET, found tag {top.tag:X}")
    return [c.raw for c in top.children(what=what)]


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
            raise TlvError(f"{what}: an AlgorithmIdentifier has an OID and at most one parameter "
                           f"(offset {obj.offset}) [RFC 5280 §4.1.1.2]")
        return cls(read_oid(parts[0], what), parts[1].raw if len(parts) == 2 else None)
