"""What production looks like: stations and their jobs, documents issued and spoiled per hour (the last day)
and per day (the last week), and the spoil rate. Read from the queue and the document events; no personal
data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from mrtd.issuance.queue import Job, JobRow, JobState, Queue, _job
from mrtd.issuance.records import EventRow
from mrtd.issuance.roles import Role
from mrtd.issuance.states import DocumentState
from mrtd.issuance.users import UserRow

_COUNTED = (DocumentState.ISSUED.value, DocumentState.SPOILED.value)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: dt.datetime
    issued: int
    spoiled: int

    @property
    def spoil_rate(self) -> float | None:
        made = self.issued + self.spoiled
        return self.spoiled / made if made else None


@dataclass(frozen=True, slots=True)
class Station:
    name: str
    registered_key: bool
    current: tuple[Job, ...]  # jobs it holds a lease on now
    done_today: int
    last_seen: dt.datetime | None  # when it last took or finished a job


@dataclass(frozen=True)
class ProductionReport:
    at: dt.datetime
    stations: tuple[Station, ...]
    queue: dict[str, int]
    recent_jobs: tuple[Job, ...]
    hours: tuple[Bucket, ...]  # the last 24 hours, oldest first
    days: tuple[Bucket, ...]  # the last 7 days, oldest first
    totals: dict[str, Any] = field(default_factory=dict)


def _buckets(rows: list[tuple[dt.datetime, str]], start: dt.datetime, step: dt.timedelta, count: int) -> tuple[Bucket, ...]:
    issued = [0] * count
    spoiled = [0] * count
    for at, state in rows:
        i = int((at - start) / step)
        if 0 <= i < count:
            (issued if state == DocumentState.ISSUED.value else spoiled)[i] += 1
    return tuple(Bucket(start + i * step, issued[i], spoiled[i]) for i in range(count))


def production_report(queue: Queue, now: dt.datetime, *, recent: int = 30) -> ProductionReport:
    """Every read here is bounded by what is recent (indexes on events.at and jobs(station, leased_at), and
    the queue's kept depth), not by the records' history: the page is viewed all day."""
    store = queue.store
    now = now.astimezone(dt.UTC)
    hour0 = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=23)
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=6)
    depth = queue.depth()
    with store.reading() as s:
        events = [(r[0], r[1]) for r in s.execute(
            select(EventRow.at, EventRow.to_state).where(EventRow.at >= min(hour0, day0),
                                                          EventRow.to_state.in_(_COUNTED))).all()]
        jobs = [_job(r) for r in s.execute(select(JobRow).order_by(JobRow.id.desc()).limit(recent)).scalars()]
        leased = [_job(r) for r in s.execute(select(JobRow).where(JobRow.state == JobState.LEASED.value)).scalars()]
        # per station, its last job and its jobs done in the last day: index lookups in one statement (a GROUP
        # BY station would read every job ever made)
        mine = JobRow.station == UserRow.name
        last_seen = select(func.max(JobRow.leased_at)).where(mine).correlate(UserRow).scalar_subquery()
        done_today = select(func.count()).where(mine, JobRow.leased_at >= now - dt.timedelta(hours=24),
                                                JobRow.state == JobState.DONE.value).correlate(UserRow).scalar_subquery()
        rows = s.execute(select(UserRow.name, UserRow.station_key, last_seen, done_today)
                         .where(UserRow.role == Role.STATION.value).order_by(UserRow.name)).all()
    stations = tuple(Station(name, key is not None, tuple(j for j in leased if j.station == name), int(done), seen)
                     for name, key, seen, done in rows)
    hours = _buckets(events, hour0, dt.timedelta(hours=1), 24)
    days = _buckets(events, day0, dt.timedelta(days=1), 7)
    week_issued = sum(b.issued for b in days)
    week_spoiled = sum(b.spoiled for b in days)
    day_issued = sum(b.issued for b in hours)
    day_spoiled = sum(b.spoiled for b in hours)
    totals = {"day_issued": day_issued, "day_spoiled": day_spoiled, "week_issued": week_issued,
              "week_spoiled": week_spoiled,
              "day_spoil_rate": day_spoiled / (day_issued + day_spoiled) if day_issued + day_spoiled else None,
              "week_spoil_rate": week_spoiled / (week_issued + week_spoiled) if week_issued + week_spoiled else None}
    return ProductionReport(now, stations, depth, tuple(jobs), hours, days, totals)
