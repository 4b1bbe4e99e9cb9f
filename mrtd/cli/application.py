"""`mrtd application ...`: check applications before anything is issued from them."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from mrtd.cli._common import EXIT_FINDINGS, EXIT_OK, emit_json, guarded, json_option, utc_today
from mrtd.cli.lazy import LazyGroup
from mrtd.errors import Finding, MrtdError, ValidationError
from mrtd.issuance.batch import BatchItem, read_batch
from mrtd.issuance.site import load_site
from mrtd.mrz import NameOptions


@click.group(cls=LazyGroup, lazy={name: f"mrtd.cli.workflow:{attr}" for name, attr in (
    ("submit", "submit"), ("list", "list_"), ("show", "show"), ("approve", "approve"), ("reject", "reject"),
    ("issue", "issue_stored"))})
def application() -> None:
    """Applications: the JSON (or CSV / JSON Lines batch) that a document is issued from."""


@application.command("validate")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="FILE..."
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Refuse documents that expire on or before this date (YYYY-MM-DD; default: today's date in UTC).",
)
@click.option(
    "--site",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="MRTD_SITE",
    default=None,
    help="Check names with this site's transliteration choices (mrtd.toml [names]; default: $MRTD_SITE, else the "
         "current folder when it is a site, else Doc 9303's defaults).",
)
@json_option
@guarded
def validate(files: tuple[Path, ...], today: dt.datetime | None, site: Path | None, as_json: bool) -> None:
    """Check applications: JSON files, folders of them, CSV or JSON Lines batches.

    Every problem is listed with its field path and rule (and its row, in a batch).
    Exit status: 0 when every application is valid, 1 when any has findings.
    """
    reference = today.date() if today is not None else utc_today()
    site = site or (Path(".") if (Path(".") / "mrtd.toml").is_file() else None)
    names = _site_names(site) if site is not None else None
    results: list[dict[str, Any]] = []
    for source in files:
        results.extend(_validate_source(source, reference, names))
    ok = all(r["ok"] for r in results)
    if as_json:
        found = [{**f, "field": _where(r) + f["field"]} for r in results for f in r["findings"]]
        errors = [f for f in found if f["severity"] == "error"]
        emit_json({"results": results}, ok=ok, errors=errors, warnings=[f for f in found if f not in errors])
    else:
        for r in results:
            _print_result(r)
        valid = sum(1 for r in results if r["ok"])
        click.echo(f"{len(results)} checked, {valid} valid, {len(results) - valid} with errors")
    sys.exit(EXIT_OK if ok else EXIT_FINDINGS)


def _site_names(site: Path) -> NameOptions:
    try:
        return load_site(site).names
    except MrtdError as exc:
        raise click.BadParameter(str(exc), param_hint="--site") from None


def _where(r: dict[str, Any]) -> str:
    """Where a finding of a batch is: "FILE: " or "FILE, ROW: " before its field."""
    return str(r["source"]) + (f", {r['row']}" if r["row"] else "") + ": "


def _validate_source(source: Path, today: dt.date, names: NameOptions | None) -> list[dict[str, Any]]:
    try:
        items = list(read_batch(source, today=today, names=names))
    except ValidationError as exc:
        return [_result(str(source), None, False, exc.findings)]
    if not items:
        return [_result(str(source), None, False, [Finding("batch", "empty", "holds no applications")])]
    return [_from_item(source, item) for item in items]


def _from_item(source: Path, item: BatchItem) -> dict[str, Any]:
    findings = list(item.error.findings if item.error else ()) + list(item.warnings)
    path = source / item.row if source.is_dir() else source
    row = None if source.is_dir() or item.row == source.name else item.row
    return _result(str(path), row, item.ok, findings)


def _result(source: str, row: str | None, ok: bool, findings: Any) -> dict[str, Any]:
    return {"source": source, "row": row, "ok": ok, "findings": [f.as_dict() for f in findings]}


def _print_result(r: dict[str, Any]) -> None:
    where = _where(r)[:-2]
    errors = [f for f in r["findings"] if f["severity"] == "error"]
    status = "ok" if r["ok"] else f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    click.echo(f"{where}: {status}")
    for f in r["findings"]:
        tag = "" if f["severity"] == "error" else f"{f['severity']}: "
        clause = f" [{f['clause']}]" if f["clause"] else ""
        click.echo(f"  {tag}{f['field']}: {f['message']} ({f['rule']}){clause}")
