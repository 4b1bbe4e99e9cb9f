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


def _freezes_at_exit(call: str) -> list[str]:
    """What a process that ran `mrz check` through `call` froze: the count before its exit handlers, and
    whether they froze the heap."""
    probe = ("import atexit, gc, sys\nimport mrtd.cli\nsys.argv = ['mrtd', 'mrz', 'check', "
             "'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10']\n"
             f"try:\n    {call}\nexcept SystemExit:\n    pass\nbefore = gc.get_freeze_count()\n"
             "atexit._run_exitfuncs()\nprint(before, gc.get_freeze_count() > 1000)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    return done.stdout.split()[-2:]  # after what the command printed


def test_a_command_leaves_its_objects_to_the_exit_uncollected() -> None:
    """Python's last cycle collection walks every object the imports made (25-50 ms of `mrtd chip read`'s
    exit, benchmarks/bench_chip.py): the `mrtd` program freezes them as it exits, and the modules are still
    torn down. A test that calls `main` in its own process keeps its last collection."""
    assert _freezes_at_exit("mrtd.cli.run()") == ["0", "True"]
    assert _freezes_at_exit("mrtd.cli.main(prog_name='mrtd')") == ["0", "False"]
