"""The records store, the same tests against SQLite and PostgreSQL (the `store` fixture is parametrised)."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from test_records_backends import StepClock

from mrtd.errors import InputError, StateError
from mrtd.issuance import records as records_module
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore, UnknownRecord
from mrtd.issuance.states import DocumentState, IllegalTransition

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures

S = DocumentState
POLICY = NumberPolicy("UT")
HAPPY = [S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED, S.ISSUED]
PAYLOAD: dict[str, Any] = {
    "document": {"code": "P", "issuing_state": "UTO"},
    "holder": {"primary": "ERIKSSON"},
}


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            t: int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("applications", "documents", "events", "audit_log", "chips", "seals")
        }


def issue(store: RecordStore, key: str) -> str:
    app = store.receive_application(key, PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    for state in HAPPY:
        store.transition(number, state, actor="operator-1", detail={"step": state.value})
    return number


# --- applications -------------------------------------------------------------------------------------


def test_receiving_the_same_application_twice_is_one_record(store: RecordStore, raw_engine: Engine) -> None:
    first = store.receive_application("k" * 64, PAYLOAD)
    second = store.receive_application("k" * 64, dict(PAYLOAD))
    assert first.id == second.id and first.received_at == second.received_at
    assert second.payload == PAYLOAD
    assert counts(raw_engine)["applications"] == 1
    assert counts(raw_engine)["audit_log"] == 1


def test_same_key_with_other_content_is_refused(store: RecordStore) -> None:
    store.receive_application("k1", PAYLOAD)
    with pytest.raises(StateError, match="k1: already received with different content"):
        store.receive_application("k1", {"other": 1})


def test_application_lookup_lists_its_documents(store: RecordStore) -> None:
    assert store.application("nope") is None
    app = store.receive_application("k1", PAYLOAD)
    n1 = store.allocate_number(POLICY, app.id)
    store.transition(n1, S.SPOILED, actor="station-2", detail="printer jam")
    n2 = store.allocate_number(POLICY, app.id)
    found = store.application("k1")
    assert found is not None
    assert found.documents == ((n1, S.SPOILED), (n2, S.RECEIVED))
    # A resumed batch receiving it again sees the same documents.
    assert store.receive_application("k1", PAYLOAD).documents == found.documents


def test_payload_must_be_json(store: RecordStore) -> None:
    with pytest.raises(InputError, match="payload"):
        store.receive_application("k1", {"when": dt.date(2026, 1, 1)})


# --- numbers and states -------------------------------------------------------------------------------


def test_allocation_creates_the_document_in_received(store: RecordStore, clock: StepClock) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    assert number == "UT0000001"
    doc = store.document(number)
    assert doc.state is S.RECEIVED and doc.application_key == "k1" and doc.sequence_key == "UT/9"
    assert doc.created_at.tzinfo is not None and doc.created_at < clock.now
    (event,) = store.events(number)
    assert event.from_state is None and event.to_state is S.RECEIVED


def test_one_live_document_per_application(store: RecordStore) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    with pytest.raises(StateError, match=f"already has document {number}"):
        store.allocate_number(POLICY, app.id)
    store.transition(number, S.CANCELLED, actor="op", detail={"reason": "withdrawn"})
    assert store.allocate_number(POLICY, app.id) == "UT0000002"


def test_a_failed_documents_number_is_spoiled_never_reused(store: RecordStore) -> None:
    app = store.receive_application("k1", PAYLOAD)
    first = store.allocate_number(POLICY, app.id)
    store.transition(first, S.VALIDATED, actor="pipeline")
    store.transition(first, S.SPOILED, actor="pipeline", detail={"step": "chip", "error": "SW 6A82"})
    second = store.allocate_number(POLICY, app.id)
    assert (first, second) == ("UT0000001", "UT0000002")
    assert store.document(first).state is S.SPOILED
    assert [d.number for d in store.documents(state=S.SPOILED)] == [first]


def test_allocation_for_an_unknown_application(store: RecordStore) -> None:
    with pytest.raises(UnknownRecord, match="no application 99"):
        store.allocate_number(POLICY, 99)


def test_the_happy_path_records_every_step(store: RecordStore) -> None:
    number = issue(store, "k1")
    doc = store.document(number)
    assert doc.state is S.ISSUED
    events = store.events(number)
    assert [e.to_state for e in events] == [S.RECEIVED, *HAPPY]
    assert [e.from_state for e in events] == [None, S.RECEIVED, *HAPPY[:-1]]
    assert events[-1].actor == "operator-1" and events[-1].detail == {"step": "issued"}
    assert len({e.audit_seq for e in events}) == len(events)
    assert verify_chain(store).ok


def test_illegal_transition_names_both_states_and_writes_nothing(
    store: RecordStore, raw_engine: Engine
) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    before = counts(raw_engine)
    with pytest.raises(IllegalTransition, match=f"{number}: illegal transition received -> issued") as info:
        store.transition(number, "issued", actor="op")
    assert info.value.from_state is S.RECEIVED and info.value.to_state is S.ISSUED
    assert counts(raw_engine) == before
    assert store.document(number).state is S.RECEIVED


def test_unknown_document(store: RecordStore) -> None:
    with pytest.raises(UnknownRecord, match="no document UT9999999"):
        store.transition("UT9999999", S.VALIDATED, actor="op")
    with pytest.raises(UnknownRecord):
        store.document("UT9999999")
    with pytest.raises(UnknownRecord):
        store.events("UT9999999")
    with pytest.raises(InputError, match=r"document\.number"):
        store.document("ut-1")


@pytest.mark.parametrize(
    ("actor", "detail", "where"),
    [
        ("op", {"passphrase": "hunter2"}, "detail.passphrase"),
        ("op", {"key": {"PIN": "1234"}}, "detail.key.PIN"),
        ("op", {"ds_private_key": "x"}, "detail.ds_private_key"),
        ("op", "-----BEGIN PRIVATE KEY-----\nMIIE", "detail"),
        ("-----BEGIN EC PRIVATE KEY-----", None, "actor"),
        ("", None, "actor"),
    ],
)
def test_secrets_never_reach_the_records(
    store: RecordStore, raw_engine: Engine, actor: str, detail: Any, where: str
) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    before = counts(raw_engine)
    with pytest.raises(InputError, match=where):
        store.transition(number, S.VALIDATED, actor=actor, detail=detail)
    assert counts(raw_engine) == before


def test_a_failure_inside_a_write_leaves_nothing_half_written(
    store: RecordStore, raw_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = store.receive_application("k1", PAYLOAD)
    before = counts(raw_engine)
    original = records_module._Writer.event

    def event_then_crash(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.session.flush()  # the rows reach the database inside the transaction ...
        raise RuntimeError("power cut")  # ... and then the process fails before COMMIT

    monkeypatch.setattr(records_module._Writer, "event", event_then_crash)
    with pytest.raises(RuntimeError):
        store.allocate_number(POLICY, app.id)
    monkeypatch.undo()
    assert counts(raw_engine) == before
    # The number was never handed out, so the next allocation gets it; the chain is intact.
    assert store.allocate_number(POLICY, app.id) == "UT0000001"
    assert verify_chain(store).ok


class RecordingGuard:
    """A numbering guard that remembers what it was told, and when."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int | str]] = []

    def floor(self, sequence_key: str) -> int:
        return max((v for what, v in self.told if what == "reserve" and isinstance(v, int)), default=0)

    def reserve(self, sequence_key: str, next_value: int) -> None:
        self.told.append(("reserve", next_value))

    def reserve_given(self, number: str) -> None:
        self.told.append(("given", number))

    def committed(self, documents: int) -> None:
        self.told.append(("committed", documents))


def test_writes_inside_a_write_commit_with_it_or_not_at_all(store: RecordStore, raw_engine: Engine) -> None:
    """The store's own changes made inside `writing()` join that transaction: the lock is taken once, the
    entries follow one another, and a failure after them leaves none of them (nor tells the numbering mark
    of a document that was rolled back)."""
    guard = RecordingGuard()
    store.guard = guard
    first = store.receive_application("k1", PAYLOAD)
    second = store.receive_application("k2", PAYLOAD)
    before = counts(raw_engine)
    with pytest.raises(RuntimeError), store.writing():
        number = store.allocate_number(POLICY, first.id)
        store.transition(number, S.VALIDATED, actor="operator-1")
        assert counts(raw_engine) == before  # not committed yet: another connection sees nothing
        raise RuntimeError("the step after failed")
    assert counts(raw_engine) == before
    assert guard.told == [("reserve", 2)]  # reserved before use (a skipped number), never counted as committed

    with store.writing() as w:
        number = store.allocate_number(POLICY, first.id)
        store.transition(number, S.VALIDATED, actor="operator-1")
        other = store.allocate_number(POLICY, second.id)
        w.audit(actor="operator-1", action="note.batch", subject="both", detail=None)
        assert ("committed", 1) not in guard.told  # the mark hears of documents only once they are committed
    assert (number, other) == ("UT0000002", "UT0000003")  # the rolled-back value is skipped, never reused
    assert guard.told[-2:] == [("committed", 1), ("committed", 2)] and ("reserve", 4) in guard.told
    assert counts(raw_engine)["documents"] == 2 and store.document(number).state is S.VALIDATED
    assert verify_chain(store).ok


def test_a_read_inside_a_write_reads_in_it(store: RecordStore) -> None:
    """A read inside this thread's write uses the write's session: it sees the write's own changes and
    needs no second connection (with every pooled connection held by a thread queued for the write lock,
    a second one could wait for the pool's timeout)."""
    app = store.receive_application("k1", PAYLOAD)
    with store.writing():
        number = store.allocate_number(POLICY, app.id)
        assert store.document(number).state is S.RECEIVED  # not committed yet, seen all the same
    assert store.document(number).state is S.RECEIVED


def test_steps_joined_in_one_write_lock_the_document_and_move_the_head_once(store: RecordStore,
                                                                          raw_engine: Engine) -> None:
    """Every round trip inside the write lock holds up every other writer: the steps of one transaction
    ask for their document's row once, and write the audit chain's head once, as it ends."""
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.lower().split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        with store.writing():
            store.transition(number, S.VALIDATED, actor="operator-1")
            store.transition(number, S.APPROVED, actor="operator-1")
            store.note(number, "checked", actor="operator-1")
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    rows = [s for s in statements if s.startswith("select documents.id") and "where documents.number =" in s]
    heads = [s for s in statements if s.startswith("update audit_head")]
    assert len(rows) == 1 and len(heads) == 1, statements
    with raw_engine.connect() as c:
        head = tuple(c.execute(text("SELECT seq, hash FROM audit_head")).one())
        last = tuple(c.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one())
    assert head == last and head[0] == 5  # receipt, allocation, two transitions, the note
    assert store.document(number).state is S.APPROVED
    assert verify_chain(store).ok


def test_a_write_of_another_thread_waits_and_does_not_join(store: RecordStore) -> None:
    """Joining is per thread: another thread's write runs in its own transaction, after this one commits."""
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    opened, done = threading.Event(), threading.Event()
    seen: list[object] = []

    def other_thread() -> None:
        opened.wait(10)
        try:
            store.transition(number, S.APPROVED, actor="operator-2")  # legal only after VALIDATED commits
            seen.append(store.document(number).state)
        except Exception as exc:  # reported to the test below
            seen.append(exc)
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with store.writing():
        store.transition(number, S.VALIDATED, actor="operator-1")
        opened.set()
        assert not done.wait(0.5)  # held back by the open transaction, not joined into it
    worker.join(30)
    assert seen == [S.APPROVED]
    assert [e.to_state for e in store.events(number)] == [S.RECEIVED, S.VALIDATED, S.APPROVED]
    assert verify_chain(store).ok


def test_a_write_through_a_second_store_inside_a_write_is_refused_at_once(store: RecordStore, store_url: str,
                                                                         clock: StepClock) -> None:
    """Another store on the same database cannot join (its own connection): it would wait for ever on the
    lock this thread holds, so it is refused, and the outer write goes on."""
    app = store.receive_application("k1", PAYLOAD)
    with RecordStore.open(store_url, clock=clock) as second, store.writing():
        number = store.allocate_number(POLICY, app.id)
        started = time.monotonic()
        with pytest.raises(StateError, match="share one RecordStore"):
            second.transition(number, S.VALIDATED, actor="operator-1")
        assert time.monotonic() - started < 1.0
    assert store.document(number).state is S.RECEIVED and verify_chain(store).ok


def test_productions_under_way_never_starve_the_writes(store: RecordStore) -> None:
    """An issuing lock is held for a whole production (on PostgreSQL, a connection with its advisory lock):
    as many as a connection pool holds, held at once, leave every write still a connection of its own."""
    apps = [store.receive_application(f"k{i}", PAYLOAD) for i in range(16)]
    with contextlib.ExitStack() as held:
        for app in apps[:15]:  # the size of SQLAlchemy's default pool, 5 and 10 overflow
            held.enter_context(store.issuing(app))
        started = time.monotonic()
        number = store.allocate_number(POLICY, apps[15].id)
        store.transition(number, S.VALIDATED, actor="operator-1")
        assert store.document(number).state is S.VALIDATED
        assert time.monotonic() - started < 10  # not the pool's 30 s timeout


# --- chips and seals ----------------------------------------------------------------------------------


def test_chip_and_seal_are_recorded(store: RecordStore) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    for state in HAPPY[:2]:
        store.transition(number, state, actor="pipeline")
    seal = store.attach_seal(
        number, kind="vds", payload_sha256="AB" * 32, signer_key_id="BS-UTO-1", actor="pipeline"
    )
    chip = store.attach_chip(
        number,
        sod_sha256="cd" * 32,
        signer_key_id="DS-UTO-1",
        data_groups=[14, 1, 2, 1],
        chip_id="sim-0001",
        profile="jmrtd",
        actor="pipeline",
    )
    assert seal.payload_sha256 == "ab" * 32
    assert chip.data_groups == (1, 2, 14)
    doc = store.document(number)
    assert doc.chip == chip and doc.seals == (seal,)
    with pytest.raises(StateError, match="chip is already recorded"):
        store.attach_chip(number, sod_sha256="cd" * 32, signer_key_id="DS", data_groups=[1], actor="pipeline")
    with pytest.raises(StateError, match="vds seal is already recorded"):
        store.attach_seal(number, kind="vds", payload_sha256="ab" * 32, signer_key_id="BS", actor="pipeline")
    assert verify_chain(store).entries == 1 + 1 + 2 + 2


def test_chip_and_seal_input_is_checked(store: RecordStore) -> None:
    app = store.receive_application("k1", PAYLOAD)
    number = store.allocate_number(POLICY, app.id)
    with pytest.raises(InputError, match="sod_sha256"):
        store.attach_chip(number, sod_sha256="zz", signer_key_id="DS", data_groups=[1], actor="p")
    with pytest.raises(InputError, match="data_groups"):
        store.attach_chip(number, sod_sha256="00" * 32, signer_key_id="DS", data_groups=[17], actor="p")
    with pytest.raises(InputError, match=r"seal\.kind"):
        store.attach_seal(number, kind="qr", payload_sha256="00" * 32, signer_key_id="BS", actor="p")


def test_no_chip_or_seal_after_production(store: RecordStore) -> None:
    number = issue(store, "k1")
    with pytest.raises(StateError, match="in state issued"):
        store.attach_seal(number, kind="vds", payload_sha256="00" * 32, signer_key_id="BS", actor="p")


# --- listing ------------------------------------------------------------------------------------------


def test_documents_filter_by_state_and_time(store: RecordStore, clock: StepClock) -> None:
    issued = issue(store, "k1")
    mark = clock.now
    app = store.receive_application("k2", PAYLOAD)
    fresh = store.allocate_number(POLICY, app.id)
    later = clock.now
    assert [d.number for d in store.documents()] == [issued, fresh]
    assert [d.number for d in store.documents(state="issued")] == [issued]
    assert [d.number for d in store.documents(state=S.RECEIVED)] == [fresh]
    assert [d.number for d in store.documents(since=mark)] == [fresh]
    assert [d.number for d in store.documents(until=mark)] == [issued]
    assert store.documents(since=later) == []
    assert store.documents(state=S.ISSUED, since=mark) == []
    with pytest.raises(InputError, match="since"):
        store.documents(since=dt.datetime(2026, 1, 1))


def test_naive_clock_is_refused(store_url: str) -> None:
    with (
        RecordStore.open(store_url, clock=lambda: dt.datetime(2026, 1, 1)) as s,
        pytest.raises(Exception, match="naive"),
    ):
        s.receive_application("k1", {})


def test_notes_go_to_the_audit_log_without_changing_state(store: RecordStore, raw_engine: Engine) -> None:
    number = issue(store, "k1")
    seq = store.note(number, "reprint", actor="clerk-7", detail={"reason": "ink smudge"})
    assert store.document(number).state is S.ISSUED
    assert len(store.events(number)) == 6
    with raw_engine.connect() as c:
        action, subject, detail = c.execute(
            text(f"SELECT action, subject, detail FROM audit_log WHERE seq = {seq}")
        ).one()
    assert (action, subject) == ("note.reprint", number)
    assert detail == '{"detail":{"reason":"ink smudge"},"state":"issued"}'
    assert verify_chain(store).ok
    with pytest.raises(InputError, match="step"):
        store.note(number, "Reprint!", actor="clerk-7")
    with pytest.raises(UnknownRecord):
        store.note("UT0000099", "reprint", actor="clerk-7")


def _busy_worker(url: str, ready: Any) -> None:
    with RecordStore.open(url) as s:
        for i in range(100_000):
            app = s.receive_application(f"crash-{i}", {"i": i})
            number = s.allocate_number(POLICY, app.id)
            for state in HAPPY:
                s.transition(number, state, actor="worker", detail={"i": i})
            if i == 0:
                ready.set()  # writing for real (a database slow to answer its first writes is not a kill mid-write)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9])
def test_kill_9_mid_write_leaves_consistent_records(store_url: str, delay: float) -> None:
    with RecordStore.open(store_url):
        pass
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_busy_worker, args=(store_url, ready))
    proc.start()
    assert ready.wait(30)
    time.sleep(delay)
    os.kill(proc.pid or 0, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    with RecordStore.open(store_url) as s:
        report = verify_chain(s)
        assert report.ok, report
        docs = s.documents()
        assert docs, "the worker wrote nothing before it was killed"
        for doc in docs:
            events = s.events(doc.number)
            # Every state a document is in was reached by a recorded event, one after another.
            assert events[-1].to_state is doc.state
            assert [e.from_state for e in events[1:]] == [e.to_state for e in events[:-1]]
        # Counted independently: received + allocated + one per transition, nothing more, nothing less.
        transitions = sum(len(s.events(d.number)) for d in docs)
        applications = {d.application_key for d in docs}
        unnumbered = 1 if s.application(f"crash-{len(applications)}") is not None else 0
        assert report.entries == len(applications) + unnumbered + transitions
        # And the store carries on where it stopped.
        app = s.receive_application("after", {})
        assert s.allocate_number(POLICY, app.id) == POLICY.format(len(docs) + 1)
