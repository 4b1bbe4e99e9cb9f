"""Software keys: encrypted PKCS#8 (PBES2/scrypt) files, the Signer contract, and where secrets come from."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from pkikit import openssl

from mrtd.errors import ConfigurationError, InputError, KeyAccessError
from mrtd.pki.keys import (
    ALGORITHMS,
    DEFAULT_SCRYPT_LOG2N,
    FileSigner,
    check_distinct,
    default_hash,
    generate_key,
    role_secret_from,
)
from mrtd.pki.signer import Signer, hash_algorithm

PASS = b"s3cret passphrase"


def _verify(signer: Signer, data: bytes, sig: bytes) -> None:
    h = default_hash(signer.public_key())
    pub = signer.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(sig, data, ec.ECDSA(hash_algorithm(h)))
    else:
        alg = hash_algorithm(h)
        pub.verify(sig, data, padding.PSS(padding.MGF1(alg), alg.digest_size), alg)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_generate_save_load_sign(algorithm: str, tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    signer = FileSigner.generate(path, algorithm, PASS, scrypt_log2n=10)
    assert isinstance(signer, Signer)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = FileSigner.load(path, PASS)
    assert loaded.public_key().public_numbers() == signer.public_key().public_numbers()
    sig = loaded.sign(b"payload", default_hash(loaded.public_key()))
    _verify(signer, b"payload", sig)


def test_file_is_pbes2_scrypt_and_openssl_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    signer = FileSigner.generate(path, "ecdsa-p256", PASS, scrypt_log2n=14)
    text = path.read_bytes()
    assert text.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    r = openssl("asn1parse", "-in", str(path))
    assert "PBES2" in r.stdout and "scrypt" in r.stdout and "aes-256-cbc" in r.stdout
    # openssl decrypts the same file (passphrase passed through the environment, not argv)
    env = {**os.environ, "MRTD_TEST_PW": PASS.decode()}
    r = subprocess.run(["openssl", "pkey", "-in", str(path), "-passin", "env:MRTD_TEST_PW", "-pubout"],
                       capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.encode() == signer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    bad = subprocess.run(["openssl", "pkey", "-in", str(path), "-passin", "pass:wrong", "-noout"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def test_default_kdf_cost_is_strong(tmp_path: Path) -> None:
    assert DEFAULT_SCRYPT_LOG2N >= 17
    path = tmp_path / "k.pem"
    FileSigner.generate(path, "ecdsa-p256", PASS)
    r = openssl("asn1parse", "-in", str(path))
    assert ":020000" in r.stdout.replace(" ", "")  # N = 2^17 = 0x20000


def test_wrong_passphrase_is_key_access_error_without_echo(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    FileSigner.generate(path, "ecdsa-p256", PASS, scrypt_log2n=10)
    with pytest.raises(KeyAccessError) as info:
        FileSigner.load(path, b"wrong-guess-123")
    assert "wrong-guess-123" not in str(info.value) and PASS.decode() not in str(info.value)


def test_unencrypted_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.pem"
    path.write_bytes(generate_key("ecdsa-p256").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(KeyAccessError, match="not"):
        FileSigner.load(path, PASS)


def test_never_overwrites_a_key(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    FileSigner.generate(path, "ecdsa-p256", PASS, scrypt_log2n=10)
    before = path.read_bytes()
    with pytest.raises(KeyAccessError, match="exists"):
        FileSigner.generate(path, "ecdsa-p256", PASS, scrypt_log2n=10)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyAccessError):
        FileSigner.generate(tmp_path / "k.pem", "ecdsa-p256", b"", scrypt_log2n=10)


def test_unknown_algorithm() -> None:
    from mrtd.errors import InputError

    with pytest.raises(InputError, match="algorithm"):
        generate_key("dsa-1024")


def test_each_key_has_its_own_secret_source(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_bytes(b"from-file\n")
    env = {"MRTD_DS_PASSPHRASE": "ds-env", "MRTD_CSCA_PASSPHRASE": "csca-env", "MRTD_SEAL_PIN": "1234"}
    assert role_secret_from(env, "ds", False, f, lambda _: "from-prompt") == b"from-file"
    assert role_secret_from(env, "ds", False, None, lambda _: "from-prompt") == b"ds-env"
    assert role_secret_from(env, "csca", False, None, None) == b"csca-env"
    assert role_secret_from(env, "seal-signer", True, None, None) == b"1234"
    assert role_secret_from({}, "ds", False, None, lambda _: "from-prompt") == b"from-prompt"
    with pytest.raises(ConfigurationError, match="never the command line"):
        role_secret_from({"MRTD_CSCA_PASSPHRASE": "csca-env"}, "ds", False, None, None)  # never another key's
    with pytest.raises(ConfigurationError):
        role_secret_from({}, "ds", False, tmp_path / "missing", None)
    with pytest.raises(InputError, match="its own secret"):
        check_distinct({"csca": b"same", "ds": b"same"})
