"""The `Signer` protocol: everything that signs (certificates, CRLs, EF.SOD, master lists, seals) signs
through one of these, never through a raw private key.

Implementations: `mrtd.pki.keys.FileSigner` (encrypted PKCS#8 file) and `mrtd.pki.pkcs11.Pkcs11Signer`
(a key inside an HSM). Signatures come back in the encoding X.509 and CMS use (DER `ECDSA-Sig-Value`
for ECDSA, the plain octet string for RSA); `raw_ecdsa` converts to the r||s form seals use.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from mrtd.asn1.algorithms import HashName, hash_for_bits
from mrtd.asn1.keys import PublicKey
from mrtd.errors import EncodingError

__all__ = ["HashName", "MemorySigner", "PublicKey", "Signer", "der_ecdsa", "hash_algorithm", "hash_for_bits",
           "hash_for_curve", "raw_ecdsa"]


@runtime_checkable
class Signer(Protocol):
    """A private key that signs without ever showing itself.

    `sign` hashes `data` with `hash_name` and signs: ECDSA (DER signature) for EC keys, RSASSA-PSS
    (MGF1 with the same hash, salt length = hash length) for RSA keys.
    """

    @property
    def key_id(self) -> str:
        """A stable, non-secret name for the key (file name or PKCS#11 label), for logs."""
        ...

    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes, hash_name: HashName) -> bytes: ...


def raw_ecdsa(der_signature: bytes, curve: ec.EllipticCurve) -> bytes:
    """DER ECDSA-Sig-Value -> r||s, each left-padded to the byte length of the curve order."""
    try:
        r, s = decode_dss_signature(der_signature)
    except ValueError as exc:
        raise EncodingError(f"ECDSA signature is not DER: {exc}") from None
    n = (curve.key_size + 7) // 8
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def der_ecdsa(raw_signature: bytes) -> bytes:
    """r||s (equal halves) -> DER ECDSA-Sig-Value."""
    if not raw_signature or len(raw_signature) % 2:
        raise EncodingError(f"raw ECDSA signature has odd length {len(raw_signature)}")
    half = len(raw_signature) // 2
    return encode_dss_signature(
        int.from_bytes(raw_signature[:half], "big"), int.from_bytes(raw_signature[half:], "big")
    )


def hash_for_curve(curve: ec.EllipticCurve) -> HashName:
    """The hash Doc 9303 pairs with a curve size (<=224 SHA-224, <=256 SHA-256, <=384 SHA-384, else SHA-512)."""
    return hash_for_bits(curve.key_size)


class MemorySigner:
    """A `Signer` around a private key held in memory: per-document keys (Active and Chip
    Authentication) that live only until they are written to the chip, and test keys.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, key_id: str = "memory") -> None:
        self._key = private_key
        self._key_id = key_id

    @property
    def key_id(self) -> str:
        return self._key_id

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign(self, data: bytes, hash_name: HashName) -> bytes:
        algorithm = hash_algorithm(hash_name)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return self._key.sign(
            data, padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size), algorithm
        )


def hash_algorithm(hash_name: HashName) -> hashes.HashAlgorithm:
    """The cryptography hash object for a `HashName`."""
    name = HashName(hash_name)
    if name is HashName.SHA224:
        return hashes.SHA224()
    if name is HashName.SHA256:
        return hashes.SHA256()
    if name is HashName.SHA384:
        return hashes.SHA384()
    return hashes.SHA512()
