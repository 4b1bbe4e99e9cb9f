"""Documents of other issuers, made here: an EF.SOD re-encoded with BER indefinite lengths (as a 2013
passport has it) that openssl still verifies, a brainpoolP224r1 Document Signer (German passports of
2007-2008), a signer checked `--at` a date inside its validity, and a revoked Document Signer with and
without its CRL, through the library and the CLI."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from certkit import CSCA, CSCA_SIGNER, NOW, P224r1Signer, csca_pem, p224r1_ds
from click.testing import CliRunner
from conftest import require
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from mrtd.asn1 import der
from mrtd.asn1.tlv import BER, Tlv
from mrtd.asn1.x509 import read_certificate
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.sod import Sod
from mrtd.chip.passive import passive_authentication
from mrtd.cli import main
from mrtd.pki import certificates as C
from mrtd.pki.crl import Revocation, build_crl
from mrtd.pki.signer import MemorySigner
from mrtd.pki.trust import TrustStore

LINES = ("P<D<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36D<<7408122F1204159ZE184226B<<<<<10")
DG1 = Dg1.create(LINES).raw
DG15 = Dg15.create(ec.generate_private_key(ec.SECP256R1()).public_key()).raw


def ds_with_key(days: int = 3650) -> tuple[MemorySigner, C.x509.Certificate]:
    key = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "ds")
    cert = C.build_document_signer(C.Issuer(CSCA_SIGNER, CSCA), key.public_key(), C.make_name("DE", "DS DE"),
                                   not_before=NOW - dt.timedelta(days=30), usage_end=NOW + dt.timedelta(days=60),
                                   not_after=NOW + dt.timedelta(days=days), document_types=("P",), rng=os.urandom)
    return key, cert


def store() -> TrustStore:
    s = TrustStore()
    s.add_certificate(CSCA)
    return s


def indefinite(obj: Tlv, depth: int) -> bytes:
    """BER: the outer `depth` levels of constructed elements with indefinite lengths (the certificates' outer
    SEQUENCE too, not their signed part); each OCTET STRING on the way (eContent, the signature) cut in
    two segments, as a streaming encoder writes it."""
    if obj.tag == 0x04 and len(obj.value) > 2:
        half = len(obj.value) // 2
        return b"\x24\x80" + der.octets(obj.value[:half]) + der.octets(obj.value[half:]) + b"\x00\x00"
    if depth == 0 or not obj.constructed:
        return obj.raw
    tag = obj.raw[: len(obj.raw) - len(obj.value) - (2 if obj.indefinite else 0)]
    head = tag[:1] if obj.tag <= 0xFF else tag[:2]
    return head + b"\x80" + b"".join(indefinite(c, depth - 1) for c in obj.children()) + b"\x00\x00"


def ber_sod(sod: bytes) -> bytes:
    """77 { ContentInfo { [0] { SignedData { ..., encapContentInfo { [0] eContent } } } } } in BER; the
    certificates and SignerInfo keep their DER bytes (what the signature and hashes cover does not change)."""
    return indefinite(Tlv.decode(sod, rules=BER), 6)


def openssl_cms_verify(content_info: bytes, tmp: Path) -> subprocess.CompletedProcess[bytes]:
    (tmp / "sod.der").write_bytes(content_info)
    (tmp / "csca.pem").write_bytes(csca_pem())
    return subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp / "sod.der"), "-CAfile",
                           str(tmp / "csca.pem"), "-purpose", "any", "-binary", "-attime", str(int(NOW.timestamp()))],
                          capture_output=True, check=False)


def test_ber_sod_verifies_over_the_stored_bytes_with_a_warning(tmp_path: Path) -> None:
    key, ds = ds_with_key()
    sod = Sod.create({1: DG1, 15: DG15}, key, ds, signing_time=NOW).raw
    ber = ber_sod(sod)
    assert ber != sod and b"\x30\x80" in ber and b"\x24\x80" in ber
    decoded = Sod.decode(ber)
    assert decoded.raw == ber and "ber-encoding" in {f.rule for f in decoded.findings}
    report = passive_authentication({"EF.SOD": ber, "DG1": DG1, "DG15": DG15}, store(), NOW)
    assert report.ok, [c.as_dict() for c in report.failed()]
    assert "ber-encoding" in {f.rule for f in report.findings}
    require(shutil.which("openssl") is not None, "openssl")
    content_info = Tlv.decode(ber, rules=BER).value
    result = openssl_cms_verify(content_info, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == decoded.security_object.raw  # the LDSSecurityObject, as openssl sees it
    tampered = bytearray(ber)
    tampered[ber.index(DG1[:0] + decoded.security_object.raw[-8:]) + 2] ^= 1  # inside the eContent
    assert not passive_authentication({"EF.SOD": bytes(tampered), "DG1": DG1, "DG15": DG15}, store(), NOW).ok


def test_brainpool_p224r1_document_signer_passes_passive_authentication(tmp_path: Path) -> None:
    signer = P224r1Signer()
    ds = read_certificate(p224r1_ds(signer))
    sod = Sod.create({1: DG1, 15: DG15}, signer, ds, signing_time=NOW).raw
    report = passive_authentication({"EF.SOD": sod, "DG1": DG1, "DG15": DG15}, store(), NOW)
    assert report.ok, [c.as_dict() for c in report.failed()]
    assert "ECDSA SHA256" in report.check("sod-signature").why
    require(shutil.which("openssl") is not None, "openssl")
    result = openssl_cms_verify(Tlv.decode(sod, rules=BER).value, tmp_path)
    assert result.returncode == 0, result.stderr.decode()


def _document(folder: Path, key: MemorySigner, ds: C.x509.Certificate) -> Path:
    folder.mkdir()
    (folder / "EF.SOD").write_bytes(Sod.create({1: DG1, 15: DG15}, key, ds, signing_time=NOW).raw)
    (folder / "DG1.bin").write_bytes(DG1)
    (folder / "DG15.bin").write_bytes(DG15)
    return folder


def test_revoked_document_signer_with_and_without_its_crl(tmp_path: Path) -> None:
    key, ds = ds_with_key()
    doc = _document(tmp_path / "doc", key, ds)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "csca.pem").write_bytes(csca_pem())
    at = ["--at", NOW.date().isoformat()]
    no_crl = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(bare), *at])
    assert no_crl.exit_code == 0, no_crl.output
    assert "warn ds-chain:crl" in no_crl.output and "with 1 warning(s)" in no_crl.output
    required = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(bare), "--require-crl", *at])
    assert required.exit_code == 1 and "FAIL ds-chain:crl" in required.output
    with_crl = tmp_path / "with-crl"
    shutil.copytree(bare, with_crl)
    crl = build_crl(CSCA, CSCA_SIGNER, number=2, this_update=NOW - dt.timedelta(days=1),
                    next_update=NOW + dt.timedelta(days=30), revoked=[Revocation(ds.serial_number, NOW - dt.timedelta(days=2))])
    (with_crl / "csca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    revoked = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(with_crl), *at])
    assert revoked.exit_code == 1 and "revoked on" in revoked.output, revoked.output


def test_expired_signer_checked_at_a_date_inside_its_validity(tmp_path: Path) -> None:
    key, ds = ds_with_key(days=10)
    doc = _document(tmp_path / "doc", key, ds)
    (tmp_path / "csca.pem").write_bytes(csca_pem())
    later = (NOW + dt.timedelta(days=40)).date().isoformat()
    expired = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(tmp_path / "csca.pem"), "--at", later])
    assert expired.exit_code == 1 and "FAIL ds-chain:validity" in expired.output
    then = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(tmp_path / "csca.pem"),
                                     "--at", NOW.date().isoformat()])
    assert then.exit_code == 0, then.output


def test_unreadable_trust_anchor_is_an_error(tmp_path: Path) -> None:
    key, ds = ds_with_key()
    doc = _document(tmp_path / "doc", key, ds)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "csca.pem").write_bytes(csca_pem())
    (trust / "broken.der").write_bytes(b"\x30\x03\x02\x01\x01")
    result = CliRunner().invoke(main, ["chip", "verify", str(doc), "--trust", str(trust)])
    assert result.exit_code == 1 and "error: " in result.output and "broken.der" in result.output


@pytest.mark.parametrize("fifo", [True])
def test_a_fifo_is_refused_not_waited_for(tmp_path: Path, fifo: bool) -> None:
    path = tmp_path / "seal.png"
    os.mkfifo(path)
    (tmp_path / "csca.pem").write_bytes(csca_pem())
    result = CliRunner().invoke(main, ["seal", "verify", str(path), "--trust", str(tmp_path / "csca.pem")])
    assert result.exit_code == 1 and "not a regular file" in result.output


def test_an_image_with_a_side_over_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    """A 40,000 x 10 strip is within the pixel count but over the side limit (zxing-cpp reads no side over
    65,535); it is refused from its header, with the rule named."""
    path = tmp_path / "strip.png"
    Image.new("L", (40_000, 10), 255).save(path, "PNG")
    (tmp_path / "csca.pem").write_bytes(csca_pem())
    result = CliRunner().invoke(main, ["seal", "verify", str(path), "--trust", str(tmp_path / "csca.pem")])
    assert result.exit_code == 1, result.output
    assert "40000x10 pixels has a side over the limit of 30000" in result.output
