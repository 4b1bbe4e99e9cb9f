"""Elliptic-curve domain parameters of PACE and Chip Authentication, and point encodings.

Point arithmetic on arbitrary generators (the PACE mappings) is not exposed by `cryptography`, so it comes
from the maintained `ecdsa` package (ecdsa.ellipticcurve). Only the Doc 9303-11 App. B point encoding of
Integrated Mapping (modular arithmetic on integers, no library has it) is written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecdsa import curves as _curves
from ecdsa.ellipticcurve import INFINITY, CurveFp, Point, PointJacobi

from mrtd.errors import EncodingError, ProfileError

# Standardised domain parameters, Doc 9303-11 §9.5.1 (0.4.0.127.0.7.1.2): id -> ecdsa curve.
_BY_ID: dict[int, _curves.Curve] = {
    8: _curves.NIST192p,
    9: _curves.BRAINPOOLP192r1,
    10: _curves.NIST224p,
    11: _curves.BRAINPOOLP224r1,
    12: _curves.NIST256p,
    13: _curves.BRAINPOOLP256r1,
    14: _curves.BRAINPOOLP320r1,
    15: _curves.NIST384p,
    16: _curves.BRAINPOOLP384r1,
    17: _curves.BRAINPOOLP512r1,
    18: _curves.NIST521p,
}

_NAMES = {
    "secp192r1": 8, "brainpoolP192r1": 9, "secp224r1": 10, "brainpoolP224r1": 11, "secp256r1": 12,
    "brainpoolP256r1": 13, "brainpoolP320r1": 14, "secp384r1": 15, "brainpoolP384r1": 16,
    "brainpoolP512r1": 17, "secp521r1": 18,
}


@dataclass(frozen=True)
class Domain:
    """One curve: its standardised id, the ecdsa curve, sizes."""

    param_id: int
    curve: _curves.Curve

    @property
    def curve_name(self) -> str:
        """cryptography's name of the curve (secp256r1, brainpoolP256r1, ...)."""
        return next(n for n, i in _NAMES.items() if i == self.param_id)

    @property
    def fp(self) -> CurveFp:
        return self.curve.curve

    @property
    def p(self) -> int:
        return int(self.fp.p())

    @property
    def order(self) -> int:
        return int(self.curve.order)

    @property
    def size(self) -> int:
        """Bytes in one coordinate."""
        return (self.p.bit_length() + 7) // 8

    @property
    def generator(self) -> Point:
        g = self.curve.generator
        return Point(self.fp, g.x(), g.y(), self.order)

    def point(self, x: int, y: int) -> Point:
        if not self.fp.contains_point(x, y):
            raise EncodingError(f"point is not on {self.curve.name} [Doc 9303-11 §4.4]")
        return Point(self.fp, x, y, self.order)

    def encode(self, pt: Point | PointJacobi) -> bytes:
        """Uncompressed: 04 || x || y."""
        return b"\x04" + int(pt.x()).to_bytes(self.size, "big") + int(pt.y()).to_bytes(self.size, "big")

    def decode(self, data: bytes) -> Point:
        n = self.size
        if len(data) != 1 + 2 * n or data[0] != 4:
            raise EncodingError(f"EC point: {len(data)} bytes, uncompressed 04||x||y of {1 + 2 * n} expected")
        return self.point(int.from_bytes(data[1 : 1 + n], "big"), int.from_bytes(data[1 + n :], "big"))

    def mul(self, k: int, pt: Point) -> Point:
        """k * pt, in Jacobian coordinates (ecdsa's affine multiplication is several times slower); the
        standard generator uses ecdsa's precomputed table."""
        g = self.curve.generator
        base = g if (pt.x(), pt.y()) == (g.x(), g.y()) else PointJacobi.from_affine(pt)
        r = base * (k % self.order)
        if r == INFINITY or k % self.order == 0:
            raise EncodingError("point at infinity [Doc 9303-11 §4.4]")
        affine = r.to_affine()
        return Point(self.fp, affine.x(), affine.y(), self.order)

    def add(self, a: Point, b: Point) -> Point:
        r = a + b
        if r == INFINITY:
            raise EncodingError("point at infinity [Doc 9303-11 §4.4]")
        assert isinstance(r, Point)
        return r

    def x_bytes(self, pt: Point) -> bytes:
        return int(pt.x()).to_bytes(self.size, "big")

    def scalar(self, raw: bytes) -> int:
        """A private key in [1, n-1] from random bytes (8 more bytes than n, so the bias is negligible)."""
        return int.from_bytes(raw, "big") % (self.order - 1) + 1

    def scalar_bytes(self) -> int:
        return (self.order.bit_length() + 7) // 8 + 8

    def integrated_mapping(self, rp: int) -> Point:
        """Doc 9303-11 App. B point encoding f_G(t) for ECDH Integrated Mapping (needs p = 3 mod 4)."""
        p = self.p
        a, b = int(self.fp.a()) % p, int(self.fp.b())
        if p % 4 != 3:
            raise ProfileError(f"{self.curve.name}: Integrated Mapping needs p = 3 mod 4 [Doc 9303-11 App. B]")
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


def domain(param_id: int) -> Domain:
    try:
        return Domain(param_id, _BY_ID[param_id])
    except KeyError:
        raise ProfileError(
            f"domain parameters {param_id}: not a supported standardised ECDH curve [Doc 9303-11 §9.5.1]"
        ) from None


def domain_for_name(name: str) -> Domain:
    """By cryptography's curve name (secp256r1, brainpoolP256r1, ...)."""
    if name not in _NAMES:
        raise ProfileError(f"curve {name}: not one of the standardised PACE/CA curves [Doc 9303-11 §9.5.1]")
    return domain(_NAMES[name])
