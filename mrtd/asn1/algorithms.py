"""Algorithm identifiers as data: the hashes and signature schemes ICAO objects use (Doc 9303-12 §5,
RFC 5754, RFC 4055, RFC 5758, BSI TR-03111 plain ECDSA)."""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import hashes


class HashName(StrEnum):
    SHA224 = "sha224"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"


# Digest OIDs by name; SHA-1 is read (old documents) but never written.
DIGESTS: dict[str, str] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
DIGEST_OIDS: dict[str, str] = {v: k for k, v in DIGESTS.items()}

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
MGF1 = "1.2.840.113549.1.1.8"
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_PRIME_FIELD = "1.2.840.10045.1.1"

RSA_PKCS1: dict[str, str] = {
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
ECDSA: dict[str, str] = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
ECDSA_OIDS: dict[str, str] = {v: k for k, v in ECDSA.items()}
ECDSA_PLAIN: dict[str, str] = {  # BSI TR-03111 §5.2.1 plain r||s signatures
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
HASH_OBJECTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def hash_object(name: str) -> hashes.HashAlgorithm:
    return HASH_OBJECTS[name]()


def hash_for_bits(bits: int) -> HashName:
    """The hash Doc 9303 pairs with a curve size (<=224 SHA-224, <=256 SHA-256, <=384 SHA-384, else SHA-512)."""
    if bits <= 224:
        return HashName.SHA224
    if bits <= 256:
        return HashName.SHA256
    if bits <= 384:
        return HashName.SHA384
    return HashName.SHA512
