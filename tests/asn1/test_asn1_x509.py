"""The one certificate reader: each known defect of real issuers' certificates is read with a finding and
its signature checked over the bytes as received; openssl, which we did not write, agrees where it reads
the same bytes. Keys on brainpoolP224r1 verify through fastecdsa, signed by the pure-Python ecdsa."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from certkit import CSCA, DEFECTS, NOW, P224r1Signer, csca_pem, p224r1_ds
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.asn1 import cms
from mrtd.asn1.algorithms import HashName
from mrtd.asn1.keys import CurveKey, load_spki
from mrtd.asn1.signatures import verify_raw_ecdsa
from mrtd.asn1.x509 import as_certificate, pem_blocks, read_certificate, read_certificates, read_crl
from mrtd.errors import EncodingError, MrtdError, SignatureError
from mrtd.pki.trust import TrustStore


def openssl_verify(cert_der: bytes, tmp: Path) -> subprocess.CompletedProcess[str]:
    (tmp / "ca.pem").write_bytes(csca_pem())
    (tmp / "leaf.der").write_bytes(cert_der)
    conv = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(tmp / "leaf.der"), "-out",
                           str(tmp / "leaf.pem")], capture_output=True, text=True, check=False)
    assert conv.returncode == 0, conv.stderr
    return subprocess.run(["openssl", "verify", "-attime", str(int(NOW.timestamp())), "-partial_chain", "-CAfile",
                           str(tmp / "ca.pem"), str(tmp / "leaf.pem")], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_read_with_a_finding_and_verifies(defect: str, tmp_path: Path) -> None:
    make, rule = DEFECTS[defect]
    raw = make()
    cert = read_certificate(raw)
    assert rule in {f.rule for f in cert.findings}, [str(f) for f in cert.findings]
    assert cert.der == raw  # kept exactly as received
    cert.verify_signed_by(as_certificate(CSCA).public_key)  # over the original tbsCertificate bytes
    store = TrustStore()
    store.add_certificate(CSCA)
    report = store.validate(cert, NOW, purpose="ds")
    assert report.checks[0].name == "signature" and report.checks[0].passed, report.as_dict()
    tampered = bytearray(raw)
    tampered[len(raw) // 2] ^= 0x01
    with contextlib.suppress(MrtdError):  # the flipped bit may break the structure itself: refused, also fine
        assert not read_certificate(bytes(tampered)).signed_by(as_certificate(CSCA))


@pytest.mark.parametrize("defect", ["negative serial", "BER indefinite lengths", "critical FALSE encoded"])
def test_openssl_reads_and_verifies_the_same_defects(defect: str, tmp_path: Path) -> None:
    require(shutil.which("openssl") is not None, "openssl")
    result = openssl_verify(DEFECTS[defect][0](), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_brainpool_p224r1_document_signer_and_sod(tmp_path: Path) -> None:
    signer = P224r1Signer()
    ds = read_certificate(p224r1_ds(signer))
    key = ds.public_key
    assert isinstance(key, CurveKey) and key.curve.name == "brainpoolP224r1"
    assert ds.signed_by(as_certificate(CSCA))
    with pytest.raises(EncodingError, match="brainpoolP224r1"):
        load_spki(ds.spki)  # not a key the chip protocols can compute with; verification only
    ci = cms.sign("2.23.136.1.1.1", b"\x30\x00", signer, ds, HashName.SHA224)
    sd = cms.SignedData.decode(ci)
    assert cms.verify_signer(sd, sd.signer_infos[0], ds) == "ECDSA SHA224"
    stranger = P224r1Signer()
    other = cms.sign("2.23.136.1.1.1", b"\x30\x00", stranger, read_certificate(p224r1_ds(stranger)), HashName.SHA224)
    sd_other = cms.SignedData.decode(other)
    with pytest.raises(SignatureError, match="does not verify"):
        cms.verify_signer(sd_other, sd_other.signer_infos[0], ds)
    raw = signer.sign(b"seal", HashName.SHA224)
    from mrtd.asn1.signatures import ecdsa_pair

    r, s = ecdsa_pair(raw)
    verify_raw_ecdsa(key, b"seal", r.to_bytes(28, "big") + s.to_bytes(28, "big"), "sha224")
    with pytest.raises(SignatureError):
        verify_raw_ecdsa(key, b"seal!", r.to_bytes(28, "big") + s.to_bytes(28, "big"), "sha224")


def test_pem_with_leading_text_as_openssl_pkcs7_print_certs_writes_it() -> None:
    text = b"subject=C = DE, CN = CSCA DE\n\nissuer=C = DE, CN = CSCA DE\n\n" + csca_pem() + b"\ntrailing words\n"
    assert [label for label, _ in pem_blocks(text)] == ["CERTIFICATE"]
    assert read_certificates(text)[0] == CSCA


def test_crl_is_read_and_tampering_refused() -> None:
    from mrtd.pki.crl import Revocation, build_crl

    crl = build_crl(CSCA, __import__("certkit").CSCA_SIGNER, number=1, this_update=NOW, next_update=NOW.replace(year=2027),
                    revoked=[Revocation(5, NOW)])
    from cryptography.hazmat.primitives.serialization import Encoding

    read = read_crl(crl.public_bytes(Encoding.DER))
    assert read.signed_by(as_certificate(CSCA)) and read.revoked_at(5) == NOW and read.number == 1


SAMPLES = [make() for make, _ in DEFECTS.values()]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_certificates_only_raise_mrtd_errors(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from(SAMPLES)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(MrtdError):
        cert = read_certificate(bytes(raw))
        cert.signed_by(as_certificate(CSCA))
        _ = (cert.subject_text, cert.not_after, cert.ski, cert.aki, cert.public_key)
