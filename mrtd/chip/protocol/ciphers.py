"""Block-cipher primitives of Doc 9303-11 §9.8: 2-key 3DES-CBC, the ISO 9797-1 retail MAC, AES-CBC, AES-CMAC.

Everything goes through `cryptography`; only the padding, the retail-MAC chaining (a few lines of
glue around DES, which no library exposes as "MAC algorithm 3") and the reuse of one CBC context for
many messages (`Cbc`) are written here.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    CipherContext,
    algorithms,
    modes,
)

from mrtd.errors import EncodingError


class PaddingError(EncodingError):
    """Data that does not end with ISO/IEC 9797-1 padding method 2."""


class BlockError(EncodingError):
    """Data to encrypt or decrypt that is not a whole number of blocks (or is empty)."""


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


def des3(key: bytes) -> TripleDES:
    # always hand cryptography a 24-byte key: 2-key 3DES is K1 K2 K1, single DES is K K K
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return TripleDES(key)


class Cbc:
    """CBC under one key with any IV, its OpenSSL contexts kept from one message to the next.

    Making a context costs about 4 us, more than encrypting a secure-messaging message, and a session
    encrypts, decrypts and MACs every APDU; so each key keeps one context per direction and starts each
    message by cancelling the chaining value the previous one left. Encrypting, the context's next block
    is E(P1 xor last), so it is fed P1 xor IV xor last; decrypting, its first block comes out as
    D(C1) xor last, and xor last xor IV makes it D(C1) xor IV.
    """

    def __init__(self, algorithm: BlockCipherAlgorithm) -> None:
        self.algorithm = algorithm
        self.block = algorithm.block_size // 8
        self._enc: CipherContext | None = None
        self._dec: CipherContext | None = None
        self._enc_last = self._dec_last = 0  # the chaining values, as integers: xor is then one operation

    def _whole(self, data: bytes, iv: bytes) -> None:
        if not data or len(data) % self.block:
            raise BlockError(f"CBC: {len(data)} bytes are not whole {self.block}-byte blocks")
        if len(iv) != self.block:
            raise ValueError(f"CBC: an IV of {len(iv)} bytes, not {self.block}")

    def encrypt(self, data: bytes, iv: bytes) -> bytes:
        self._whole(data, iv)
        if self._enc is None:
            self._enc = Cipher(self.algorithm, modes.CBC(bytes(self.block))).encryptor()
        b = self.block
        first = int.from_bytes(data[:b], "big") ^ int.from_bytes(iv, "big") ^ self._enc_last
        out = self._enc.update(first.to_bytes(b, "big") + data[b:])
        self._enc_last = int.from_bytes(out[-b:], "big")
        return out

    def decrypt(self, data: bytes, iv: bytes) -> bytes:
        self._whole(data, iv)
        if self._dec is None:
            self._dec = Cipher(self.algorithm, modes.CBC(bytes(self.block))).decryptor()
        b = self.block
        out = self._dec.update(data)
        first = int.from_bytes(out[:b], "big") ^ self._dec_last ^ int.from_bytes(iv, "big")
        self._dec_last = int.from_bytes(data[-b:], "big")
        return first.to_bytes(b, "big") + out[b:]

    def chain(self, data: bytes) -> bytes:
        """The last block of the encryption under a zero IV (the CBC-MAC chaining value)."""
        return self.encrypt(data, bytes(self.block))[-self.block :]


class RetailMac:
    """ISO/IEC 9797-1 MAC algorithm 3 with padding method 2: single-DES CBC over all blocks with Ka, the
    last block through DES(Ka) o DES^-1(Kb) o DES(Ka), i.e. one 3DES-EDE(Ka, Kb) block."""

    def __init__(self, key: bytes) -> None:
        ka, kb = key[:8], key[8:16]
        self._chain = Cbc(des3(ka))
        self._last = Cipher(des3(ka + kb), modes.ECB()).encryptor()

    def mac(self, data: bytes) -> bytes:
        padded = pad(data, 8)
        state = int.from_bytes(self._chain.chain(padded[:-8]), "big") if len(padded) > 8 else 0
        return self._last.update((state ^ int.from_bytes(padded[-8:], "big")).to_bytes(8, "big"))


class Cmac8:
    """AES-CMAC truncated to 8 bytes (Doc 9303-11 §9.8.6.2); callers pad where the standard pads. One
    keyed context, copied per message (a copy costs a fifth of a new one)."""

    def __init__(self, key: bytes) -> None:
        self._keyed = cmac.CMAC(algorithms.AES(key))

    def mac(self, data: bytes) -> bytes:
        c = self._keyed.copy()
        c.update(data)
        return c.finalize()[:8]


class AesBlock:
    """Single AES blocks under one key (the SSC's encryption into secure messaging's IV)."""

    def __init__(self, key: bytes) -> None:
        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()

    def encrypt(self, block: bytes) -> bytes:
        if len(block) != 16:  # a kept ECB context would hold back the rest and shift every later block
            raise ValueError(f"AES: a block of {len(block)} bytes, not 16")
        return self._ecb.update(block)


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    return Cbc(des3(key)).encrypt(data, iv)


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    return Cbc(des3(key)).decrypt(data, iv)


def retail_mac(key: bytes, data: bytes) -> bytes:
    return RetailMac(key).mac(data)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    return Cbc(algorithms.AES(key)).encrypt(data, iv)


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    return Cbc(algorithms.AES(key)).decrypt(data, iv)


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    return AesBlock(key).encrypt(block)


def aes_cmac8(key: bytes, data: bytes) -> bytes:
    return Cmac8(key).mac(data)


def adjust_parity(key: bytes) -> bytes:
    """DES odd parity in the low bit of each byte (Doc 9303-11 App. D.1 shows the adjusted keys)."""
    out = bytearray()
    for b in key:
        v = b & 0xFE
        out.append(v | (bin(v).count("1") + 1) % 2)
    return bytes(out)
