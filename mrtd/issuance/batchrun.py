"""Issue a batch (a folder of JSON files, a CSV or JSON Lines) with N worker processes, resumably.

Running the same batch again after a crash issues what is left and nothing twice: each application is
received under its content hash, an application with an issued document is skipped, a document a crash
left in production is spoiled and its application issued again under a new number, and output folders
a crash left half-moved are repaired from the records (`recover_partials`). The records store makes
numbers unique across processes.

Workers are forked, so the keys' secrets, the clock and the site reach them in memory (never argv or a
pickle); each worker opens the site once (keys, trust, records) and issues many documents. A worker dies
with the batch's process (`processes.die_with_parent`): a batch killed outright leaves no worker behind, and
what its workers were doing is settled when the batch is run again, as after any crash.

Every run ends by writing `manifest.csv` beside the outputs: one line per item of the whole batch (row,
application key, document number, holder, outcome), so that a run again after a crash lists all of it.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrtd.errors import MrtdError
from mrtd.issuance.batch import read_batch
from mrtd.issuance.pipeline import (
    AlreadyIssued,
    Clock,
    IssueOptions,
    Issuer,
    PipelineError,
    TransportFactory,
    application_key,
    application_payload,
    recover_partials,
)
from mrtd.issuance.processes import die_with_parent
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import ABANDONED, IN_PRODUCTION
from mrtd.model import Application
from mrtd.pki.keys import Secrets

ISSUED = "issued"
ALREADY = "already-issued"
DUPLICATE = "duplicate"
INVALID = "invalid"
FAILED = "failed"
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("row", "application", "number", "holder", "outcome")


class BatchError(MrtdError):
    """The batch itself could not go on (a worker died, bad settings); what was issued stays issued."""


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one batch item. `step` names the failed step; `number` the document, if any."""

    row: str
    status: str
    number: str | None = None
    step: str | None = None
    message: str = ""
    steps: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "status": self.status, "number": self.number, "step": self.step,
                "message": self.message}


@dataclass
class BatchSummary:
    source: str
    workers: int
    outcomes: list[ItemOutcome]
    seconds: float
    recovered: dict[str, list[str]]
    identity: dict[str, tuple[str, str]] = field(default_factory=dict)  # row -> (application key, holder)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAILED) == 0 and self.count(INVALID) == 0

    @property
    def documents_per_minute(self) -> float:
        issued = self.count(ISSUED)
        return issued * 60.0 / self.seconds if self.seconds > 0 else 0.0

    def step_totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for o in self.outcomes:
            for name, secs in o.steps.items():
                totals[name] = totals.get(name, 0.0) + secs
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "documents_per_minute": round(self.documents_per_minute, 1),
            "counts": {s: self.count(s) for s in (ISSUED, ALREADY, DUPLICATE, INVALID, FAILED)},
            "recovered": self.recovered,
            "items": [o.as_dict() for o in self.outcomes],
        }

    def manifest(self) -> list[dict[str, str]]:
        """One line per item, in the batch's order (`MANIFEST_COLUMNS`)."""
        lines = []
        for o in self.outcomes:
            key, holder = self.identity.get(o.row, ("", ""))
            lines.append({"row": o.row, "application": key, "number": o.number or "", "holder": holder,
                          "outcome": o.status})
        return lines


def write_manifest(summary: BatchSummary, out_root: Path) -> Path:
    """`out_root/manifest.csv`, replaced whole (a temporary file renamed over it)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(summary.manifest())
    path = out_root / MANIFEST
    tmp = out_root / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(text.getvalue(), encoding="utf-8")
    tmp.replace(path)
    return path


def holder_name(application: Application) -> str:
    h = application.document.holder
    return " ".join(x for x in (h.primary_identifier, h.secondary_identifier) if x)


def _outcome(issuer: Issuer, row: str, application: Application, out_root: Path,
             transport_factory: TransportFactory | None = None) -> ItemOutcome:
    try:
        receipt = issuer.issue_into(application, out_root, transport_factory=transport_factory)
    except AlreadyIssued as exc:
        return ItemOutcome(row, ALREADY, exc.number, message=str(exc))
    except PipelineError as exc:
        return ItemOutcome(row, INVALID if exc.step == "validate" else FAILED, exc.number, exc.step, str(exc))
    except MrtdError as exc:
        return ItemOutcome(row, FAILED, None, "validate", str(exc))
    return ItemOutcome(row, ISSUED, receipt.number, steps=receipt.steps)


# --- worker processes ---------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(parent: int, site: SiteConfig, secrets: Secrets, clock: Clock, options: IssueOptions,
                 out_root: Path) -> None:
    die_with_parent(parent)
    _worker["issuer"] = Issuer(site, clock=clock, secrets=secrets, options=options)
    _worker["out"] = out_root


def _work(row: str, application: Application) -> ItemOutcome:
    return _outcome(_worker["issuer"], row, application, _worker["out"])


# --- the batch ----------------------------------------------------------------------------------------


@dataclass
class BatchPlan:
    rows: list[str]  # every item's row, in the batch's order
    todo: list[tuple[str, Application]]  # what is still to issue
    known: list[ItemOutcome]  # outcomes known without issuing (invalid, duplicate, already issued)
    recovered: dict[str, list[str]]  # output folders repaired after a crash
    identity: dict[str, tuple[str, str]] = field(default_factory=dict)  # row -> (application key, holder)


def plan_batch(source: Path, site: SiteConfig, out_root: Path, *, clock: Clock | None = None) -> BatchPlan:
    """Read the batch and the records: what is left to issue, and what is known already."""
    rows: list[str] = []
    todo: list[tuple[str, Application]] = []
    known: list[ItemOutcome] = []
    identity: dict[str, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    with site.open_records(clock=clock) as store:
        recovered = recover_partials(store, out_root)
        for item in read_batch(source, names=site.names):
            rows.append(item.row)
            if item.application is None:
                known.append(ItemOutcome(item.row, INVALID, step="validate", message=str(item.error)))
                continue
            try:
                key = application_key(application_payload(item.application))
            except MrtdError as exc:
                known.append(ItemOutcome(item.row, INVALID, step="validate", message=str(exc)))
                continue
            identity[item.row] = (key, holder_name(item.application))
            if key in seen:
                known.append(ItemOutcome(item.row, DUPLICATE, message=f"the same application as {seen[key]}"))
                continue
            seen[key] = item.row
            record = store.application(key)
            done = [(n, s) for n, s in (record.documents if record else ()) if s not in ABANDONED and s not in IN_PRODUCTION]
            if done:
                number, state = done[-1]
                known.append(ItemOutcome(item.row, ALREADY, number, message=f"already {state.value} as {number}"))
                continue
            todo.append((item.row, item.application))
    return BatchPlan(rows, todo, known, recovered, identity)


def run_batch(
    source: Path,
    site: SiteConfig,
    out_root: Path,
    *,
    secrets: Secrets,
    clock: Clock,
    workers: int = 1,
    options: IssueOptions | None = None,
    progress: Callable[[ItemOutcome], None] | None = None,
    transport_factory: TransportFactory | None = None,
) -> BatchSummary:
    """Issue every application in `source` into `out_root/<number>/`; see the module docstring."""
    if workers < 1:
        raise BatchError("workers: at least 1")
    if transport_factory is not None and workers != 1:
        raise BatchError("workers: a named reader personalises one chip at a time; use 1 worker")
    options = options or IssueOptions()
    started = time.perf_counter()
    out_root.mkdir(parents=True, exist_ok=True)
    plan = plan_batch(source, site, out_root, clock=clock)
    outcomes = list(plan.known)
    for o in outcomes:
        if progress:
            progress(o)
    for o in _issue_all(plan.todo, site, out_root, secrets, clock, workers, options, transport_factory):
        outcomes.append(o)
        if progress:
            progress(o)
    order = {row: i for i, row in enumerate(plan.rows)}
    outcomes.sort(key=lambda o: order.get(o.row, len(order)))
    summary = BatchSummary(str(source), workers, outcomes, time.perf_counter() - started, plan.recovered,
                           plan.identity)
    write_manifest(summary, out_root)
    return summary


def _issue_all(todo: list[tuple[str, Application]], site: SiteConfig, out_root: Path, secrets: Secrets,
               clock: Clock, workers: int, options: IssueOptions,
               transport_factory: TransportFactory | None) -> Iterator[ItemOutcome]:
    if not todo:
        return
    if workers == 1:
        with Issuer(site, clock=clock, secrets=secrets, options=options) as issuer:
            for row, app in todo:
                yield _outcome(issuer, row, app, out_root, transport_factory)
        return
    # Fork: the workers inherit the secrets, clock and site in memory; nothing secret is pickled.
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_init_worker,
                             initargs=(os.getpid(), site, secrets, clock, options, out_root)) as pool:
        pending: set[Future[ItemOutcome]] = {pool.submit(_work, row, app) for row, app in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    raise BatchError("batch: a worker process died; run the same batch again to resume "
                                     "(nothing is issued twice)") from None
    if "audit" in secrets:
        # The workers sign checkpoints as they go; the batch's last entries get theirs here, at its end.
        with site.open_records(clock=clock, audit_secret=secrets["audit"]) as store:
            store.checkpoint()
