"""The `mrtd` command line: each command parses its input, calls one use case and renders the result.

Exit codes: 0 success, 1 findings or a failed operation, 2 usage errors.
"""

from __future__ import annotations

import click

from mrtd import __version__
from mrtd.cli.application import application
from mrtd.cli.chip import chip
from mrtd.cli.chip_card import read as chip_read
from mrtd.cli.chip_card import simulate as chip_simulate
from mrtd.cli.chip_card import write as chip_write
from mrtd.cli.issue import batch, issue
from mrtd.cli.mrz import mrz
from mrtd.cli.pki import pki
from mrtd.cli.records import audit, document, records
from mrtd.cli.render import layout, render
from mrtd.cli.seal import seal
from mrtd.cli.site import site


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mrtd")
def main() -> None:
    """Issue, personalise and verify ICAO Doc 9303 travel documents."""


for _command in (chip_write, chip_read, chip_simulate):
    chip.add_command(_command)

# The main job first, then each floor's own tools (click lists them alphabetically in --help).
for _command in (site, issue, batch, records, document, audit, application, mrz, render, layout, chip, seal, pki):
    main.add_command(_command)
