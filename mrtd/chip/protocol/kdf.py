"""Key derivation, Doc 9303-11 §9.7: KDF(K, c) = H(K || c), c a 32-bit big-endian counter."""

from __future__ import annotations

import hashlib
from enum import Enum

from mrtd.chip.protocol.ciphers import adjust_parity

ENC = 1
MAC = 2
PI = 3


class Cipher(Enum):
    """The block ciphers of secure messaging and PACE, with their key length in bytes."""

    DES3 = "3DES"
    AES128 = "AES-128"
    AES192 = "AES-192"
    AES256 = "AES-256"

    @property
    def key_length(self) -> int:
        return {"3DES": 16, "AES-128": 16, "AES-192": 24, "AES-256": 32}[self.value]

    @property
    def is_aes(self) -> bool:
        return self is not Cipher.DES3

    @property
    def block(self) -> int:
        return 16 if self.is_aes else 8


def kdf(secret: bytes, counter: int, cipher: Cipher) -> bytes:
    """The key of `cipher` derived from `secret` with counter 1 (Enc), 2 (MAC) or 3 (password) [§9.7.1]."""
    data = secret + counter.to_bytes(4, "big")
    if cipher in (Cipher.DES3, Cipher.AES128):
        digest = hashlib.sha1(data).digest()
    else:
        digest = hashlib.sha256(data).digest()
    if cipher is Cipher.DES3:
        return adjust_parity(digest[:16])
    return digest[: cipher.key_length]


def bac_seed(mrz_information: str) -> bytes:
    """Kseed = the first 16 bytes of SHA-1(MRZ_information) [§9.7.2]."""
    return hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]


def pace_password_key(password: bytes, cipher: Cipher) -> bytes:
    """K_pi = KDF(password, 3): password = SHA-1(MRZ_information) (all 20 bytes) or the CAN in ISO 8859-1."""
    return kdf(password, PI, cipher)


def mrz_password(mrz_information: str) -> bytes:
    return hashlib.sha1(mrz_information.encode("ascii")).digest()


def can_password(can: str) -> bytes:
    return can.encode("latin-1")
