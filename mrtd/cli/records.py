"""`mrtd records list`, `mrtd document show|void|report-lost|reprint`: the site's records.

Each command takes `--site DIR` (default: $MRTD_SITE, else the current folder). The database URL comes
from $MRTD_RECORDS_URL, else the site's `mrtd.toml` (`[records] url = ...`), else the SQLite file
`records.sqlite3` in the site folder. A relative SQLite path in `mrtd.toml` is relative to the site.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click

from mrtd.cli._common import emit_json, guarded, json_option, site_option
from mrtd.cli.output import table
from mrtd.cli.people import user_option
from mrtd.errors import ConfigurationError
from mrtd.issuance.mark import guard_store
from mrtd.issuance.records import RecordStore, default_url
from mrtd.issuance.site import CONFIG_NAME, read_config, resolve_records_url
from mrtd.issuance.states import DocumentState
from mrtd.private import private_dir, write_private


def records_url(site: Path) -> str:
    """The records database URL of a site (environment > mrtd.toml > the default SQLite file)."""
    from_env = os.environ.get("MRTD_RECORDS_URL")
    if from_env:
        return from_env
    url = read_config(site).get("records", {}).get("url")
    if url is None:
        return default_url(site)
    if not url:
        raise ConfigurationError(f"{site / CONFIG_NAME}: records.url must be a non-empty string")
    return resolve_records_url(site.resolve(), url)


def open_site_store(site: Path) -> RecordStore:
    """The site's records, checked against its numbering mark (never made anew: `mrtd site init` does
    that); signing checkpoints when the site has an audit key and its secret is in the environment
    ($MRTD_AUDIT_PASSPHRASE or $MRTD_AUDIT_PIN), the key opened only if the command writes."""
    store = RecordStore.open(records_url(site), create=False)
    try:
        guard_store(site, store)
        sign_checkpoints(store, site)
    except BaseException:
        store.close()
        raise
    return store


def sign_checkpoints(store: RecordStore, site: Path) -> None:
    from mrtd.issuance.checkpoints import DEFAULT_EVERY, Checkpointer
    from mrtd.pki.site import PkiSite

    pki = PkiSite(site, clock=lambda: dt.datetime.now(dt.UTC))
    if not pki.exists() or not pki.has_audit_key():
        return
    secret = pki.secret_in_environment("audit")
    if secret:
        every = read_config(site).get("audit", {}).get("checkpoint_every", DEFAULT_EVERY)
        store.use_checkpoints(Checkpointer(lambda: pki.audit_signer(secret), every))


def _parse_when(value: str | None, name: str, *, end_of_day: bool) -> dt.datetime | None:
    """YYYY-MM-DD or an ISO 8601 date-time; without a zone it is UTC. A bare date as an upper bound
    means the end of that day."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if end_of_day else start
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not YYYY-MM-DD or an ISO 8601 date-time", param_hint=name
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


# --- records ------------------------------------------------------------------------------------------


@click.group()
def records() -> None:
    """The records of issued and in-progress documents."""


@records.command("list")
@site_option
@click.option(
    "--state",
    type=click.Choice([s.value for s in DocumentState]),
    default=None,
    help="Only documents now in this state.",
)
@click.option(
    "--since",
    default=None,
    help="Only documents that entered their state at or after this (YYYY-MM-DD or ISO).",
)
@click.option(
    "--until",
    default=None,
    help="Only documents that entered their state before the end of this day or time.",
)
@json_option
@guarded
def records_list(site: Path, state: str | None, since: str | None, until: str | None, as_json: bool) -> None:
    """List documents, oldest first."""
    lower = _parse_when(since, "--since", end_of_day=False)
    upper = _parse_when(until, "--until", end_of_day=True)
    with open_site_store(site) as store:
        docs = store.documents(state=state, since=lower, until=upper)
    if as_json:
        emit_json([d.as_dict() for d in docs])
        return
    table(("number", "state", "since", "application"),
          [(d.number, d.state.value, d.state_changed_at.isoformat(timespec="seconds"), d.application_key)
           for d in docs], f"{len(docs)} document{'s' if len(docs) != 1 else ''}")


# --- document -----------------------------------------------------------------------------------------


@click.group()
def document() -> None:
    """One document: show it, void it, report it lost or stolen, reprint its page."""


@document.command("show")
@click.argument("number")
@site_option
@json_option
@guarded
def document_show(number: str, site: Path, as_json: bool) -> None:
    """A document's record and every event in its life."""
    with open_site_store(site) as store:
        doc = store.document(number)
        events = store.events(number)
    if as_json:
        emit_json({**doc.as_dict(), "events": [e.as_dict() for e in events]})
        return
    click.echo(f"{doc.number}  {doc.state.value}")
    click.echo(f"  application   {doc.application_key}")
    click.echo(f"  numbered      {doc.created_at.isoformat(timespec='seconds')} ({doc.sequence_key})")
    click.echo(f"  state since   {doc.state_changed_at.isoformat(timespec='seconds')}")
    if doc.chip is not None:
        groups = ",".join(str(g) for g in doc.chip.data_groups)
        click.echo(
            f"  chip          EF.SOD sha256 {doc.chip.sod_sha256}, signer {doc.chip.signer_key_id}, DG {groups}"
        )
    for seal in doc.seals:
        click.echo(f"  seal {seal.kind:<8} sha256 {seal.payload_sha256}, signer {seal.signer_key_id}")
    click.echo("  events")
    for e in events:
        origin = e.from_state.value if e.from_state else "-"
        detail = "" if e.detail in ("", None, {}) else "  " + json.dumps(e.detail, ensure_ascii=False)
        click.echo(
            f"    {e.at.isoformat(timespec='seconds')}  {origin} -> {e.to_state.value}  by {e.actor}{detail}"
        )


def _change(site: Path, number: str, to: DocumentState, user: str | None, reason: str, as_json: bool) -> None:
    from mrtd.cli.people import principal
    from mrtd.issuance.office import change_document

    with open_site_store(site) as store:
        before = store.document(number).state
        after = change_document(store, principal(store, user), number, to, reason)
    if as_json:
        emit_json({"number": number, "from": before.value, "to": after.state.value})
    else:
        click.echo(f"{number}: {before.value} -> {after.state.value}")


@document.command("void")
@click.argument("number")
@click.option("--reason", required=True, help="Why the document is voided (kept in the records).")
@site_option
@user_option
@json_option
@guarded
def document_void(number: str, reason: str, site: Path, user: str | None, as_json: bool) -> None:
    """Void an issued document."""
    _change(site, number, DocumentState.VOIDED, user, reason, as_json)


@document.command("report-lost")
@click.argument("number")
@click.option("--stolen", is_flag=True, help="The document was stolen, not lost.")
@click.option("--reason", default="", help="A note for the records (police report number, ...).")
@site_option
@user_option
@json_option
@guarded
def document_report_lost(number: str, stolen: bool, reason: str, site: Path, user: str | None,
                         as_json: bool) -> None:
    """Record that an issued document was reported lost (or stolen)."""
    to = DocumentState.REPORTED_STOLEN if stolen else DocumentState.REPORTED_LOST
    _change(site, number, to, user, reason, as_json)


@document.command("replace")
@click.argument("number")
@click.option("--changes", "changes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="JSON laid over the stored application (e.g. a new address or expiry).")
@site_option
@user_option
@json_option
@guarded
def document_replace(number: str, changes_file: Path | None, site: Path, user: str | None, as_json: bool) -> None:
    """A new application for a lost, stolen or voided document, from the stored one (approve it next)."""
    from mrtd.cli.people import principal
    from mrtd.cli.workflow import open_office
    from mrtd.issuance.application import parse_json

    changes = parse_json(changes_file.read_bytes()) if changes_file else {}
    if not isinstance(changes, dict):
        raise click.BadParameter("not a JSON object", param_hint="--changes")
    with open_office(site) as office:
        done = office.replace(principal(office.store, user), number, changes)
    if as_json:
        emit_json({"created": done.created, **done.case.summary()})
    else:
        click.echo(f"application {done.case.id} replaces {number}: {done.case.state.value}; approve it with "
                   f"`mrtd application approve {done.case.id}`")


@document.command("reprint")
@click.argument("number")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new (or empty) folder for the reprinted page (page.png, page.pdf).")
@site_option
@user_option
@json_option
@guarded
def document_reprint(number: str, out_dir: Path, site: Path, user: str | None, as_json: bool) -> None:
    """Print an issued document's data page again from the records, exactly as issued (the MRZ is read
    back by OCR)."""
    from mrtd.cli.people import principal
    from mrtd.cli.workflow import open_office

    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise click.BadParameter(f"{out_dir} exists and is not empty", param_hint="--out")
    with open_office(site) as office:
        result = office.reprint(principal(office.store, user), number)
    write_files(out_dir, result.files)
    if as_json:
        emit_json({"number": number, "out": str(out_dir), "files": result.digests,
                   "audit_seq": result.audit_seq})
    else:
        click.echo(f"{number}: page reprinted into {out_dir} ({', '.join(result.files)}); "
                   f"recorded as audit entry {result.audit_seq}")


def write_files(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write files into a new folder, all or nothing (a temporary sibling renamed into place)."""
    import shutil
    import tempfile

    private_dir(out_dir.parent)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, data in files.items():
            write_private(work / name, data)
        if out_dir.exists():
            out_dir.rmdir()
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
