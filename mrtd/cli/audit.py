"""`mrtd audit verify|init-key|key|checkpoint|export`: the audit log, its signed checkpoints and the audit key.

The audit key's secret is its own: $MRTD_AUDIT_PASSPHRASE ($MRTD_AUDIT_PIN for a key in a token) or
`--secret-file audit=FILE`, never argv.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from mrtd.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    emit_json,
    guarded,
    json_option,
    role_secret,
    secret_file_option,
    site_option,
)
from mrtd.cli.records import records_url
from mrtd.issuance.auditcheck import check_log
from mrtd.issuance.checkpoints import (
    AuditKey,
    Exports,
    append_lines,
    export_lines,
    read_exports,
    send_syslog,
)
from mrtd.issuance.records import RecordStore
from mrtd.issuance.site import CONFIG_NAME, load_site
from mrtd.pki.site import PkiSite


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pki(site: Path) -> PkiSite:
    from mrtd.cli.site import actor_name

    return PkiSite(site, clock=_now, actor=actor_name())


def site_audit_keys(site: Path) -> dict[str, AuditKey]:
    """The site's audit keys by key id (none for a site without a PKI)."""
    pki = _pki(site)
    if not pki.exists():
        return {}
    return {k["key_id"]: AuditKey.from_record(k) for k in pki.audit_keys()}


def open_signing_store(site: Path, files: tuple[str, ...]) -> RecordStore:
    """The site's records, signing checkpoints with the audit key (its secret: env, file or a prompt)."""
    pki = _pki(site)
    secret = role_secret("audit", pki.key_in_token("audit"), files)
    if (site / CONFIG_NAME).is_file() and pki.exists():
        return load_site(site, {"records.url": records_url(site)}).open_records(clock=_now, audit_secret=secret)
    raise click.UsageError(f"{site}: not a site with a PKI (no audit key to sign with)")


@click.group()
def audit() -> None:
    """The audit log: every change to the records, each entry chained to the one before by its hash, its head
    signed with the site's audit key at checkpoints."""


@audit.command("verify")
@site_option
@click.option("--exports", "exports_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="An export of the checkpoints (`mrtd audit export`): trust only its audit keys and "
                                 "hold the database to every checkpoint and entry hash in it.")
@json_option
@guarded
def audit_verify(site: Path, exports_file: Path | None, as_json: bool) -> None:
    """Check the chain, every checkpoint's signature, that the log was not cut after a checkpoint, that it is
    not empty while records exist, and that every document's number, state and events are what the log
    replays to. Exit 0 when all hold; 1 naming the first bad entry (or document) and the rule."""
    exports = read_exports(exports_file) if exports_file is not None else None
    keys = site_audit_keys(site)
    with RecordStore.open(records_url(site)) as store:
        report = check_log(store, keys, exports)
    if as_json:
        emit_json(report.as_dict(), errors=[] if report.ok else [
            {"rule": report.rule, "field": f"document {report.document}" if report.document else
             f"entry {report.first_broken}", "message": report.message}])
    elif report.ok:
        click.echo(str(report))
        if not keys and exports is None:
            click.echo("warning: the site has no audit key, so no checkpoint is signed (`mrtd audit init-key`)",
                       err=True)
    else:
        click.echo(str(report), err=True)
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@audit.command("init-key")
@site_option
@click.option("--store", type=click.Choice(["file", "pkcs11"]), default=None,
              help="Where the key is made (default: the site's token if it has one, else an encrypted file).")
@click.option("--token", default=None, metavar="MODULE:LABEL", help="The PKCS#11 token (PIN from $MRTD_AUDIT_PIN).")
@click.option("--rotate", is_flag=True, help="Replace the site's audit key (the old one still verifies).")
@secret_file_option
@json_option
@guarded
def audit_init_key(site: Path, store: str | None, token: str | None, rotate: bool, secret_files: tuple[str, ...],
                   as_json: bool) -> None:
    """Make the site's audit key (sites made before it existed), or a new one with --rotate, and sign a
    checkpoint of the log as it stands."""
    from mrtd.cli.pki import _store

    pki = _pki(site)
    if pki.has_audit_key() and not rotate:
        raise click.UsageError("the site has an audit key already; --rotate replaces it")
    secret, p11 = _store(pki, store, token, "audit", secret_files)
    record = pki.new_audit_key(secret or b"", token=p11)
    key_secret = p11.pin if p11 is not None else secret
    assert key_secret is not None
    config = load_site(site, {"records.url": records_url(site)})
    with config.open_records(clock=_now, audit_secret=key_secret) as records:
        checkpoint = records.checkpoint()
    if as_json:
        emit_json({**record, "checkpoint": checkpoint.seq if checkpoint else None})
    else:
        click.echo(f"audit key {record['key_id']} ({record['algorithm']})"
                   + (f"; checkpoint signed at entry {checkpoint.seq}" if checkpoint else ""))


@audit.command("key")
@site_option
@click.option("--all", "every", is_flag=True, help="Every audit key the site had, not only the active one.")
@json_option
@guarded
def audit_key(site: Path, every: bool, as_json: bool) -> None:
    """The audit key's public key (PEM), for whoever checks the checkpoints outside the site."""
    records = [k for k in _pki(site).audit_keys() if every or k["status"] == "active"]
    if not records:
        raise click.UsageError("the site has no audit key (`mrtd audit init-key`)")
    if as_json:
        emit_json(records)
        return
    for record in records:
        click.echo(f"# {record['key_id']} {record['algorithm']} {record['status']} since {record['created']}")
        click.echo(AuditKey.from_record(record).pem(), nl=False)


@audit.command("checkpoint")
@site_option
@secret_file_option
@json_option
@guarded
def audit_checkpoint(site: Path, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Sign the log's head now (when entries were written without the audit key at hand)."""
    with open_signing_store(site, secret_files) as store:
        checkpoint = store.checkpoint()
    if as_json:
        emit_json({"ok": True, "checkpoint": checkpoint.as_line() if checkpoint else None})
    elif checkpoint is None:
        click.echo("the last checkpoint already covers the head")
    else:
        click.echo(f"checkpoint signed at entry {checkpoint.seq} ({checkpoint.hash[:16]}...)")


@audit.command("export")
@site_option
@click.option("--to", "to_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The append-only export file (JSON Lines); only what it does not hold yet is appended.")
@click.option("--entries", is_flag=True, help="Every entry's hash too, not only the checkpoints.")
@click.option("--syslog", default=None, metavar="ADDRESS",
              help="Also send the new lines to syslog: /dev/log or HOST:PORT (UDP).")
@json_option
@guarded
def audit_export(site: Path, to_file: Path | None, entries: bool, syslog: str | None, as_json: bool) -> None:
    """Copy the audit keys and the signed checkpoints (and with --entries every entry's hash) out of the
    database, so that `mrtd audit verify --exports FILE` can hold the database to them later."""
    if to_file is None and syslog is None:
        raise click.UsageError("give --to FILE, --syslog ADDRESS or both")
    already = read_exports(to_file) if to_file is not None and to_file.exists() else Exports()
    keys = site_audit_keys(site).values()
    with RecordStore.open(records_url(site)) as store, store.audit_snapshot() as snap:
        checkpoints = snap.checkpoints()
        hashes = ((e.seq, e.hash) for e in snap.entries() if e.seq > already.last_seq) if entries else ()
        lines = export_lines(keys, checkpoints, hashes, already)
    if to_file is not None and lines:
        append_lines(to_file, lines)
    if syslog is not None and lines:
        send_syslog(lines, syslog)
    if as_json:
        emit_json({"ok": True, "lines": len(lines), "to": str(to_file) if to_file else None, "syslog": syslog})
    else:
        click.echo(f"{len(lines)} lines exported" + (f" to {to_file}" if to_file else "")
                   + (f" and to syslog {syslog}" if syslog else ""))
