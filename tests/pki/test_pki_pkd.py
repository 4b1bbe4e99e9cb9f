"""The ICAO PKD exchange: deviation lists built and verified (Doc 9303-12 §10), LDIF export in the PKD's
layout read back by ldif3 (a parser we did not write) and openssl, an LDIF round trip into a fresh site of
another country, and master lists that carry other countries' CSCAs only from verified imports."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import ldif3
import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import KEY_SECRETS, secret_env
from cryptography import x509
from pkikit import openssl, pem

from mrtd.cli.pki import pki
from mrtd.pki import pkd
from mrtd.pki.exchange import pkd_objects
from mrtd.pki.site import PkiSite

DN = re.compile(r"^cn=(?P<cn>(?:[^,\\+]|\\.)+)(?:\+sn=(?P<sn>[0-9A-F]+))?,o=(?P<o>[a-z]+),c=(?P<c>[A-Z]{2}),"
                r"dc=data,dc=download,dc=pkd,dc=icao,dc=int$")
VALUE = {"csca": "userCertificate;binary", "dsc": "userCertificate;binary",
         "crl": "certificateRevocationList;binary", "ml": "pkdMasterListContent", "dl": "pkdDeviationListContent"}
CLASSES = {"csca": {"inetOrgPerson", "pkdDownload"}, "dsc": {"inetOrgPerson", "pkdDownload"},
           "crl": {"cRLDistributionPoint", "pkdDownload"}, "ml": {"person", "pkdMasterList", "pkdDownload"},
           "dl": {"person", "pkdDeviationList", "pkdDownload"}}


def now() -> datetime:
    return datetime.now(UTC)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(pki, list(args), env=secret_env(), catch_exceptions=False)
    return result.exit_code, result.stdout  # warnings go to stderr


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _country(path: Path, code: str) -> PkiSite:
    site = PkiSite(path, clock=now, actor="test-officer", kdf_log2n=12)
    site.init(code, "ecdsa-p256", KEY_SECRETS["csca"])
    return site


@pytest.fixture
def netherlands(tmp_path: Path) -> PkiSite:
    """A country's PKI with all it publishes: CSCAs and a link, two DSCs (one revoked), a CRL, a master list
    and a deviation list."""
    s = _country(tmp_path / "nl", "NL")
    issued = {}
    for role in ("ds", "ds", "masterlist-signer", "deviationlist-signer"):
        issued[role] = s.issue(role, KEY_SECRETS["csca"], key_secret=KEY_SECRETS[role])
    first_ds = next(r for r in s.list() if r.role == "ds")
    s.revoke(first_ds.serial, "key compromise")
    s.crl(KEY_SECRETS["csca"])
    s.rollover(KEY_SECRETS["csca"])
    s.masterlist(KEY_SECRETS["masterlist-signer"])
    spec = [{"documents": {"signer": issued["ds"].serial},
             "descriptions": [{"type": "dg-hash-wrong", "parameter": "dg2", "text": "DG2 hash over the wrong bytes"}]},
            {"documents": {"document_type": "ID", "issued": ["2026-01-01", "2026-02-01"], "numbers": ["NL0000001"]},
             "descriptions": [{"type": "mrz-wrong-check-digit", "parameter": "documentCode"}]}]
    (tmp_path / "deviations.json").write_text(json.dumps(spec))
    code, out = run("deviationlist", "build", str(tmp_path / "deviations.json"), "--out", str(tmp_path / "dl.der"),
                    "--site", str(s.root.parent), "--json")
    assert code == 0 and json_result(out)["deviations"] == 2, out
    (tmp_path / "csca.pem").write_bytes(pem(s.certificate(s.list()[0])))
    return s


def test_deviation_list_verifies_with_us_and_with_openssl(netherlands: PkiSite, tmp_path: Path) -> None:
    site = str(netherlands.root.parent)
    code, out = run("deviationlist", "verify", str(tmp_path / "dl.der"), "--site", site, "--json")
    assert code == 0, out
    entries = json_result(out)["deviations"]
    ds = [r for r in netherlands.list() if r.role == "ds"][-1]
    assert {e["documents"].get("signer_serial") for e in entries} == {ds.serial, None}
    assert {d["type"] for e in entries for d in e["descriptions"]} == {"dg-hash-wrong", "mrz-wrong-check-digit"}
    types = json_result(run("deviationlist", "types", "--json")[1])["types"]
    assert types["dg-hash-wrong"] == {"oid": "2.23.136.1.1.7.2.2", "parameter": "Datagroup",
                                      "meaning": "the hash of a data group in EF.SOD is wrong"}
    r = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "dl.der"), "-CAfile", str(tmp_path / "csca.pem"),
                "-purpose", "any", "-out", str(tmp_path / "dl-content.der"))
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr
    printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "dl.der")).stdout
    assert "2.23.136.1.1.7" in printed and "signingTime" in printed
    # A country that trusts another CSCA refuses the list; a request naming no Document Signer of ours is refused.
    other = _country(tmp_path / "fr", "FR")
    code, out = run("deviationlist", "verify", str(tmp_path / "dl.der"), "--site", str(other.root.parent), "--json")
    assert code == 1 and envelope(out)["errors"][0]["rule"] == "chain", out
    (tmp_path / "bad.json").write_text(json.dumps([{"documents": {"signer": "ABCDEF"},
                                                     "descriptions": [{"type": "chip"}]}]))
    code, out = run("deviationlist", "build", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.der"),
                    "--site", site, "--json")
    assert code == 1 and "ABCDEF is no Document Signer of this site" in envelope(out)["errors"][0]["message"]
    (tmp_path / "bad.json").write_text(json.dumps([{"documents": {"document_type": "ID"},
                                                     "descriptions": [{"type": "wobbly-chip"}]}]))
    code, out = run("deviationlist", "build", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x.der"),
                    "--site", site, "--json")
    assert code == 1 and "'wobbly-chip' is none of" in envelope(out)["errors"][0]["message"] and not (tmp_path / "x.der").exists()


def test_exported_ldif_is_the_pkd_layout_as_ldif3_and_openssl_read_it(netherlands: PkiSite, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # ldif3 (last release 2017) still calls base64.decodestring, which Python 3.9 renamed decodebytes: the
    # name is lent back for this test; the parsing is ldif3's own.
    monkeypatch.setattr(base64, "decodestring", base64.decodebytes, raising=False)
    out = tmp_path / "nl.ldif"
    code, printed = run("pkd", "export", "--out", str(out), "--site", str(netherlands.root.parent), "--json")
    assert code == 0 and json_result(printed)["entries"] == {"csca": 3, "dsc": 2, "crl": 1, "ml": 1, "dl": 1}, printed
    with out.open("rb") as fh:
        entries = list(ldif3.LDIFParser(fh, encoding=None, strict=True).parse())
    assert out.read_bytes().startswith(b"version: 1\ndn: ") and len(entries) == 8
    values = set()
    for dn, record in entries:
        m = DN.match(dn)
        assert m is not None, dn
        kind, cn = m["o"], _unescape(m["cn"])
        assert m["c"] == "NL" and {v.decode() for v in record["objectClass"]} >= CLASSES[kind], (dn, record["objectClass"])
        assert [v.decode() for v in record["cn"]] == [cn]
        (value,) = record[VALUE[kind]]
        values.add(value)
        if kind in ("csca", "dsc"):
            cert = x509.load_der_x509_certificate(value)
            assert cert.subject.rfc4514_string() == cn and m["sn"] == f"{cert.serial_number:X}"
            assert record["sn"] == [m["sn"].encode()]
        elif kind == "crl":
            assert x509.load_der_x509_crl(value).issuer.rfc4514_string() == cn and m["sn"] is None
        else:  # the master and deviation lists: named by their signer, `sn: 1` outside the RDN
            assert m["sn"] is None and record["sn"] == [b"1"]
            (tmp_path / f"{kind}.der").write_bytes(value)
            r = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / f"{kind}.der"), "-CAfile",
                        str(tmp_path / "csca.pem"), "-purpose", "any", "-out", str(tmp_path / f"{kind}-content"))
            assert r.returncode == 0, r.stderr
            signer = x509.load_pem_x509_certificate(openssl("cms", "-verify", "-noverify", "-inform", "DER", "-in",
                                                            str(tmp_path / f"{kind}.der"), "-signer", "/dev/stdout",
                                                            "-out", "/dev/null").stdout.encode())
            assert signer.subject.rfc4514_string() == cn
    assert values == {o.der for o in pkd_objects(netherlands)}


def test_ldif_round_trip_into_a_fresh_site(netherlands: PkiSite, tmp_path: Path) -> None:
    ldif = tmp_path / "nl.ldif"
    assert run("pkd", "export", "--out", str(ldif), "--site", str(netherlands.root.parent))[0] == 0
    germany = _country(tmp_path / "de", "DE")
    site = str(germany.root.parent)
    # Nothing from a country we do not trust yet: every entry refused, by name, and nothing kept.
    code, out = run("pkd", "import", str(ldif), "--site", site, "--json")
    report = json_result(out)
    assert code == 1 and report["imported"] == {} and len(report["refused"]) == 8, out
    assert envelope(out)["ok"] is False and len(envelope(out)["errors"]) == 8
    assert germany.verified_imports() == [] and not (germany.root / "trust").exists()
    # With the Dutch CSCA obtained out of band: everything verifies, and the same bytes are kept.
    code, out = run("pkd", "import", str(ldif), "--trust", str(tmp_path / "csca.pem"), "--site", site, "--json")
    assert code == 0 and json_result(out)["imported"] == {"ml": 1, "csca": 3, "crl": 1, "dsc": 2, "dl": 1}, out
    assert sorted(der for _, der in germany.verified_imports()) == sorted(o.der for o in pkd_objects(netherlands))
    code, out = run("pkd", "import", str(ldif), "--site", site, "--json")
    assert code == 0 and json_result(out)["already_present"] == 8 and json_result(out)["imported"] == {}
    # What came in now verifies a Dutch Document Signer at the German site, and its CRL says which is revoked.
    store = germany.trust_store()
    dsc = [netherlands.certificate(r) for r in netherlands.list() if r.role == "ds"]
    assert store.validate(dsc[1], now(), purpose="ds").ok
    assert not store.validate(dsc[0], now(), purpose="ds").ok
    # A German master list may now carry the Dutch CSCAs (--include), verified ones only.
    germany.issue("masterlist-signer", KEY_SECRETS["csca"], key_secret=KEY_SECRETS["masterlist-signer"])
    code, out = run("masterlist", "build", "--include", "NL", "--out", str(tmp_path / "de-ml.der"), "--site", site,
                    "--json")
    assert code == 0 and json_result(out)["entries"] == 1 + 3, out
    code, out = run("masterlist", "build", "--include", "FR", "--out", str(tmp_path / "de-ml2.der"), "--site", site,
                    "--json")
    assert code == 1 and "no verified CSCA of FR" in envelope(out)["errors"][0]["message"]


def test_an_unverified_import_never_goes_into_our_master_list(netherlands: PkiSite, tmp_path: Path) -> None:
    ldif = tmp_path / "nl.ldif"
    assert run("pkd", "export", "--out", str(ldif), "--site", str(netherlands.root.parent))[0] == 0
    france = _country(tmp_path / "fr", "FR")
    site = str(france.root.parent)
    code, out = run("pkd", "import", str(ldif), "--unverified", "--site", site, "--json")
    assert code == 0 and sum(json_result(out)["imported"].values()) == 8
    france.issue("masterlist-signer", KEY_SECRETS["csca"], key_secret=KEY_SECRETS["masterlist-signer"])
    code, out = run("masterlist", "build", "--include", "NL", "--out", str(tmp_path / "fr-ml.der"), "--site", site,
                    "--json")
    assert code == 1 and "unverified imports never go into a master list" in envelope(out)["errors"][0]["message"]
    (logged,) = (e for e in france.log_entries() if e["op"] == "pkd-import")
    assert logged["verified"] is False


def test_a_forged_document_signer_in_an_ldif_is_refused_by_name(netherlands: PkiSite, tmp_path: Path) -> None:
    forger = _country(tmp_path / "forger", "NL")  # the same country name, another key
    forged = forger.issue("ds", KEY_SECRETS["csca"], key_secret=KEY_SECRETS["ds"])
    from cryptography.hazmat.primitives import serialization

    objects = [*pkd_objects(netherlands),
               pkd.PkdObject("dsc", "NL", forger.certificate(forged).public_bytes(serialization.Encoding.DER))]
    (tmp_path / "mixed.ldif").write_bytes(pkd.export(objects))
    germany = _country(tmp_path / "de", "DE")
    code, out = run("pkd", "import", str(tmp_path / "mixed.ldif"), "--trust", str(tmp_path / "csca.pem"),
                    "--site", str(germany.root.parent), "--json")
    report = json_result(out)
    assert code == 1 and report["imported"] == {"ml": 1, "csca": 3, "crl": 1, "dsc": 2, "dl": 1}, out
    ((dn, why),) = ((r["dn"], r["reason"]) for r in report["refused"])
    assert [(e["rule"], e["field"], e["message"]) for e in envelope(out)["errors"]] == [("refused", dn, why)]
    assert f"+sn={forged.serial}," in dn and "Document Signer certificate" in why


def test_the_reader_takes_the_spellings_pkd_files_use(netherlands: PkiSite, tmp_path: Path) -> None:
    """o=ds beside o=dsc (the PKD interface's name), attributes with or without `;binary`, lines folded at
    another width, entries of the tree itself (dc=..., c=XX, o=...): all read the same."""
    exported = pkd.export(pkd_objects(netherlands)).decode()
    unfolded = re.sub(r"\n ", "", exported)  # RFC 2849 continuation lines joined back
    respelled = (unfolded.replace(",o=dsc,", ",o=ds,").replace("pkdMasterListContent::", "pkdMasterListContent;binary::")
                 .replace("userCertificate;binary::", "userCertificate::"))
    tree = "dn: o=ds,c=NL,dc=data,dc=download,dc=pkd,dc=icao,dc=int\nobjectClass: organization\no: ds\n\n"
    text = respelled.replace("version: 1\n", "version: 1\n\n" + tree, 1)
    objects, skipped = pkd.read(text.encode())
    assert skipped == []
    assert sorted((o.kind, o.der) for o in objects) == sorted((o.kind, o.der) for o in pkd_objects(netherlands))
