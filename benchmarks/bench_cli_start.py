"""How fast `mrtd` starts: the median wall time of a command in a new process, as a user runs it (goal:
`mrtd --help` under 0.15 s), beside a bare `python -c pass` (the floor no command can beat) and, with
`-X importtime`, the modules that cost the most.

    .venv/bin/python benchmarks/bench_cli_start.py [--rounds 15] [--top 8]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.15  # seconds, `mrtd --help`
SPECIMEN = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
COMMANDS = {
    "mrtd --help": ["--help"],
    "mrtd mrz check LINE LINE": ["mrz", "check", *SPECIMEN],
    "mrtd seal verify --help": ["seal", "verify", "--help"],
    "mrtd chip read --help": ["chip", "read", "--help"],
}
# The `mrtd` console script does what `python -m mrtd.cli` does (import mrtd.cli, call run); -m runs this
# tree's code whatever the virtual environment's editable install points at.
MRTD = [sys.executable, "-m", "mrtd.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def wall(argv: list[str], rounds: int) -> float:
    """Median seconds of `argv` run `rounds` times, each in a new process (one warm-up run first)."""
    subprocess.run(argv, capture_output=True, env=ENV, cwd=ROOT, check=False)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, env=ENV, cwd=ROOT, check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}\n{done.stderr.decode()}")
    return statistics.median(times)


def top_imports(args: list[str], top: int) -> list[tuple[int, str]]:
    """The top-level imports that cost the most (cumulative microseconds) for one command."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-m", "mrtd.cli", *args], capture_output=True,
                         text=True, env=ENV, cwd=ROOT, check=False).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if cumulative.isdigit() and not line.split("|")[2].startswith("  "):  # top level only
            rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--top", type=int, default=6)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "mrtd", quiet=1)  # as installed: the bytecode is there (see bench_chip)
    floor = wall([sys.executable, "-c", "pass"], args.rounds)
    print(f"python -c pass (the floor): {floor * 1000:.0f} ms median of {args.rounds}")
    print(f"{'command':28} {'median':>8} {'above floor':>12} {'vs goal':>8}")
    results = {}
    for label, argv in COMMANDS.items():
        seconds = wall([*MRTD, *argv], args.rounds)
        results[label] = seconds
        print(f"{label:28} {seconds * 1000:6.0f} ms {(seconds - floor) * 1000:9.0f} ms {seconds / GOAL:7.2f}x")
    for label, argv in COMMANDS.items():
        costly = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top_imports(argv, args.top))
        print(f"  imports of {label}: {costly}")
    verdict = "met" if results["mrtd --help"] < GOAL else "NOT met"
    print(f"goal `mrtd --help` under {GOAL * 1000:.0f} ms: {verdict} ({results['mrtd --help'] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
