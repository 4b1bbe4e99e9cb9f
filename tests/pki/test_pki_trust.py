"""Trust store and path validation, including other issuers' material (RSA PKCS#1 v1.5, explicit EC)."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from pkikit import der, openssl, pem

from mrtd.errors import ChainError, MrtdError
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.crl import Revocation, build_crl
from mrtd.pki.keys import generate_key
from mrtd.pki.signer import HashName, MemorySigner
from mrtd.pki.trust import TrustStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def pki(country: str = "NL", alg: str = "ecdsa-p256") -> tuple[MemorySigner, x509.Certificate]:
    signer = MemorySigner(generate_key(alg), f"csca-{country}")
    cert = C.build_csca(signer, C.make_name(country, f"CSCA {country}"), not_before=NOW,
                        not_after=NOW + timedelta(days=5000), key_usage_end=NOW + timedelta(days=1800), rng=os.urandom)
    return signer, cert


def ds_under(signer: MemorySigner, csca: x509.Certificate, country: str = "NL") -> x509.Certificate:
    return C.build_document_signer(C.Issuer(signer, csca), MemorySigner(generate_key("ecdsa-p256")).public_key(),
                                   C.make_name(country, "DS"), not_before=NOW, usage_end=NOW + timedelta(days=90),
                                   not_after=NOW + timedelta(days=3700), document_types=["P"], rng=os.urandom)


def test_validate_reports_every_check() -> None:
    signer, csca = pki()
    ds = ds_under(signer, csca)
    store = TrustStore()
    store.add_certificate(csca)
    report = store.validate(ds, NOW + timedelta(days=1), purpose="ds")
    assert report.ok
    assert [c.name for c in report.checks] == ["signature", "validity", "crl", "country", "key-usage"]
    assert "no CRL" in report.checks[2].reason
    with pytest.raises(ChainError, match=r"^crl:"):
        store.verify(ds, NOW + timedelta(days=1), purpose="ds", require_crl=True)


def test_many_countries_and_untrusted_issuer() -> None:
    _nl_signer, nl = pki("NL")
    de_signer, de = pki("DE", "ecdsa-brainpoolp256r1")
    fr_signer, fr = pki("FR")
    store = TrustStore()
    store.add_certificate(nl)
    store.add_certificate(de)
    assert store.countries() == ["DE", "NL"]
    assert store.validate(ds_under(de_signer, de, "DE"), NOW + timedelta(days=1), purpose="ds").ok
    report = store.validate(ds_under(fr_signer, fr, "FR"), NOW + timedelta(days=1))
    assert not report.ok and report.failed()[0].name == "signature"
    with pytest.raises(ChainError, match=r"^signature:"):
        store.verify(ds_under(fr_signer, fr, "FR"), NOW)


def test_country_consistency_is_checked() -> None:
    signer, csca = pki("NL")
    key = generate_key("ecdsa-p256")
    b = (x509.CertificateBuilder().subject_name(C.make_name("DE", "DS")).issuer_name(csca.subject)
         .public_key(key.public_key()).serial_number(5).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=9))
         .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True))
    ds = C.sign_certificate(b, signer, HashName.SHA256)
    store = TrustStore()
    store.add_certificate(csca)
    report = store.validate(ds, NOW + timedelta(days=1), purpose="ds")
    assert [c.name for c in report.failed()] == ["country"]


def test_purpose_checks_the_extended_key_usage() -> None:
    signer, csca = pki()
    seal = C.build_seal_signer(C.Issuer(signer, csca), generate_key("ecdsa-p256").public_key(), "NL", "AB",
                               not_before=NOW, not_after=NOW + timedelta(days=700), rng=os.urandom)
    store = TrustStore()
    store.add_certificate(csca)
    assert store.validate(seal, NOW, purpose="seal").ok
    report = store.validate(seal, NOW, purpose="vdsnc")
    assert [c.name for c in report.failed()] == ["key-usage"]


def test_revocation_and_crl_expiry() -> None:
    signer, csca = pki()
    ds = ds_under(signer, csca)
    store = TrustStore()
    store.add_certificate(csca)
    store.add_crl(build_crl(csca, signer, number=1, this_update=NOW, next_update=NOW + timedelta(days=30),
                            revoked=[Revocation(ds.serial_number, NOW + timedelta(days=2))]))
    assert store.validate(ds, NOW + timedelta(days=1), purpose="ds", require_crl=True).ok  # not yet revoked
    report = store.validate(ds, NOW + timedelta(days=3), purpose="ds", require_crl=True)
    assert [c.name for c in report.failed()] == ["crl"]
    other = ds_under(signer, csca)
    report = store.validate(other, NOW + timedelta(days=40), purpose="ds", require_crl=True)
    assert "expired" in report.failed()[0].reason


def test_foreign_rsa_pkcs1v15_chain_is_accepted() -> None:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"), x509.NameAttribute(NameOID.COMMON_NAME, "CSCA")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(root_key.public_key())
            .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=99))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(root_key, hashes.SHA256()))  # PKCS#1 v1.5
    ds_key = generate_key("ecdsa-p256")
    ds = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                                                            x509.NameAttribute(NameOID.COMMON_NAME, "DS")]))
          .issuer_name(name).public_key(ds_key.public_key()).serial_number(2).not_valid_before(NOW)
          .not_valid_after(NOW + timedelta(days=9))
          .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
          .sign(root_key, hashes.SHA256()))
    store = TrustStore()
    store.add_certificate(der(root))
    assert store.validate(ds, NOW + timedelta(days=1), purpose="ds").ok


def test_explicit_parameter_ec_keys_from_openssl(tmp_path: Path) -> None:
    """A CSCA whose EC key carries explicit domain parameters (as Part 12 asks), made by openssl."""
    r = openssl("ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout",
                "-out", str(tmp_path / "ca.key"))
    assert r.returncode == 0, r.stderr
    r = openssl("req", "-x509", "-new", "-key", str(tmp_path / "ca.key"), "-subj", "/C=UT/CN=CSCA UT",
                "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(tmp_path / "ca.pem"))
    assert r.returncode == 0, r.stderr
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(tmp_path / "ds.key"))
    openssl("req", "-new", "-key", str(tmp_path / "ds.key"), "-subj", "/C=UT/CN=DS UT", "-out", str(tmp_path / "ds.csr"))
    (tmp_path / "ext").write_text("keyUsage=critical,digitalSignature\n")
    r = openssl("x509", "-req", "-in", str(tmp_path / "ds.csr"), "-CA", str(tmp_path / "ca.pem"), "-CAkey",
                str(tmp_path / "ca.key"), "-CAcreateserial", "-days", "30", "-extfile", str(tmp_path / "ext"),
                "-out", str(tmp_path / "ds.pem"))
    assert r.returncode == 0, r.stderr
    assert "prime-field" in openssl("x509", "-in", str(tmp_path / "ca.pem"), "-noout", "-text").stdout
    store = TrustStore.load(tmp_path / "ca.pem")
    ds = x509.load_pem_x509_certificate((tmp_path / "ds.pem").read_bytes())
    report = store.validate(ds, datetime.now(UTC), purpose="ds")
    assert report.ok, report.as_dict()


def test_load_file_folder_and_masterlist(tmp_path: Path) -> None:
    signer, csca = pki()
    ml_key = MemorySigner(generate_key("ecdsa-p256"))
    ml_cert = C.build_masterlist_signer(C.Issuer(signer, csca), ml_key.public_key(), C.make_name("NL", "ML"),
                                        not_before=NOW, not_after=NOW + timedelta(days=700), rng=os.urandom)
    _other_signer, other = pki("DE")
    (tmp_path / "one.pem").write_bytes(pem(csca))
    (tmp_path / "one.der").write_bytes(der(csca))
    assert TrustStore.load(tmp_path / "one.pem").certificates() == [csca]
    assert TrustStore.load(tmp_path / "one.der").certificates() == [csca]
    ml = masterlist.build([csca, other], ml_key, ml_cert, NOW, include=[csca])
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "list.ml").write_bytes(ml)
    store = TrustStore.load(tmp_path / "ml")
    assert store.countries() == ["DE", "NL"]
    # exact bytes kept for every imported certificate
    assert {store.der_of(c) for c in store.certificates()} == {der(csca), der(other)}
    folder = TrustStore.load(tmp_path)
    assert len(folder.certificates()) == 2


def test_ml_signer_chain_must_reach_a_csca_we_already_trust() -> None:
    signer, csca = pki()
    ml_key = MemorySigner(generate_key("ecdsa-p256"))
    ml_cert = C.build_masterlist_signer(C.Issuer(signer, csca), ml_key.public_key(), C.make_name("NL", "ML"),
                                        not_before=NOW, not_after=NOW + timedelta(days=700), rng=os.urandom)
    ml = masterlist.build([csca], ml_key, ml_cert, NOW, include=[csca])
    with pytest.raises(ChainError):
        masterlist.verify(ml, TrustStore(), NOW)  # the list's own CSCA is not trusted on its word
    store = TrustStore()
    store.add_certificate(csca)
    assert masterlist.verify(ml, store, NOW) == ml_cert


def test_vdstools_seal_signers_lint_without_crashing() -> None:
    from conftest import shared_path

    from mrtd.pki.lint import lint_certificate

    folder = shared_path("vectors", "seals", "certs")
    for f in sorted(folder.glob("*.der")):
        findings = lint_certificate(f.read_bytes())
        assert all(x.clause for x in findings), f.name


@settings(max_examples=80)
@given(st.binary(max_size=400))
def test_trust_store_random_bytes_raise_only_mrtd_errors(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        TrustStore().add_bytes(data)


def test_openssl_also_refuses_what_we_refuse(tmp_path: Path) -> None:
    signer, csca = pki()
    _, other = pki()
    ds = ds_under(signer, csca)
    (tmp_path / "other.pem").write_bytes(pem(other))
    (tmp_path / "ds.pem").write_bytes(pem(ds))
    r = openssl("verify", "-CAfile", str(tmp_path / "other.pem"), str(tmp_path / "ds.pem"))
    assert r.returncode != 0
    store = TrustStore()
    store.add_certificate(other)
    assert not store.validate(ds, NOW).ok


def _with_ecdsa_null(cert: x509.Certificate, key: object) -> bytes:
    """Re-sign `cert` with ecdsa-with-SHA256 AlgorithmIdentifiers carrying NULL (the VDS-NC example quirk)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from mrtd.asn1.der import oid as der_oid
    from mrtd.asn1.der import seq, sequence_items
    from mrtd.asn1.tlv import tlv

    alg = seq(der_oid("1.2.840.10045.4.3.2"), b"\x05\x00")
    tbs_items = sequence_items(sequence_items(der(cert))[0])
    tbs_items[2] = alg
    tbs = seq(*tbs_items)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return seq(tbs, alg, tlv(0x03, b"\x00" + key.sign(tbs, ec.ECDSA(hashes.SHA256()))))


def test_lenient_reading_of_ecdsa_null_parameters(tmp_path: Path) -> None:
    from conftest import shared_path

    from mrtd.asn1.x509 import read_certificate
    from mrtd.pki.lint import lint_certificate

    icao = shared_path("vectors", "seals", "vdsnc", "icao_spec_example_uto.signer.der").read_bytes()
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(icao)
    cert = read_certificate(icao)
    assert cert.subject_text == "CN=06,C=UT" and "ecdsa-null-params" in {f.rule for f in cert.findings}
    assert "ecdsa-null-params" in {f.rule for f in lint_certificate(icao, "vdsnc-signer")}
    # our own chain with the same quirk: validates through the original signed bytes, as openssl does
    key = generate_key("ecdsa-p256")
    signer = MemorySigner(key)
    csca = C.build_csca(signer, C.make_name("UT", "CSCA UT"), not_before=NOW, not_after=NOW + timedelta(days=900),
                        key_usage_end=NOW + timedelta(days=300), rng=os.urandom, mrz_code="UTO")
    leaf = C.build_vdsnc_signer(C.Issuer(signer, csca), generate_key("ecdsa-p256").public_key(), "UT", "06",
                                not_before=NOW, not_after=NOW + timedelta(days=300), rng=os.urandom)
    quirky = _with_ecdsa_null(leaf, key)
    (tmp_path / "ca.pem").write_bytes(pem(csca))
    (tmp_path / "leaf.der").write_bytes(quirky)
    openssl("x509", "-inform", "DER", "-in", str(tmp_path / "leaf.der"), "-out", str(tmp_path / "leaf.pem"))
    r = openssl("verify", "-attime", str(int((NOW + timedelta(days=1)).timestamp())), "-CAfile",
                str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem"))
    assert r.returncode == 0, r.stdout + r.stderr
    store = TrustStore()
    store.add_certificate(csca)
    read = read_certificate(quirky)
    assert store.validate(read, NOW + timedelta(days=1), purpose="vdsnc").ok
    tampered = bytearray(quirky)
    tampered[-3] ^= 1
    read_bad = read_certificate(bytes(tampered))
    assert store.validate(read_bad, NOW + timedelta(days=1), purpose="vdsnc").failed()[0].name == "signature"
