# ruff: noqa: F811  (pytest fixtures imported from pkikit are parameters here)
"""PKCS#11 keys on a SoftHSM2 token: generated inside, sensitive, non-extractable, signing inside."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, padding
from pkikit import Hsm, softhsm  # noqa: F401

from mrtd.errors import KeyAccessError
from mrtd.pki import pkcs11 as p11
from mrtd.pki.keys import ALGORITHMS, default_hash
from mrtd.pki.signer import HashName, Signer, hash_algorithm

pytestmark = pytest.mark.softhsm


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_key_generated_in_token_signs_and_never_leaves(softhsm: Hsm, algorithm: str) -> None:
    session = p11.open_session(softhsm.module, softhsm.token, softhsm.pin)
    signer = p11.generate_key(session, algorithm, f"unit-{algorithm}")
    assert isinstance(signer, Signer)
    flags = p11.key_attributes(session, f"unit-{algorithm}")
    assert flags == {"sensitive": True, "extractable": False, "always_sensitive": True,
                     "never_extractable": True, "local": True}
    h = default_hash(signer.public_key())
    sig = signer.sign(b"to be signed", h)
    pub = signer.public_key()
    alg = hash_algorithm(h)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(sig, b"to be signed", ec.ECDSA(alg))  # DER, converted from the token's r||s
    else:
        pub.verify(sig, b"to be signed", padding.PSS(padding.MGF1(alg), alg.digest_size), alg)
    # reopening by label finds the same key
    again = p11.Pkcs11Signer(session, f"unit-{algorithm}")
    assert again.public_key().public_numbers() == pub.public_numbers()


def test_every_hash_with_one_key(softhsm: Hsm) -> None:
    session = p11.open_session(softhsm.module, softhsm.token, softhsm.pin)
    signer = p11.generate_key(session, "ecdsa-p384", "unit-hashes")
    pub = signer.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    for h in HashName:
        pub.verify(signer.sign(b"x", h), b"x", ec.ECDSA(hash_algorithm(h)))


def test_wrong_pin_and_duplicate_label(softhsm: Hsm) -> None:
    session = p11.open_session(softhsm.module, softhsm.token, softhsm.pin)
    with pytest.raises(KeyAccessError) as info:
        p11.open_session(softhsm.module, softhsm.token, b"999999")
    assert "999999" not in str(info.value)
    p11.generate_key(session, "ecdsa-p256", "unit-dup")
    with pytest.raises(KeyAccessError, match="exists"):
        p11.generate_key(session, "ecdsa-p256", "unit-dup")
    with pytest.raises(KeyAccessError):
        p11.Pkcs11Signer(session, "no-such-key")
