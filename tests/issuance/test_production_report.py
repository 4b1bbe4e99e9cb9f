"""The production report's stations, on SQLite and PostgreSQL: each registered station's last job and its
jobs done in the last day, read per station through the jobs(station, leased_at) index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from test_records_backends import StepClock

from mrtd.issuance.production import production_report
from mrtd.issuance.queue import JobRow, JobState, Queue
from mrtd.issuance.records import RecordStore
from mrtd.issuance.roles import Role
from mrtd.issuance.users import add_user

pytest_plugins = ["test_records_backends"]  # store_url, clock


@pytest.fixture
def queue(store_url: str, clock: StepClock) -> Iterator[Queue]:
    store = RecordStore.open(store_url, clock=clock)
    try:
        yield Queue(store)
    finally:
        store.close()


def work(queue: Queue, station: str, state: JobState | None) -> dt.datetime:
    """One job made and leased by `station`, then finished as `state` (or left leased); when it was leased."""
    app = queue.store.receive_application(f"app-{queue.store.now().timestamp()}", {})
    with queue.store.writing() as w:
        queue.enqueue(w, app.id, "TD3", actor="clerk")
    job = queue.lease(station, ["TD3"], seconds=3600)
    assert job is not None
    if state is not None:
        queue.finish(job.id, station, state, outcome=state.value, requeue=False)
    with queue.store.reading() as s:
        row = s.get(JobRow, job.id)
        assert row is not None and row.leased_at is not None
        return row.leased_at


def test_each_station_shows_its_last_job_and_its_work_of_the_last_day(queue: Queue, clock: StepClock) -> None:
    for name in ("st1", "st2", "st3"):
        add_user(queue.store, name, Role.STATION, actor="admin")
    work(queue, "st1", JobState.DONE)  # two days ago
    clock.now += dt.timedelta(days=2)
    work(queue, "st1", JobState.DONE)
    work(queue, "st1", JobState.SPOILED)
    last_st1 = work(queue, "st1", JobState.DONE)
    last_st2 = work(queue, "st2", None)  # holds its lease now
    report = production_report(queue, clock.now)
    by_name = {s.name: s for s in report.stations}
    assert sorted(by_name) == ["st1", "st2", "st3"]
    assert (by_name["st1"].done_today, by_name["st1"].last_seen, by_name["st1"].current) == (2, last_st1, ())
    assert (by_name["st2"].done_today, by_name["st2"].last_seen) == (0, last_st2)
    assert [j.station for j in by_name["st2"].current] == ["st2"]
    assert (by_name["st3"].done_today, by_name["st3"].last_seen, by_name["st3"].current) == (0, None, ())
    assert report.queue == {"done": 3, "spoiled": 1, "leased": 1}
