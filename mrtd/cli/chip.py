"""`mrtd chip`: the chip's data and the chip itself. Each command's module is imported when it runs
(`mrtd.cli.lazy`): `mrtd chip read` must not pay for building and signing LDS files (portraits, finger
images, CV certificates), nor `mrtd chip build` for PC/SC.

- `build`, `verify` (`mrtd.cli.chip_files`): encode and sign a document's LDS; passive authentication;
- `write`, `read`, `simulate` (`mrtd.cli.chip_card`): the chip through a PC/SC reader; the virtual card.
"""

from __future__ import annotations

import click

from mrtd.cli.lazy import LazyGroup


@click.group(cls=LazyGroup, lazy={
    "build": "mrtd.cli.chip_files:build", "verify": "mrtd.cli.chip_files:verify",
    "write": "mrtd.cli.chip_card:write", "read": "mrtd.cli.chip_card:read", "simulate": "mrtd.cli.chip_card:simulate",
})
def chip() -> None:
    """The chip's data: LDS files, EF.SOD, passive authentication (Doc 9303 Parts 10-11)."""
