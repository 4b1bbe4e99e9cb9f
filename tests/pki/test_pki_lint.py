"""The linter: one deliberately broken certificate, CRL or master list per rule, each found with its clause."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier
from hypothesis import given, settings
from hypothesis import strategies as st
from pkikit import der
from pyasn1.codec.der import decoder, encoder
from pyasn1_modules import rfc5280

from mrtd.asn1 import cms
from mrtd.asn1.der import seq, sequence_items
from mrtd.asn1.tlv import tlv
from mrtd.asn1.x509 import as_certificate
from mrtd.errors import Finding
from mrtd.pki import certificates as C
from mrtd.pki.crl import Revocation, build_crl
from mrtd.pki.keys import generate_key
from mrtd.pki.lint import lint_certificate, lint_crl, lint_masterlist
from mrtd.pki.masterlist import OID_CSCA_MASTER_LIST, build, encode_content
from mrtd.pki.signer import HashName, MemorySigner

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CSCA_KEY = generate_key("ecdsa-p256")
assert isinstance(CSCA_KEY, ec.EllipticCurvePrivateKey)
CSCA_SIGNER = MemorySigner(CSCA_KEY, "csca")
CSCA = C.build_csca(CSCA_SIGNER, C.make_name("NL", "CSCA NL"), not_before=NOW, not_after=NOW + timedelta(days=5000),
                    key_usage_end=NOW + timedelta(days=1800), rng=os.urandom)
ISSUER = C.Issuer(CSCA_SIGNER, CSCA)
LEAF_KEY = generate_key("ecdsa-p256")
LEAF = MemorySigner(LEAF_KEY, "leaf")


def good(role: str) -> x509.Certificate:
    pub = LEAF.public_key()
    if role == "ds":
        return C.build_document_signer(ISSUER, pub, C.make_name("NL", "DS"), not_before=NOW,
                                       usage_end=NOW + timedelta(days=90), not_after=NOW + timedelta(days=3700),
                                       document_types=["P"], rng=os.urandom)
    if role == "seal-signer":
        return C.build_seal_signer(ISSUER, pub, "NL", "AB", not_before=NOW, not_after=NOW + timedelta(days=700),
                                   rng=os.urandom)
    if role == "vdsnc-signer":
        return C.build_vdsnc_signer(ISSUER, pub, "NL", "VN", not_before=NOW, not_after=NOW + timedelta(days=700),
                                    rng=os.urandom)
    if role == "masterlist-signer":
        return C.build_masterlist_signer(ISSUER, pub, C.make_name("NL", "ML"), not_before=NOW,
                                         not_after=NOW + timedelta(days=700), rng=os.urandom)
    assert role == "csca"
    return CSCA


def rebuild(cert: x509.Certificate, *, subject: x509.Name | None = None, drop: tuple[type, ...] = (),
            drop_oids: tuple[str, ...] = (), add: tuple[tuple[x509.ExtensionType, bool], ...] = (),
            critical: dict[type, bool] | None = None, public_key: Any = None,
            hash_alg: hashes.HashAlgorithm | None = None) -> x509.Certificate:
    """A copy of `cert` with changes, signed by the test CSCA key."""
    b = (x509.CertificateBuilder().subject_name(subject or cert.subject).issuer_name(cert.issuer)
         .public_key(public_key or cert.public_key()).serial_number(cert.serial_number)
         .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc))
    for ext in cert.extensions:
        if type(ext.value) in drop or ext.oid.dotted_string in drop_oids:
            continue
        crit = (critical or {}).get(type(ext.value), ext.critical)
        b = b.add_extension(ext.value, critical=crit)
    for value, crit in add:
        b = b.add_extension(value, critical=crit)
    if hash_alg is not None:
        return b.sign(CSCA_KEY, hash_alg)
    return C.sign_certificate(b, CSCA_SIGNER, HashName.SHA256)


def mutate(cert: x509.Certificate, change: Callable[[Any], None]) -> bytes:
    """Change raw TBS fields (things cryptography's builder will not write), re-sign, return DER."""
    raw, _ = decoder.decode(der(cert), asn1Spec=rfc5280.Certificate())
    tbs = raw["tbsCertificate"]
    change(tbs)
    tbs_der = encoder.encode(tbs)
    sig = CSCA_SIGNER.sign(tbs_der, HashName.SHA256)
    alg = sequence_items(der(cert))[1]
    return seq(tbs_der, alg, tlv(0x03, b"\x00" + sig))


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def assert_rule(findings: list[Finding], rule: str, clause_part: str) -> None:
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"expected {rule}, got {[str(f) for f in findings]}"
    assert all(clause_part in f.clause for f in hits), [f.clause for f in hits]


@pytest.mark.parametrize("role", ["csca", "ds", "seal-signer", "vdsnc-signer", "masterlist-signer"])
def test_good_certificates_have_no_findings(role: str) -> None:
    assert lint_certificate(der(good(role)), role) == []


def test_rule_der() -> None:
    assert_rule(lint_certificate(b"\x30\x03\x02\x01\x01"), "der", "Table 5")


def test_rule_version() -> None:
    def v2(tbs: Any) -> None:
        tbs["version"] = 1
    assert_rule(lint_certificate(mutate(good("ds"), v2), "ds"), "version", "Table 5")


def test_rule_serial_length() -> None:
    def long_serial(tbs: Any) -> None:
        tbs["serialNumber"] = 1 << 170
    assert_rule(lint_certificate(mutate(good("ds"), long_serial), "ds"), "serial-length", "Table 5")


def test_rule_serial_positive() -> None:
    def zero(tbs: Any) -> None:
        tbs["serialNumber"] = 0
    assert_rule(lint_certificate(mutate(good("ds"), zero), "ds"), "serial-positive", "Table 5")


def test_rule_time_encoding() -> None:
    def generalized_before_2050(tbs: Any) -> None:
        t = rfc5280.Time()
        t["generalTime"] = "20301231235959Z"
        tbs["validity"]["notAfter"] = t
    assert_rule(lint_certificate(mutate(good("ds"), generalized_before_2050), "ds"), "time-encoding", "Table 5")


def test_rule_time_format_fraction() -> None:
    def fractional(tbs: Any) -> None:
        t = rfc5280.Time()
        t["generalTime"] = "20501231235959.5Z"
        tbs["validity"]["notAfter"] = t
    assert_rule(lint_certificate(mutate(good("ds"), fractional), "ds"), "time-format", "Table 5")


def test_rule_unique_id() -> None:
    def with_uid(tbs: Any) -> None:
        tbs["subjectUniqueID"] = tbs["subjectUniqueID"].clone(hexValue="0101")
    assert_rule(lint_certificate(mutate(good("ds"), with_uid), "ds"), "unique-id", "Table 5")


def test_rule_name_country_case() -> None:
    bad = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "nl", _ASN1Type.PrintableString),
                     x509.NameAttribute(NameOID.COMMON_NAME, "DS")])
    assert_rule(lint_certificate(der(rebuild(good("ds"), subject=bad)), "ds"), "name-country", "Table 5")


def test_rule_name_country_type() -> None:
    bad = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL", _ASN1Type.UTF8String),
                     x509.NameAttribute(NameOID.COMMON_NAME, "DS")])
    assert_rule(lint_certificate(der(rebuild(good("ds"), subject=bad)), "ds"), "name-country-type", "Table 5")


def test_rule_name_common_name() -> None:
    bad = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL", _ASN1Type.PrintableString),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ministry")])
    assert_rule(lint_certificate(der(rebuild(good("ds"), subject=bad)), "ds"), "name-common-name", "Table 5")


def test_rule_name_string_type() -> None:
    bad = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL", _ASN1Type.PrintableString),
                     x509.NameAttribute(NameOID.COMMON_NAME, "DS", _ASN1Type.BMPString)])
    assert_rule(lint_certificate(der(rebuild(good("ds"), subject=bad)), "ds"), "name-string-type", "Table 5")


def test_rule_country_mismatch() -> None:
    bad = C.make_name("DE", "DS")
    assert_rule(lint_certificate(der(rebuild(good("ds"), subject=bad)), "ds"), "country-mismatch", "Table 5")


def test_rule_signature_hash() -> None:
    from mrtd.asn1.der import oid as der_oid

    sha1_alg = seq(der_oid("1.2.840.10045.4.1"))  # ecdsa-with-SHA1
    raw, _ = decoder.decode(der(good("ds")), asn1Spec=rfc5280.Certificate())
    tbs = raw["tbsCertificate"]
    tbs["signature"]["algorithm"] = rfc5280.univ.ObjectIdentifier("1.2.840.10045.4.1")
    tbs_der = encoder.encode(tbs)
    cert_der = seq(tbs_der, sha1_alg, tlv(0x03, b"\x00" + CSCA_KEY.sign(tbs_der, ec.ECDSA(hashes.SHA1()))))
    cert = x509.load_der_x509_certificate(cert_der)
    assert_rule(lint_certificate(der(cert), "ds"), "signature-hash", "9303-12")


def test_rule_extension_always_forbidden() -> None:
    nc = x509.NameConstraints(permitted_subtrees=[x509.DirectoryName(C.make_name("NL", "x"))], excluded_subtrees=None)
    cert = rebuild(good("csca"), add=((nc, True),))
    assert_rule(lint_certificate(der(cert), "csca"), "extension-forbidden", "Table 6")


def test_rule_extension_forbidden_in_role() -> None:
    cert = rebuild(good("ds"), add=((x509.BasicConstraints(ca=False, path_length=None), True),))
    assert_rule(lint_certificate(der(cert), "ds"), "extension-forbidden", "Table 6")


def test_rule_extension_missing() -> None:
    cert = rebuild(good("ds"), drop_oids=("2.23.136.1.1.6.2",))
    assert_rule(lint_certificate(der(cert), "ds"), "extension-missing", "Table 6")


def test_rule_extension_critical() -> None:
    cert = rebuild(good("ds"), critical={x509.KeyUsage: False})
    assert_rule(lint_certificate(der(cert), "ds"), "extension-critical", "Table 6")


def test_rule_pkd_masterlist_eku_critical() -> None:
    cert = rebuild(good("masterlist-signer"), critical={x509.ExtendedKeyUsage: False})
    assert_rule(lint_certificate(der(cert), "masterlist-signer"), "extension-critical", "ICAO PKD")


def test_rule_extension_not_allowed_in_seal_signer() -> None:
    ku = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    cert = rebuild(good("seal-signer"), add=((ku, True),))
    assert_rule(lint_certificate(der(cert), "seal-signer"), "extension-not-allowed", "barcode signer")


def test_rule_key_usage() -> None:
    ku = x509.KeyUsage(True, False, False, False, False, True, False, False, False)
    cert = rebuild(good("ds"), drop=(x509.KeyUsage,), add=((ku, True),))
    assert_rule(lint_certificate(der(cert), "ds"), "key-usage", "Table 6")


def test_rule_basic_constraints() -> None:
    cert = rebuild(good("csca"), drop=(x509.BasicConstraints,),
                   add=((x509.BasicConstraints(ca=True, path_length=3), True),))
    assert_rule(lint_certificate(der(cert), "csca"), "basic-constraints", "Table 6")


def test_rule_eku() -> None:
    eku = x509.ExtendedKeyUsage([ObjectIdentifier("2.23.136.1.1.8")])
    cert = rebuild(good("masterlist-signer"), drop=(x509.ExtendedKeyUsage,), add=((eku, True),))
    assert_rule(lint_certificate(der(cert), "masterlist-signer"), "eku", "Table 6")


def test_rule_vdsnc_eku() -> None:
    eku = x509.ExtendedKeyUsage([ObjectIdentifier("2.23.136.1.1.11.1")])
    cert = rebuild(good("vdsnc-signer"), drop=(x509.ExtendedKeyUsage,), add=((eku, True),))
    assert_rule(lint_certificate(der(cert), "vdsnc-signer"), "eku", "VDS-NC")


def test_rule_alt_name() -> None:
    san = x509.SubjectAlternativeName([x509.RFC822Name("pki@example.org")])
    cert = rebuild(good("ds"), drop=(x509.SubjectAlternativeName,), add=((san, False),))
    assert_rule(lint_certificate(der(cert), "ds"), "alt-name", "Table 6")


def test_rule_document_type_list_syntax() -> None:
    bad = x509.UnrecognizedExtension(ObjectIdentifier("2.23.136.1.1.6.2"), seq(b"\x02\x01\x01", tlv(0x31, tlv(0x13, b"P"))))
    cert = rebuild(good("ds"), drop_oids=("2.23.136.1.1.6.2",), add=((bad, False),))
    assert_rule(lint_certificate(der(cert), "ds"), "document-type-list", "Table 6")


def test_rule_document_type_list_vdsnc_must_be_nv() -> None:
    other = x509.UnrecognizedExtension(ObjectIdentifier("2.23.136.1.1.6.2"), C.encode_document_type_list(["P"]))
    cert = rebuild(good("vdsnc-signer"), drop_oids=("2.23.136.1.1.6.2",), add=((other, False),))
    assert_rule(lint_certificate(der(cert), "vdsnc-signer"), "document-type-list", "VDS-NC")


def test_rule_subject_form_of_seal_signer() -> None:
    bad = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL", _ASN1Type.PrintableString),
                     x509.NameAttribute(NameOID.COMMON_NAME, "ABC", _ASN1Type.PrintableString)])
    assert_rule(lint_certificate(der(rebuild(good("seal-signer"), subject=bad)), "seal-signer"), "subject-form",
                "barcode signer")


def test_rule_key_algorithm_of_seal_signer() -> None:
    rsa_pub = generate_key("rsa-pss-3072").public_key()
    cert = rebuild(good("seal-signer"), public_key=rsa_pub)
    assert_rule(lint_certificate(der(cert), "seal-signer"), "key-algorithm", "barcode signer")


def test_rule_rsa_size_is_a_warning() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    cert = rebuild(good("csca"), public_key=small, drop=(x509.SubjectKeyIdentifier,),
                   add=((x509.SubjectKeyIdentifier.from_public_key(small), False),))
    findings = [f for f in lint_certificate(der(cert), "csca") if f.rule == "rsa-size"]
    assert findings and findings[0].severity == "warning"


# CRLs

def crl_builder(number: bool = True) -> x509.CertificateRevocationListBuilder:
    b = x509.CertificateRevocationListBuilder().issuer_name(CSCA.subject).last_update(NOW)
    b = b.next_update(NOW + timedelta(days=30))
    ski = CSCA.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    b = b.add_extension(x509.AuthorityKeyIdentifier(ski, None, None), critical=False)
    if number:
        b = b.add_extension(x509.CRLNumber(1), critical=False)
    return b


def test_good_crl_has_no_findings() -> None:
    crl = build_crl(CSCA, CSCA_SIGNER, number=7, this_update=NOW, next_update=NOW + timedelta(days=90),
                    revoked=[Revocation(12345, NOW)])
    assert lint_crl(der(crl)) == []


def test_crl_rule_entry_extension() -> None:
    entry = (x509.RevokedCertificateBuilder().serial_number(5).revocation_date(NOW)
             .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    crl = crl_builder().add_revoked_certificate(entry).sign(CSCA_KEY, hashes.SHA256())
    assert_rule(lint_crl(der(crl)), "crl-entry-extension", "Tables 9-10")


def test_crl_rule_number_missing() -> None:
    crl = crl_builder(number=False).sign(CSCA_KEY, hashes.SHA256())
    assert_rule(lint_crl(der(crl)), "crl-extension-missing", "Tables 9-10")


def test_crl_rule_next_update_missing() -> None:
    crl = crl_builder().sign(CSCA_KEY, hashes.SHA256())
    raw, _ = decoder.decode(der(crl), asn1Spec=rfc5280.CertificateList())
    tbs = raw["tbsCertList"]
    stripped = rfc5280.TBSCertList()
    for name in ("version", "signature", "issuer", "thisUpdate", "crlExtensions"):
        if tbs[name].isValue:
            stripped[name] = tbs[name]
    tbs_der = encoder.encode(stripped)
    crl_der = seq(tbs_der, sequence_items(der(crl))[1],
                  tlv(0x03, b"\x00" + CSCA_KEY.sign(tbs_der, ec.ECDSA(hashes.SHA256()))))
    assert_rule(lint_crl(crl_der), "crl-next-update", "Tables 9-10")


def test_crl_rule_delta_forbidden() -> None:
    crl = crl_builder().add_extension(x509.DeltaCRLIndicator(1), critical=True).sign(CSCA_KEY, hashes.SHA256())
    assert_rule(lint_crl(der(crl)), "crl-extension-forbidden", "Tables 9-10")


def test_crl_rule_extension_critical() -> None:
    b = x509.CertificateRevocationListBuilder().issuer_name(CSCA.subject).last_update(NOW).next_update(NOW + timedelta(days=1))
    ski = CSCA.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    crl = (b.add_extension(x509.AuthorityKeyIdentifier(ski, None, None), critical=False)
           .add_extension(x509.CRLNumber(1), critical=True).sign(CSCA_KEY, hashes.SHA256()))
    assert_rule(lint_crl(der(crl)), "crl-extension-critical", "Tables 9-10")


def test_crl_rule_der() -> None:
    assert_rule(lint_crl(b"\x01\x02"), "der", "Tables 9-10")


# Master lists

ML_SIGNER_CERT = good("masterlist-signer")


def test_good_masterlist_has_no_findings() -> None:
    ml = build([CSCA], LEAF, ML_SIGNER_CERT, NOW, include=[CSCA])
    assert lint_masterlist(ml, at=NOW) == []


def test_ml_rule_signing_time() -> None:
    ml = cms.sign(OID_CSCA_MASTER_LIST, encode_content([CSCA]), LEAF, as_certificate(ML_SIGNER_CERT),
                  HashName.SHA256, sid="ski")
    assert_rule(lint_masterlist(ml, at=NOW), "ml-signing-time", "§9")


def test_ml_rule_signer_not_a_masterlist_signer() -> None:
    ds = good("ds")
    ml = cms.sign(OID_CSCA_MASTER_LIST, encode_content([CSCA]), LEAF, as_certificate(ds), HashName.SHA256,
                  signing_time=NOW, sid="ski")
    assert "extension-missing" in rules(lint_masterlist(ml, at=NOW))


def test_ml_rule_signature() -> None:
    ml = bytearray(build([CSCA], LEAF, ML_SIGNER_CERT, NOW))
    ml[-5] ^= 0x01  # inside the signature value
    assert_rule(lint_masterlist(bytes(ml), at=NOW), "ml-signature", "§9")


def test_ml_rule_not_a_masterlist() -> None:
    assert_rule(lint_masterlist(b"\x30\x00"), "der", "")


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_lint_never_raises_on_random_bytes(data: bytes) -> None:
    lint_certificate(data)
    lint_crl(data)
    lint_masterlist(data)


@settings(max_examples=60)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_lint_never_raises_on_mutated_certificates(pos: int, value: int) -> None:
    data = bytearray(der(good("ds")))
    data[pos % len(data)] = value
    for f in lint_certificate(bytes(data)):
        assert f.rule and f.message
