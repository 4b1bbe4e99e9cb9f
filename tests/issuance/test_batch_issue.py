"""Batches: the example CSV and JSON Lines with 2 workers, a summary, a manifest.csv, progress lines, and a
second run that issues nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import json_result
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS, secret_env

from mrtd.cli.issue import batch
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.batch import read_batch
from mrtd.issuance.batchrun import ALREADY, DUPLICATE, ISSUED, MANIFEST, run_batch
from mrtd.issuance.pipeline import IssueOptions, application_key, application_payload
from mrtd.issuance.site import SiteConfig, init_site
from mrtd.issuance.states import DocumentState

PASS = b"batch-test-passphrase"
FAST = IssueOptions(render_page=False, actor="tester")


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)


@pytest.mark.parametrize("source", ["consulate-day.csv", "consulate-day.jsonl"])
def test_batch_with_two_workers_then_resume_issues_nothing_twice(site: SiteConfig, tmp_path: Path, source: str) -> None:
    path = EXAMPLES / "batches" / source
    rows = [i.row for i in read_batch(path)]
    seen: list[str] = []
    first = run_batch(path, site, tmp_path / "out", secrets=SIGNING_SECRETS, clock=clock, workers=2, options=FAST,
                      progress=lambda o: seen.append(o.row))
    assert sorted(seen) == sorted(rows)
    assert [o.row for o in first.outcomes] == rows
    assert first.count(ISSUED) + first.count(DUPLICATE) == len(rows), first.as_dict()
    numbers = [o.number for o in first.outcomes if o.status == ISSUED]
    assert len(set(numbers)) == len(numbers)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([*(n for n in numbers if n), MANIFEST])
    manifest = _manifest(tmp_path / "out")
    assert [m["row"] for m in manifest] == rows
    assert [(m["number"] or None, m["outcome"]) for m in manifest] == [(o.number, o.status) for o in first.outcomes]
    for item, line in zip(read_batch(path), manifest, strict=True):
        assert item.application is not None
        h = item.application.document.holder
        assert line["holder"] == f"{h.primary_identifier} {h.secondary_identifier}".strip()
        assert line["application"] == application_key(application_payload(item.application))
    second = run_batch(path, site, tmp_path / "out", secrets=SIGNING_SECRETS, clock=clock, workers=2, options=FAST)
    assert second.count(ISSUED) == 0 and second.count(ALREADY) == first.count(ISSUED)
    again = _manifest(tmp_path / "out")  # the whole batch again, each issued row now already issued
    assert [(m["row"], m["number"], m["holder"]) for m in again] == [(m["row"], m["number"], m["holder"]) for m in manifest]
    assert {m["outcome"] for m in again} <= {ALREADY, DUPLICATE}
    with site.open_records() as store:
        docs = store.documents()
        assert verify_chain(store).ok
    assert [d.state for d in docs] == [DocumentState.ISSUED] * len(numbers)


def test_cli_batch_issue_prints_a_summary_and_json(site: SiteConfig, tmp_path: Path) -> None:
    runner = CliRunner()
    env = secret_env()
    source = EXAMPLES / "batches" / "consulate-day.jsonl"
    result = runner.invoke(batch, ["issue", str(source), "--site", str(site.root), "--out", str(tmp_path / "o"),
                                   "--workers", "1", "--no-print-check", "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json_result(result.output)
    assert summary["ok"] and summary["counts"]["issued"] == len(list(read_batch(source)))
    again = runner.invoke(batch, ["issue", str(source), "--site", str(site.root), "--out", str(tmp_path / "o"),
                                  "--no-print-check"], env=env)
    assert again.exit_code == 0, again.output
    assert "0 issued" in again.output and f"{summary['counts']['issued']} already issued" in again.output


def test_bad_and_duplicate_rows_are_reported_and_the_rest_issued(site: SiteConfig, tmp_path: Path) -> None:
    good = json.loads((EXAMPLES / "leyla-mirza-stateless.json").read_text("utf-8"))
    for key in ("portrait", "signature"):
        good[key] = str((EXAMPLES / good[key]).resolve())
    bad = json.loads(json.dumps(good))
    bad["holder"]["date_of_birth"] = "1990-13-45"
    source = tmp_path / "b.jsonl"
    source.write_text("\n".join(json.dumps(x) for x in (good, bad, good)) + "\n", encoding="utf-8")
    summary = run_batch(source, site, tmp_path / "out", secrets=SIGNING_SECRETS, clock=clock, workers=1, options=FAST)
    assert [o.status for o in summary.outcomes] == [ISSUED, "invalid", DUPLICATE]
    assert "holder.date_of_birth" in summary.outcomes[1].message and not summary.ok
    result = CliRunner().invoke(batch, ["issue", str(source), "--site", str(site.root), "--out", str(tmp_path / "out"),
                                        "--no-print-check"], env=secret_env())
    assert result.exit_code == 1 and "line 2: invalid" in result.output and "1 already issued" in result.output
    # Not on a terminal: one progress line per item (on stderr), and the manifest of the whole batch.
    number = summary.outcomes[0].number
    assert [line for line in result.stderr.splitlines() if line.startswith("[")] == [
        f"[1/3] {number} already-issued", "[2/3] line 2 invalid", "[3/3] line 3 duplicate"]
    manifest = _manifest(tmp_path / "out")
    assert [(m["row"], m["number"], m["holder"], m["outcome"]) for m in manifest] == [
        ("line 1", number, "MIRZA LEYLA", ALREADY), ("line 2", "", "", "invalid"),
        ("line 3", "", "MIRZA LEYLA", DUPLICATE)]


def _manifest(out: Path) -> list[dict[str, str]]:
    with open(out / MANIFEST, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["row", "application", "number", "holder", "outcome"]
        return list(reader)
