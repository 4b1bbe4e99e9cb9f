"""PKI commands on what other issuers send: master list import verifies by default (`--unverified` is
explicit and logged), `--at` on masterlist verify, and lint on PEM text as openssl writes it, with the role
taken from the certificate's own extensions and the VDS-NC CN rule a warning."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from clikit import json_result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pkikit import pem

from mrtd.cli import main
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.lint import lint_file
from mrtd.pki.signer import MemorySigner

ENV = {"MRTD_CSCA_PASSPHRASE": "foreign csca passphrase 1"}
NOW = datetime.now(UTC).replace(microsecond=0)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.output


def foreign_list(days: int = 300) -> tuple[bytes, bytes]:
    """Another country's master list and its CSCA (PEM)."""
    key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    csca = C.build_csca(key, C.make_name("FR", "CSCA FR"), not_before=NOW - timedelta(days=100),
                        not_after=NOW + timedelta(days=3000), key_usage_end=NOW + timedelta(days=900), rng=os.urandom)
    ml_key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    ml_cert = C.build_masterlist_signer(C.Issuer(key, csca), ml_key.public_key(), C.make_name("FR", "ML FR"),
                                        not_before=NOW - timedelta(days=20), not_after=NOW + timedelta(days=days),
                                        rng=os.urandom)
    return masterlist.build([csca], ml_key, ml_cert, NOW - timedelta(days=10)), pem(csca)


def test_masterlist_import_verifies_by_default_and_unverified_is_logged(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    assert run("pki", "init", "--country", "NL", "--algorithm", "ecdsa-p256", "--site", site)[0] == 0
    ml, fr_csca = foreign_list()
    (tmp_path / "fr.ml").write_bytes(ml)
    code, out = run("pki", "masterlist", "import", str(tmp_path / "fr.ml"), "--site", site)
    assert code == 1 and "masterlist signer" in out  # the site trusts no French CSCA yet: refused
    (tmp_path / "fr.pem").write_bytes(fr_csca)
    code, out = run("pki", "masterlist", "import", str(tmp_path / "fr.ml"), "--site", site, "--trust",
                    str(tmp_path / "fr.pem"), "--json")
    assert code == 0 and json_result(out)["verified"] is True, out
    code, out = run("pki", "masterlist", "import", str(tmp_path / "fr.ml"), "--site", site, "--unverified")
    assert code == 0 and "NOT verified" in out
    log = [json.loads(line) for line in (tmp_path / "site" / "pki" / "log.jsonl").read_text().splitlines()]
    imports = [e for e in log if e["op"] == "masterlist-import"]
    assert [e["verified"] for e in imports] == [True, False]


def test_masterlist_verify_at_a_date_inside_the_signer_validity(tmp_path: Path) -> None:
    ml, fr_csca = foreign_list(days=5)
    (tmp_path / "fr.ml").write_bytes(ml)
    (tmp_path / "fr.pem").write_bytes(fr_csca)
    args = ("pki", "masterlist", "verify", str(tmp_path / "fr.ml"), "--trust", str(tmp_path / "fr.pem"))
    code, out = run(*args, "--at", (NOW + timedelta(days=30)).date().isoformat())
    assert code == 1 and "validity" in out
    code, out = run(*args, "--at", NOW.date().isoformat())
    assert code == 0 and "master list OK" in out, out


def _au_csca() -> C.Issuer:
    key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    csca = C.build_csca(key, C.make_name("AU", "CSCA AU"), not_before=NOW, not_after=NOW + timedelta(days=900),
                        key_usage_end=NOW + timedelta(days=300), rng=os.urandom)
    return C.Issuer(key, csca)


def _seal_signer_pem() -> bytes:
    """A barcode signer without extendedKeyUsage, as test signers in the wild are."""
    seal = C.build_seal_signer(_au_csca(), ec.generate_private_key(ec.SECP256R1()).public_key(), "AU", "TS",
                               not_before=NOW, not_after=NOW + timedelta(days=300), rng=os.urandom)
    return pem(seal)


def test_lint_reads_pem_with_leading_text_and_says_which_role_it_assumed(tmp_path: Path) -> None:
    text = b"subject=C = AU, CN = TS\nissuer=C = AU, CN = CSCA AU\n\n" + _seal_signer_pem()
    findings = lint_file(text)
    notes = [f for f in findings if f.rule == "role-assumed"]
    assert notes and "linted as seal-signer" in notes[0].message
    (tmp_path / "printed.pem").write_bytes(text)
    _, out = run("pki", "lint", str(tmp_path / "printed.pem"))
    assert "linted as seal-signer" in out and "masterlist" not in out


def test_vdsnc_signer_with_a_long_cn_is_a_warning() -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from mrtd.pki.lint import lint_certificate
    from mrtd.pki.profiles import profile

    issuer = _au_csca()
    key, csca = issuer.signer, issuer.certificate
    assert csca is not None
    good = C.build_vdsnc_signer(issuer, ec.generate_private_key(ec.SECP256R1()).public_key(), "AU", "NC",
                                not_before=NOW, not_after=NOW + timedelta(days=300), rng=os.urandom)
    dfat = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "AU"), x509.NameAttribute(NameOID.COMMON_NAME, "DFAT")])
    builder = (x509.CertificateBuilder().subject_name(dfat).issuer_name(csca.subject).public_key(good.public_key())
               .serial_number(good.serial_number).not_valid_before(good.not_valid_before_utc)
               .not_valid_after(good.not_valid_after_utc))
    for ext in good.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    from mrtd.pki.certificates import sign_certificate
    from mrtd.pki.signer import HashName

    cert = sign_certificate(builder, key, HashName.SHA256)
    findings = [f for f in lint_certificate(cert.public_bytes(serialization.Encoding.DER), "vdsnc-signer")
                if f.rule == "subject-form"]
    assert findings and findings[0].severity.value == "warning", findings
    assert profile("vdsnc-signer").cn_length == 2


def test_mrz_parse_names_with_spaces() -> None:
    code, out = run("mrz", "parse", "P<UTOESPANOLA<ESPANOLA<<MARIA<<<<<<<<<<<<<<<",
                    "L898902C36UTO7408122F1204159ZE184226B<<<<<10", "--json")
    assert code == 0, out
    fields = json_result(out)["fields"]
    assert fields["primary_identifier"] == "ESPANOLA ESPANOLA" and fields["secondary_identifier"] == "MARIA"
