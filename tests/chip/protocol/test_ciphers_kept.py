"""The kept cipher contexts (ciphers.Cbc, RetailMac, Cmac8, AesBlock) give, message after message, exactly
what a fresh context per message gives: each is checked against `cryptography` used the plain way, over a
run of messages of every length, with the IV changing each time, encrypting and decrypting interleaved."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mrtd.chip.protocol import ciphers


def fresh_cbc(algorithm, data: bytes, iv: bytes, decrypt: bool = False) -> bytes:
    c = Cipher(algorithm, modes.CBC(iv))
    ctx = c.decryptor() if decrypt else c.encryptor()
    return ctx.update(data) + ctx.finalize()


def fresh_retail_mac(key: bytes, data: bytes) -> bytes:
    # ISO/IEC 9797-1 MAC algorithm 3 spelled out: DES-CBC(Ka) over every padded block, then DES^-1(Kb), DES(Ka)
    ka, kb = key[:8], key[8:16]
    padded = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    h = fresh_cbc(TripleDES(ka * 3), padded, bytes(8))[-8:]
    ecb = lambda k, b, dec=False: (  # noqa: E731
        (Cipher(TripleDES(k * 3), modes.ECB()).decryptor() if dec else Cipher(TripleDES(k * 3), modes.ECB()).encryptor()).update(b))
    return ecb(ka, ecb(kb, h, dec=True))


@pytest.mark.parametrize("algorithm, block", [(algorithms.AES(bytes(range(16))), 16),
                                              (algorithms.AES(bytes(range(32))), 16),
                                              (TripleDES(bytes(range(24))), 8)])
def test_kept_cbc_matches_a_fresh_context_for_every_message(algorithm, block) -> None:
    rng = random.Random(7)
    kept = ciphers.Cbc(algorithm)
    for n in range(1, 60):
        data = rng.randbytes(block * (1 + rng.randrange(40)))
        iv = rng.randbytes(block)
        assert kept.encrypt(data, iv) == fresh_cbc(algorithm, data, iv), n
        crypt = rng.randbytes(block * (1 + rng.randrange(40)))
        assert kept.decrypt(crypt, iv) == fresh_cbc(algorithm, crypt, iv, decrypt=True), n


def test_kept_contexts_refuse_what_is_not_whole_blocks_and_go_on_right() -> None:
    key = algorithms.AES(bytes(16))
    kept, block = ciphers.Cbc(key), ciphers.AesBlock(bytes(16))
    with pytest.raises(ciphers.BlockError, match="not whole 16-byte blocks"):
        kept.encrypt(bytes(17), bytes(16))
    with pytest.raises(ciphers.BlockError, match="0 bytes are not whole 16-byte blocks"):
        kept.decrypt(b"", bytes(16))
    with pytest.raises(ValueError, match="an IV of 8 bytes"):
        kept.encrypt(bytes(16), bytes(8))
    with pytest.raises(ValueError, match="a block of 8 bytes"):
        block.encrypt(bytes(8))
    assert kept.encrypt(bytes(32), bytes(16)) == fresh_cbc(key, bytes(32), bytes(16))
    assert kept.decrypt(bytes(32), bytes(16)) == fresh_cbc(key, bytes(32), bytes(16), decrypt=True)
    assert block.encrypt(bytes(16)) == fresh_cbc(key, bytes(16), bytes(16))


def test_kept_macs_match_fresh_ones() -> None:
    rng = random.Random(11)
    k16, k_aes = rng.randbytes(16), rng.randbytes(16)
    retail, cm, blk = ciphers.RetailMac(k16), ciphers.Cmac8(k_aes), ciphers.AesBlock(k_aes)
    for n in range(0, 300, 7):
        data = rng.randbytes(n)
        assert retail.mac(data) == fresh_retail_mac(k16, data), n
        c = cmac.CMAC(algorithms.AES(k_aes))
        c.update(data)
        assert cm.mac(data) == c.finalize()[:8], n
        block = rng.randbytes(16)
        assert blk.encrypt(block) == fresh_cbc(algorithms.AES(k_aes), block, bytes(16)), n
