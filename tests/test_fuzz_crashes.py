"""The fuzz targets' saved inputs (fuzz/crashes/TARGET/: escapes found by fuzzing, and the hostile inputs
named in issue 11) replayed through the CLI: every one ends with exit 0 or 1 and a message, never a
traceback; and every target's seeds, with a few hundred mutations, raise nothing but MrtdError."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fuzz.targets import TARGETS, run_once  # noqa: E402
from mrtd.cli import main  # noqa: E402

SAVED = sorted(p for p in (ROOT / "fuzz" / "crashes").glob("*/*") if p.is_file())


def test_there_are_saved_inputs_for_the_issue_list() -> None:
    names = {p.parent.name for p in SAVED}
    assert {"certificate", "vdsnc", "seal-image", "seal-pdf"} <= names
    assert set(names) <= set(TARGETS)


@pytest.mark.parametrize("path", SAVED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_saved_input_through_the_cli_gives_no_traceback(path: Path, tmp_path: Path) -> None:
    target = TARGETS[path.parent.name]
    data = path.read_bytes()
    run_once(path.parent.name, data)  # the library: only MrtdError
    argv = target.cli(tmp_path, data)
    result = CliRunner().invoke(main, argv)
    assert result.exit_code in (0, 1), (argv, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_and_mutations_raise_only_mrtd_errors(name: str) -> None:
    rng = random.Random(name)
    rounds = 20 if name in ("seal-image", "seal-pdf", "portrait", "lds") else 150
    for seed in TARGETS[name].seeds():
        run_once(name, seed)
        for _ in range(rounds):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 6)):
                op = rng.random()
                i = rng.randrange(len(data) + 1)
                if op < 0.5 and data:
                    data[min(i, len(data) - 1)] = rng.randrange(256)
                elif op < 0.75:
                    data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
                else:
                    del data[i : i + rng.randint(1, 16)]
            run_once(name, bytes(data))
