"""The per-document chip keys (Active and Chip Authentication private keys) sealed for one station.

A station never holds a signing key, but it must write each document's own AA and CA private keys into
the chip. The centre encrypts them for the station's X25519 key with HPKE (RFC 9180, base mode:
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; cryptography's implementation), binding the job and
document number as HPKE `info`, so a blob cannot be replayed for another job. The plaintext is JSON of
PKCS#8 DER keys in base64.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from mrtd.errors import InputError, KeyAccessError
from mrtd.private import write_private

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class ChipKeys:
    aa_key: PrivateKey | None = field(default=None, repr=False)
    ca_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    ca_key_id: int | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise InputError(f"{what}: not base64url") from None


def public_key_text(key: x25519.X25519PrivateKey) -> str:
    """The station's public key as it registers it: 32 raw bytes, base64url."""
    return _b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def parse_public_key(text: str) -> x25519.X25519PublicKey:
    raw = _unb64(text, "public_key")
    if len(raw) != 32:
        raise InputError("public_key: not an X25519 public key (32 bytes, base64url)")
    return x25519.X25519PublicKey.from_public_bytes(raw)


def load_or_create_station_key(path: Path) -> x25519.X25519PrivateKey:
    """The station's key file (PKCS#8 PEM, mode 0600), created on first use."""
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise KeyAccessError(f"{path}: not a station key (PKCS#8 PEM)") from None
        if not isinstance(key, x25519.X25519PrivateKey):
            raise KeyAccessError(f"{path}: not an X25519 key")
        return key
    key = x25519.X25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_private(path, pem, exclusive=True)
    return key


def _der(key: PrivateKey) -> str:
    return _b64(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def seal_keys(keys: ChipKeys, station_key: str, info: str) -> str:
    """The keys encrypted for the station whose public key is `station_key`; base64url text."""
    plain: dict[str, object] = {"ca_key_id": keys.ca_key_id}
    if keys.aa_key is not None:
        plain["aa"] = _der(keys.aa_key)
    if keys.ca_key is not None:
        plain["ca"] = _der(keys.ca_key)
    blob = _SUITE.encrypt(json.dumps(plain).encode("utf-8"), parse_public_key(station_key), info=info.encode())
    return _b64(blob)


def open_keys(blob: str, key: x25519.X25519PrivateKey, info: str) -> ChipKeys:
    """Decrypt what `seal_keys` made; KeyAccessError when it was not made for this key and `info`."""
    try:
        plain = json.loads(_SUITE.decrypt(_unb64(blob, "keys"), key, info=info.encode()))
    except (InvalidTag, ValueError):
        raise KeyAccessError("chip keys: cannot be opened with this station's key for this job") from None

    def load(name: str) -> PrivateKey | None:
        if name not in plain:
            return None
        loaded = serialization.load_der_private_key(_unb64(plain[name], name), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyAccessError(f"chip keys: the {name} key is not RSA or EC")
        return loaded

    ca = load("ca")
    if ca is not None and not isinstance(ca, ec.EllipticCurvePrivateKey):
        raise KeyAccessError("chip keys: the Chip Authentication key is not EC")
    key_id = plain.get("ca_key_id")
    return ChipKeys(load("aa"), ca, key_id if isinstance(key_id, int) else None)
