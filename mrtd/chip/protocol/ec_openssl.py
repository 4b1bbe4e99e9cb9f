"""Elliptic-curve point multiplication from OpenSSL's libcrypto (EC_POINT_mul), through ctypes.

Written by hand because no maintained package binds it: `cryptography` exposes k*G (a key's public point)
and the x-coordinate of ECDH only, while PACE Generic Mapping needs k*P with both coordinates.
These few calls are a binding, not arithmetic: OpenSSL does the mathematics (a constant-time ladder or
fixed window for one scalar, flagged BN_FLG_CONSTTIME as a private key is) and refuses a point that is not
on the curve (EC_POINT_oct2point). Points cross as the uncompressed octet string 04||x||y; the point at
infinity comes back as None. `available()` is False when the system's libcrypto cannot be loaded, and
then `curves` multiplies with cryptography and fastecdsa, as it does on the curves where they are faster.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from mrtd.errors import EncodingError

_P = ctypes.c_void_p
_POINT_CONVERSION_UNCOMPRESSED = 4
_BN_FLG_CONSTTIME = 0x04
# name, result, arguments (OpenSSL 3 <openssl/ec.h>, <openssl/bn.h>, <openssl/objects.h>)
_SIGNATURES: tuple[tuple[str, Any, list[Any]], ...] = (
    ("OBJ_txt2nid", ctypes.c_int, [ctypes.c_char_p]),
    ("EC_GROUP_new_by_curve_name", _P, [ctypes.c_int]),
    ("EC_POINT_new", _P, [_P]),
    ("EC_POINT_free", None, [_P]),
    ("EC_POINT_oct2point", ctypes.c_int, [_P, _P, ctypes.c_char_p, ctypes.c_size_t, _P]),
    ("EC_POINT_point2oct", ctypes.c_size_t, [_P, _P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, _P]),
    ("EC_POINT_mul", ctypes.c_int, [_P, _P, _P, _P, _P, _P]),
    ("EC_POINT_is_at_infinity", ctypes.c_int, [_P, _P]),
    ("BN_bin2bn", _P, [ctypes.c_char_p, ctypes.c_int, _P]),
    ("BN_set_flags", None, [_P, ctypes.c_int]),
    ("BN_clear_free", None, [_P]),
    ("ERR_clear_error", None, []),
)


def _names() -> Iterator[str]:
    yield "libcrypto.so.3"
    import ctypes.util  # only where that soname is missing: it imports subprocess and runs ldconfig

    found = ctypes.util.find_library("crypto")
    if found is not None:
        yield found


@cache
def _lib() -> Any:
    # OpenSSL 3's soname first: find_library runs ldconfig in a subprocess, which a reader's start should not
    for name in _names():
        try:
            lib = ctypes.CDLL(name)
            for fn, result, args in _SIGNATURES:
                f = getattr(lib, fn)
                f.restype, f.argtypes = result, args
        except (OSError, AttributeError):  # not there, or a libcrypto without these OpenSSL 1.1/3 names
            continue
        return lib
    return None


@cache
def _group(oid: str) -> int | None:
    """The curve's EC_GROUP, kept for the process: EC_POINT_mul takes it as const, so threads share it
    (ctypes lets go of the GIL during each call)."""
    lib = _lib()
    if lib is None:
        return None
    nid = lib.OBJ_txt2nid(oid.encode())
    group = lib.EC_GROUP_new_by_curve_name(nid) if nid else None
    return int(group) if group else None


def available(oid: str) -> bool:
    """Whether libcrypto is there and knows the curve (by its object identifier)."""
    return _group(oid) is not None


class _Call:
    """One computation's OpenSSL objects, all freed when it ends (scalars cleared first)."""

    def __init__(self, lib: Any, group: int) -> None:
        self.lib, self.group = lib, group
        self._points: list[int] = []
        self._scalars: list[int] = []

    def point(self, encoded: bytes | None = None) -> int:
        p = self.lib.EC_POINT_new(self.group)
        if not p:
            raise MemoryError("EC_POINT_new")
        self._points.append(p)
        if encoded is not None and self.lib.EC_POINT_oct2point(self.group, p, encoded, len(encoded), None) != 1:
            raise EncodingError("EC point is not on the curve [Doc 9303-11 §4.4]")
        return int(p)

    def scalar(self, k: int, size: int) -> int:
        bn = self.lib.BN_bin2bn(k.to_bytes(size, "big"), size, None)
        if not bn:
            raise MemoryError("BN_bin2bn")
        self._scalars.append(bn)
        self.lib.BN_set_flags(bn, _BN_FLG_CONSTTIME)
        return int(bn)

    def check(self, ok: int, what: str) -> None:
        if ok != 1:
            raise EncodingError(f"OpenSSL {what} failed")

    def encoded(self, p: int, size: int) -> bytes | None:
        if self.lib.EC_POINT_is_at_infinity(self.group, p):
            return None
        out = ctypes.create_string_buffer(1 + 2 * size)
        n = self.lib.EC_POINT_point2oct(self.group, p, _POINT_CONVERSION_UNCOMPRESSED, out, len(out), None)
        if n != len(out):
            raise EncodingError("OpenSSL EC_POINT_point2oct failed")
        return out.raw

    def free(self) -> None:
        for p in self._points:
            self.lib.EC_POINT_free(p)
        for bn in self._scalars:
            self.lib.BN_clear_free(bn)


@contextmanager
def _call(oid: str) -> Iterator[_Call]:
    group = _group(oid)
    if group is None:
        raise EncodingError(f"curve {oid}: not in the system's libcrypto")
    call = _Call(_lib(), group)
    try:
        yield call
    except BaseException:
        call.lib.ERR_clear_error()  # leave this thread's OpenSSL error queue empty for the next caller
        raise
    finally:
        call.free()


def mul(oid: str, size: int, k: int, point: bytes | None) -> bytes | None:
    """k * point (the curve's generator when `point` is None), 0 < k; `size`: bytes per coordinate."""
    with _call(oid) as c:
        r, bn = c.point(), c.scalar(k, max(size, (k.bit_length() + 7) // 8))
        if point is None:
            c.check(c.lib.EC_POINT_mul(c.group, r, bn, None, None, None), "EC_POINT_mul")
        else:
            c.check(c.lib.EC_POINT_mul(c.group, r, None, c.point(point), bn, None), "EC_POINT_mul")
        return c.encoded(r, size)

