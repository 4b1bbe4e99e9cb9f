"""Every `--json` command prints the one envelope (mrtd/cli/envelope.schema.json), on success and on failure.

One site, and every command that has --json run on it for real, each output validated against the JSON
Schema with jsonschema; then the list of commands run is held against the command tree, so a new --json
command must be added here (or to ELSEWHERE, naming the test that validates its envelope)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from clikit import envelope
from conftest import EXAMPLES, secret_env
from servicekit import make_site

from mrtd.cli import main

# Commands whose envelope is validated by another test (they need a card reader, custodians or an EAC PKI).
ELSEWHERE = {
    "chip read": "tests/chip/test_pcsc_eac.py (pcscd + vpcd)",
    "chip write": "tests/chip/test_pcsc_eac.py (pcscd + vpcd)",
    "pki ceremony setup": "tests/pki/test_pki_ceremony.py", "pki ceremony check": "tests/pki/test_pki_ceremony.py",
    "pki ceremony issue": "tests/pki/test_pki_ceremony.py", "pki ceremony crl": "tests/pki/test_pki_ceremony.py",
    "pki ceremony rollover": "tests/pki/test_pki_ceremony.py",
    "pki ceremony sign-csr": "tests/pki/test_pki_ceremony.py",
    "pki csr": "tests/pki (external CSCA)", "pki sign-csr": "tests/pki (external CSCA)",
    "pki import-cert": "tests/pki (external CSCA)", "pki destroy-key": "tests/pki",
    "pki cvca init": "tests/pki (EAC)", "pki cvca link": "tests/pki (EAC)", "pki dv issue": "tests/pki (EAC)",
    "pki is issue": "tests/pki (EAC)", "pki init": "tests/pki/test_pki_cli.py",
    "pki rollover": "tests/pki/test_pki_cli.py", "pki masterlist import": "tests/pki/test_pki_foreign.py",
    "pki deviationlist build": "tests/pki/test_pki_pkd.py", "pki deviationlist verify": "tests/pki/test_pki_pkd.py",
    "pki deviationlist types": "tests/pki/test_pki_pkd.py", "pki pkd export": "tests/pki/test_pki_pkd.py",
    "pki pkd import": "tests/pki/test_pki_pkd.py",
}


def _json_commands() -> set[str]:
    ctx = click.Context(main)
    found: set[str] = set()

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, [*path, name])
        elif any(p.name == "as_json" for p in cmd.params):
            found.add(" ".join(path))

    walk(main, [])
    return found


class Session:
    """Runs `mrtd ... --json` and checks the envelope: valid, the right command, ok as the exit code says."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, *args: str, code: int = 0) -> Any:
        r = CliRunner().invoke(main, [*args, "--json"])
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        assert r.exit_code == code, f"mrtd {' '.join(args)}: exit {r.exit_code}\n{r.output}"
        env = envelope(r.stdout)
        assert env["ok"] is (code == 0), r.stdout
        assert " ".join(args).startswith(env["command"]), env["command"]
        if code:
            assert env["errors"], r.stdout
        self.seen.add(env["command"])
        return env["result"]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Session:
    site = make_site(tmp_path / "site")
    for name, value in secret_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MRTD_SITE", str(site.root))
    monkeypatch.setenv("MRTD_USER_PASSWORD", "a long enough password")
    monkeypatch.delenv("MRTD_USER", raising=False)
    monkeypatch.chdir(tmp_path)
    return Session()


def _app(name: str, folder: Path, drawn: bool = False) -> Path:
    """An example application with its images' paths made absolute; `drawn`: without its document number
    (the site draws one)."""
    data = json.loads((EXAMPLES / name).read_text("utf-8"))
    for key in ("portrait", "signature"):
        if key in data:
            data[key] = str((EXAMPLES / data[key]).resolve())
    if drawn:
        data["document"].pop("number", None)
    path = folder / name
    path.write_text(json.dumps(data), "utf-8")
    return path


@pytest.mark.ocr
def test_every_json_command_prints_the_envelope(run: Session, tmp_path: Path) -> None:
    site = tmp_path / "site"
    csca = str(next((site / "pki" / "certs").glob("csca-*.pem")))
    anna = _app("anna-eriksson-td3.json", tmp_path)
    td1 = _app("anna-eriksson-td1.json", tmp_path)
    specimen = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    # new site, applications, MRZ, photo
    run("site", "init", str(tmp_path / "other"), "--country", "UTO", "--certificate-country", "UT")
    run("application", "validate", str(anna))
    run("application", "validate", str(EXAMPLES / "batches"), code=1)  # batch rows keep their numbers: findings
    run("mrz", "build", str(anna))
    run("mrz", "check", *specimen, "--reference", "2000-01-01")
    run("mrz", "check", specimen[0], specimen[1][:-1] + "1", code=1)
    run("mrz", "parse", *specimen)
    portrait = str(EXAMPLES / "portraits" / "anna.jpg")
    photo = run("photo", "check", portrait, code=0)
    assert photo["ok"] is True
    run("photo", "crop", portrait, "--out", str(tmp_path / "token.png"))
    # pages, seals, chip data
    run("render", str(td1), "--out", str(tmp_path / "card.png"))
    run("layout", "check", str(tmp_path / "card-back.png"), "--application", str(td1))
    run("seal", "make", "--format", "idb", "--type", "mrz", str(anna), "--out", str(tmp_path / "seal.png"))
    certs = str(site / "pki" / "certs")
    assert run("seal", "verify", str(tmp_path / "seal.png"), "--trust", csca, "--certs", certs)["verdict"] == "valid"
    run("seal", "verify", str(anna), "--trust", csca, code=1)
    run("chip", "build", str(anna), "--out", str(tmp_path / "chip"), "--unencrypted-keys")
    run("chip", "verify", str(tmp_path / "chip"), "--trust", csca)
    # PKI
    run("pki", "issue", "vdsnc-signer", "--common-name", "VN")
    run("pki", "issue", "masterlist-signer")
    listing = run("pki", "list")["certificates"]
    (vdsnc,) = [c for c in listing if c["role"] == "vdsnc-signer"]
    run("pki", "revoke", vdsnc["serial"], "--reason", "test")
    run("pki", "crl", "--out", str(tmp_path / "crl.pem"))
    run("pki", "status", "--days", "1", code=1)  # the revoked VDS-NC signer left no key that can sign
    run("pki", "masterlist", "build", "--out", str(tmp_path / "ml.der"))
    run("pki", "masterlist", "verify", str(tmp_path / "ml.der"))
    run("pki", "lint", csca)
    # people
    run("users", "add", "amal", "--role", "approver")
    run("users", "add", "stan", "--role", "station")
    run("users", "add", "amal", "--role", "approver", code=1)  # already there
    run("users", "token", "amal", "--out", str(tmp_path / "amal.token"))
    run("users", "password", "amal")
    run("users", "totp", "amal")
    run("users", "reset-key", "stan")
    run("users", "list")
    run("users", "revoke", "stan")
    # casework, issuing, records
    case = run("application", "submit", str(_app("olena-shevchenko-cyrillic.json", tmp_path, drawn=True)))
    run("application", "list")
    run("application", "show", str(case["id"]))
    run("application", "approve", str(case["id"]), code=1)  # four eyes: never your own
    run("application", "approve", str(case["id"]), "--user", "amal")
    issued = run("application", "issue", str(case["id"]), "--out", str(tmp_path / "doc"))
    other = run("application", "submit", str(_app("leyla-mirza-stateless.json", tmp_path, drawn=True)))
    run("application", "reject", str(other["id"]), "--reason", "blurred portrait", "--user", "amal")
    run("issue", str(_app("abubakr-alrazi-arabic.json", tmp_path, drawn=True)), "--out", str(tmp_path / "one"))
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(json.loads(_app("dingo-long-name-td1.json", tmp_path, drawn=True).read_text("utf-8"))) + "\n")
    run("batch", "issue", str(batch), "--out", str(tmp_path / "batch"))
    run("records", "list")
    number = issued["number"]
    run("document", "show", number)
    run("document", "reprint", number, "--out", str(tmp_path / "reprint"))
    run("document", "report-lost", number)
    run("document", "report-lost", number, code=1)  # not twice
    run("document", "replace", number)
    run("document", "void", run("records", "list", "--state", "issued")[0]["number"], "--reason", "test")
    run("search", "--reason", "test", "--name", "shevchenko")
    run("audit", "verify")
    run("inventory", "receive", "--from", "P0000101", "--to", "P0000103", "--kind", "booklet", "--delivery", "D1")
    run("inventory", "spoil", "P0000102", "--reason", "misprinted")
    run("inventory", "list")
    missing = _json_commands() - run.seen - set(ELSEWHERE)
    assert not missing, (f"--json commands no test runs: {sorted(missing)}; run each in this test (or name the "
                         "test that checks its envelope in ELSEWHERE)")
    assert not set(ELSEWHERE) - _json_commands(), "ELSEWHERE names commands that no longer exist"
