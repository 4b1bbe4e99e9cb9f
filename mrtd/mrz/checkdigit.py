"""Check digits (Doc 9303 Part 3 §4.9): weights 7, 3, 1 repeating; `<` = 0, A = 10 ... Z = 35; sum mod 10."""

from __future__ import annotations

from itertools import cycle
from operator import mul

from mrtd.errors import InputError

CLAUSE_CHECK_DIGIT = "Doc 9303-3 §4.9"

_VALUE: dict[str, int] = {"<": 0}
_VALUE.update({str(d): d for d in range(10)})
_VALUE.update({chr(ord("A") + i): 10 + i for i in range(26)})

# Byte tables, so the hot path is C-level: encode, translate to values, multiply by the cycling weights
# (see benchmarks/bench_mrz.py).
_TO_VALUE = bytearray(256)
for _c, _v in _VALUE.items():
    _TO_VALUE[ord(_c)] = _v
_TO_VALUE_TABLE = bytes(_TO_VALUE)
_MRZ_BYTES = bytes(ord(c) for c in _VALUE)
_WEIGHTS = (7, 3, 1)
_DIGIT_CHARS = "0123456789"


def weighted_sum(data: str) -> int:
    """The 7-3-1 weighted sum of `data`; raises `InputError` naming a character outside the MRZ set."""
    try:
        raw = data.encode("ascii")
    except UnicodeEncodeError:
        raw = b"\x00"
    if raw.translate(None, _MRZ_BYTES):
        bad = next(c for c in data if c not in _VALUE)
        raise InputError(f"check digit: {bad!r} is not an MRZ character (A-Z, 0-9, <) [{CLAUSE_CHECK_DIGIT}]")
    return sum(map(mul, raw.translate(_TO_VALUE_TABLE), cycle(_WEIGHTS)))


def check_digit(data: str) -> int:
    """The check digit of `data` (7-3-1, `<`=0, A=10..Z=35), e.g. `check_digit("520727") == 3`."""
    return weighted_sum(data) % 10


def check_digit_char(data: str) -> str:
    """The check digit of `data` as the MRZ character that is printed."""
    return _DIGIT_CHARS[weighted_sum(data) % 10]
