"""Public keys from SubjectPublicKeyInfo bytes: a key read once is not read again (the same object comes
back, whoever asks), and a key that cannot be read is named as the caller names it, every time."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1 import der
from mrtd.asn1.algorithms import ID_EC_PUBLIC_KEY
from mrtd.asn1.keys import CURVES, CurveKey, explicit_parameters, load_verify_key
from mrtd.asn1.tlv import Tlv, tlv
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


@pytest.mark.parametrize("name", [c.name for c in CURVES])
def test_explicit_parameters_name_their_curve_as_written_here_or_otherwise(name: str) -> None:
    """Explicit ECParameters as `spki` writes them name the curve without being parsed; the same curve
    written otherwise (no cofactor, which RFC 3279 §2.3.5 leaves optional) is parsed and named alike."""
    curve = next(c for c in CURVES if c.name == name)
    size = (curve.params.p.bit_length() + 7) // 8
    g = curve.params.G
    point = b"\x04" + g.x.to_bytes(size, "big") + g.y.to_bytes(size, "big")  # the generator: a valid key
    written = explicit_parameters(name)
    parts = der.children(Tlv.decode(written), der.SEQUENCE, "ECParameters")
    without_cofactor = der.seq(*(p.raw for p in parts[:-1]))
    assert without_cofactor != written
    for params in (written, without_cofactor):
        info = der.seq(der.seq(der.oid(ID_EC_PUBLIC_KEY), params), tlv(der.BIT_STRING, b"\x00" + point))
        key = load_verify_key(info)
        if isinstance(key, CurveKey):
            assert key.curve.name == name and (key.x, key.y) == (g.x, g.y)
        else:
            assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == name
            assert key.public_numbers().x == g.x
