"""kill -9 a batch of 200 at random moments, then resume: every application issued exactly once, numbers
unique, no half-written output folder, the audit chain intact.

To keep this within a minute or two the batch runs without the printed page (and so without its OCR
check: `IssueOptions(render_page=False)`); every other step, the simulated chip included, runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, KEY_SECRETS, ROOT, SIGNING_SECRETS, secret_env

from mrtd.issuance.audit import verify_chain
from mrtd.issuance.batchrun import ALREADY
from mrtd.issuance.site import init_site
from mrtd.issuance.states import DocumentState

pytestmark = pytest.mark.slow

PASS = "crash-test-passphrase"
COUNT = 200
SURNAMES = ["ERIKSSON", "MIRZA", "HABIMANA", "KAMARA", "SHEVCHENKO", "ONEILL", "MUELLER", "DINGO"]
GIVEN = ["ANNA", "LEYLA", "JEAN", "FATMATA", "OLENA", "SIOBHAN", "ALEX", "MARIA", "IVAN", "SARA"]

DRIVER = """
import datetime as dt, json, os, sys
from pathlib import Path
from mrtd.issuance.batchrun import run_batch
from mrtd.issuance.pipeline import IssueOptions
from mrtd.issuance.site import load_site
site = load_site(Path(sys.argv[1]))
summary = run_batch(Path(sys.argv[2]), site, Path(sys.argv[3]), secrets={"ds": os.environ["MRTD_DS_PASSPHRASE"].encode(), "seal-signer": os.environ["MRTD_SEAL_PASSPHRASE"].encode()},
                    clock=lambda: dt.datetime.now(dt.UTC), workers=2,
                    options=IssueOptions(render_page=False, actor="crash-test"))
print(json.dumps(summary.as_dict()["counts"]))
"""


def _letters(i: int) -> str:
    """A distinct name part per row (names hold no digits)."""
    return "".join("ABCDEFGHIJ"[int(c)] for c in f"{i:03d}")


def _batch(path: Path, rng: random.Random) -> None:
    portrait = (EXAMPLES / "portraits" / "anna.jpg").resolve()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(COUNT):
            app = {
                "document": {"code": "PP", "format": "TD3", "issuing_state": "UTO", "date_of_expiry": "2036-11-19",
                             "authority": "Crash Test Office"},
                "holder": {"primary_identifier": rng.choice(SURNAMES), "secondary_identifier": f"{rng.choice(GIVEN)} {_letters(i)}",
                           "nationality": "UTO", "date_of_birth": f"19{50 + i % 50:02d}-0{1 + i % 9}-1{i % 10}",
                           "sex": rng.choice("FMX"), "place_of_birth": "ZENITH"},
                "portrait": str(portrait),
            }
            fh.write(json.dumps(app) + "\n")


def _done(out: Path) -> int:
    return sum(1 for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) if out.is_dir() else 0


def _start(site: Path, source: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **secret_env(SIGNING_SECRETS)}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(site), str(source), str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=lambda: dt.datetime.now(dt.UTC),
                     certificate_country="UT", kdf_log2n=12)
    source = tmp_path / "batch.jsonl"
    _batch(source, rng)
    out = tmp_path / "out"
    kills = 0
    # Kill when the batch has got to a random point (so that a fast or a loaded machine both crash it
    # mid-way), then a random fraction of a document later: mid-step, mid-transaction or mid-rename.
    for target in sorted(rng.sample(range(10, COUNT - 10), 3)):
        proc = _start(site.root, source, out)
        deadline = time.monotonic() + 300
        while proc.poll() is None and _done(out) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the batch and its workers
        proc.wait()
        kills += 1
    final = _start(site.root, source, out)
    stdout, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr
    counts = json.loads(stdout.strip().splitlines()[-1])
    assert kills == 3, kills
    assert counts["issued"] + counts["already-issued"] == COUNT, counts
    assert counts[ALREADY] > 0  # what was issued before a crash is not issued again

    with site.open_records() as store:
        docs = store.documents()
        report = verify_chain(store)
        apps = {d.application_key for d in docs}
        issued = [d for d in docs if d.state is DocumentState.ISSUED]
        others = {d.state for d in docs if d.state is not DocumentState.ISSUED}
    assert report.ok, report
    assert len(issued) == COUNT and len(apps) == COUNT
    assert len({d.application_key for d in issued}) == COUNT  # every application issued exactly once
    assert len({d.number for d in docs}) == len(docs)  # no number used twice, spoiled ones included
    assert others <= {DocumentState.SPOILED}
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == sorted(d.number for d in issued)  # one folder per issued document, no partial left
    print(f"crash test: {kills} kills, {len(docs) - COUNT} documents spoiled by the crashes, final run: {counts}")
    for d in issued:
        receipt = json.loads((out / d.number / "receipt.json").read_text("utf-8"))
        assert receipt["number"] == d.number and receipt["application"]["key"] == d.application_key
