"""Minimal DER framing: lengths, TLV slicing and wrapping, and the INTEGER/OID/SEQUENCE encoders that
the PKI and the chip's LDS (`mrtd.chip.lds.der`) both build on.

Written by hand because neither cryptography nor pyasn1 hands back the exact byte span of an element
inside a larger structure, and the trust store and master list keep foreign bytes verbatim.
"""

from __future__ import annotations

from functools import lru_cache

from mrtd.errors import EncodingError

MAX_LENGTH_OCTETS = 4


def encode_length(n: int) -> bytes:
    """Definite length, shortest form: 0..127 in one byte, else 81/82/83/84 and the length."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_OCTETS:
        raise EncodingError(f"DER: length {n} does not fit in {MAX_LENGTH_OCTETS} length octets")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Read one TLV at `offset` (single-byte tags, definite lengths).

    Returns (tag, value_start, end). Raises EncodingError on truncation or indefinite lengths.
    """
    if offset + 2 > len(data):
        raise EncodingError(f"DER: truncated element at offset {offset}")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise EncodingError(f"DER: multi-byte tag at offset {offset} not supported here")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise EncodingError(f"DER: unsupported length form 0x{first:02X} at offset {offset}")
        if pos + count > len(data):
            raise EncodingError(f"DER: truncated length at offset {offset}")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise EncodingError(f"DER: element at offset {offset} runs past the end ({end} > {len(data)})")
    return tag, pos, end


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements between `start` and `end`: (tag, element_start, value_start, element_end) each."""
    out = []
    pos = start
    while pos < end:
        tag, vstart, vend = read_tlv(data, pos)
        if vend > end:
            raise EncodingError(f"DER: element at offset {pos} overruns its parent")
        out.append((tag, pos, vstart, vend))
        pos = vend
    return out


def sequence_items(data: bytes) -> list[bytes]:
    """The exact bytes of each element of the outer SEQUENCE/SET `data` (which must be exactly one TLV)."""
    tag, vstart, end = read_tlv(data, 0)
    if end != len(data):
        raise EncodingError(f"DER: {len(data) - end} trailing bytes after the outer element")
    if tag not in (0x30, 0x31):
        raise EncodingError(f"DER: expected SEQUENCE or SET, found tag 0x{tag:02X}")
    return [data[s:e] for _, s, _, e in children(data, vstart, end)]


def der_int(value: int) -> bytes:
    """INTEGER in minimal two's complement."""
    length = (value.bit_length() + 8) // 8 if value >= 0 else ((-value - 1).bit_length() + 8) // 8
    return tlv(0x02, value.to_bytes(max(length, 1), "big", signed=True))


@lru_cache(maxsize=512)
def der_oid(dotted: str) -> bytes:
    """The complete DER encoding (06 L ...) of a dotted OID."""
    try:
        parts = [int(p) for p in dotted.split(".")]
    except ValueError:
        raise EncodingError(f"OID {dotted!r} is not dotted decimal") from None
    if len(parts) < 2 or parts[0] > 2 or (parts[0] < 2 and parts[1] > 39) or min(parts) < 0:
        raise EncodingError(f"OID {dotted!r} is not a valid object identifier [X.690 §8.19]")
    body = bytearray()
    for arc in [parts[0] * 40 + parts[1], *parts[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)
