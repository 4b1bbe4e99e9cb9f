"""C40 as Doc 9303 Part 13 uses it: space, digits and capitals, three characters in two bytes.

Each triplet (c1, c2, c3) is written as the big-endian 16-bit value 1600*c1 + 40*c2 + c3 + 1. Two
characters left over are padded with Shift 1 (value 0); one character left over is written as the
DataMatrix unlatch byte 0xFE followed by its ASCII code + 1. So n characters take 2*ceil(n/3) bytes.
Shifts 2 and 3 never occur in the VDS character set; a decoder refuses them.
"""

from __future__ import annotations

from mrtd.errors import EncodingError

CLAUSE = "Doc 9303-13 §2.6 (C40 encoding)"
UNLATCH = 0xFE
_SHIFT1 = 0

# value -> character: 3 = space, 4..13 = digits, 14..39 = A..Z (values 0..2 are the shifts)
_CHARS = "   " + " " + "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(_CHARS) if i >= 3}


def is_c40_text(text: str) -> bool:
    return all(c in _VALUE for c in text)


def encoded_length(n_chars: int) -> int:
    return 2 * ((n_chars + 2) // 3)


def encode(text: str, field: str = "c40") -> bytes:
    """Encode space, 0-9 and A-Z (callers upper-case and map `<` to space first)."""
    out = bytearray()
    for i, ch in enumerate(text):
        if ch not in _VALUE:
            raise EncodingError(f"{field}[{i}]: {ch!r} is not a C40 character (space, 0-9, A-Z) [{CLAUSE}]")
    full = len(text) - len(text) % 3
    for i in range(0, full, 3):
        v = 1600 * _VALUE[text[i]] + 40 * _VALUE[text[i + 1]] + _VALUE[text[i + 2]] + 1
        out += v.to_bytes(2, "big")
    rest = text[full:]
    if len(rest) == 2:
        v = 1600 * _VALUE[rest[0]] + 40 * _VALUE[rest[1]] + _SHIFT1 + 1
        out += v.to_bytes(2, "big")
    elif len(rest) == 1:
        out += bytes((UNLATCH, ord(rest) + 1))
    return bytes(out)


def decode(data: bytes, field: str = "c40") -> str:
    """Decode C40 bytes; the Shift 1 padding of the last pair and the 0xFE tail are undone."""
    if len(data) % 2:
        raise EncodingError(f"{field}: C40 data has odd length {len(data)} [{CLAUSE}]")
    chars: list[str] = []
    n_pairs = len(data) // 2
    for p in range(n_pairs):
        b1, b2 = data[2 * p], data[2 * p + 1]
        last = p == n_pairs - 1
        if b1 == UNLATCH:
            if not last:
                raise EncodingError(f"{field}: unlatch byte 0xFE before the end at offset {2 * p} [{CLAUSE}]")
            ch = chr(b2 - 1) if b2 >= 1 else ""
            if ch not in _VALUE:
                raise EncodingError(f"{field}: unlatched byte 0x{b2:02X} is not a C40 character [{CLAUSE}]")
            chars.append(ch)
            continue
        v = (b1 << 8 | b2) - 1
        if v < 0 or v >= 64000:
            raise EncodingError(f"{field}: 0x{b1:02X}{b2:02X} at offset {2 * p} is not a C40 triplet [{CLAUSE}]")
        triplet = (v // 1600, v // 40 % 40, v % 40)
        for k, c in enumerate(triplet):
            if c >= 3:
                chars.append(_CHARS[c])
            elif c == _SHIFT1 and last and all(t == _SHIFT1 for t in triplet[k:]) and k > 0:
                break  # Shift 1 padding of the final pair
            else:
                raise EncodingError(
                    f"{field}: shift value {c} at offset {2 * p} is outside the VDS character set [{CLAUSE}]"
                )
    return "".join(chars)
