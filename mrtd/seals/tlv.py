"""The tag-length-value framing of VDS message zones and IDB payloads.

Tags are one byte. Lengths are DER-style: 0..127 in one byte, then 0x81 LL, 0x82 HH LL. Writers use the
shortest form. Readers meet two field quirks: a bare 0x80 (not DER; vdstools reads it as length 0) and a
long form used for a short length. In lenient mode both are accepted and reported; strict mode refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrtd.errors import EncodingError, Finding, Severity

CLAUSE = "Doc 9303-13 §2.3 (message zone, DER length)"


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes


def encode_length(n: int) -> bytes:
    if n < 0 or n > 0xFFFF:
        raise EncodingError(f"length {n} is outside 0..65535 [{CLAUSE}]")
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    return bytes((0x82, n >> 8, n & 0xFF))


def encode_tlv(tag: int, value: bytes) -> bytes:
    if not 0 <= tag <= 0xFF:
        raise EncodingError(f"tag {tag} is not one byte [{CLAUSE}]")
    return bytes((tag,)) + encode_length(len(value)) + value


def read_length(
    data: bytes, pos: int, field: str, strict: bool, findings: list[Finding]
) -> tuple[int, int]:
    """Read a length at `pos`; return (length, position after the length bytes)."""
    if pos >= len(data):
        raise EncodingError(f"{field}: length missing at offset {pos} [{CLAUSE}]")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x80:
        if strict:
            raise EncodingError(f"{field}: length byte 0x80 at offset {pos} is not DER [{CLAUSE}]")
        findings.append(
            Finding(field, "length-0x80", f"length byte 0x80 at offset {pos} read as 0 (not DER)", CLAUSE,
                    Severity.WARNING)
        )
        return 0, pos + 1
    n_bytes = first & 0x7F
    if n_bytes > 2:
        raise EncodingError(f"{field}: length of {n_bytes} bytes at offset {pos} is too long [{CLAUSE}]")
    if pos + 1 + n_bytes > len(data):
        raise EncodingError(f"{field}: length at offset {pos} is cut off [{CLAUSE}]")
    n = int.from_bytes(data[pos + 1 : pos + 1 + n_bytes], "big")
    if len(encode_length(n)) != 1 + n_bytes:
        if strict:
            raise EncodingError(f"{field}: non-minimal length encoding at offset {pos} [{CLAUSE}]")
        findings.append(
            Finding(field, "length-not-minimal", f"non-minimal length encoding at offset {pos}", CLAUSE,
                    Severity.WARNING)
        )
    return n, pos + 1 + n_bytes


def read_tlv(
    data: bytes, pos: int, field: str, strict: bool, findings: list[Finding]
) -> tuple[Tlv, int]:
    """Read one TLV at `pos`; return it and the position after it."""
    tag = data[pos]
    n, start = read_length(data, pos + 1, f"{field}.tag{tag:#04x}", strict, findings)
    end = start + n
    if end > len(data):
        raise EncodingError(
            f"{field}: tag 0x{tag:02X} at offset {pos} claims {n} bytes, only {len(data) - start} remain [{CLAUSE}]"
        )
    return Tlv(tag, bytes(data[start:end])), end
