"""`mrtd seal ...`: make a visible digital seal image for an application (`seal_make`), and verify seals.

`verify` exits 0 only for a valid seal whose signer chains to a trusted CSCA or is itself in the trust
path. The seal codecs load when a command runs, not for `--help`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mrtd.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    at_option,
    emit_json,
    guarded,
    json_option,
    parse_at,
    require_crl_option,
)
from mrtd.cli.lazy import LazyGroup
from mrtd.cli.output import verdict

if TYPE_CHECKING:
    from mrtd.seals.verify import SealReport


@click.group(cls=LazyGroup, lazy={"make": "mrtd.cli.seal_make:make"})
def seal() -> None:
    """Visible digital seals: ICAO VDS (Doc 9303-13), IDB and VDS-NC as QR or DataMatrix."""


@seal.command("verify")
@click.argument("input_file", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="CSCA certificate, master list, folder of them, or the signer certificate(s) themselves.")
@click.option("--certs", "lookup_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Signer certificates to look a VDS/IDB signer up in (trusted only through a CSCA).")
@click.option("--strict", is_flag=True, help="Refuse the known field quirks instead of accepting and reporting them.")
@at_option
@require_crl_option
@json_option
@guarded
def verify(input_file: Path, trust_path: Path, lookup_path: Path | None, strict: bool, at: str | None,
           require_crl: bool, as_json: bool) -> None:
    """Verify the seal in INPUT: an image (PNG/JPEG), a PDF, a .bin or .hex file, an IDB string or VDS-NC JSON.

    VDS and IDB seals are checked on the day they say they were signed; `--at` sets the verifier's clock
    (VDS-NC seals carry no signature date). Exit status: 0 for a valid seal whose signer chains to a trusted
    CSCA or is itself trusted; 1 otherwise.
    """
    from mrtd.limits import read_file
    from mrtd.seals.verify import Trust, check_seal

    data = read_file(input_file, "INPUT")
    trust = Trust.load(trust_path, lookup_path)
    trust.store.require_crl = require_crl
    report = check_seal(data, trust, parse_at(at), strict)
    if as_json:
        failed = [{"rule": c.name, "message": c.reason} for c in report.checks if c.required and not c.passed]
        emit_json(report.as_dict(), **verdict(report.ok, report.findings, failed))
    else:
        _print_report(report)
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


def _print_report(report: SealReport) -> None:
    data = report.as_dict()
    warned = [f for f in report.findings if f.severity.value == "warning"]
    tail = f", {len(warned)} warning(s) below" if warned else ""
    click.echo(f"verdict: {report.verdict.value}  ({report.format}, {report.document_type}{tail})")
    for key, value in report.summary.items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")
    for key, value in data["header"].items():
        click.echo(f"  header.{key}: {value}")
    for key, value in data["content"].items():
        text = str(value).replace("\n", " / ")
        click.echo(f"  {key}: {text if len(text) <= 100 else text[:97] + '...'}")
    for check in report.checks:
        mark = "pass" if check.passed else "FAIL" if check.required else "info"
        click.echo(f"  [{mark}] {check.name}: {check.reason}")
    for finding in report.findings:
        click.echo(f"  [{finding.severity.value}] {finding}")
