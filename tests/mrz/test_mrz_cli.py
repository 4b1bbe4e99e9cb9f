"""`mrtd mrz build | check | parse`: output, --json, stdin, and exit codes (0 ok, 1 findings, 2 usage)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import require

from mrtd.cli.mrz import mrz

SPECIMEN = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
ERRATUM = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C<3UTO6908061F9406236<<<<<<<8"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "applications"


def test_check_ok_from_arguments() -> None:
    result = CliRunner().invoke(mrz, ["check", *SPECIMEN])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_check_findings_from_stdin_and_json() -> None:
    result = CliRunner().invoke(
        mrz, ["check", "--json", "--reference", "2000-01-01"], input="\n".join(ERRATUM) + "\n"
    )
    assert result.exit_code == 1
    payload = envelope(result.output)
    assert payload["ok"] is False and payload["command"] == "mrz check"
    assert [(f["field"], f["rule"]) for f in payload["errors"]] == [("line2[36]", "check-digit")]
    assert payload["result"]["findings"][0]["severity"] == "error"
    assert "computed 2" in payload["errors"][0]["message"]


def test_check_human_output_lists_every_finding() -> None:
    bad = [SPECIMEN[0], "L898902C35UTO7408122F1204158ZE184226B<<<<<10"]
    result = CliRunner().invoke(mrz, ["check", *bad])
    assert result.exit_code == 1
    assert "line2[10]" in result.output and "line2[28]" in result.output and "line2[44]" in result.output


def test_parse_prints_fields_and_json() -> None:
    result = CliRunner().invoke(mrz, ["parse", "--reference", "2000-01-01", *SPECIMEN])
    assert result.exit_code == 0, result.output
    assert "ERIKSSON" in result.output and "1974-08-12" in result.output
    result = CliRunner().invoke(mrz, ["parse", "--json", "--reference", "2000-01-01", *SPECIMEN])
    payload = json_result(result.output)
    assert payload["fields"]["document_number"] == "L898902C3"
    assert payload["fields"]["date_of_expiry"] == "2012-04-15"
    assert payload["check_digits"]["composite"] == "0"


def test_parse_of_bad_lines_exits_1_with_findings() -> None:
    result = CliRunner().invoke(mrz, ["parse", "--json", *ERRATUM])
    assert result.exit_code == 1
    payload = envelope(result.output)
    assert payload["ok"] is False and payload["result"] is None and payload["errors"][0]["field"] == "line2[36]"


def test_usage_errors_exit_2() -> None:
    assert CliRunner().invoke(mrz, ["check", "--reference", "not-a-date", *SPECIMEN]).exit_code == 2
    assert CliRunner().invoke(mrz, ["build"]).exit_code == 2
    assert CliRunner().invoke(mrz, ["nonsense"]).exit_code == 2


def test_build_from_the_specimen_application() -> None:
    app = EXAMPLES / "anna-eriksson-td3.json"
    require(app.exists(), str(app))
    result = CliRunner().invoke(mrz, ["build", str(app)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "PPUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    assert len(lines) == 2 and len(lines[1]) == 44
    check = CliRunner().invoke(mrz, ["check", *lines])
    assert check.exit_code == 0, check.output
    result = CliRunner().invoke(mrz, ["build", "--json", str(app)])
    payload = json_result(result.output)
    assert payload["lines"] == lines and payload["fields"]["primary_identifier"] == "ERIKSSON"


def test_build_with_name_options() -> None:
    app = EXAMPLES / "olena-shevchenko-cyrillic.json"
    require(app.exists(), str(app))
    result = CliRunner().invoke(mrz, ["build", "--cyrillic-language", "uk", str(app)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("PPUTOSHEVCHENKO<<OLENA<IVANIVNA<")
    bad = CliRunner().invoke(mrz, ["build", "--latin", "Ñ=NY", str(app)])
    assert bad.exit_code == 2


def test_build_refuses_a_bad_application(tmp_path: Path) -> None:
    app = EXAMPLES / "anna-eriksson-td3.json"
    require(app.exists(), str(app))
    data = json.loads(app.read_text(encoding="utf-8"))
    data["document"]["format"] = "TD1"
    data["portrait"] = str(app.parent / data["portrait"])
    data["signature"] = str(app.parent / data["signature"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(mrz, ["build", "--json", str(bad)])
    assert result.exit_code == 1
    assert envelope(result.output)["ok"] is False
