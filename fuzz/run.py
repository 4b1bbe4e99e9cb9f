"""Run one fuzz target with atheris (coverage-guided, libFuzzer) for a given time.

    python -m fuzz.run TARGET [--seconds N] [--runs N]

Seeds are made by the project (`fuzz.targets`) into a corpus folder under .fuzz-corpus/ (not kept in git);
an input that lets anything but `MrtdError` escape, or takes over 2 s of CPU (a hang: 30 s of wall time), is
saved in fuzz/crashes/TARGET/,
where `tests/test_fuzz_crashes.py` replays it through the CLI. The last line printed is the figure kept:
`TARGET: N inputs in S s, E escapes`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRASHES = ROOT / "fuzz" / "crashes"
CORPUS = ROOT / ".fuzz-corpus"
LIMIT_S = 2.0  # the guarantee: no input takes over 2 s (CPU time, so that a loaded machine does not count)
TIMEOUT_S = 30  # libFuzzer's wall-clock backstop for an input that hangs
ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")  # what libFuzzer writes


def child(name: str, libfuzzer_args: list[str]) -> None:
    """The fuzzing process: mrtd instrumented, the target run on every input libFuzzer makes."""
    import atheris

    with atheris.instrument_imports(include=["mrtd"]):
        from fuzz.targets import TARGETS, run_once

    TARGETS[name].seeds  # noqa: B018 - the world is built before fuzzing starts
    from fuzz.world import world

    world()

    def one_input(data: bytes) -> None:
        started = time.process_time()
        run_once(name, data)
        spent = time.process_time() - started
        if spent > LIMIT_S:  # CPU time: what the input costs, whatever else the machine is doing
            raise TimeoutError(f"{name}: one input took {spent:.2f} s of CPU (limit {LIMIT_S} s)")

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def seed(name: str) -> Path:
    from fuzz.targets import TARGETS

    folder = CORPUS / name
    folder.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(TARGETS[name].seeds()):
        (folder / f"seed-{i}").write_bytes(data)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=-1, help="stop after this many inputs (default: time only)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.target, rest)
        return 0
    corpus = seed(args.target)
    crashes = CRASHES / args.target
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    libfuzzer = [str(corpus), f"-max_total_time={args.seconds}", f"-timeout={TIMEOUT_S}", f"-runs={args.runs}",
                 f"-artifact_prefix={crashes}/", "-rss_limit_mb=3072", "-max_len=65536", "-print_final_stats=1"]
    proc = subprocess.run([sys.executable, "-m", "fuzz.run", args.target, "--child", *libfuzzer], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    log = proc.stdout + proc.stderr
    (CORPUS / f"{args.target}.log").write_text(log)
    runs = re.findall(r"stat::number_of_executed_units:\s+(\d+)", log) or re.findall(r"#(\d+)\s", log) or ["0"]
    seconds = re.findall(r"Done \d+ runs in (\d+) second", log) or [str(args.seconds)]
    found = sorted(p for p in set(crashes.iterdir()) - before if p.name.startswith(ARTIFACTS))
    print(f"{args.target}: {int(runs[-1])} inputs in {seconds[-1]} s, {len(found)} escapes"
          + "".join(f"\n  saved {p.relative_to(ROOT)}" for p in found))
    if found:
        print("\n".join(log.splitlines()[-40:]))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
