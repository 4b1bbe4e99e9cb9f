"""`mrtd pki ...` end to end through click, secrets from the environment or a file (never argv)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pkikit import openssl

from mrtd.cli.pki import pki

ENV = {"MRTD_KEY_PASSPHRASE": "cli passphrase 1"}


def run(args: list[str], env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(pki, args, env=ENV if env is None else env, input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_full_cycle_with_json(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    code, out = run(["init", "--country", "NL", "--algorithm", "ecdsa-p256", "--site", site, "--json"])
    assert code == 0, out
    assert json.loads(out)["certificate"]["role"] == "csca"
    for role, extra in (("ds", []), ("seal-signer", ["--common-name", "AB"]), ("vdsnc-signer", ["--common-name", "VN"]),
                        ("masterlist-signer", [])):
        code, out = run(["issue", role, *extra, "--site", site, "--json"])
        assert code == 0, out
    ds_serial = json.loads(run(["list", "--site", site, "--json"])[1])["certificates"][1]["serial"]
    code, out = run(["revoke", ds_serial, "--reason", "lost laptop", "--site", site, "--json"])
    assert code == 0 and json.loads(out)["certificate"]["status"] == "revoked"
    code, out = run(["crl", "--out", str(tmp_path / "crl.pem"), "--site", site, "--json"])
    assert code == 0 and json.loads(out)["crl_number"] == 1
    code, out = run(["masterlist", "build", "--out", str(tmp_path / "ml.der"), "--site", site, "--json"])
    assert code == 0, out
    code, out = run(["masterlist", "verify", str(tmp_path / "ml.der"), "--site", site, "--json"])
    assert code == 0 and json.loads(out)["entries"] == 1, out
    code, out = run(["rollover", "--site", site, "--json"])
    assert code == 0 and json.loads(out)["link"]["role"] == "link"
    listing = json.loads(run(["list", "--site", site, "--json"])[1])["certificates"]
    assert [c["role"] for c in listing] == ["csca", "ds", "seal-signer", "vdsnc-signer", "masterlist-signer", "csca", "link"]
    assert all(Path(c["file"]).exists() for c in listing)
    code, out = run(["lint", *[c["file"] for c in listing], str(tmp_path / "crl.pem"), str(tmp_path / "ml.der"), "--json"])
    assert code == 0, out
    r = openssl("crl", "-in", str(tmp_path / "crl.pem"), "-noout", "-text")
    assert "CRL Number" in r.stdout
    log = (tmp_path / "site" / "pki" / "log.jsonl").read_text()
    assert ENV["MRTD_KEY_PASSPHRASE"] not in log
    assert {json.loads(line)["op"] for line in log.splitlines()} >= {"init", "issue", "revoke", "crl", "rollover"}


def test_passphrase_file_and_prompt(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    pw = tmp_path / "pw"
    pw.write_text("from a file\n")
    code, out = run(["init", "--country", "DE", "--algorithm", "ecdsa-brainpoolp256r1", "--site", site,
                     "--passphrase-file", str(pw)], env={})
    assert code == 0, out
    code, out = run(["issue", "ds", "--site", site], env={}, input="from a file\n")
    assert code == 0, out
    code, out = run(["issue", "ds", "--site", site, "--json"], env={"MRTD_KEY_PASSPHRASE": "Zq9-bad-pass"})
    assert code == 1 and json.loads(out)["error"] == "KeyAccessError" and "Zq9-bad-pass" not in json.loads(out)["message"]


def test_lint_reports_findings_with_exit_1(tmp_path: Path) -> None:
    f = tmp_path / "junk.der"
    f.write_bytes(b"\x30\x03\x02\x01\x01")
    code, out = run(["lint", str(f), "--json"])
    assert code == 1 and json.loads(out)["ok"] is False


def test_site_defaults_to_mrtd_site(tmp_path: Path) -> None:
    env = {**ENV, "MRTD_SITE": str(tmp_path / "s")}
    code, out = run(["init", "--country", "FR", "--algorithm", "ecdsa-p256"], env=env)
    assert code == 0, out
    assert (tmp_path / "s" / "pki" / "state.json").exists()


def test_init_takes_the_icao_code_too(tmp_path: Path) -> None:
    code, out = run(["init", "--site", str(tmp_path / "uto"), "--country", "UTO", "--algorithm", "ecdsa-p256", "--json"])
    assert code == 0, out
    assert json.loads(out)["certificate"]["subject"].endswith("C=UT")
    code, out = run(["init", "--site", str(tmp_path / "d"), "--country", "D", "--algorithm", "ecdsa-p256", "--json"])
    assert code == 0, out
    code, out = run(["init", "--site", str(tmp_path / "x"), "--country", "XXA", "--algorithm", "ecdsa-p256"])
    assert code == 2 and "no ISO 3166-1 alpha-2 code" in out
