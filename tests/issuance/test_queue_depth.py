"""The queue's depth per state (read at every /metrics scrape and production page view) agrees with a count
of every job at each step, on SQLite and PostgreSQL, without reading the finished jobs again: a job that is
done, spoiled, expired or failed never changes, so each is counted once (benchmarks/bench_production.py
times it on a million jobs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, update
from test_records_backends import StepClock

from mrtd.issuance.queue import JobRow, JobState, Queue
from mrtd.issuance.records import RecordsError, RecordStore

pytest_plugins = ["test_records_backends"]  # store_url, clock


@pytest.fixture
def queue(store_url: str, clock: StepClock) -> Iterator[Queue]:
    store = RecordStore.open(store_url, clock=clock)
    try:
        yield Queue(store, max_attempts=2)
    finally:
        store.close()


def counted(store: RecordStore) -> dict[str, int]:
    """The reference: every job, counted by state."""
    with store.reading() as s:
        return {state: int(n) for state, n in s.execute(select(JobRow.state, func.count()).group_by(JobRow.state))}


def enqueue(queue: Queue, n: int) -> None:
    for _ in range(n):
        app = queue.store.receive_application(f"app-{counted(queue.store)}-{_}", {"k": _})
        with queue.store.writing() as w:
            queue.enqueue(w, app.id, "TD3", actor="clerk")


def test_the_depth_follows_every_move_of_a_job(queue: Queue, clock: StepClock) -> None:
    assert queue.depth() == {}
    enqueue(queue, 5)
    assert queue.depth() == counted(queue.store) == {"queued": 5}
    jobs = [queue.lease(f"st{i}", ["TD3"], seconds=30) for i in range(4)]
    assert all(jobs)
    assert queue.depth() == counted(queue.store) == {"queued": 1, "leased": 4}
    a, b, c, d = (j for j in jobs if j is not None)
    queue.finish(a.id, "st0", JobState.DONE, outcome="issued", requeue=False)
    queue.finish(b.id, "st1", JobState.SPOILED, outcome="chip", requeue=True)  # a second attempt queued
    queue.release(c.id, "st2", reason="printer jam")
    assert queue.depth() == counted(queue.store) == {"queued": 3, "leased": 1, "done": 1, "spoiled": 1}
    clock.now += dt.timedelta(seconds=60)  # d's lease runs out
    assert [j.id for j in queue.expire_due(actor="office", now=clock.now)] == [d.id]
    assert queue.depth() == counted(queue.store) == {"queued": 4, "done": 1, "spoiled": 1, "expired": 1}
    for i in range(4):
        job = queue.lease(f"st{i}", ["TD3"], seconds=30)
        assert job is not None
        queue.finish(job.id, f"st{i}", JobState.SPOILED, outcome="chip", requeue=True)  # the second attempts fail
    assert queue.depth() == counted(queue.store)
    assert queue.depth()["failed"] == 2


def test_a_finished_job_is_counted_once_and_not_read_again(queue: Queue) -> None:
    enqueue(queue, 3)
    for _ in range(3):
        job = queue.lease("st1", ["TD3"], seconds=30)
        assert job is not None
        queue.finish(job.id, "st1", JobState.DONE, outcome="issued", requeue=False)
    assert queue.depth() == {"done": 3}
    with queue.store.writing() as w:  # behind the queue's back: a finished job is never changed by mrtd
        w.session.execute(update(JobRow).where(JobRow.id == 1).values(state=JobState.FAILED.value))
    enqueue(queue, 1)
    assert queue.depth() == {"done": 3, "queued": 1}  # the finished jobs were not read again
    assert Queue(queue.store).depth() == counted(queue.store) == {"done": 2, "failed": 1, "queued": 1}


def test_records_restored_to_fewer_jobs_are_counted_afresh(queue: Queue) -> None:
    enqueue(queue, 3)
    assert queue.depth() == {"queued": 3}
    with queue.store.writing() as w:  # as a restore of an older backup would leave them
        w.session.execute(JobRow.__table__.delete().where(JobRow.id > 1))
    assert queue.depth() == counted(queue.store) == {"queued": 1}


def test_a_read_that_fails_half_way_counts_nothing_twice(queue: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    def done(n: int) -> None:
        enqueue(queue, n)
        for _ in range(n):
            job = queue.lease("st1", ["TD3"], seconds=30)
            assert job is not None
            queue.finish(job.id, "st1", JobState.DONE, outcome="issued", requeue=False)

    done(1)
    assert queue.depth() == {"done": 1}
    done(2)  # new jobs, finished: the next read counts them in the database
    enqueue(queue, 1)
    real = queue.store.reading

    @contextmanager
    def lost_after_two_statements() -> Iterator[Any]:
        with real() as session:
            calls = iter(range(3))

            class Half:
                def execute(self, *args: Any, **kwargs: Any) -> Any:
                    if next(calls, 2) == 2:
                        raise RecordsError("records: cannot read: the connection was lost (test)")
                    return session.execute(*args, **kwargs)

            yield Half()

    monkeypatch.setattr(queue.store, "reading", lost_after_two_statements)
    with pytest.raises(RecordsError):
        queue.depth()
    monkeypatch.undo()
    assert queue.depth() == counted(queue.store) == {"done": 3, "queued": 1}
