"""`mrtd application validate`: exit 0 all valid, 1 findings, 2 usage; --json output."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES

from mrtd.cli.application import application

TODAY = ["--today", "2026-11-23"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(application, ["validate", *args])
    return result.exit_code, result.output


def test_all_examples_valid() -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.json"))
    code, out = run(*TODAY, *files)
    assert code == 0, out
    assert out.strip().splitlines()[-1] == f"{len(files)} checked, {len(files)} valid, 0 with errors"


def test_folders_and_batches() -> None:
    code, out = run(*TODAY, str(EXAMPLES), str(EXAMPLES / "batches" / "consulate-day.csv"))
    assert code == 0, out
    assert f"{EXAMPLES / 'batches' / 'consulate-day.csv'}, line 2: ok" in out


def test_findings_exit_1_and_are_listed(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    data["holder"]["date_of_birth"] = "1974-13-01"
    data["holder"]["sex"] = "Q"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), "utf-8")
    (tmp_path / "portraits").symlink_to(EXAMPLES / "portraits")
    (tmp_path / "signatures").symlink_to(EXAMPLES / "signatures")
    code, out = run(*TODAY, str(EXAMPLES / "anna-eriksson-td1.json"), str(bad))
    assert code == 1
    assert f"{bad}: 2 errors" in out
    assert '  holder.date_of_birth: "1974-13-01" is not a date (not-a-date)' in out

    code, out = run(*TODAY, "--json", str(bad))
    assert code == 1
    payload = envelope(out)
    assert payload["ok"] is False and payload["errors"][0]["field"] == f"{bad}: holder.date_of_birth"
    (result,) = payload["result"]["results"]
    assert result["source"] == str(bad)
    assert [(f["field"], f["rule"]) for f in result["findings"]] == [
        ("holder.date_of_birth", "not-a-date"),
        ("holder.sex", "enum"),
    ]


def test_expiry_against_today() -> None:
    code, out = run("--today", "2036-06-01", "--json", str(EXAMPLES / "leyla-mirza-stateless.json"))
    assert code == 1
    assert json_result(out)["results"][0]["findings"][0]["rule"] == "expired"


def test_today_is_the_utc_date_as_the_office_judges_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --today, the date is the UTC date, as the service's intake and `chip build` take it, whatever
    the machine's time zone: a zone whose date differs from UTC's now (UTC+14 after 10:00 UTC, UTC-12
    before 12:00), and an application that expires on the day between the two."""
    now = dt.datetime.now(dt.UTC)
    ahead = now.hour >= 10
    zone = "<+14>-14" if ahead else "<-12>+12"  # POSIX TZ strings (west is positive): no tzdata needed
    expiry = now.date() + dt.timedelta(days=1 if ahead else 0)  # valid by UTC if ahead, else expired by UTC
    data = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    data["document"]["date_of_expiry"] = expiry.isoformat()
    for folder in ("portraits", "signatures"):
        (tmp_path / folder).symlink_to(EXAMPLES / folder)
    application_file = tmp_path / "edge.json"
    application_file.write_text(json.dumps(data), "utf-8")
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert dt.date.today() != now.date()  # the zone's date is not UTC's (unless midnight just passed)
        code, out = run("--json", str(application_file))
    finally:
        monkeypatch.undo()
        time.tzset()
    rules = [f["rule"] for f in json_result(out)["results"][0]["findings"]]
    assert (code, "expired" in rules) == ((0, False) if ahead else (1, True)), out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run()[0] == 2
    assert run(str(tmp_path / "missing.json"))[0] == 2
    assert run("--today", "yesterday", str(EXAMPLES / "anna-eriksson-td3.json"))[0] == 2


def test_unusable_sources_are_findings(tmp_path: Path) -> None:
    odd = tmp_path / "day.txt"
    odd.write_text("hello", "utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = run("--json", str(odd), str(empty))
    assert code == 1
    rules = [r["findings"][0]["rule"] for r in json_result(out)["results"]]
    assert rules == ["unknown-batch-format", "empty"]


def test_site_transliteration_choices(tmp_path: Path) -> None:
    from mrtd.issuance.site import write_config

    site = tmp_path / "site"
    site.mkdir()
    write_config(site, {"site": {"country": "UTO"}, "names": {"latin": {"Ñ": "NXX"}, "cyrillic_language": "uk"}})
    result = CliRunner().invoke(application, ["validate", *TODAY, "--site", str(site), str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    write_config(site, {"site": {"country": "UTO"}, "names": {"latin": {"Ñ": "NY"}}})  # not a Table A option
    result = CliRunner().invoke(application, ["validate", *TODAY, "--site", str(site), str(EXAMPLES)])
    assert result.exit_code == 2 and "mrtd.toml: names:" in result.output and "Table A" in result.output
