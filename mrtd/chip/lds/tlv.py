"""BER-TLV as ISO/IEC 7816-4 and Doc 9303-10 §4.3 use it: multi-byte tags, definite lengths.

Written by hand because the LDS mixes application-class tags (`5F1F`, `7F61`) that ASN.1 libraries do not
model, and because every decoded element must keep its exact bytes: the SOD hashes cover the bytes as
read, never a re-encoding. `Tlv.raw` is the whole element exactly as it was in the input.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrtd.errors import EncodingError
from mrtd.pki._der import MAX_LENGTH_OCTETS, encode_length


class TlvError(EncodingError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One data object: its tag (the tag bytes as a big-endian int, e.g. 0x5F1F), value and exact bytes."""

    tag: int
    value: bytes
    raw: bytes

    @property
    def constructed(self) -> bool:
        return bool(self.raw[0] & 0x20)

    def children(self) -> tuple[Tlv, ...]:
        """The data objects inside a constructed object."""
        return parse_all(self.value)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def decode(cls, data: bytes, *, what: str = "data object") -> Tlv:
        """Exactly one data object filling `data` (trailing bytes are an error)."""
        obj, end = read_tlv(data, 0, what=what)
        if end != len(data):
            raise TlvError(f"{what}: {len(data) - end} trailing byte(s) after the data object [ISO/IEC 7816-4 §5.2]")
        return obj

    @classmethod
    def build(cls, tag: int, value: bytes) -> Tlv:
        return cls(tag, value, tlv(tag, value))


def encode_tag(tag: int) -> bytes:
    if tag < 0 or tag > 0xFFFFFF:
        raise TlvError(f"tag 0x{tag:X} is out of range")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def read_tag(data: bytes, offset: int, *, what: str = "data object") -> tuple[int, int]:
    """The tag at `offset` (1 to 3 bytes) and the offset after it."""
    n = len(data)
    if offset >= n:
        raise TlvError(f"{what}: truncated, no tag at offset {offset}")
    first = data[offset]
    pos = offset + 1
    tag = first
    if first & 0x1F == 0x1F:
        while True:
            if pos >= n:
                raise TlvError(f"{what}: truncated tag at offset {offset}")
            b = data[pos]
            pos += 1
            tag = (tag << 8) | b
            if not b & 0x80:
                break
            if pos - offset >= 3:
                raise TlvError(f"{what}: tag longer than 3 bytes at offset {offset}")
    return tag, pos


def read_tlv(data: bytes, offset: int = 0, *, what: str = "data object") -> tuple[Tlv, int]:
    """The data object at `offset` and the offset just after it."""
    tag, pos = read_tag(data, offset, what=what)
    n = len(data)
    if pos >= n:
        raise TlvError(f"{what}: truncated, no length for tag {tag:X} at offset {offset}")
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise TlvError(f"{what}: indefinite length for tag {tag:X} is not allowed [Doc 9303-10 §4.3]")
    else:
        count = first & 0x7F
        if count > MAX_LENGTH_OCTETS:
            raise TlvError(f"{what}: {count} length octets for tag {tag:X} at offset {offset}")
        if pos + count > n:
            raise TlvError(f"{what}: truncated length for tag {tag:X} at offset {offset}")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > n:
        raise TlvError(
            f"{what}: tag {tag:X} at offset {offset} declares {length} bytes but only {n - pos} remain"
        )
    return Tlv(tag, bytes(data[pos:end]), bytes(data[offset:end])), end


def parse_all(data: bytes, *, what: str = "data object") -> tuple[Tlv, ...]:
    """Every data object in `data`, back to back."""
    out: list[Tlv] = []
    pos = 0
    n = len(data)
    while pos < n:
        obj, pos = read_tlv(data, pos, what=what)
        out.append(obj)
    return tuple(out)


def expect(obj: Tlv, tag: int, what: str, clause: str = "Doc 9303-10 §4.7") -> Tlv:
    if obj.tag != tag:
        raise TlvError(f"{what}: expected tag {tag:X}, found {obj.tag:X} [{clause}]")
    return obj


def only(data: bytes, tag: int, what: str, clause: str = "Doc 9303-10 §4.7") -> Tlv:
    """`data` must be exactly one data object with tag `tag`."""
    return expect(Tlv.decode(data, what=what), tag, what, clause)
