"""Software keys: generated here, stored only as encrypted PKCS#8, used through the `Signer` protocol.

The file format is standard PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 = scrypt + AES-256-CBC, the
same thing `openssl pkcs8 -topk8 -scrypt` writes, so OpenSSL and cryptography both read it. We encode
it ourselves because cryptography's `BestAvailableEncryption` for PKCS#8 leaves the PBKDF2 iteration
count at OpenSSL's default (2048), which is too weak for a CSCA key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mrtd.asn1.der import integer as der_int
from mrtd.asn1.der import octets, seq
from mrtd.asn1.der import oid as der_oid
from mrtd.errors import ConfigurationError, InputError, KeyAccessError
from mrtd.pki.signer import HashName, PublicKey, hash_algorithm, hash_for_curve
from mrtd.private import private_dir

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "ecdsa-p256": ec.SECP256R1,
    "ecdsa-p384": ec.SECP384R1,
    "ecdsa-p521": ec.SECP521R1,
    "ecdsa-brainpoolp256r1": ec.BrainpoolP256R1,
    "ecdsa-brainpoolp384r1": ec.BrainpoolP384R1,
    "ecdsa-brainpoolp512r1": ec.BrainpoolP512R1,
}
_RSA_BITS = {"rsa-pss-3072": 3072, "rsa-pss-4096": 4096}

ALGORITHMS: tuple[str, ...] = (*_CURVES, *_RSA_BITS)
# The one default for every new PKI (`mrtd site init` and `mrtd pki init`): ECDSA on P-256 is in Doc 9303-12's
# list, every reader verifies it, and VDS-NC seals may only use the NIST curves.
DEFAULT_ALGORITHM = "ecdsa-p256"

# OWASP's floor for scrypt (2^17, r=8, p=1: 128 MiB, a few tenths of a second per load).
DEFAULT_SCRYPT_LOG2N = 17
_SCRYPT_R = 8
_SCRYPT_P = 1

_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"

# Every key has its own secret: the environment variable of a role's key is MRTD_<NAME>_PASSPHRASE for a key
# file, MRTD_<NAME>_PIN for a key in a token.
KEY_ROLES: dict[str, str] = {"csca": "CSCA", "ds": "DS", "seal-signer": "SEAL", "vdsnc-signer": "VDSNC",
                             "masterlist-signer": "ML", "deviationlist-signer": "DL", "audit": "AUDIT",
                             "cvca": "CVCA", "dv": "DV"}
Secrets = Mapping[str, bytes]  # role -> that key's secret (passphrase or PIN)


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh private key for one of `ALGORITHMS` ("ecdsa-p256", ..., "rsa-pss-4096")."""
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm]())
    if algorithm in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[algorithm])
    raise InputError(f"algorithm: unknown key algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")


def curve_for(algorithm: str) -> ec.EllipticCurve | None:
    return _CURVES[algorithm]() if algorithm in _CURVES else None


def rsa_bits_for(algorithm: str) -> int | None:
    return _RSA_BITS.get(algorithm)


def algorithm_of(public_key: PublicKey) -> str:
    """The `ALGORITHMS` name of a public key (for logs and records)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        for name, curve in _CURVES.items():
            if curve().name == public_key.curve.name:
                return name
        return f"ecdsa-{public_key.curve.name}"
    return f"rsa-pss-{public_key.key_size}"


def default_hash(public_key: PublicKey) -> HashName:
    """The hash we sign with for a key: by curve size for ECDSA (Doc 9303 pairing); SHA-256 for RSA."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return hash_for_curve(public_key.curve)
    return HashName.SHA256


def encrypt_private_key(key: PrivateKey, passphrase: bytes, *, scrypt_log2n: int = DEFAULT_SCRYPT_LOG2N) -> bytes:
    """PEM `ENCRYPTED PRIVATE KEY`: PKCS#8 under PBES2 (scrypt, AES-256-CBC)."""
    if not passphrase:
        raise KeyAccessError("passphrase: an empty passphrase is not allowed for a stored key")
    plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    salt = os.urandom(16)
    iv = os.urandom(16)
    kek = Scrypt(salt=salt, length=32, n=1 << scrypt_log2n, r=_SCRYPT_R, p=_SCRYPT_P).derive(passphrase)
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(kek), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    kdf = seq(der_oid(_OID_SCRYPT), seq(octets(salt), der_int(1 << scrypt_log2n), der_int(_SCRYPT_R), der_int(_SCRYPT_P)))
    scheme = seq(der_oid(_OID_AES256_CBC), octets(iv))
    der = seq(seq(der_oid(_OID_PBES2), seq(kdf, scheme)), octets(ciphertext))
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + "\n".join(lines)
            + "\n-----END ENCRYPTED PRIVATE KEY-----\n").encode("ascii")


def decrypt_private_key(data: bytes, passphrase: bytes, *, source: str = "key") -> PrivateKey:
    """Load an encrypted PKCS#8 key (PEM or DER). Refuses unencrypted keys; never echoes the passphrase."""
    if b"ENCRYPTED PRIVATE KEY" not in data and data[:1] != b"\x30":
        raise KeyAccessError(f"{source}: not an encrypted PKCS#8 private key; mrtd only stores encrypted keys")
    loader = serialization.load_pem_private_key if data.lstrip().startswith(b"-----") else serialization.load_der_private_key
    try:
        key = loader(data, password=passphrase)
    except TypeError:
        raise KeyAccessError(f"{source}: private key is not encrypted; refusing to use it") from None
    except ValueError:
        raise KeyAccessError(f"{source}: cannot decrypt the private key (wrong passphrase or damaged file)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyAccessError(f"{source}: unsupported key type {type(key).__name__}")
    return key


class FileSigner:
    """A `Signer` whose key lives in an encrypted PKCS#8 file; decrypted only in memory."""

    def __init__(self, private_key: PrivateKey, key_id: str) -> None:
        self._key = private_key
        self._key_id = key_id
        self._public = private_key.public_key()
        self._ec_key = private_key if isinstance(private_key, ec.EllipticCurvePrivateKey) else None
        self._rsa_key = private_key if isinstance(private_key, rsa.RSAPrivateKey) else None

    @classmethod
    def generate(cls, path: Path, algorithm: str, passphrase: bytes, *, key_id: str | None = None,
                 scrypt_log2n: int = DEFAULT_SCRYPT_LOG2N) -> FileSigner:
        """Generate a key and write it encrypted to `path` (which must not exist yet)."""
        signer = cls(generate_key(algorithm), key_id or path.stem)
        signer.save(path, passphrase, scrypt_log2n=scrypt_log2n)
        return signer

    @classmethod
    def load(cls, path: Path, passphrase: bytes, *, key_id: str | None = None) -> FileSigner:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyAccessError(f"{path.name}: cannot read key file: {exc.strerror}") from None
        return cls(decrypt_private_key(data, passphrase, source=path.name), key_id or path.stem)

    def save(self, path: Path, passphrase: bytes, *, scrypt_log2n: int = DEFAULT_SCRYPT_LOG2N) -> None:
        """Write the key encrypted; the file is created exclusively (never overwritten), mode 0600."""
        pem = encrypt_private_key(self._key, passphrase, scrypt_log2n=scrypt_log2n)
        private_dir(path.parent)
        tmp = path.with_name(path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyAccessError(f"{tmp.name}: a partial key file exists; remove it after checking") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                raise KeyAccessError(f"{path.name}: key file exists; refusing to overwrite a key")
            os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @property
    def key_id(self) -> str:
        return self._key_id

    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes, hash_name: HashName) -> bytes:
        algorithm = hash_algorithm(hash_name)
        if self._ec_key is not None:
            return self._ec_key.sign(data, ec.ECDSA(algorithm))
        assert self._rsa_key is not None
        return self._rsa_key.sign(
            data, padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size), algorithm
        )


def _secret_from(env: Mapping[str, str], var: str, file: Path | None, prompt: Callable[[str], str] | None,
                 what: str) -> bytes:
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"{what} file {file}: cannot read it: {exc.strerror}") from None
        secret = raw.rstrip(b"\r\n")
    elif env.get(var):
        secret = env[var].encode("utf-8")
    elif prompt is not None:
        secret = prompt(what).encode("utf-8")
    else:
        raise ConfigurationError(f"{what}: none given; use a prompt, ${var} or a file (never the command line)")
    if not secret:
        raise ConfigurationError(f"{what}: empty")
    return secret


def secret_env(role: str, token: bool) -> str:
    """The environment variable holding the secret of `role`'s key (MRTD_DS_PASSPHRASE, MRTD_CSCA_PIN, ...)."""
    if role not in KEY_ROLES:
        raise InputError(f"role: {role!r} is not one of {', '.join(KEY_ROLES)}")
    return f"MRTD_{KEY_ROLES[role]}_{'PIN' if token else 'PASSPHRASE'}"


def role_secret_from(env: Mapping[str, str], role: str, token: bool, file: Path | None,
                     prompt: Callable[[str], str] | None) -> bytes:
    """The secret of `role`'s key: from `file`, else its own environment variable, else `prompt`. Never argv,
    and never another key's variable."""
    what = f"{role} key {'PIN' if token else 'passphrase'}"
    return _secret_from(env, secret_env(role, token), file, prompt, what)


def check_distinct(secrets: Secrets) -> None:
    """Refuse one secret for two keys: whoever holds one key's secret must not open another."""
    seen: dict[bytes, str] = {}
    for role, secret in secrets.items():
        if secret in seen:
            raise InputError(f"{role} key: its secret is the {seen[secret]} key's; each key needs its own secret")
        seen[secret] = role


def secret_of(secrets: Secrets, role: str) -> bytes:
    """`role`'s secret from what the caller gathered; a clear error naming where it comes from if absent."""
    value = secrets.get(role)
    if not value:
        raise KeyAccessError(f"{role} key: no secret given (${secret_env(role, False)}, ${secret_env(role, True)} "
                             f"for a token, or --secret-file {role}=FILE)")
    return value


def terminal_passphrase_from(env: Mapping[str, str], file: Path | None, prompt: Callable[[str], str] | None) -> bytes:
    """An inspection system's key passphrase: `file`, else $MRTD_IS_KEY_PASSPHRASE, else `prompt`."""
    return _secret_from(env, "MRTD_IS_KEY_PASSPHRASE", file, prompt, "inspection system key passphrase")


