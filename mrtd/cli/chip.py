"""`mrtd chip ...`: the group alone, so that `mrtd chip read --help` loads no chip code; each command's
module is imported when it runs (`chip_data`: build, verify; `chip_card`: write, read, simulate)."""

from __future__ import annotations

import click

from mrtd.cli.lazy import LazyGroup


@click.group(cls=LazyGroup, lazy={
    "build": "mrtd.cli.chip_data:build", "verify": "mrtd.cli.chip_data:verify",
    "write": "mrtd.cli.chip_card:write", "read": "mrtd.cli.chip_card:read", "simulate": "mrtd.cli.chip_card:simulate",
})
def chip() -> None:
    """The chip's data: LDS files, EF.SOD, passive authentication (Doc 9303 Parts 10-11)."""
