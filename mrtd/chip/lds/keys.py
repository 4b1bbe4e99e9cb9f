"""SubjectPublicKeyInfo for the chip's keys (DG14, DG15, DS certificates), named or explicit EC parameters.

Doc 9303-12 §5 asks for ECDSA keys with explicit domain parameters (cofactor included, uncompressed
points), and many issuers' DG14 and DS keys are written that way. cryptography refuses explicit
parameters, so this module matches them against the known curves (the `ecdsa` package carries their
parameters) and hands back an ordinary cryptography key.
"""

from __future__ import annotations

from functools import lru_cache

import ecdsa
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.chip.lds import der
from mrtd.chip.lds.tlv import Tlv, TlvError, tlv
from mrtd.errors import EncodingError

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_PRIME_FIELD = "1.2.840.10045.1.1"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"

# cryptography curve <-> ecdsa curve (the latter knows p, a, b, G, n, h).
_CURVES: tuple[tuple[type[ec.EllipticCurve], str], ...] = (
    (ec.SECP192R1, "NIST192p"),
    (ec.SECP224R1, "NIST224p"),
    (ec.SECP256R1, "NIST256p"),
    (ec.SECP384R1, "NIST384p"),
    (ec.SECP521R1, "NIST521p"),
    (ec.BrainpoolP256R1, "BRAINPOOLP256r1"),
    (ec.BrainpoolP384R1, "BRAINPOOLP384r1"),
    (ec.BrainpoolP512R1, "BRAINPOOLP512r1"),
)
_ECDSA_ONLY = ("BRAINPOOLP192r1", "BRAINPOOLP224r1", "BRAINPOOLP320r1")


def _ecdsa_curve(name: str) -> ecdsa.curves.Curve:
    for c in ecdsa.curves.curves:
        if c.name == name:
            return c
    raise EncodingError(f"curve {name} is unknown")


def _params(c: ecdsa.curves.Curve) -> tuple[int, int, int, int, int, int, int]:
    cv = c.curve
    g = c.generator
    return (cv.p(), cv.a() % cv.p(), cv.b(), g.x(), g.y(), c.order, cv.cofactor() or 1)


@lru_cache(maxsize=1)
def _by_params() -> dict[tuple[int, int, int, int, int, int], str]:
    out = {}
    for _, name in _CURVES:
        p = _params(_ecdsa_curve(name))
        out[p[:6]] = name
    for name in _ECDSA_ONLY:
        p = _params(_ecdsa_curve(name))
        out[p[:6]] = name
    return out


def _field_bytes(p: int) -> int:
    return (p.bit_length() + 7) // 8


def explicit_parameters(curve: ec.EllipticCurve) -> bytes:
    """ECParameters (RFC 3279 §2.3.5) with the cofactor and an uncompressed base point."""
    name = next((n for cls, n in _CURVES if isinstance(curve, cls)), None)
    if name is None:
        raise EncodingError(f"curve {curve.name} has no explicit parameters here")
    p, a, b, gx, gy, n, h = _params(_ecdsa_curve(name))
    size = _field_bytes(p)
    return der.seq(
        der.integer(1),
        der.seq(der.oid(ID_PRIME_FIELD), der.integer(p)),
        der.seq(der.octets(a.to_bytes(size, "big")), der.octets(b.to_bytes(size, "big"))),
        der.octets(b"\x04" + gx.to_bytes(size, "big") + gy.to_bytes(size, "big")),
        der.integer(n),
        der.integer(h),
    )


def spki(key: PublicKey, *, explicit: bool = True) -> bytes:
    """The SubjectPublicKeyInfo of `key`; EC keys with explicit parameters unless told otherwise."""
    if isinstance(key, rsa.RSAPublicKey) or not explicit:
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    algorithm = der.seq(der.oid(ID_EC_PUBLIC_KEY), explicit_parameters(key.curve))
    return der.seq(algorithm, tlv(der.BIT_STRING, b"\x00" + point))


def _curve_from_explicit(params: Tlv, what: str) -> ec.EllipticCurve:
    parts = der.children(params, der.SEQUENCE, what, "RFC 3279 §2.3.5")
    if len(parts) < 5:
        raise TlvError(f"{what}: ECParameters needs version, fieldID, curve, base and order")
    field_id = der.children(parts[1], der.SEQUENCE, what)
    if len(field_id) != 2 or der.read_oid(field_id[0], what) != ID_PRIME_FIELD:
        raise TlvError(f"{what}: only prime-field curves are supported [RFC 3279 §2.3.5]")
    p = der.read_int(field_id[1], what)
    curve = der.children(parts[2], der.SEQUENCE, what)
    if len(curve) < 2:
        raise TlvError(f"{what}: curve needs a and b")
    a = int.from_bytes(der.read_octets(curve[0], what), "big")
    b = int.from_bytes(der.read_octets(curve[1], what), "big")
    base = der.read_octets(parts[3], what)
    size = _field_bytes(p)
    if len(base) != 1 + 2 * size or base[0] != 4:
        raise TlvError(f"{what}: the base point must be uncompressed [Doc 9303-12 §5]")
    gx = int.from_bytes(base[1 : 1 + size], "big")
    gy = int.from_bytes(base[1 + size :], "big")
    n = der.read_int(parts[4], what)
    name = _by_params().get((p, a % p, b, gx, gy, n))
    if name is None:
        raise EncodingError(f"{what}: explicit EC parameters match no supported curve")
    for cls, known in _CURVES:
        if known == name:
            return cls()
    raise EncodingError(f"{what}: curve {name} is not supported by the crypto library")


def load_spki(data: bytes, what: str = "SubjectPublicKeyInfo") -> PublicKey:
    """A public key from a DER SubjectPublicKeyInfo (RSA, or EC with named or explicit parameters)."""
    top = der.children(Tlv.decode(data, what=what), der.SEQUENCE, what, "RFC 5280 §4.1.2.7")
    if len(top) != 2:
        raise TlvError(f"{what}: SubjectPublicKeyInfo needs an algorithm and a key")
    alg = der.AlgorithmIdentifier.read(top[0], what)
    bits = top[1]
    if bits.tag != der.BIT_STRING or not bits.value or bits.value[0] != 0:
        raise TlvError(f"{what}: the public key is not a whole-byte BIT STRING")
    if alg.oid == ID_EC_PUBLIC_KEY and alg.parameters is not None and alg.parameters[0] == der.SEQUENCE:
        curve = _curve_from_explicit(Tlv.decode(alg.parameters, what=what), what)
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, bits.value[1:])
        except ValueError:
            raise EncodingError(f"{what}: the EC point is not on the curve") from None
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"{what}: not a usable public key ({exc.__class__.__name__})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise EncodingError(f"{what}: only RSA and EC keys are used in the LDS")
    return key
