"""Check a foreign signature: RSA PKCS#1 v1.5, RSASSA-PSS (with its parameters), ECDSA with DER or plain
(BSI TR-03111) signatures, on every curve of `keys.CURVES`. Curves cryptography lacks go to fastecdsa.
Every failure, and every exception a library raises on foreign bytes, is a `SignatureError`."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastecdsa import ecdsa as fast_ecdsa
from fastecdsa.rust import Point

from mrtd.asn1 import der
from mrtd.asn1.algorithms import (
    DIGESTS,
    ECDSA,
    ECDSA_PLAIN,
    ID_EC_PUBLIC_KEY,
    MGF1,
    RSA_ENCRYPTION,
    RSA_PKCS1,
    RSA_PSS,
    hash_object,
)
from mrtd.asn1.keys import CurveKey, VerifyKey
from mrtd.asn1.tlv import BER, DER, Tlv
from mrtd.errors import EncodingError, MrtdError, SignatureError


def digest_name(alg: der.AlgorithmIdentifier, what: str) -> str:
    """The hash of a DigestAlgorithmIdentifier; absent and NULL parameters are both accepted (9303-10 §4.6.2.2)."""
    name = DIGESTS.get(alg.oid)
    if name is None:
        raise EncodingError(f"{what}: digest algorithm {alg.oid} is not SHA-1/224/256/384/512 [Doc 9303-12 §5]")
    if alg.parameters not in (None, der.NULL_DER):
        raise EncodingError(f"{what}: digest algorithm parameters must be absent or NULL [RFC 5754 §2]")
    return name


def pss_parameters(params: bytes | None) -> tuple[str, str, int]:
    """(hash, MGF1 hash, salt length) from RSASSA-PSS-params, with RFC 4055's defaults."""
    hash_name, mgf_hash, salt = "sha1", "sha1", 20
    if params is None or params == der.NULL_DER:
        return hash_name, mgf_hash, salt
    what = "RSASSA-PSS-params"
    for obj in der.children(Tlv.decode(params, what=what, rules=BER), der.SEQUENCE, what, "RFC 4055 §3.1"):
        inner = obj.children(what=what)
        if len(inner) != 1:
            raise EncodingError(f"{what}: each field holds one value [RFC 4055 §3.1]")
        if obj.tag == 0xA0:
            hash_name = digest_name(der.AlgorithmIdentifier.read(inner[0], f"{what}.hashAlgorithm"), f"{what}.hashAlgorithm")
        elif obj.tag == 0xA1:
            mgf = der.AlgorithmIdentifier.read(inner[0], f"{what}.maskGenAlgorithm")
            if mgf.oid != MGF1 or mgf.parameters is None:
                raise EncodingError(f"{what}: only MGF1 is supported [RFC 4055 §3.1]")
            mgf_alg = der.AlgorithmIdentifier.read(Tlv.decode(mgf.parameters, what="MGF1 hash", rules=BER), "MGF1 hash")
            mgf_hash = digest_name(mgf_alg, "MGF1 hash")
        elif obj.tag == 0xA2:
            salt = der.read_int(inner[0], f"{what}.saltLength")
        elif obj.tag == 0xA3:
            if der.read_int(inner[0], f"{what}.trailerField") != 1:
                raise EncodingError(f"{what}: trailerField must be 1 [RFC 4055 §3.1]")
        else:
            raise EncodingError(f"{what}: unknown field {obj.tag:X} [RFC 4055 §3.1]")
    if not 0 <= salt <= 1024:
        raise EncodingError(f"{what}: salt length {salt} is not plausible [RFC 4055 §3.1]")
    return hash_name, mgf_hash, salt


def ecdsa_pair(signature: bytes, what: str = "signature") -> tuple[int, int]:
    """(r, s) of a DER ECDSA-Sig-Value (RFC 3279 §2.2.3)."""
    parts = der.children(Tlv.decode(signature, what=what, rules=DER), der.SEQUENCE, what, "RFC 3279 §2.2.3")
    if len(parts) != 2:
        raise SignatureError(f"{what}: ECDSA-Sig-Value needs r and s [RFC 3279 §2.2.3]")
    return der.read_int(parts[0], f"{what}.r"), der.read_int(parts[1], f"{what}.s")


def verify(key: VerifyKey, alg: der.AlgorithmIdentifier, message: bytes, signature: bytes, *,
           digest: str | None = None, what: str = "signature") -> str:
    """Verify `signature` over `message` with the scheme `alg` names (`digest` is the hash a bare
    rsaEncryption or ecPublicKey identifier means). Returns a short description. Raises SignatureError."""
    try:
        return _verify(key, alg, message, signature, digest, what)
    except MrtdError as exc:
        if isinstance(exc, SignatureError):
            raise
        raise SignatureError(f"{what}: cannot be checked: {exc}") from None
    except (ValueError, TypeError, OverflowError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"{what}: cannot be checked ({exc.__class__.__name__}: {exc})") from None


def _verify(key: VerifyKey, alg: der.AlgorithmIdentifier, message: bytes, signature: bytes, digest: str | None,
            what: str) -> str:
    if alg.oid == RSA_PSS:
        hash_name, mgf_hash, salt = pss_parameters(alg.parameters)
        scheme = f"RSASSA-PSS {hash_name.upper()} salt {salt}"
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError(f"{what}: {scheme} but the key is not RSA")
        pad = padding.PSS(mgf=padding.MGF1(hash_object(mgf_hash)), salt_length=salt)
        _check(lambda: key.verify(signature, message, pad, hash_object(hash_name)), scheme, what)
        return scheme
    if alg.oid == RSA_ENCRYPTION or alg.oid in RSA_PKCS1:
        hash_name = RSA_PKCS1.get(alg.oid) or _needed(digest, alg, what)
        scheme = f"RSA PKCS#1 v1.5 {hash_name.upper()}"
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError(f"{what}: {scheme} but the key is not RSA")
        _check(lambda: key.verify(signature, message, padding.PKCS1v15(), hash_object(hash_name)), scheme, what)
        return scheme
    if alg.oid in ECDSA or alg.oid in ECDSA_PLAIN or alg.oid == ID_EC_PUBLIC_KEY:
        hash_name = ECDSA.get(alg.oid) or ECDSA_PLAIN.get(alg.oid) or _needed(digest, alg, what)
        if alg.oid in ECDSA_PLAIN:
            r, s = raw_pair(signature, what)
        else:
            r, s = ecdsa_pair(signature, what)
        verify_ecdsa(key, message, r, s, hash_name, what)
        return f"ECDSA {hash_name.upper()}"
    raise SignatureError(f"{what}: algorithm {alg.oid} is not RSA, RSA-PSS or ECDSA [Doc 9303-12 §5]")


def _needed(digest: str | None, alg: der.AlgorithmIdentifier, what: str) -> str:
    if digest is None:
        raise SignatureError(f"{what}: {alg.oid} does not name a hash and none was given")
    return digest


def _check(run: object, scheme: str, what: str) -> None:
    try:
        run()  # type: ignore[operator]
    except InvalidSignature:
        raise SignatureError(f"{what}: the {scheme} signature does not verify") from None


def raw_pair(signature: bytes, what: str = "signature") -> tuple[int, int]:
    """(r, s) of a plain r||s signature (BSI TR-03111 §5.2.1, seals)."""
    if not signature or len(signature) % 2:
        raise SignatureError(f"{what}: {len(signature)} bytes is not an r||s pair")
    half = len(signature) // 2
    return int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")


def verify_ecdsa(key: VerifyKey, message: bytes, r: int, s: int, hash_name: str, what: str = "signature") -> None:
    """ECDSA over `message` hashed with `hash_name`; raises SignatureError."""
    if isinstance(key, CurveKey):
        order = key.curve.params.q
        if not (0 < r < order and 0 < s < order):
            raise SignatureError(f"{what}: ECDSA r or s is outside 1..n-1")
        point = Point(key.x, key.y, key.curve.params)
        digest = hashlib.new(hash_name, message).digest()
        if not fast_ecdsa.verify((r, s), digest, point, key.curve.params, prehashed=True):
            raise SignatureError(f"{what}: the ECDSA {hash_name.upper()} signature on {key.curve.name} does not verify")
        return
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError(f"{what}: ECDSA but the key is not EC")
    if r <= 0 or s <= 0:
        raise SignatureError(f"{what}: ECDSA r or s is not positive")
    _check(lambda: key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hash_object(hash_name))),
           f"ECDSA {hash_name.upper()}", what)


def verify_raw_ecdsa(key: VerifyKey, message: bytes, signature: bytes, hash_name: str, what: str = "signature") -> None:
    """A seal's r||s signature: each half as long as the curve order, then ECDSA."""
    r, s = raw_pair(signature, what)
    if isinstance(key, rsa.RSAPublicKey):
        raise SignatureError(f"{what}: seal signatures are ECDSA; the signer key is RSA")
    size = (key.key_size + 7) // 8
    if len(signature) // 2 != size:
        raise SignatureError(f"{what}: r and s take {len(signature) // 2} bytes each, the curve needs {size}")
    verify_ecdsa(key, message, r, s, hash_name, what)
