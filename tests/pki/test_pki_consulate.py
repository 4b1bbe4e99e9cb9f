"""Custody by role: a consulate's site holds only its Document Signer and seal signer keys; its CSCA lives at
another site (the capital's, offline). Requests go there (`pki csr`), are checked and certified
(`pki sign-csr`), come back (`pki import-cert`); the consulate issues documents; openssl (software we did not
write) verifies the chain against the CSCA with the capital's CRL, and the documents' EF.SOD."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES, secret_env
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkikit import openssl

from mrtd.asn1.tlv import Tlv
from mrtd.cli.chip import chip
from mrtd.cli.issue import issue
from mrtd.cli.pki import pki
from mrtd.cli.site import site as site_group
from mrtd.pki.site import PkiSite


def cli(group: click.Command, *args: Any) -> tuple[int, str]:
    result = CliRunner().invoke(group, [str(a) for a in args], env=secret_env(), catch_exceptions=False)
    return result.exit_code, result.stdout


def ok(group: click.Command, *args: Any) -> dict[str, Any]:
    code, out = cli(group, *args, "--json")
    assert code == 0, out
    payload: dict[str, Any] = json_result(out)
    return payload


def test_a_consulate_without_a_csca_issues_documents_that_openssl_verifies(tmp_path: Path) -> None:
    capital, consulate = tmp_path / "capital", tmp_path / "consulate"
    csca_pem = capital / "pki" / ok(pki, "init", "--country", "UTO", "--site", capital)["certificate"]["file"]
    made = ok(site_group, "init", consulate, "--country", "UTO", "--csca", "external", "--csca-cert", csca_pem)
    assert made["csca"] == "external"
    # No signing key there before it asks for one (only the audit log's own key, which no CSCA certifies).
    assert [p.name.split("-")[0] for p in (consulate / "pki").glob("keys/*")] == ["audit"]

    # The consulate makes its keys (each with its own secret) and asks; the capital checks and certifies.
    for role, extra in (("ds", ()), ("seal-signer", ("--common-name", "AB"))):
        ok(pki, "csr", role, *extra, "--out", tmp_path / f"{role}.csr", "--site", consulate)
    request = x509.load_pem_x509_csr((tmp_path / "ds.csr").read_bytes())
    forged = bytearray(request.public_bytes(serialization.Encoding.DER))
    forged[-1] ^= 0x01  # the signature's last byte: no proof of possession any more
    (tmp_path / "forged.csr").write_bytes(bytes(forged))
    code, out = cli(pki, "sign-csr", tmp_path / "forged.csr", "--role", "ds", "--out", tmp_path / "forged.pem",
                    "--site", capital, "--json")
    assert code == 1 and "no proof of possession" in envelope(out)["errors"][0]["message"], out
    assert not (tmp_path / "forged.pem").exists()
    assert openssl("req", "-verify", "-noout", "-in", str(tmp_path / "ds.csr")).returncode == 0  # the real one does
    for role in ("ds", "seal-signer"):
        ok(pki, "sign-csr", tmp_path / f"{role}.csr", "--role", role, "--out", tmp_path / f"{role}.pem",
           "--site", capital)
        ok(pki, "import-cert", tmp_path / f"{role}.pem", "--site", consulate)
    code, out = cli(pki, "import-cert", tmp_path / "ds.pem", "--site", consulate, "--json")
    assert code == 1 and "none this site asked for" in envelope(out)["errors"][0]["message"]

    # The consulate holds the signing keys and no CSCA key: it cannot certify anything.
    held = {r.role: r.key["store"] for r in PkiSite(consulate).list()}
    assert held == {"csca": "external", "ds": "file", "seal-signer": "file"}
    assert sorted(p.name.split("-")[0] for p in (consulate / "pki" / "keys").iterdir()) == ["audit", "ds", "seal"]
    code, out = cli(pki, "issue", "ds", "--site", consulate, "--json")
    assert code == 1 and "not held at this site" in envelope(out)["errors"][0]["message"], out

    # It issues a document (chip personalised on the simulator, seal, records).
    receipt = ok(issue, EXAMPLES / "anna-eriksson-td3.json", "--site", consulate, "--out", tmp_path / "doc",
                 "--no-print-check")
    assert {c["name"]: c["status"] for c in receipt["checks"]}["chip"] == "pass"
    chip_dir = tmp_path / "doc" / "chip"
    assert ok(chip, "verify", chip_dir, "--trust", csca_pem)["ok"] is True

    # openssl: the certificates chain to the capital's CSCA, checked against the capital's CRL ...
    ok(pki, "crl", "--out", tmp_path / "crl.pem", "--site", capital)
    for role in ("ds", "seal-signer"):
        r = openssl("verify", "-CAfile", str(csca_pem), "-crl_check", "-CRLfile", str(tmp_path / "crl.pem"),
                    str(tmp_path / f"{role}.pem"))
        assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (role, r.stdout, r.stderr)
    # ... and the EF.SOD verifies under it, its signer the certificate the capital issued, its hashes the DGs'.
    (tmp_path / "sod.der").write_bytes(Tlv.decode((chip_dir / "EF.SOD").read_bytes()).value)
    r = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der"), "-CAfile", str(csca_pem),
                "-purpose", "any", "-binary", "-out", str(tmp_path / "lso.der"), "-signer", str(tmp_path / "signer.pem"))
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr
    same = openssl("x509", "-in", str(tmp_path / "signer.pem"), "-noout", "-fingerprint", "-sha256").stdout
    assert same == openssl("x509", "-in", str(tmp_path / "ds.pem"), "-noout", "-fingerprint", "-sha256").stdout
    content = (tmp_path / "lso.der").read_bytes()
    for dg in ("DG1.bin", "DG2.bin"):
        assert hashlib.sha256((chip_dir / dg).read_bytes()).digest() in content

    # The capital revokes the consulate's Document Signer: openssl now refuses it through the new CRL.
    serial = next(r.serial for r in PkiSite(capital).list() if r.role == "ds")
    ok(pki, "revoke", serial, "--reason", "consulate closed", "--site", capital)
    ok(pki, "crl", "--out", tmp_path / "crl-2.pem", "--site", capital)
    r = openssl("verify", "-CAfile", str(csca_pem), "-crl_check", "-CRLfile", str(tmp_path / "crl-2.pem"),
                str(tmp_path / "ds.pem"))
    assert r.returncode != 0 and "revoked" in r.stdout + r.stderr


def test_sign_csr_refuses_a_key_the_role_s_format_forbids(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    capital = tmp_path / "capital"
    ok(pki, "init", "--country", "UTO", "--algorithm", "ecdsa-brainpoolp384r1", "--site", capital)
    # A request made by other software, for a VDS-NC signer on brainpoolP384r1 (VDS-NC allows P-256/384/521 only).
    key = ec.generate_private_key(ec.BrainpoolP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"), x509.NameAttribute(NameOID.COMMON_NAME, "VN")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA384())
    (tmp_path / "vdsnc.csr").write_bytes(request.public_bytes(serialization.Encoding.PEM))
    code, out = cli(pki, "sign-csr", tmp_path / "vdsnc.csr", "--role", "vdsnc-signer", "--out", tmp_path / "v.pem",
                    "--site", capital, "--json")
    assert code == 1 and "VDS-NC Signer cannot use ecdsa-brainpoolp384r1" in envelope(out)["errors"][0]["message"], out
    assert not (tmp_path / "v.pem").exists()
    # The same key as a Document Signer is fine (Part 12 allows brainpool curves there).
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"), x509.NameAttribute(NameOID.COMMON_NAME, "DS")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA384())
    (tmp_path / "ds.csr").write_bytes(request.public_bytes(serialization.Encoding.PEM))
    ok(pki, "sign-csr", tmp_path / "ds.csr", "--role", "ds", "--out", tmp_path / "ds.pem", "--site", capital)
    assert openssl("verify", "-CAfile", str(next((capital / "pki" / "certs").glob("csca-*.pem"))),
                   str(tmp_path / "ds.pem")).returncode == 0
