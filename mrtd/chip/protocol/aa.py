"""Active Authentication, Doc 9303-11 §6.1: INTERNAL AUTHENTICATE over secure messaging; RSA with
ISO/IEC 9796-2 digital signature scheme 1 (partial recovery), or ECDSA in the plain r||s format.

The RSA primitive (S = F^d mod n, F = S^e mod n) is a textbook modular exponentiation: `cryptography`
offers no raw-RSA operation, and ISO 9796-2 is not one of its paddings, so both are written here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.curves import powmod
from mrtd.errors import EncodingError, SignatureError
from mrtd.pki.signer import der_ecdsa, hash_algorithm, hash_for_curve, raw_ecdsa

_TRAILERS = {"sha1": b"\xbc", "sha224": b"\x38\xcc", "sha256": b"\x34\xcc", "sha384": b"\x36\xcc", "sha512": b"\x35\xcc"}
_BY_TRAILER = {v: k for k, v in _TRAILERS.items()}

AaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
AaPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def internal_authenticate(rnd_ifd: bytes, le: int = 256) -> Command:
    """INTERNAL AUTHENTICATE 00 88 00 00 08 RND.IFD Le [§6.1]."""
    return Command(0x00, 0x88, 0x00, 0x00, rnd_ifd, le, le > 256)


def _hlen(hash_name: str) -> int:
    return hashlib.new(hash_name).digest_size


def message_capacity_bits(k_bits: int, hash_name: str) -> int:
    """c = k - Lh - 8t - 4 [ISO/IEC 9796-2 §B; Doc 9303-11 App. F]."""
    return k_bits - 8 * _hlen(hash_name) - 8 * len(_TRAILERS[hash_name]) - 4


def iso9796_2_representative(m1: bytes, m2: bytes, hash_name: str, k_bits: int) -> bytes:
    """F = 6A || M1 || H(M1 || M2) || trailer, exactly k/8 bytes (partial recovery)."""
    size = (k_bits + 7) // 8
    m1_len = size - 1 - _hlen(hash_name) - len(_TRAILERS[hash_name])
    if len(m1) != m1_len:
        raise EncodingError(f"ISO 9796-2: M1 must be {m1_len} bytes for a {k_bits}-bit key, not {len(m1)}")
    return b"\x6a" + m1 + hashlib.new(hash_name, m1 + m2).digest() + _TRAILERS[hash_name]


def iso9796_2_recover(f: bytes, m2: bytes) -> bytes:
    """Check F against M2 and return the recovered M1; SignatureError when it does not verify."""
    if not f or f[0] != 0x6A:
        raise SignatureError("Active Authentication: header is not 6A (partial recovery) [ISO/IEC 9796-2]")
    if f[-1:] == b"\xbc":
        name = "sha1"
    elif f[-2:] in _BY_TRAILER:
        name = _BY_TRAILER[f[-2:]]
    else:
        raise SignatureError("Active Authentication: unknown trailer [ISO/IEC 9796-2]")
    t = len(_TRAILERS[name])
    h = _hlen(name)
    m1, digest = f[1 : len(f) - t - h], f[len(f) - t - h : len(f) - t]
    if hashlib.new(name, m1 + m2).digest() != digest:
        raise SignatureError("Active Authentication: hash of M1 || RND.IFD does not match [Doc 9303-11 §6.1]")
    return m1


def sign(key: AaKey, rnd_ifd: bytes, random: Callable[[int], bytes]) -> bytes:
    """The chip's answer to INTERNAL AUTHENTICATE (simulator side)."""
    if isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        return sign_rsa(nums.public_numbers.n, nums.d, rnd_ifd, random)
    h = hash_for_curve(key.curve)
    der = key.sign(rnd_ifd, ec.ECDSA(hash_algorithm(h)))
    return raw_ecdsa(der, key.curve)


def sign_rsa(n: int, d: int, rnd_ifd: bytes, random: Callable[[int], bytes]) -> bytes:
    """ISO 9796-2 scheme 1 with the modulus and private exponent only (what the JMRTD applet holds):
    SHA-1 up to 1024 bits, SHA-256 above; M1 is fresh random bytes."""
    k = n.bit_length()
    name = "sha1" if k <= 1024 else "sha256"
    m1 = random((k + 7) // 8 - 1 - _hlen(name) - len(_TRAILERS[name]))
    f = int.from_bytes(iso9796_2_representative(m1, rnd_ifd, name, k), "big")
    return powmod(f, d, n).to_bytes((k + 7) // 8, "big")  # GMP: a tenth of pow() at 1024 bits


def verify(public_key: AaPublicKey, rnd_ifd: bytes, signature: bytes) -> None:
    """Check the chip's Active Authentication signature over RND.IFD; SignatureError when it fails."""
    if isinstance(public_key, rsa.RSAPublicKey):
        nums = public_key.public_numbers()
        size = (public_key.key_size + 7) // 8
        s = int.from_bytes(signature, "big")
        if len(signature) != size or s >= nums.n:
            raise SignatureError("Active Authentication: RSA signature has the wrong size [Doc 9303-11 §6.1]")
        f = pow(s, nums.e, nums.n)
        for candidate in (f, nums.n - f):  # ISO 9796-2 allows the chip to return min(S, n - S)
            raw = candidate.to_bytes(size, "big")
            if raw[0] == 0x6A:
                iso9796_2_recover(raw, rnd_ifd)
                return
        raise SignatureError("Active Authentication: RSA signature does not open to an ISO 9796-2 message")
    try:
        h = hash_for_curve(public_key.curve)
        public_key.verify(der_ecdsa(signature), rnd_ifd, ec.ECDSA(hash_algorithm(h)))
    except (InvalidSignature, EncodingError) as exc:
        raise SignatureError("Active Authentication: ECDSA signature does not verify [Doc 9303-11 §6.1]") from exc
