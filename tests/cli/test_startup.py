"""`mrtd` starts fast because each command imports only what it needs: `mrtd --help` loads none of the
issuing stack (the time itself is measured by benchmarks/bench_cli_start.py, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "fastapi", "cryptography", "PIL", "numpy", "cv2")
PROBE = """
import json, sys
from mrtd.cli import main
try:
    main(sys.argv[1:], prog_name="mrtd")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    return {m.split(".")[0] for m in json.loads(done.stderr.splitlines()[-1])}


@pytest.mark.parametrize("args", [["--help"], ["seal", "verify", "--help"], ["chip", "read", "--help"],
                                  ["mrz", "check", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                                   "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]], ids=" ".join)
def test_help_and_light_commands_import_none_of_the_heavy_libraries(args: list[str]) -> None:
    loaded = _modules(*args)
    assert "click" in loaded  # the probe did run the command line
    assert not loaded & set(HEAVY), f"mrtd {' '.join(args)} imported {sorted(loaded & set(HEAVY))}"


def test_a_command_that_needs_the_records_does_load_them(tmp_path: Path) -> None:
    """The probe can see an import: `records list` on a site opens the database through SQLAlchemy."""
    loaded = _modules("records", "list", "--site", str(tmp_path))
    assert "sqlalchemy" in loaded
