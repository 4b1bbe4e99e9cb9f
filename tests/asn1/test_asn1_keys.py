"""Public keys from SubjectPublicKeyInfo bytes: a key read once is not read again (the same object comes
back, whoever asks), and a key that cannot be read is named as the caller names it, every time."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1.keys import load_verify_key
from mrtd.errors import EncodingError


def test_a_key_is_read_once_for_its_bytes_whoever_asks() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    first = load_verify_key(der, "DG15.SubjectPublicKeyInfo")
    assert load_verify_key(bytearray(der), "certificate 1F subjectPublicKeyInfo") is first
    assert first == key


@pytest.mark.parametrize("what", ["DG15.SubjectPublicKeyInfo", "certificate 1F subjectPublicKeyInfo"])
def test_a_key_that_cannot_be_read_is_named_as_the_caller_names_it(what: str) -> None:
    for _ in range(2):  # the failure is not kept: the second time names it too
        with pytest.raises(EncodingError, match=f"^{what}"):
            load_verify_key(b"\x30\x03\x02\x01\x05", what)
