"""`mrtd mrz ...`: build the MRZ of an application, check and parse MRZ lines (Doc 9303 Parts 3-7)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from mrtd.cli._common import EXIT_FINDINGS, EXIT_OK, emit_json, guarded, json_option, utc_today
from mrtd.cli.output import split_findings
from mrtd.errors import ConfigurationError, Finding, Severity
from mrtd.mrz import NameOptions, build, check, parse, record_from_document

_reference_option = click.option(
    "--reference",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date that two-digit years are resolved against (YYYY-MM-DD; default: today's date in UTC).",
)


def _reference(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else utc_today()


def _lines(args: tuple[str, ...]) -> list[str]:
    """MRZ lines from the arguments, or from stdin when there are none (blank lines ignored)."""
    raw = list(args) if args else sys.stdin.read().splitlines()
    return [line.strip() for line in raw if line.strip()]


def _name_options(latin: tuple[str, ...], cyrillic: str | None) -> NameOptions:
    choices: dict[str, str] = {}
    for item in latin:
        char, eq, value = item.partition("=")
        if not eq or not char or not value:
            raise click.BadParameter(f"{item!r} is not CHAR=VALUE (e.g. Ñ=NXX)", param_hint="--latin")
        choices[char] = value
    try:
        return NameOptions(latin=choices, cyrillic_language=cyrillic)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
def mrz() -> None:
    """Machine readable zones: build from an application, check and parse lines."""


@mrz.command("build")
@click.argument("application", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--latin", multiple=True, metavar="CHAR=VALUE", help="Table A option, e.g. Ñ=NXX (repeatable).")
@click.option(
    "--cyrillic-language",
    type=click.Choice(["be", "bg", "mk", "ru", "sr", "uk"]),
    default=None,
    help="Table B language column.",
)
@json_option
@guarded
def build_command(
    application: Path, latin: tuple[str, ...], cyrillic_language: str | None, as_json: bool
) -> None:
    """Print the MRZ lines of the application in APPLICATION (with --json: the fields and the lines)."""
    from mrtd.issuance.application import read_application  # the issuing floor only for `build`

    options = _name_options(latin, cyrillic_language)
    app = read_application(application, names=options)
    record = record_from_document(app.document, options)
    lines = build(record)
    if as_json:
        emit_json(
            {
                "source": str(application),
                "fields": record.as_dict(),
                "check_digits": record.check_digits,
                "lines": list(lines),
            }
        )
    else:
        for line in lines:
            click.echo(line)


def _render_findings(findings: list[Finding]) -> None:
    for f in findings:
        mark = "" if f.severity is Severity.ERROR else f"{f.severity.value}: "
        click.echo(f"  {mark}{f}")


@mrz.command("check")
@click.argument("lines", nargs=-1, metavar="[LINE...]")
@_reference_option
@json_option
@guarded
def check_command(lines: tuple[str, ...], reference: dt.datetime | None, as_json: bool) -> None:
    """Check MRZ lines (arguments, or stdin) and list every finding.

    Exit status: 0 when there is no error (warnings are listed), 1 otherwise.
    """
    mrz_lines = _lines(lines)
    findings = check(mrz_lines, _reference(reference))
    ok = not any(f.severity is Severity.ERROR for f in findings)
    if as_json:
        errors, warnings = split_findings(findings)
        emit_json({"lines": mrz_lines, "findings": [f.as_dict() for f in findings]}, ok=ok, errors=errors,
                  warnings=warnings)
    else:
        click.echo("OK" if ok else f"{sum(f.severity is Severity.ERROR for f in findings)} error(s)")
        _render_findings(findings)
    sys.exit(EXIT_OK if ok else EXIT_FINDINGS)


@mrz.command("parse")
@click.argument("lines", nargs=-1, metavar="[LINE...]")
@_reference_option
@json_option
@guarded
def parse_command(lines: tuple[str, ...], reference: dt.datetime | None, as_json: bool) -> None:
    """Print the fields of MRZ lines (arguments, or stdin)."""
    mrz_lines = _lines(lines)
    ref = _reference(reference)
    record = parse(mrz_lines, ref)
    warnings = check(mrz_lines, ref)
    if as_json:
        payload: dict[str, Any] = {
            "fields": record.as_dict(),
            "check_digits": record.check_digits,
            "lines": mrz_lines,
            "findings": [f.as_dict() for f in warnings],
        }
        emit_json(payload, warnings=warnings)
        return
    width = max(len(k) for k in record.as_dict())
    for key, value in record.as_dict().items():
        click.echo(f"{key.ljust(width)}  {value}")
    _render_findings(warnings)
