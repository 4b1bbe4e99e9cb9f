"""The production queue, in the records database: no other broker.

One row per attempt at producing an approved application. A station leases the oldest queued job it can
do (its formats) with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so that stations claiming at the
same moment each get a different job without waiting on one another; on SQLite the write transaction
(`BEGIN IMMEDIATE`) already lets one claimant in at a time, which is its equivalent.

A lease lasts `lease_seconds` and a station's heartbeat extends it. A lease that runs out (the station
died, lost its network or hung) is expired by whoever looks next: its document, if one was numbered, is
spoiled (the number is used up, never reissued) and a new attempt is queued. A station that reports a
failed chip spoils the document the same way, and after `max_attempts` the application fails and waits
for a person.

    queue = Queue(store)
    job = queue.lease("station-1", ["TD3"], seconds=60)      # None when there is nothing to do
    queue.attach(job.id, "station-1", number, production)     # what was produced for it
    queue.heartbeat(job.id, "station-1", seconds=60)
    queue.finish(job.id, "station-1", JobState.DONE)
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from mrtd.errors import StateError
from mrtd.issuance.records import Base, RecordStore, UnknownRecord, UTCDateTime, Writer


class JobState(StrEnum):
    QUEUED = "queued"
    LEASED = "leased"
    DONE = "done"  # the document was issued
    SPOILED = "spoiled"  # the station reported a failure; a new attempt was queued
    EXPIRED = "expired"  # the lease ran out; a new attempt was queued
    FAILED = "failed"  # given up: the application failed and waits for a person


# A job in one of these states never changes again: a retry is a new job.
FINAL = frozenset({JobState.DONE.value, JobState.SPOILED.value, JobState.EXPIRED.value, JobState.FAILED.value})


class JobRow(Base):
    __tablename__ = "jobs"
    # a station's last job and its jobs of the last day, read by the production page without all history
    __table_args__ = (Index("ix_jobs_station_leased_at", "station", "leased_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    format: Mapped[str] = mapped_column(String(8))
    attempt: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    station: Mapped[str | None] = mapped_column(String(64))
    leased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    number: Mapped[str | None] = mapped_column(String(9))
    production: Mapped[str | None] = mapped_column(Text)  # JSON: what the centre produced (no private key)
    outcome: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    application_id: int
    state: JobState
    format: str
    attempt: int
    station: str | None
    lease_expires_at: dt.datetime | None
    number: str | None
    production: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "application_id": self.application_id, "state": self.state.value,
                "format": self.format, "attempt": self.attempt, "station": self.station,
                "lease_expires_at": self.lease_expires_at.isoformat() if self.lease_expires_at else None,
                "number": self.number}


def _job(row: JobRow) -> Job:
    return Job(row.id, row.application_id, JobState(row.state), row.format, row.attempt, row.station,
               row.lease_expires_at, row.number, json.loads(row.production) if row.production else None)


class LeaseLost(StateError):
    """The job is no longer this station's: its lease expired (and it was requeued) or it is finished."""


def _leased_to(row: JobRow | None, job_id: int, station: str, now: dt.datetime) -> JobRow:
    if row is None:
        raise UnknownRecord(f"job: no job {job_id}")
    if row.station != station:
        raise LeaseLost(f"job {job_id}: leased to another station, not {station}")
    if row.state != JobState.LEASED.value or row.lease_expires_at is None or row.lease_expires_at < now:
        raise LeaseLost(f"job {job_id}: the lease is over (the job is {row.state}); the document is not "
                        "this station's any more")
    return row


class _Depth:
    """Jobs per state, kept between reads so that a read costs what is new, not all history: a job in a
    FINAL state is counted once, and each read counts only the jobs made since the last one (ids above
    `upto`: every job is made inside the records' write lock, so ids are committed in order) and reads
    again those that were still open, all in one snapshot (the records' reads are REPEATABLE READ on
    PostgreSQL). Records restored to fewer jobs are counted afresh."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.upto = 0
        self.final: Counter[str] = Counter()
        self.open: dict[int, str] = {}

    def read(self, store: RecordStore) -> dict[str, int]:
        with self.lock:
            upto = self.upto
            final: Counter[str] = Counter()
            with store.reading() as s:  # nothing is kept until the whole read has succeeded
                last = s.execute(select(func.max(JobRow.id))).scalar() or 0
                restored = last < upto  # the records were restored to fewer jobs: count them again
                if restored:
                    upto = 0
                new = (JobRow.id > upto, JobRow.id <= last)
                # the new finished jobs counted by the database, the new open ones and the old open ones read
                for state, n in s.execute(select(JobRow.state, func.count()).where(*new, JobRow.state.in_(FINAL))
                                          .group_by(JobRow.state)):
                    final[state] += n
                rows = [(r[0], r[1]) for r in s.execute(
                    select(JobRow.id, JobRow.state).where(*new, JobRow.state.not_in(FINAL)))]
                ids = [] if restored else sorted(self.open)
                for i in range(0, len(ids), 500):  # a bounded number of parameters per statement
                    chunk = select(JobRow.id, JobRow.state).where(JobRow.id.in_(ids[i : i + 500]))
                    rows += [(r[0], r[1]) for r in s.execute(chunk)]
            if restored:
                self.final = Counter()
            self.final.update(final)
            self.upto, self.open = last, {}
            for job_id, state in rows:
                if state in FINAL:
                    self.final[state] += 1
                else:
                    self.open[job_id] = state
            return dict(self.final + Counter(self.open.values()))


class Queue:
    def __init__(self, store: RecordStore, *, max_attempts: int = 3) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self._depth = _Depth()

    def enqueue(self, w: Writer, application_id: int, fmt: str, *, actor: str, attempt: int = 1) -> int:
        row = JobRow(application_id=application_id, state=JobState.QUEUED.value, format=fmt, attempt=attempt,
                     created_at=w.now)
        w.session.add(row)
        w.session.flush()
        w.audit(actor=actor, action="job.queued", subject=str(application_id),
                detail={"job": row.id, "attempt": attempt})
        return row.id

    def lease(self, station: str, formats: Sequence[str], *, seconds: float) -> Job | None:
        """The oldest queued job of one of `formats`, now leased to `station`; None when there is none."""
        waiting = select(JobRow.id).where(JobRow.state == JobState.QUEUED.value, JobRow.format.in_(list(formats)))
        with self.store.reading() as s:
            if s.execute(waiting.limit(1)).first() is None:
                return None  # idle stations poll: answer them without taking the write lock
        with self.store.writing() as w:
            row = w.session.execute(
                select(JobRow).where(JobRow.state == JobState.QUEUED.value, JobRow.format.in_(list(formats)))
                .order_by(JobRow.id).limit(1).with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if row is None:
                return None
            row.state, row.station, row.leased_at = JobState.LEASED.value, station, w.now
            row.lease_expires_at = w.now + dt.timedelta(seconds=seconds)
            w.audit(actor=station, action="job.leased", subject=str(row.application_id),
                    detail={"job": row.id, "attempt": row.attempt, "expires": row.lease_expires_at.isoformat()})
            return _job(row)

    def _held(self, w: Writer, job_id: int, station: str) -> JobRow:
        row = w.session.execute(select(JobRow).where(JobRow.id == job_id).with_for_update()).scalar_one_or_none()
        return _leased_to(row, job_id, station, w.now)

    def attach(self, job_id: int, station: str, number: str, production: dict[str, Any]) -> None:
        """Record the number and what was produced for a leased job."""
        with self.store.writing() as w:
            row = self._held(w, job_id, station)
            row.number = number
            row.production = json.dumps(production, ensure_ascii=False)

    def number_drawn(self, job_id: int, station: str, number: str) -> None:
        with self.store.writing() as w:
            self._held(w, job_id, station).number = number

    def heartbeat(self, job_id: int, station: str, *, seconds: float) -> Job:
        """Extend the lease (not audited: it changes no record, only the lease's end)."""
        with self.store.writing() as w:
            row = self._held(w, job_id, station)
            row.lease_expires_at = w.now + dt.timedelta(seconds=seconds)
            return _job(row)

    def release(self, job_id: int, station: str, *, reason: str) -> Job:
        """Give a leased job back to the queue, the same attempt: nothing was made for it."""
        with self.store.writing() as w:
            row = self._held(w, job_id, station)
            row.state, row.station, row.leased_at, row.lease_expires_at = JobState.QUEUED.value, None, None, None
            w.audit(actor=station, action="job.released", subject=str(row.application_id),
                    detail={"job": row.id, "reason": reason[:500]})
            return _job(row)

    def held(self, job_id: int, station: str) -> Job:
        """The job, if `station` holds its lease now (LeaseLost otherwise). A read: what the station does
        next with it is checked again, under the row's lock, by the write that records it."""
        with self.store.reading() as s:
            return _job(_leased_to(s.get(JobRow, job_id), job_id, station, self.store.now()))

    def finish(self, job_id: int, station: str, state: JobState, *, outcome: str, requeue: bool) -> Job:
        """End a leased job as done, spoiled or failed; queue the next attempt when `requeue` and attempts
        remain. Returns the finished job (its state says whether it was requeued: spoiled, or failed)."""
        with self.store.writing() as w:
            row = self._held(w, job_id, station)
            if requeue and row.attempt >= self.max_attempts:
                state, requeue = JobState.FAILED, False
            row.state, row.outcome = state.value, outcome[:2000]
            w.audit(actor=station, action=f"job.{state.value}", subject=str(row.application_id),
                    detail={"job": row.id, "number": row.number, "outcome": outcome[:500]})
            if requeue:
                self.enqueue(w, row.application_id, row.format, actor=station, attempt=row.attempt + 1)
            return _job(row)

    def expire_due(self, *, actor: str, now: dt.datetime, limit: int = 20) -> list[Job]:
        """Expire leases that ran out and queue their next attempt; returns the expired jobs (the caller
        spoils their numbered documents)."""
        due = select(JobRow.id).where(JobRow.state == JobState.LEASED.value, JobRow.lease_expires_at < now)
        with self.store.reading() as s:
            if s.execute(due.limit(1)).first() is None:
                return []
        with self.store.writing() as w:
            rows = list(w.session.execute(
                select(JobRow).where(JobRow.state == JobState.LEASED.value, JobRow.lease_expires_at < w.now)
                .order_by(JobRow.id).limit(limit).with_for_update(skip_locked=True)
            ).scalars())
            for row in rows:
                row.state, row.outcome = JobState.EXPIRED.value, f"lease of {row.station} expired"
                w.audit(actor=actor, action="job.expired", subject=str(row.application_id),
                        detail={"job": row.id, "station": row.station, "number": row.number})
                if row.attempt >= self.max_attempts:
                    row.state = JobState.FAILED.value
                else:
                    self.enqueue(w, row.application_id, row.format, actor=actor, attempt=row.attempt + 1)
            return [_job(r) for r in rows]

    def job(self, job_id: int) -> Job:
        with self.store.reading() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise UnknownRecord(f"job: no job {job_id}")
            return _job(row)

    def jobs_of(self, application_id: int) -> list[Job]:
        with self.store.reading() as s:
            rows = s.execute(select(JobRow).where(JobRow.application_id == application_id).order_by(JobRow.id))
            return [_job(r) for r in rows.scalars()]

    def depth(self) -> dict[str, int]:
        """Jobs per state (for /metrics, the production page and the status line)."""
        return self._depth.read(self.store)
