"""A PKI administrator's life cycle commands: `mrtd pki status` (from cron: exit 1 when something is due),
`revoke`, `destroy-key`, and the hint every "nothing active" error gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result

from mrtd.cli.pki import pki
from mrtd.errors import StateError
from mrtd.pki.site import PkiSite

ENV = {"MRTD_CSCA_PASSPHRASE": "life csca passphrase", "MRTD_DS_PASSPHRASE": "life ds passphrase",
       "MRTD_SEAL_PASSPHRASE": "life seal passphrase", "MRTD_ML_PASSPHRASE": "life ml passphrase"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(pki, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.output


def _site(tmp_path: Path) -> str:
    site = str(tmp_path / "site")
    for args in (["init", "--country", "NL"], ["issue", "ds"], ["issue", "seal-signer", "--common-name", "AB"],
                 ["crl", "--out", str(tmp_path / "crl-1.der")]):
        code, out = run(*args, "--site", site)
        assert code == 0, out
    return site


def _due(out: str) -> dict[tuple[str, str], dict[str, object]]:
    return {(d["what"], d["subject"].split()[0]): d for d in json_result(out)["due"]}


def test_status_figures_on_a_site_whose_keys_are_about_to_expire(tmp_path: Path) -> None:
    site = _site(tmp_path)
    now = datetime.now(UTC)
    code, out = run("status", "--site", site)
    assert code == 0 and "nothing needs action within 30 days" in out, out

    # 80 days on: the Document Signer's 3-month usage period and the CRL's 90-day nextUpdate come within 30 days.
    # A date-time, not a date: a date means noon, and the CRL's days left would then hang on the hour the test runs.
    soon = (now + timedelta(days=80)).isoformat(timespec="seconds")
    code, out = run("status", "--site", site, "--as-of", soon, "--json")
    assert code == 1, out
    due = _due(out)
    assert set(due) == {("usage-period", "ds"), ("crl", "CRL")}, due
    usage, crl = due[("usage-period", "ds")], due[("crl", "CRL")]
    assert 0 < float(usage["days_left"]) <= 13 and not usage["overdue"]  # type: ignore[arg-type]
    assert 9.9 <= float(crl["days_left"]) <= 10 and "mrtd pki crl --out FILE" in str(crl["action"])  # type: ignore[arg-type]
    assert str(usage["action"]).endswith("mrtd pki issue ds")
    code, table = run("status", "--site", site, "--as-of", soon)
    print(table)  # the table an administrator (or cron's mail) reads
    rows = [line.split("\t") for line in table.splitlines() if "\t" in line]
    assert code == 1 and rows[0] == ["what", "subject", "when", "action"] and len(rows) == 3
    # soonest first: which of the two is sooner hangs on the months' lengths (3 months are 89 to 92 days)
    assert [r[0] for r in rows[1:]] == [d["what"] for d in json_result(out)["due"]]
    row = {r[0]: r for r in rows[1:]}
    assert row["usage-period"][1].startswith("ds ") and row["usage-period"][2].startswith("in ")
    assert row["usage-period"][3] == "its private key usage period ends: mrtd pki issue ds" and "crl" in row
    # --days widens the horizon: the seal signer's usage period comes within a year.
    code, out = run("status", "--site", site, "--as-of", soon, "--days", "400", "--json")
    assert ("usage-period", "seal-signer") in _due(out)

    # 100 days on: overdue, and no Document Signer can sign at all.
    late = (now + timedelta(days=100)).date().isoformat()
    code, out = run("status", "--site", site, "--as-of", late, "--json")
    due = _due(out)
    assert code == 1 and due[("crl", "CRL")]["overdue"] is True
    assert due[("no-key", "ds")]["action"] == "no ds key can sign now: mrtd pki issue ds"


def test_revoke_then_status_wants_a_crl_and_a_new_signer_and_the_old_key_is_destroyed(tmp_path: Path) -> None:
    site = _site(tmp_path)
    listing = json_result(run("list", "--site", site, "--json")[1])["certificates"]
    ds = next(c for c in listing if c["role"] == "ds")
    seal = next(c for c in listing if c["role"] == "seal-signer")
    code, out = run("revoke", ds["serial"], "--reason", "laptop stolen", "--list-documents", "--site", site, "--json")
    assert code == 0 and json_result(out)["documents_signed"] == 0 and json_result(out)["documents"] == []
    code, out = run("status", "--site", site, "--json")
    due = _due(out)
    assert code == 1 and ("revocation", ds["serial"]) in due and ("no-key", "ds") in due
    assert 47 < float(due[("revocation", ds["serial"])]["days_left"]) * 24 <= 48  # type: ignore[arg-type]
    assert run("crl", "--out", str(tmp_path / "crl-2.der"), "--site", site)[0] == 0
    code, out = run("status", "--site", site, "--json")
    assert set(_due(out)) == {("no-key", "ds")}  # published; what is left says what to run

    # The revoked key is zeroised; its certificate stays (what it signed still verifies); logged.
    key_file = Path(site) / "pki" / ds["key"]["path"]
    assert key_file.exists()
    code, out = run("destroy-key", ds["serial"], "--site", site, "--json")
    assert code == 0 and json_result(out)["certificate"]["key"]["store"] == "destroyed", out
    assert not key_file.exists() and Path(ds["file"]).exists()
    log = [json.loads(line) for line in (Path(site) / "pki" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["op"] == "key-destroy" and log[-1]["serial"] == ds["serial"]
    code, out = run("destroy-key", ds["serial"], "--site", site, "--json")
    assert code == 1 and "no private key of it is held here" in envelope(out)["errors"][0]["message"]
    code, out = run("destroy-key", seal["serial"], "--site", site, "--json")
    assert code == 1 and "still in use" in envelope(out)["errors"][0]["message"]
    assert (Path(site) / "pki" / seal["key"]["path"]).exists()


def test_every_nothing_active_error_says_what_to_run(tmp_path: Path) -> None:
    site = _site(tmp_path)
    code, out = run("masterlist", "build", "--out", str(tmp_path / "ml.der"), "--site", site, "--json")
    assert code == 1 and "run `mrtd pki issue masterlist-signer`" in envelope(out)["errors"][0]["message"], out
    ds = next(c for c in json_result(run("list", "--site", site, "--json")[1])["certificates"] if c["role"] == "ds")
    assert run("revoke", ds["serial"], "--reason", "key compromise", "--site", site)[0] == 0
    with_clock = PkiSite(Path(site), clock=lambda: datetime.now(UTC))
    with pytest.raises(StateError, match=r"ds: no active certificate .*; run `mrtd pki issue ds`"):
        with_clock.signer_for("ds", ENV["MRTD_DS_PASSPHRASE"].encode())
    code, out = run("status", "--site", site, "--json")
    assert code == 1


def test_every_pki_command_and_option_has_help_text() -> None:
    import click

    missing = []

    def walk(command: click.Command, path: str) -> None:
        if not (command.help or "").strip():
            missing.append(path)
        missing.extend(f"{path} {p.opts[0]}" for p in command.params if isinstance(p, click.Option) and not p.help)
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None
                walk(sub, f"{path} {name}")

    walk(pki, "mrtd pki")
    assert missing == []
