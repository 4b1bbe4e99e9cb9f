"""Block-cipher primitives of Doc 9303-11 §9.8: 2-key 3DES-CBC, the ISO 9797-1 retail MAC, AES-CBC, AES-CMAC.

Everything goes through `cryptography`; only the padding and the retail-MAC chaining (a few lines of
glue around DES, which no library exposes as "MAC algorithm 3") are written here.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mrtd.errors import EncodingError


class PaddingError(EncodingError):
    """Data that does not end with ISO/IEC 9797-1 padding method 2."""


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 80, then zeros up to a whole block."""
    n = block - (len(data) + 1) % block
    if n == block:
        n = 0
    return data + b"\x80" + bytes(n)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise PaddingError("secure messaging: data does not end with padding method 2 [ISO/IEC 9797-1]")
    return stripped[:-1]


def _des3(key: bytes) -> TripleDES:
    # always hand cryptography a 24-byte key: 2-key 3DES is K1 K2 K1, single DES is K K K
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return TripleDES(key)


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    enc = Cipher(_des3(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    dec = Cipher(_des3(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with padding method 2: single-DES CBC over all blocks with Ka, the
    last block through DES(Ka) o DES^-1(Kb) o DES(Ka), i.e. one 3DES-EDE(Ka, Kb) block."""
    ka, kb = key[:8], key[8:16]
    padded = pad(data, 8)
    head, last = padded[:-8], padded[-8:]
    state = bytes(8)
    if head:
        enc = Cipher(_des3(ka), modes.CBC(bytes(8))).encryptor()
        state = (enc.update(head) + enc.finalize())[-8:]
    block = bytes(a ^ b for a, b in zip(state, last, strict=True))
    ecb = Cipher(_des3(ka + kb), modes.ECB()).encryptor()
    return ecb.update(block) + ecb.finalize()


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_cmac8(key: bytes, data: bytes) -> bytes:
    """AES-CMAC truncated to 8 bytes (Doc 9303-11 §9.8.6.2). Callers pad where the standard pads."""
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:8]


def adjust_parity(key: bytes) -> bytes:
    """DES odd parity in the low bit of each byte (Doc 9303-11 App. D.1 shows the adjusted keys)."""
    out = bytearray()
    for b in key:
        v = b & 0xFE
        out.append(v | (bin(v).count("1") + 1) % 2)
    return bytes(out)
