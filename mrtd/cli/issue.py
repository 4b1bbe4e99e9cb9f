"""`mrtd issue APPLICATION --site DIR --out DIR [--reader NAME]` and
`mrtd batch issue SOURCE --site DIR --out DIR --workers N`.

Settings: flags > environment (`MRTD_SITE`, `MRTD_RECORDS_URL`, `MRTD_READER`, `MRTD_WORKERS`) >
the site's `mrtd.toml` > defaults; the merged values go to the library as plain values. Each signing key
has its own secret: the Document Signer's from $MRTD_DS_PASSPHRASE, the seal signer's from
$MRTD_SEAL_PASSPHRASE (…_PIN for keys in a token), `--secret-file ROLE=FILE` or a prompt, never argv.
Without a reader the chip is the
in-process simulator.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click

from mrtd.chip.transport import Transport
from mrtd.cli._common import (
    EXIT_FINDINGS,
    emit_json,
    guarded,
    json_option,
    secret_file_option,
    site_option,
    site_secrets,
)
from mrtd.cli.output import progress
from mrtd.cli.people import principal, user_option
from mrtd.issuance.application import read_application
from mrtd.issuance.batchrun import FAILED, INVALID, MANIFEST, ItemOutcome, run_batch
from mrtd.issuance.pipeline import IssueOptions, Issuer, TransportFactory
from mrtd.issuance.site import SiteConfig, load_site

out_option = click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
                          help="Output folder.")
reader_option = click.option("--reader", envvar="MRTD_READER", default=None,
                             help="PC/SC reader to personalise the chip in (default: the site's, else the "
                                  "in-process simulator).")
check_option = click.option("--print-check/--no-print-check", "print_check", default=None,
                            help="OCR the printed MRZ back (default: the site's setting).")


def load_site_config(site: Path, reader: str | None = None, print_check: bool | None = None) -> SiteConfig:
    """The site's settings with the flags and environment merged over `mrtd.toml`."""
    overrides: dict[str, object] = {"records.url": os.environ.get("MRTD_RECORDS_URL") or None,
                                    "chip.reader": reader, "page.print_check": print_check}
    return load_site(site, overrides)


def _transport(config: SiteConfig) -> TransportFactory | None:
    if not config.reader:
        return None
    reader = config.reader

    def factory() -> Transport:
        from mrtd.chip.pcsc import PcscTransport  # pyscard only when a reader is named

        return PcscTransport(reader, wait=10.0)

    return factory


def _actor(config: SiteConfig, user: str | None) -> str:
    """The local OS user, or the named user (who must exist); issuing needs no particular role locally."""
    with config.open_records() as store:
        return principal(store, user).name


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@click.command("issue")
@click.argument("application", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_option
@out_option
@reader_option
@check_option
@secret_file_option
@user_option
@click.option("--blank", default=None, help="The number printed on the blank being personalised (a site with "
              "[numbering] source = \"inventory\" needs it, unless the application names it).")
@json_option
@guarded
def issue(application: Path, site: Path, out: Path, reader: str | None, print_check: bool | None,
          secret_files: tuple[str, ...], user: str | None, blank: str | None, as_json: bool) -> None:
    """Issue APPLICATION end to end: number, MRZ, chip, seal, page, checks, records. One operator
    submits and approves it (recorded as such); for four eyes, use `mrtd application submit|approve`."""
    config = load_site_config(site, reader, print_check)
    app = read_application(application, names=config.names)
    options = IssueOptions(actor=_actor(config, user))
    with Issuer(config, clock=_now, secrets=_signing_secrets(config, secret_files), options=options,
                transport_factory=_transport(config)) as issuer:
        receipt = issuer.issue(app, out, blank=blank)
    if as_json:
        emit_json({"out": str(receipt.out_dir), **receipt.as_dict()})
        return
    click.echo(f"issued {receipt.number} -> {receipt.out_dir}")
    for c in receipt.data["checks"]:
        click.echo(f"  {c['name']:<12} {c['status']:<15} {c['detail']}")
    total = receipt.data.get("total_seconds", 0.0)
    click.echo(f"  {total:.2f} s: " + ", ".join(f"{k} {v:.2f}" for k, v in receipt.steps.items() if v >= 0.005))


@click.group("batch")
def batch() -> None:
    """Batches of applications."""


@batch.command("issue")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@site_option
@out_option
@click.option("--workers", type=click.IntRange(1, 64), envvar="MRTD_WORKERS", default=1, show_default=True,
              help="Worker processes.")
@reader_option
@check_option
@secret_file_option
@user_option
@json_option
@guarded
def batch_issue(source: Path, site: Path, out: Path, workers: int, reader: str | None, print_check: bool | None,
                secret_files: tuple[str, ...], user: str | None, as_json: bool) -> None:
    """Issue every application in SOURCE (a folder of .json, a .csv or a .jsonl) into OUT/<number>/.

    Each item is reported as it is done (a bar on a terminal, else `[3/12] U10000003 issued` lines on
    stderr); OUT/manifest.csv lists the whole batch (row, application, number, holder, outcome). Run it
    again after a crash: what was issued is skipped, nothing is issued twice."""
    config = load_site_config(site, reader, print_check)
    secret = _signing_secrets(config, secret_files)
    options = IssueOptions(actor=_actor(config, user))
    factory = _transport(config)
    if as_json:
        summary = run_batch(source, config, out, secrets=secret, clock=_now, workers=workers, options=options,
                            transport_factory=factory)
    else:
        from mrtd.issuance.batch import read_batch

        total = sum(1 for _ in read_batch(source, names=config.names))
        with progress(total, "issuing") as done:

            def step(o: ItemOutcome) -> None:
                done(f"{o.number or o.row} {o.status}")

            summary = run_batch(source, config, out, secrets=secret, clock=_now, workers=workers,
                                options=options, progress=step, transport_factory=factory)
    if as_json:
        emit_json({**summary.as_dict(), "manifest": str(out / MANIFEST)}, errors=[
            {"rule": o.status, "field": o.row, "message": o.message or o.status} for o in summary.outcomes
            if o.status in (FAILED, INVALID)])
    else:
        _print_summary(summary.as_dict())
        click.echo(f"manifest: {out / MANIFEST}")
    if not summary.ok:
        raise SystemExit(EXIT_FINDINGS)


def _print_summary(s: dict[str, Any]) -> None:
    counts = s["counts"]
    click.echo(f"{s['source']}: {counts['issued']} issued, {counts['already-issued']} already issued, "
               f"{counts['duplicate']} duplicate, {counts['invalid']} invalid, {counts['failed']} failed "
               f"in {s['seconds']:.1f} s with {s['workers']} worker(s) ({s['documents_per_minute']:.0f}/min)")
    for r in s["recovered"].get("finished", []):
        click.echo(f"  repaired output folder of {r} (issued before the crash)")
    for item in s["items"]:
        if item["status"] in (FAILED, INVALID):
            click.echo(f"  {item['row']}: {item['status']}: {item['message']}")


SIGNING_ROLES = ("ds", "seal-signer")


def _signing_secrets(config: SiteConfig, files: tuple[str, ...]) -> dict[str, bytes]:
    """The Document Signer's and the seal signer's own secrets."""
    from mrtd.pki.site import PkiSite

    pki = PkiSite(config.root)
    # With an audit key, issuing signs checkpoints of the audit log: its secret is needed too.
    return site_secrets(pki, (*SIGNING_ROLES, "audit") if pki.has_audit_key() else SIGNING_ROLES, files)
