"""The groups of PACE, Chip and Terminal Authentication: the standardised domain parameters of Doc 9303-11
§9.5.1, elliptic curves (ids 8-18) and the RFC 5114 DH groups (ids 0-2), with their element encodings.

Speed: each curve's multiplications go where they are fastest (measured: benchmarks/bench_chip.py and the
table below). OpenSSL's own point arithmetic (`ec_openssl`, the system's libcrypto) on the curves where it
is fast; `cryptography` (its bundled, newer OpenSSL) for k*G and the ECDH x-coordinate on P-384; the
maintained `fastecdsa` package (native code) on the rest, and for point addition; fastecdsa also supplies
the curve parameters and the point type. DH is GMP's powmod through gmpy2 (C; seven times Python's pow on
2048-bit groups), loaded with the first DH group: a reader on an EC chip does not pay for it. Only the
Doc 9303-11 App. B point encoding of Integrated Mapping (a few lines of modular arithmetic no library
offers) is written here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources
from typing import TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec
from fastecdsa.rust import Curve as CurveParams
from fastecdsa.rust import Point

from mrtd.asn1.keys import CURVES, curve_named
from mrtd.chip.protocol import ec_openssl
from mrtd.errors import EncodingError, ProfileError

# Standardised domain parameters, Doc 9303-11 §9.5.1 (0.4.0.127.0.7.1.2): curve name -> id.
_NAMES = {
    "secp192r1": 8, "brainpoolP192r1": 9, "secp224r1": 10, "brainpoolP224r1": 11, "secp256r1": 12,
    "brainpoolP256r1": 13, "brainpoolP320r1": 14, "secp384r1": 15, "brainpoolP384r1": 16,
    "brainpoolP512r1": 17, "secp521r1": 18,
}
_BY_ID = {i: n for n, i in _NAMES.items()}
# where OpenSSL's EC_POINT_mul is the fastest, for k*P, k*G and ECDH alike (measured, us for k*P | k*G:
# P-224 120|56 against fastecdsa's 367 and cryptography's 105, P-256 80|28 against 318 (two ECDH) and 49,
# P-521 306|165 against 1413 and 307, brainpoolP384r1 810|778 and brainpoolP512r1 1102|1080 against
# fastecdsa's 911|888 and 1832|1853; slower on P-192, P-384 and the smaller brainpool curves)
_NATIVE = frozenset({"secp224r1", "secp256r1", "secp521r1", "brainpoolP384r1", "brainpoolP512r1"})
# k*G and ECDH through cryptography on the NIST curves where OpenSSL's own arithmetic is not used (P-384: k*G
# 361 us, against 747 in the system's older OpenSSL) or where the system has no libcrypto
_CRYPTOGRAPHY: dict[str, type[ec.EllipticCurve]] = {
    "secp224r1": ec.SECP224R1, "secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
}
DH_IDS = (0, 1, 2)

Element: TypeAlias = "Point | int"  # an EC point, or a DH group element


@dataclass(frozen=True)
class Domain:
    """One curve: its standardised id, fastecdsa's parameters, sizes."""

    param_id: int
    params: CurveParams

    key_tag = 0x86  # the public point in a public key data object [Doc 9303-11 §9.4.4]
    is_ec = True

    @property
    def curve_name(self) -> str:
        """cryptography's name of the curve (secp256r1, brainpoolP256r1, ...)."""
        return _BY_ID[self.param_id]

    # the curve's numbers as Python ints, kept: every encoding, decoding and multiplication reads them
    @cached_property
    def p(self) -> int:
        return int(self.params.p)

    @cached_property
    def a(self) -> int:
        return int(self.params.a) % self.p

    @cached_property
    def b(self) -> int:
        return int(self.params.b)

    @cached_property
    def order(self) -> int:
        return int(self.params.q)

    @cached_property
    def size(self) -> int:
        """Bytes in one coordinate."""
        return (self.p.bit_length() + 7) // 8

    @property
    def generator(self) -> Point:
        return self.params.G

    @cached_property
    def _oid(self) -> str | None:
        """The curve's object identifier when OpenSSL's own arithmetic does its multiplications."""
        oid = curve_named(self.curve_name).oid
        return oid if self.curve_name in _NATIVE and ec_openssl.available(oid) else None

    def _cryptography(self) -> ec.EllipticCurve | None:
        cls = _CRYPTOGRAPHY.get(self.curve_name)
        return cls() if cls is not None else None

    def _point(self, e: Element) -> Point:
        if isinstance(e, int):
            raise EncodingError(f"{self.curve_name}: a DH value where an EC point was expected")
        return e

    def point(self, x: int, y: int) -> Point:
        """(x, y) if it is a point of the curve: coordinates in [0, p-1] that satisfy its equation
        [BSI TR-03111 §3.2.2.1, public key validation]."""
        if not (0 <= x < self.p and 0 <= y < self.p):
            raise EncodingError(f"point coordinate not below p of {self.curve_name} [Doc 9303-11 §4.4]")
        try:
            return Point(x, y, self.params)
        except ValueError:  # fastecdsa refuses a point that is not on the curve
            raise EncodingError(f"point is not on {self.curve_name} [Doc 9303-11 §4.4]") from None

    def encode(self, pt: Element) -> bytes:
        """Uncompressed: 04 || x || y."""
        p = self._point(pt)
        return b"\x04" + int(p.x).to_bytes(self.size, "big") + int(p.y).to_bytes(self.size, "big")

    def decode(self, data: bytes) -> Point:
        n = self.size
        if len(data) != 1 + 2 * n or data[0] != 4:
            raise EncodingError(f"EC point: {len(data)} bytes, uncompressed 04||x||y of {1 + 2 * n} expected")
        return self.point(int.from_bytes(data[1 : 1 + n], "big"), int.from_bytes(data[1 + n :], "big"))

    def _is_generator(self, p: Point) -> bool:
        g = self.params.G
        return bool((p.x, p.y) == (g.x, g.y))

    def _finite(self, r: Point) -> Point:
        if r.z == 0:  # fastecdsa's point at infinity (projective z = 0)
            raise EncodingError("point at infinity [Doc 9303-11 §4.4]")
        return r

    def mul(self, k: int, pt: Element) -> Point:
        """k * pt, where it is fastest for the curve (_NATIVE)."""
        base = self._point(pt)
        k %= self.order
        if k == 0:
            raise EncodingError("point at infinity [Doc 9303-11 §4.4]")
        if self._oid is not None:
            return self._native_mul(k, base)
        curve = self._cryptography()
        if curve is not None and self._is_generator(base):
            nums = ec.derive_private_key(k, curve).public_key().public_numbers()
            return Point(nums.x, nums.y, self.params)
        return self._finite(k * base)

    def _native_mul(self, k: int, base: Point) -> Point:
        assert self._oid is not None
        out = ec_openssl.mul(self._oid, self.size, k, None if self._is_generator(base) else self.encode(base))
        if out is None:
            raise EncodingError("point at infinity [Doc 9303-11 §4.4]")
        return self.decode(out)

    def add(self, a: Element, b: Element) -> Point:
        return self._finite(self._point(a) + self._point(b))

    def shared_secret(self, k: int, pt: Element) -> bytes:
        """The x-coordinate of k * pt (ECDH, Doc 9303-11 §4.4.3.2)."""
        curve = self._cryptography()
        if self._oid is not None or curve is None or self._is_generator(self._point(pt)):
            return self.x_bytes(self.mul(k, pt))
        peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, self.encode(pt))
        return ec.derive_private_key(k % self.order, curve).exchange(ec.ECDH(), peer)

    def x_bytes(self, pt: Element) -> bytes:
        return int(self._point(pt).x).to_bytes(self.size, "big")

    def compress(self, pt: Element) -> bytes:
        """Comp(): the x-coordinate [Doc 9303-11 §7.1.4.2.3]."""
        return self.x_bytes(pt)

    def scalar(self, raw: bytes) -> int:
        """A private key in [1, n-1] from random bytes (8 more bytes than n, so the bias is negligible)."""
        return int.from_bytes(raw, "big") % (self.order - 1) + 1

    def scalar_bytes(self) -> int:
        return (self.order.bit_length() + 7) // 8 + 8

    def integrated_mapping(self, rp: int) -> Point:
        """Doc 9303-11 App. B point encoding f_G(t) for ECDH Integrated Mapping (needs p = 3 mod 4)."""
        p, a, b = self.p, self.a, self.b
        if p % 4 != 3:
            raise ProfileError(f"{self.curve_name}: Integrated Mapping needs p = 3 mod 4 [Doc 9303-11 App. B]")
        t = rp % p
        alpha = (-t * t) % p
        x2 = (-b * (1 + alpha + alpha * alpha) * pow(a * (alpha + alpha * alpha), p - 2, p)) % p
        x3 = (alpha * x2) % p
        h2 = (x2**3 + a * x2 + b) % p
        u = (t**3 * h2) % p
        aa = pow(h2, p - 1 - (p + 1) // 4, p)
        if (aa * aa * h2) % p == 1:
            x, y = x2, (aa * h2) % p
        else:
            x, y = x3, (aa * u) % p
        return self.point(x, y)


def powmod(base: int, exponent: int, modulus: int) -> int:
    import gmpy2  # at its first use (a DH group, an RSA signature on the simulated card): an EC reader saves 20 ms

    return int(gmpy2.powmod(base, exponent, modulus))


@dataclass(frozen=True)
class DhGroup:
    """A prime-order subgroup of Z_p*: RFC 5114's 1024/160, 2048/224, 2048/256 (ids 0, 1, 2)."""

    param_id: int
    p: int
    g: int
    q: int

    key_tag = 0x84  # the public value in a public key data object [Doc 9303-11 §9.4.3]
    is_ec = False

    @property
    def order(self) -> int:
        return self.q

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8

    @property
    def generator(self) -> int:
        return self.g

    def _value(self, e: Element) -> int:
        if not isinstance(e, int):
            raise EncodingError("DH: an EC point where a group element was expected")
        return e

    def check(self, y: int) -> int:
        """Public key validation [RFC 2631 §2.1.5]: 1 < y < p-1 and y^q = 1 (no small subgroup)."""
        if not 1 < y < self.p - 1 or powmod(y, self.q, self.p) != 1:
            raise EncodingError("DH public value is not in the prime-order subgroup [Doc 9303-11 §4.4.3.3.1, RFC 2631]")
        return y

    def encode(self, y: Element) -> bytes:
        return self._value(y).to_bytes(self.size, "big")

    def decode(self, data: bytes) -> int:
        if not 0 < len(data) <= self.size:
            raise EncodingError(f"DH public value: {len(data)} bytes, at most {self.size} expected")
        return self.check(int.from_bytes(data, "big"))

    def mul(self, k: int, base: Element) -> int:
        k %= self.q
        r = powmod(self._value(base), k, self.p)
        if k == 0 or r == 1:
            raise EncodingError("DH: the identity element [Doc 9303-11 §4.4]")
        return r

    def add(self, a: Element, b: Element) -> int:
        r = self._value(a) * self._value(b) % self.p
        if r == 1:
            raise EncodingError("DH: the identity element [Doc 9303-11 §4.4]")
        return r

    def shared_secret(self, k: int, y: Element) -> bytes:
        return self.encode(self.mul(k, y))

    def x_bytes(self, y: Element) -> bytes:
        return self.encode(y)

    def compress(self, y: Element) -> bytes:
        """Comp(): SHA-1 of the public value [Doc 9303-11 §7.1.4.1.3]."""
        return hashlib.sha1(self.encode(y)).digest()

    def scalar(self, raw: bytes) -> int:
        return int.from_bytes(raw, "big") % (self.q - 1) + 1

    def scalar_bytes(self) -> int:
        return (self.q.bit_length() + 7) // 8 + 8

    def integrated_mapping(self, rp: int) -> int:
        """f_g(x) = x^((p-1)/q) mod p, which must not be 1 [Doc 9303-11 §4.4.3.3.2]."""
        r = powmod(rp, (self.p - 1) // self.q, self.p)
        if r == 1:
            raise EncodingError("PACE-IM (DH): the mapped generator is 1 [Doc 9303-11 §4.4.3.3.2]")
        return r


Group = Domain | DhGroup


@lru_cache(maxsize=1)
def _dh_groups() -> dict[int, DhGroup]:
    raw = json.loads(resources.files("mrtd.chip.protocol").joinpath("dh_groups.json").read_text("utf-8"))
    return {g["id"]: DhGroup(g["id"], int(g["p"], 16), int(g["g"], 16), int(g["q"], 16)) for g in raw["groups"]}


def group(param_id: int) -> Group:
    """The standardised domain parameters `param_id`: DH (0-2) or an elliptic curve (8-18)."""
    if param_id in DH_IDS:
        return _dh_groups()[param_id]
    return domain(param_id)


@cache
def domain(param_id: int) -> Domain:
    """An elliptic-curve domain (ids 8-18)."""
    if param_id not in _BY_ID:
        raise ProfileError(
            f"domain parameters {param_id}: not a supported standardised ECDH curve [Doc 9303-11 §9.5.1]"
        )
    return Domain(param_id, curve_named(_BY_ID[param_id]).params)


def ec_curve(name: str) -> ec.EllipticCurve:
    """cryptography's curve object for a curve name; ProfileError for the brainpool curves it lacks."""
    library = next((c.library for c in CURVES if c.name == name), None)
    if library is None:
        raise ProfileError(f"curve {name}: no signing support in the crypto library [Doc 9303-11 §6.1]")
    return library()


def domain_for_name(name: str) -> Domain:
    """By cryptography's curve name (secp256r1, brainpoolP256r1, ...)."""
    if name not in _NAMES:
        raise ProfileError(f"curve {name}: not one of the standardised PACE/CA curves [Doc 9303-11 §9.5.1]")
    return domain(_NAMES[name])
