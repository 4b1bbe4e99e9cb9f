"""The `mrtd` command line: each command parses its input, calls one use case and renders the result.

Exit codes: 0 success, 1 a domain failure, 2 a usage error (`EPILOG` below). Each command's
module is imported only when the command runs (`mrtd.cli.lazy`): `mrtd --help` imports click and this
file, nothing of the issuing stack. Conventions every command follows: `mrtd.cli._common`.
"""

from __future__ import annotations

import atexit
import gc
from typing import Any

import click

from mrtd import __version__
from mrtd.cli.lazy import LazyEntry, LazyGroup

# Each command: where it lives and its one-line help (the command's own first line; a test keeps them equal).
COMMANDS: dict[str, LazyEntry] = {
    "site": ("mrtd.cli.site:site", "Issuing sites: a folder with mrtd.toml, the PKI and the records."),
    "issue": ("mrtd.cli.issue:issue",
              "Issue APPLICATION end to end: number, MRZ, chip, seal, page, checks, records."),
    "batch": ("mrtd.cli.issue:batch", "Batches of applications."),
    "records": ("mrtd.cli.records:records", "The records of issued and in-progress documents."),
    "document": ("mrtd.cli.records:document",
                 "One document: show it, void it, report it lost or stolen, reprint its page."),
    "audit": ("mrtd.cli.audit:audit",
              "The audit log: every change to the records, each entry chained to the one before by its hash, its "
              "head signed with the site's audit key at checkpoints."),
    "application": ("mrtd.cli.application:application",
                    "Applications: the JSON (or CSV / JSON Lines batch) that a document is issued from."),
    "search": ("mrtd.cli.workflow:search", "Find people in the records (audited with who searched and why)."),
    "users": ("mrtd.cli.people:users_group", "People who use the service, their roles and their tokens."),
    "serve": ("mrtd.cli.serve:serve",
              "Serve the site's HTTP API (OpenAPI at /openapi.json, docs at /docs, /healthz, /metrics), the "
              "office's web pages (/sign-in) and the public seal verifier (/verify/)."),
    "station": ("mrtd.cli.serve:station",
                "Personalisation stations: claim jobs from the service, write the chip, print the page, report."),
    "photo": ("mrtd.cli.photo:photo", "Portrait photos: the ICAO / ISO/IEC 19794-5 checks and the token crop."),
    "inventory": ("mrtd.cli.inventory:inventory",
                  "Pre-numbered blanks: receive a delivery, list the stock, record a spoiled blank."),
    "mrz": ("mrtd.cli.mrz:mrz", "Machine readable zones: build from an application, check and parse lines."),
    "render": ("mrtd.cli.render:render", "Render the data page of APPLICATION (several, n-up, with --sheet)."),
    "layout": ("mrtd.cli.render:layout", "Printed page layouts and their print quality check."),
    "chip": ("mrtd.cli.chip:chip",
             "The chip's data: LDS files, EF.SOD, passive authentication (Doc 9303 Parts 10-11)."),
    "seal": ("mrtd.cli.seal:seal",
             "Visible digital seals: ICAO VDS (Doc 9303-13), IDB and VDS-NC as QR or DataMatrix."),
    "pki": ("mrtd.cli.pki:pki", "Country PKI: CSCA, Document Signers, seal signers, requests, CRLs, master and "
                                "deviation lists, PKD."),
}

EPILOG = """\b
Exit status: 0 success; 1 a domain failure (findings, a failed verification,
a refused operation); 2 a usage error (a missing, unknown or contradictory
option or argument).
\b
With --json every command prints one object, errors included:
{"ok", "command", "result", "errors", "warnings"} (mrtd/cli/envelope.schema.json).
--site defaults to $MRTD_SITE, else the current folder."""


class RootGroup(LazyGroup):
    """The `mrtd` group: a usage error of a command called with --json comes as the JSON envelope too."""

    is_root = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["mrtd.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not ctx.meta.get("mrtd.json"):
                raise
            from mrtd.cli.output import emit_error

            emit_error(exc, getattr(exc, "ctx", None) or ctx)
            raise click.exceptions.Exit(exc.exit_code) from None


@click.group(cls=RootGroup, lazy=COMMANDS, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mrtd")
def main() -> None:
    """Issue, personalise and verify ICAO Doc 9303 travel documents."""


def run() -> None:
    """The `mrtd` program (the console script and `python -m mrtd.cli`). Its process ends after the command,
    so the heap is frozen on the way out: that spares Python's last cycle collection, which walks every
    object the imports made (25-50 ms of a 250 ms `mrtd chip read`). Modules are still torn down and atexit
    handlers still run; files and databases are closed by the code that opens them. Tests call `main` in
    their own process, which keeps its last collection."""
    atexit.register(gc.freeze)
    main(prog_name="mrtd")
