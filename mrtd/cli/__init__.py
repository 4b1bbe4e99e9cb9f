"""The `mrtd` command line: each command parses its input, calls one use case and renders the result.

Exit codes: 0 success, 1 findings or a failed operation, 2 usage errors. Each command's module is
imported only when the command runs (`mrtd.cli.lazy`).
"""

from __future__ import annotations

import click

from mrtd import __version__
from mrtd.cli.lazy import LazyGroup

# The main job first, then each floor's own tools (click lists them alphabetically in --help).
COMMANDS = {
    "site": "mrtd.cli.site:site",
    "issue": "mrtd.cli.issue:issue",
    "batch": "mrtd.cli.issue:batch",
    "records": "mrtd.cli.records:records",
    "document": "mrtd.cli.records:document",
    "audit": "mrtd.cli.audit:audit",
    "application": "mrtd.cli.application:application",
    "search": "mrtd.cli.workflow:search",
    "users": "mrtd.cli.people:users_group",
    "serve": "mrtd.cli.serve:serve",
    "station": "mrtd.cli.serve:station",
    "photo": "mrtd.cli.photo:photo",
    "inventory": "mrtd.cli.inventory:inventory",
    "mrz": "mrtd.cli.mrz:mrz",
    "render": "mrtd.cli.render:render",
    "layout": "mrtd.cli.render:layout",
    "chip": "mrtd.cli.chip:chip",
    "seal": "mrtd.cli.seal:seal",
    "pki": "mrtd.cli.pki:pki",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mrtd")
def main() -> None:
    """Issue, personalise and verify ICAO Doc 9303 travel documents."""
