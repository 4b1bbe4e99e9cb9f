"""SubjectPublicKeyInfo: read any key an issuer has used, write ours with named or explicit parameters.

Doc 9303-12 §5 asks for EC keys with explicit domain parameters (cofactor included, uncompressed points),
and many issuers write DS, DG14 and DG15 keys that way; cryptography refuses explicit parameters, so they
are matched against the curve table. Keys on curves cryptography does not implement (brainpoolP224r1 in
German passports of 2007-2008, brainpoolP192r1/P320r1, ...) become a `CurveKey`, whose signatures are
checked with fastecdsa (a maintained native library; never pure Python).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import fastecdsa.curve as fc
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastecdsa.rust import Curve as CurveParams
from fastecdsa.rust import Point

from mrtd.asn1 import der
from mrtd.asn1.algorithms import ID_EC_PUBLIC_KEY, ID_PRIME_FIELD, RSA_ENCRYPTION
from mrtd.asn1.tlv import BER, Tlv, TlvError, tlv, to_der
from mrtd.errors import EncodingError

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True, slots=True)
class Curve:
    name: str
    oid: str
    library: type[ec.EllipticCurve] | None  # None: cryptography lacks it, fastecdsa verifies
    params: CurveParams

    def explicit(self) -> tuple[int, int, int, bytes, int, int]:
        """p, a (reduced mod p), b, the uncompressed base point, the order and the cofactor (1: every curve
        here has prime order): what explicit parameters spell out (RFC 3279 §2.3.5, TR-03110-3 §D.3.3)."""
        c = self.params
        size = _field_bytes(c.p)
        return c.p, c.a % c.p, c.b, b"\x04" + c.G.x.to_bytes(size, "big") + c.G.y.to_bytes(size, "big"), c.q, 1


# Every prime curve issuers have used for document signing, Active and Chip Authentication
# (Doc 9303-11 §9.5.1 standardised domain parameters and Doc 9303-12 §5).
CURVES: tuple[Curve, ...] = (
    Curve("secp192r1", "1.2.840.10045.3.1.1", ec.SECP192R1, fc.P192),
    Curve("secp224r1", "1.3.132.0.33", ec.SECP224R1, fc.P224),
    Curve("secp256r1", "1.2.840.10045.3.1.7", ec.SECP256R1, fc.P256),
    Curve("secp384r1", "1.3.132.0.34", ec.SECP384R1, fc.P384),
    Curve("secp521r1", "1.3.132.0.35", ec.SECP521R1, fc.P521),
    Curve("brainpoolP160r1", "1.3.36.3.3.2.8.1.1.1", None, fc.brainpoolP160r1),
    Curve("brainpoolP192r1", "1.3.36.3.3.2.8.1.1.3", None, fc.brainpoolP192r1),
    Curve("brainpoolP224r1", "1.3.36.3.3.2.8.1.1.5", None, fc.brainpoolP224r1),
    Curve("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", ec.BrainpoolP256R1, fc.brainpoolP256r1),
    Curve("brainpoolP320r1", "1.3.36.3.3.2.8.1.1.9", None, fc.brainpoolP320r1),
    Curve("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", ec.BrainpoolP384R1, fc.brainpoolP384r1),
    Curve("brainpoolP512r1", "1.3.36.3.3.2.8.1.1.13", ec.BrainpoolP512R1, fc.brainpoolP512r1),
)
_BY_OID = {c.oid: c for c in CURVES}
_BY_NAME = {c.name: c for c in CURVES}


def curve_named(name: str) -> Curve:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise EncodingError(f"curve {name} is not one this verifier knows") from None


@lru_cache(maxsize=1)
def _by_params() -> dict[tuple[int, int, int, int, int, int], Curve]:
    return {(c.params.p, c.params.a % c.params.p, c.params.b, c.params.G.x, c.params.G.y, c.params.q): c for c in CURVES}


@dataclass(frozen=True, slots=True)
class CurveKey:
    """An EC public key on a curve cryptography does not implement; `mrtd.asn1.signatures` verifies with it."""

    curve: Curve
    x: int
    y: int

    @property
    def key_size(self) -> int:
        return int(self.curve.params.q.bit_length())


VerifyKey = PublicKey | CurveKey


def key_bits(key: VerifyKey) -> int:
    """The size that picks a seal's hash: the curve's order (or the RSA modulus)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size
    return key.key_size


def _field_bytes(p: int) -> int:
    return (p.bit_length() + 7) // 8


def explicit_parameters(curve: ec.EllipticCurve | str) -> bytes:
    """ECParameters (RFC 3279 §2.3.5) with the cofactor and an uncompressed base point, of a curve or of
    the curve of `CURVES` with that name."""
    return _explicit_parameters(curve if isinstance(curve, str) else curve.name)


@cache  # a handful of curves; every SubjectPublicKeyInfo of a chip's keys carries them
def _explicit_parameters(name: str) -> bytes:
    entry = _BY_NAME.get(name)
    if entry is None:
        raise EncodingError(f"curve {name} has no explicit parameters here")
    p, a, b, g, q, cofactor = entry.explicit()
    size = _field_bytes(p)
    return der.seq(
        der.integer(1),
        der.seq(der.oid(ID_PRIME_FIELD), der.integer(p)),
        der.seq(der.octets(a.to_bytes(size, "big")), der.octets(b.to_bytes(size, "big"))),
        der.octets(g),
        der.integer(q),
        der.integer(cofactor),
    )


def spki(key: PublicKey, *, explicit: bool = True) -> bytes:
    """The SubjectPublicKeyInfo of `key`; EC keys with explicit parameters unless told otherwise."""
    if isinstance(key, rsa.RSAPublicKey) or not explicit:
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    algorithm = der.seq(der.oid(ID_EC_PUBLIC_KEY), explicit_parameters(key.curve))
    return der.seq(algorithm, tlv(der.BIT_STRING, b"\x00" + point))


def _curve_from_explicit(params: Tlv, what: str) -> Curve:
    parts = der.children(params, der.SEQUENCE, what, "RFC 3279 §2.3.5")
    if len(parts) < 5:
        raise TlvError(f"{what}: ECParameters needs version, fieldID, curve, base and order")
    field_id = der.children(parts[1], der.SEQUENCE, what)
    if len(field_id) != 2 or der.read_oid(field_id[0], what) != ID_PRIME_FIELD:
        raise TlvError(f"{what}: only prime-field curves are supported [RFC 3279 §2.3.5]")
    p = der.read_int(field_id[1], what)
    curve = der.children(parts[2], der.SEQUENCE, what)
    if len(curve) < 2 or p <= 0:
        raise TlvError(f"{what}: curve needs a and b over a positive prime")
    a = int.from_bytes(der.read_octets(curve[0], what), "big")
    b = int.from_bytes(der.read_octets(curve[1], what), "big")
    base = der.read_octets(parts[3], what)
    size = _field_bytes(p)
    if len(base) != 1 + 2 * size or base[0] != 4:
        raise TlvError(f"{what}: the base point must be uncompressed [Doc 9303-12 §5]")
    gx = int.from_bytes(base[1 : 1 + size], "big")
    gy = int.from_bytes(base[1 + size :], "big")
    n = der.read_int(parts[4], what)
    found = _by_params().get((p, a % p, b, gx, gy, n))
    if found is None:
        raise EncodingError(f"{what}: explicit EC parameters match no known curve")
    return found


@lru_cache(maxsize=1)
def _by_explicit_encoding() -> dict[bytes, Curve]:
    """Each curve by the explicit parameters `explicit_parameters` writes, as most chips carry them."""
    return {_explicit_parameters(c.name): c for c in CURVES}


def _curve_of(alg: der.AlgorithmIdentifier, what: str) -> Curve:
    if alg.parameters is None:
        raise TlvError(f"{what}: EC key without domain parameters [RFC 5480 §2.1.1]")
    known = _by_explicit_encoding().get(alg.parameters)  # the same bytes name the same curve: no parsing
    if known is not None:
        return known
    params = Tlv.decode(alg.parameters, what=what, rules=BER)
    if params.tag == der.SEQUENCE:
        return _curve_from_explicit(params, what)
    name = der.read_oid(params, f"{what}.namedCurve")
    found = _BY_OID.get(name)
    if found is None:
        raise EncodingError(f"{what}: named curve {name} is not one this verifier knows")
    return found


def _read(data: bytes, what: str) -> tuple[der.AlgorithmIdentifier, bytes, Tlv]:
    top = Tlv.decode(data, what=what, rules=BER)
    parts = der.children(top, der.SEQUENCE, what, "RFC 5280 §4.1.2.7")
    if len(parts) != 2:
        raise TlvError(f"{what}: SubjectPublicKeyInfo needs an algorithm and a key")
    alg = der.AlgorithmIdentifier.read(parts[0], what)
    bits = parts[1]
    if bits.tag != der.BIT_STRING or not bits.value or bits.value[0] != 0:
        raise TlvError(f"{what}: the public key is not a whole-byte BIT STRING")
    return alg, bits.value[1:], top


def load_verify_key(data: bytes, what: str = "SubjectPublicKeyInfo") -> VerifyKey:
    """Any RSA or EC public key issuers have used, on any curve of `CURVES`, named or explicit."""
    data = bytes(data)
    try:
        return _loaded(data)
    except EncodingError:
        return _load(data, what)  # fails again, naming what the caller read


@lru_cache(maxsize=64)  # keys are immutable; a chip's keys, with explicit curves, are read several times over
def _loaded(data: bytes) -> VerifyKey:
    return _load(data, "SubjectPublicKeyInfo")


def _load(data: bytes, what: str) -> VerifyKey:
    alg, key_bytes, top = _read(data, what)
    if alg.oid == ID_EC_PUBLIC_KEY:
        curve = _curve_of(alg, what)
        if curve.library is None:
            return _curve_key(curve, key_bytes, what)
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve.library(), key_bytes)
        except ValueError:
            raise EncodingError(f"{what}: the EC point is not on {curve.name}") from None
    if alg.oid != RSA_ENCRYPTION:
        raise EncodingError(f"{what}: key algorithm {alg.oid} is neither RSA nor EC [Doc 9303-12 §5]")
    try:
        key = serialization.load_der_public_key(to_der(top))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"{what}: not a usable RSA key ({exc.__class__.__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise EncodingError(f"{what}: not an RSA key")
    return key


def load_spki(data: bytes, what: str = "SubjectPublicKeyInfo") -> PublicKey:
    """A public key the chip protocols can compute with: RSA, or EC on a curve cryptography implements."""
    key = load_verify_key(data, what)
    if isinstance(key, CurveKey):
        raise EncodingError(f"{what}: curve {key.curve.name} is not supported by the crypto library")
    return key


def _curve_key(curve: Curve, point: bytes, what: str) -> CurveKey:
    size = _field_bytes(curve.params.p)
    if len(point) != 1 + 2 * size or point[0] != 4:
        raise EncodingError(f"{what}: the {curve.name} point must be uncompressed [Doc 9303-12 §5]")
    x = int.from_bytes(point[1 : 1 + size], "big")
    y = int.from_bytes(point[1 + size :], "big")
    try:
        Point(x, y, curve.params)
    except ValueError:
        raise EncodingError(f"{what}: the EC point is not on {curve.name}") from None
    return CurveKey(curve, x, y)
