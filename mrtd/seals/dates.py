"""Seal dates: MMDDYYYY read as a decimal integer, stored big-endian in 3 bytes; the masked date of
IDB and TR-03171 (mask byte + 3 date bytes, bit 0x80>>i set when digit i is unknown); and the 6-byte
date-time MMDDYYYYhhmmss.
"""

from __future__ import annotations

import datetime as dt

from mrtd.errors import EncodingError

CLAUSE = "Doc 9303-13 §2.2.1 (date encoding)"


def encode_date(d: dt.date) -> bytes:
    return int(f"{d.month:02d}{d.day:02d}{d.year:04d}").to_bytes(3, "big")


def decode_date(data: bytes, field: str = "date") -> dt.date:
    if len(data) != 3:
        raise EncodingError(f"{field}: a date takes 3 bytes, not {len(data)} [{CLAUSE}]")
    digits = f"{int.from_bytes(data, 'big'):08d}"
    if len(digits) != 8:
        raise EncodingError(f"{field}: 0x{data.hex()} is not an MMDDYYYY date [{CLAUSE}]")
    try:
        return dt.date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError:
        raise EncodingError(f"{field}: 0x{data.hex()} ({digits}) is not a calendar date [{CLAUSE}]") from None


def decode_masked_date(data: bytes, field: str = "date") -> str:
    """A 4-byte masked date as `YYYY-MM-DD` with `x` for each unknown digit."""
    if len(data) != 4:
        raise EncodingError(f"{field}: a masked date takes 4 bytes, not {len(data)} [{CLAUSE}]")
    mask = data[0]
    digits = list(f"{int.from_bytes(data[1:], 'big'):08d}")
    if len(digits) != 8:
        raise EncodingError(f"{field}: 0x{data.hex()} is not a masked MMDDYYYY date [{CLAUSE}]")
    for i in range(8):
        if mask & (0x80 >> i):
            digits[i] = "x"
    text = "".join(digits)
    iso = f"{text[4:]}-{text[:2]}-{text[2:4]}"
    if mask == 0:
        decode_date(data[1:], field)  # a fully known masked date must be a real date
    return iso


def encode_masked_date(d: dt.date) -> bytes:
    return b"\x00" + encode_date(d)


def decode_date_time(data: bytes, field: str = "date_time") -> dt.datetime:
    if len(data) != 6:
        raise EncodingError(f"{field}: a date-time takes 6 bytes, not {len(data)} [{CLAUSE}]")
    digits = f"{int.from_bytes(data, 'big'):014d}"
    if len(digits) != 14:
        raise EncodingError(f"{field}: 0x{data.hex()} is not MMDDYYYYhhmmss [{CLAUSE}]")
    try:
        return dt.datetime(int(digits[4:8]), int(digits[:2]), int(digits[2:4]),
                           int(digits[8:10]), int(digits[10:12]), int(digits[12:]))
    except ValueError:
        raise EncodingError(f"{field}: {digits} is not a date-time [{CLAUSE}]") from None


def encode_date_time(t: dt.datetime) -> bytes:
    text = f"{t.month:02d}{t.day:02d}{t.year:04d}{t.hour:02d}{t.minute:02d}{t.second:02d}"
    return int(text).to_bytes(6, "big")
