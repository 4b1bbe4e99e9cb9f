"""`mrtd pki ...` end to end through click, secrets from the environment or a file (never argv)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from clikit import envelope, json_result
from pkikit import openssl

from mrtd.cli.pki import pki

ENV = {"MRTD_CSCA_PASSPHRASE": "cli csca passphrase", "MRTD_DS_PASSPHRASE": "cli ds passphrase",
       "MRTD_SEAL_PASSPHRASE": "cli seal passphrase", "MRTD_VDSNC_PASSPHRASE": "cli vdsnc passphrase",
       "MRTD_ML_PASSPHRASE": "cli ml passphrase"}


def run(args: list[str], env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(pki, args, env=ENV if env is None else env, input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_full_cycle_with_json(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    code, out = run(["init", "--country", "NL", "--algorithm", "ecdsa-p256", "--site", site, "--json"])
    assert code == 0, out
    assert json_result(out)["certificate"]["role"] == "csca"
    for role, extra in (("ds", []), ("seal-signer", ["--common-name", "AB"]), ("vdsnc-signer", ["--common-name", "VN"]),
                        ("masterlist-signer", [])):
        code, out = run(["issue", role, *extra, "--site", site, "--json"])
        assert code == 0, out
    ds_serial = json_result(run(["list", "--site", site, "--json"])[1])["certificates"][1]["serial"]
    code, out = run(["revoke", ds_serial, "--reason", "lost laptop", "--site", site, "--json"])
    assert code == 0 and json_result(out)["certificate"]["status"] == "revoked"
    code, out = run(["crl", "--out", str(tmp_path / "crl.pem"), "--site", site, "--json"])
    assert code == 0 and json_result(out)["crl_number"] == 1
    code, out = run(["masterlist", "build", "--out", str(tmp_path / "ml.der"), "--site", site, "--json"])
    assert code == 0, out
    code, out = run(["masterlist", "verify", str(tmp_path / "ml.der"), "--site", site, "--json"])
    assert code == 0 and json_result(out)["entries"] == 1, out
    code, out = run(["rollover", "--site", site, "--json"])
    assert code == 0 and json_result(out)["link"]["role"] == "link"
    listing = json_result(run(["list", "--site", site, "--json"])[1])["certificates"]
    assert [c["role"] for c in listing] == ["csca", "ds", "seal-signer", "vdsnc-signer", "masterlist-signer", "csca", "link"]
    assert all(Path(c["file"]).exists() for c in listing)
    code, out = run(["lint", *[c["file"] for c in listing], str(tmp_path / "crl.pem"), str(tmp_path / "ml.der"), "--json"])
    assert code == 0, out
    r = openssl("crl", "-in", str(tmp_path / "crl.pem"), "-noout", "-text")
    assert "CRL Number" in r.stdout
    log = (tmp_path / "site" / "pki" / "log.jsonl").read_text()
    assert not any(secret in log for secret in ENV.values())
    assert {json.loads(line)["op"] for line in log.splitlines()} >= {"init", "issue", "revoke", "crl", "rollover"}


def test_secret_files_and_prompt_per_key(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    pw = tmp_path / "pw"
    pw.write_text("csca from a file\n")
    code, out = run(["init", "--country", "DE", "--algorithm", "ecdsa-brainpoolp256r1", "--site", site,
                     "--secret-file", f"csca={pw}"], env={})
    assert code == 0, out
    # the CSCA's secret from its file, the new Document Signer's own from a prompt
    code, out = run(["issue", "ds", "--site", site, "--secret-file", f"csca={pw}"], env={}, input="ds secret\n")
    assert code == 0, out
    code, out = run(["issue", "ds", "--site", site, "--json"], env={"MRTD_CSCA_PASSPHRASE": "Zq9-bad-pass",
                                                                      "MRTD_DS_PASSPHRASE": "ds 2"})
    assert code == 1 and envelope(out)["errors"][0]["rule"] == "key-access" and "Zq9-bad-pass" not in envelope(out)["errors"][0]["message"]
    # never the CSCA's secret for another key
    code, out = run(["issue", "ds", "--site", site, "--json"], env={"MRTD_CSCA_PASSPHRASE": "csca from a file",
                                                                      "MRTD_DS_PASSPHRASE": "csca from a file"})
    assert code == 1 and "its own secret" in envelope(out)["errors"][0]["message"], out


def test_a_format_forbidden_algorithm_is_refused_when_issued(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    assert run(["init", "--country", "DE", "--algorithm", "ecdsa-brainpoolp384r1", "--site", site])[0] == 0
    code, out = run(["issue", "vdsnc-signer", "--common-name", "VN", "--algorithm", "ecdsa-brainpoolp384r1",
                     "--site", site, "--json"])
    assert code == 1 and "VDS-NC Signer cannot use ecdsa-brainpoolp384r1" in envelope(out)["errors"][0]["message"], out
    assert not list((tmp_path / "site" / "pki" / "keys").glob("vdsnc*")), "refused before a key was made"
    code, out = run(["issue", "vdsnc-signer", "--common-name", "VN", "--site", site, "--json"])
    assert code == 0, out  # the default follows the format: P-256 on a brainpool site
    cert = tmp_path / "site" / "pki" / json_result(out)["certificate"]["file"]
    assert "prime256v1" in openssl("x509", "-in", str(cert), "-noout", "-text").stdout


def test_lint_reports_findings_with_exit_1(tmp_path: Path) -> None:
    f = tmp_path / "junk.der"
    f.write_bytes(b"\x30\x03\x02\x01\x01")
    code, out = run(["lint", str(f), "--json"])
    assert code == 1 and envelope(out)["ok"] is False


def test_site_defaults_to_mrtd_site(tmp_path: Path) -> None:
    env = {**ENV, "MRTD_SITE": str(tmp_path / "s")}
    code, out = run(["init", "--country", "FR", "--algorithm", "ecdsa-p256"], env=env)
    assert code == 0, out
    assert (tmp_path / "s" / "pki" / "state.json").exists()


def test_init_takes_the_icao_code_too(tmp_path: Path) -> None:
    code, out = run(["init", "--site", str(tmp_path / "uto"), "--country", "UTO", "--algorithm", "ecdsa-p256", "--json"])
    assert code == 0, out
    assert json_result(out)["certificate"]["subject"].endswith("C=UT")
    code, out = run(["init", "--site", str(tmp_path / "d"), "--country", "D", "--algorithm", "ecdsa-p256", "--json"])
    assert code == 0, out
    code, out = run(["init", "--site", str(tmp_path / "x"), "--country", "XXA", "--algorithm", "ecdsa-p256"])
    assert code == 1 and "no ISO 3166-1 alpha-2 equivalent" in out
