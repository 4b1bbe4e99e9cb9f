"""`python -m mrtd.cli`: the `mrtd` command (for subprocesses started with the same interpreter)."""

from mrtd.cli import run

run()
