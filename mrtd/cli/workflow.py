"""`mrtd application submit|list|show|approve|reject|issue` and `mrtd search`: the office's casework on a
local site, through the same use cases as the service (`mrtd.issuance.office`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from mrtd.cli._common import (
    emit_json,
    guarded,
    json_option,
    secret_file_option,
    site_option,
)
from mrtd.cli.output import table
from mrtd.cli.people import principal, user_option
from mrtd.issuance.casework import Case, CaseState
from mrtd.issuance.office import Office


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_office(site: Path, print_check: bool | None = None) -> Office:
    from mrtd.cli.issue import load_site_config
    from mrtd.cli.records import sign_checkpoints

    office = Office(load_site_config(site, None, print_check), clock=_now)
    sign_checkpoints(office.store, site)
    return office


def _show_case(case: Case, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        emit_json({**case.summary(), **(extra or {})})
        return
    docs = ", ".join(f"{n} ({s})" for n, s in case.documents) or "no document"
    click.echo(f"application {case.id}: {case.state.value} ({case.format}), submitted by {case.submitted_by}"
               + (f", decided by {case.decided_by}" if case.decided_by else "") + f"; {docs}")
    for f in case.findings:
        click.echo(f"  {f['severity']}: {f['field']}: {f['message']}")


@click.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_option
@user_option
@json_option
@guarded
def submit(file: Path, site: Path, user: str | None, as_json: bool) -> None:
    """Submit the application in FILE (images beside it); it waits for an approver."""
    from mrtd.issuance.application import parse_json

    data = parse_json(file.read_bytes())
    if not isinstance(data, dict):
        raise click.BadParameter("not a JSON object", param_hint="FILE")
    with open_office(site) as office:
        done = office.submit(principal(office.store, user), data, base_dir=file.parent, source=str(file))
    _show_case(done.case, as_json, {"created": done.created})


@click.command("list")
@click.option("--state", type=click.Choice([s.value for s in CaseState]), default=None)
@click.option("--after", type=int, default=0, help="Only applications with a higher id (paging).")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@site_option
@user_option
@json_option
@guarded
def list_(state: str | None, after: int, limit: int, site: Path, user: str | None, as_json: bool) -> None:
    """Applications, oldest first, without personal data."""
    with open_office(site) as office:
        cases = office.applications(principal(office.store, user), state=CaseState(state) if state else None,
                                    after=after, limit=limit)
    if as_json:
        emit_json([c.summary() for c in cases])
        return
    table(("id", "state", "format", "submitted by", "submitted at", "key"),
          [(c.id, c.state.value, c.format, c.submitted_by, c.submitted_at.isoformat(timespec="seconds"), c.key[:16])
           for c in cases], f"{len(cases)} application{'s' if len(cases) != 1 else ''}")


@click.command("show")
@click.argument("application_id", type=int)
@site_option
@user_option
@json_option
@guarded
def show(application_id: int, site: Path, user: str | None, as_json: bool) -> None:
    """One application with its personal data (the read is audited)."""
    with open_office(site) as office:
        case = office.application(principal(office.store, user), application_id)
    if as_json:
        emit_json({**case.summary(), "application": dict(case.payload)})
        return
    _show_case(case, False)
    click.echo(json.dumps(case.payload, ensure_ascii=False, indent=1))


def _decide(approve: bool) -> Any:
    @click.argument("application_id", type=int)
    @click.option("--reason", default=None if approve else "", required=not approve,
                  help="Why (kept in the records)." + ("" if approve else " Required."))
    @site_option
    @user_option
    @json_option
    @guarded
    def decide(application_id: int, reason: str | None, site: Path, user: str | None, as_json: bool) -> None:
        with open_office(site) as office:
            who = principal(office.store, user)
            case = (office.approve(who, application_id, reason) if approve
                    else office.reject(who, application_id, reason or ""))
        _show_case(case, as_json)

    decide.__doc__ = ("Approve APPLICATION_ID and queue it for production (never your own: four eyes)."
                      if approve else "Reject APPLICATION_ID with a reason (never your own).")
    return decide


approve = click.command("approve")(_decide(True))
reject = click.command("reject")(_decide(False))


@click.command("issue")
@click.argument("application_id", type=int)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (absent or empty).")
@click.option("--print-check/--no-print-check", "print_check", default=None)
@site_option
@user_option
@secret_file_option
@json_option
@guarded
def issue_stored(application_id: int, out: Path, print_check: bool | None, site: Path, user: str | None,
                 secret_files: tuple[str, ...], as_json: bool) -> None:
    """Issue a stored application here, without stations (approved; or by the local operator)."""
    from mrtd.cli.issue import _signing_secrets, load_site_config

    config = load_site_config(site, None, print_check)
    with Office(config, clock=_now, secrets=_signing_secrets(config, secret_files), print_check=print_check) as office:
        receipt = office.issue_stored(principal(office.store, user), application_id, out)
    if as_json:
        emit_json({"out": str(receipt.out_dir), **receipt.as_dict()})
    else:
        click.echo(f"issued {receipt.number} -> {receipt.out_dir}")


@click.command("search")
@click.option("--reason", required=True, help="Why you search (recorded with your name).")
@click.option("--name", default=None, help="A name in any script, or its transliteration; words match from their start.")
@click.option("--birth-date", default=None, help="YYYY-MM-DD")
@click.option("--number", default=None, help="A document number.")
@click.option("--nationality", default=None, help="A three-letter code.")
@site_option
@user_option
@json_option
@guarded
def search(reason: str, name: str | None, birth_date: str | None, number: str | None, nationality: str | None,
           site: Path, user: str | None, as_json: bool) -> None:
    """Find people in the records (audited with who searched and why)."""
    with open_office(site) as office:
        found = office.search(principal(office.store, user), reason=reason, name=name, birth_date=birth_date,
                              number=number, nationality=nationality)
    if as_json:
        emit_json([{**c.summary(), "holder": c.payload.get("holder", {})} for c in found])
        return
    rows = []
    for c in found:
        h = c.payload.get("holder", {})
        names = " ".join(x for x in (h.get("primary_identifier"), h.get("secondary_identifier")) if x)
        national = f" ({h['name_in_national_characters']})" if h.get("name_in_national_characters") else ""
        rows.append((c.id, names + national, h.get("date_of_birth"), h.get("nationality"),
                     ", ".join(f"{n} {s}" for n, s in c.documents)))
    table(("application", "holder", "born", "nationality", "documents"), rows,
          f"{len(found)} match{'es' if len(found) != 1 else ''}")

