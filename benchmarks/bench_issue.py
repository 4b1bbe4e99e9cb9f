"""Issuing speed: documents per minute end to end on one core with the in-process chip simulator, split
by step, for three configurations (full with OCR print check; page without OCR; no page), then the
speed-up of a batch with 2 worker processes over 1.

Run: .venv/bin/python benchmarks/bench_issue.py [--count N] [--batch N]
tesseract is limited to one thread (OMP_THREAD_LIMIT=1) so "one core" means one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mrtd.issuance.application import application_from_dict  # noqa: E402
from mrtd.issuance.batchrun import run_batch  # noqa: E402
from mrtd.issuance.pipeline import IssueOptions, Issuer  # noqa: E402
from mrtd.issuance.site import init_site  # noqa: E402
from mrtd.model import Application  # noqa: E402

EXAMPLES = ROOT / "examples" / "applications"
KEY_SECRETS = {"csca": b"bench csca passphrase", "ds": b"bench ds passphrase", "seal-signer": b"bench seal passphrase"}
SIGNING_SECRETS = {r: KEY_SECRETS[r] for r in ("ds", "seal-signer")}
PASS = b"benchmark-passphrase"
GOAL = 120.0
LETTERS = "ABCDEFGHIJ"


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def raw_application(i: int) -> dict[str, object]:
    tag = "".join(LETTERS[int(c)] for c in f"{i:04d}")
    return {
        "document": {"code": "PP", "format": "TD3", "issuing_state": "UTO", "date_of_expiry": "2036-11-19",
                     "authority": "Benchmark Office"},
        "holder": {"primary_identifier": "ERIKSSON", "secondary_identifier": f"ANNA {tag}", "nationality": "UTO",
                   "date_of_birth": "1974-08-12", "sex": "F", "place_of_birth": "ZENITH"},
        "portrait": str((EXAMPLES / "portraits" / "anna.jpg").resolve()),
        "signature": str((EXAMPLES / "signatures" / "anna.png").resolve()),
    }


def applications(start: int, count: int) -> list[Application]:
    return [application_from_dict(raw_application(i), EXAMPLES, f"bench {i}") for i in range(start, start + count)]


def run_serial(work: Path, name: str, options: IssueOptions, apps: list[Application]) -> None:
    site = init_site(work / f"site-{name}", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT")
    steps: dict[str, list[float]] = {}
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=options) as issuer:
        issuer.issue_into(applications(10_000, 1)[0], work / f"warm-{name}")  # fonts, templates, tesseract
        start = time.perf_counter()
        for app in apps:
            receipt = issuer.issue_into(app, work / f"out-{name}")
            for step, secs in receipt.steps.items():
                steps.setdefault(step, []).append(secs)
        elapsed = time.perf_counter() - start
    rate = len(apps) * 60 / elapsed
    verdict = "meets" if rate >= GOAL else "below"
    print(f"\n{name}: {len(apps)} documents in {elapsed:.1f} s = {rate:.0f} documents/minute on one core "
          f"({verdict} the goal of {GOAL:.0f})")
    total = sum(statistics.fmean(v) for v in steps.values())
    for step, values in steps.items():
        mean = statistics.fmean(values)
        print(f"  {step:<12} {mean * 1000:8.1f} ms  {100 * mean / total:5.1f} %")


def run_batches(work: Path, count: int, options: IssueOptions) -> None:
    source = work / "batch.jsonl"
    with source.open("w", encoding="utf-8") as fh:
        for i in range(20_000, 20_000 + count):
            fh.write(json.dumps(raw_application(i)) + "\n")
    rates = {}
    for workers in (1, 2):
        site = init_site(work / f"site-batch-{workers}", "UTO", secrets=KEY_SECRETS, clock=clock,
                         certificate_country="UT")
        summary = run_batch(source, site, work / f"out-batch-{workers}", secrets=SIGNING_SECRETS, clock=clock,
                            workers=workers, options=options)
        assert summary.count("issued") == count, summary.as_dict()["counts"]
        rates[workers] = summary.documents_per_minute
        print(f"  batch of {count}, {workers} worker(s): {summary.seconds:.1f} s = "
              f"{summary.documents_per_minute:.0f} documents/minute (start-up and key unlocking included)")
    print(f"  speed-up with 2 workers: {rates[2] / rates[1]:.2f}x (on {os.cpu_count()} cores)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20, help="documents per serial configuration")
    ap.add_argument("--batch", type=int, default=40, help="documents per batch run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-issue-") as tmp:
        work = Path(tmp)
        run_serial(work, "full (page + OCR print check)", IssueOptions(), applications(0, args.count))
        run_serial(work, "page without OCR", IssueOptions(print_check=False), applications(1000, args.count))
        run_serial(work, "no page (chip, seal, records)", IssueOptions(render_page=False),
                   applications(2000, args.count))
        print("\nbatches, full pipeline (page + OCR print check):")
        run_batches(work, args.batch, IssueOptions())
    return 0


if __name__ == "__main__":
    sys.exit(main())
