"""Master lists: build, parse (exact bytes), verify, import; random and mutated bytes only raise MrtdError."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from pkikit import der

from mrtd.errors import EncodingError, MrtdError, SignatureError
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.keys import generate_key
from mrtd.pki.signer import MemorySigner
from mrtd.pki.trust import TrustStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def setup(alg: str = "ecdsa-p256") -> tuple[bytes, x509.Certificate, x509.Certificate, TrustStore]:
    signer = MemorySigner(generate_key(alg))
    csca = C.build_csca(signer, C.make_name("NL", "CSCA NL"), not_before=NOW, not_after=NOW + timedelta(days=5000),
                        key_usage_end=NOW + timedelta(days=1800), rng=os.urandom)
    ml_key = MemorySigner(generate_key("ecdsa-p256" if alg.startswith("ecdsa") else alg))
    ml_cert = C.build_masterlist_signer(C.Issuer(signer, csca), ml_key.public_key(), C.make_name("NL", "ML"),
                                        not_before=NOW, not_after=NOW + timedelta(days=700), rng=os.urandom)
    store = TrustStore()
    store.add_certificate(csca)
    return masterlist.build([csca], ml_key, ml_cert, NOW, include=[csca]), csca, ml_cert, store


@pytest.mark.parametrize("alg", ["ecdsa-p256", "ecdsa-brainpoolp512r1", "rsa-pss-3072"])
def test_build_parse_verify(alg: str) -> None:
    ml, csca, ml_cert, store = setup(alg)
    parsed = masterlist.parse(ml)
    assert parsed.version == 0
    assert parsed.csca_der == (der(csca),)
    assert parsed.signing_time == NOW
    assert parsed.signed_data.content_type == "2.23.136.1.1.2"
    assert parsed.signed_data.signer_infos[0].subject_key_identifier == ml_cert.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest
    assert masterlist.verify(parsed, store, NOW + timedelta(days=1)).der == der(ml_cert)


def test_tampered_content_is_refused() -> None:
    ml, csca, _, store = setup()
    i = ml.index(der(csca)) + 40
    bad = ml[:i] + bytes([ml[i] ^ 1]) + ml[i + 1:]
    with pytest.raises((SignatureError, EncodingError)):
        masterlist.verify(bad, store, NOW)


def test_wrong_content_type_is_not_a_masterlist() -> None:
    from mrtd.asn1 import cms
    from mrtd.asn1.x509 import as_certificate
    from mrtd.pki.signer import HashName

    _ml, csca, _, _ = setup()
    key = MemorySigner(generate_key("ecdsa-p256"))
    ml_cert = C.build_masterlist_signer(C.Issuer(key, csca), key.public_key(), C.make_name("NL", "ML"),
                                        not_before=NOW, not_after=NOW + timedelta(days=700), rng=os.urandom)
    other = cms.sign("2.23.136.1.1.1", b"\x30\x00", key, as_certificate(ml_cert), HashName.SHA256, signing_time=NOW,
                     sid="ski")
    with pytest.raises(EncodingError, match=r"2\.23\.136\.1\.1\.2"):
        masterlist.parse(other)


ML_SAMPLE, *_ = setup()


@settings(max_examples=100)
@given(st.binary(max_size=500))
def test_random_bytes_raise_only_mrtd_errors(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        masterlist.parse(data)


@settings(max_examples=100)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255), st.integers(min_value=0, max_value=3))
def test_mutated_bytes_raise_only_mrtd_errors(pos: int, value: int, cut: int) -> None:
    data = bytearray(ML_SAMPLE)
    data[pos % len(data)] = value
    blob = bytes(data[: len(data) - cut * 7])
    try:
        ml = masterlist.parse(blob)
        store = TrustStore()
        masterlist.verify(ml, store, NOW)
    except MrtdError:
        pass
