"""Document number policy, and allocation unique under concurrent worker processes (SQLite, PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import queue
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.errors import ConfigurationError, InputError
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.numbering import NumberPolicy, check_number
from mrtd.issuance.records import RecordStore
from mrtd.issuance.states import DocumentState

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures

# --- the policy ---------------------------------------------------------------------------------------


def test_prefix_and_zero_padded_sequence_fill_the_nine_characters() -> None:
    p = NumberPolicy("UT")
    assert p.format(1) == "UT0000001"
    assert p.format(9_999_999) == "UT9999999"
    assert p.digits == 7 and p.last == 9_999_999 and p.sequence_key == "UT/9"
    assert p.parse("UT0000042") == 42


def test_no_prefix_and_shorter_numbers() -> None:
    assert NumberPolicy().format(7) == "000000007"
    assert NumberPolicy("X", length=6, start=100).format(100) == "X00100"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": "ut"}, "outside A-Z and 0-9"),
        ({"prefix": "U<"}, "outside A-Z and 0-9"),
        ({"prefix": "UTOPIA123"}, "leaves no room"),
        ({"prefix": "U", "length": 10}, r"length: 10 is not 1\.\.9"),
        ({"prefix": "U", "length": 0}, r"length: 0 is not 1\.\.9"),
        ({"prefix": "UT", "start": 10_000_000}, "start"),
        ({"prefix": "UT", "start": -1}, "start"),
    ],
)
def test_bad_policies_are_configuration_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        NumberPolicy(**kwargs)


def test_exhausted_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="exhausted"):
        NumberPolicy("UT12345", length=9).format(100)


def test_from_config() -> None:
    assert NumberPolicy.from_config({"prefix": "UT", "start": 5}) == NumberPolicy("UT", 9, 5)
    assert NumberPolicy.from_config(NumberPolicy("AB", 8, 3).as_config()) == NumberPolicy("AB", 8, 3)
    with pytest.raises(ConfigurationError, match="unknown keys format"):
        NumberPolicy.from_config({"format": "x"})
    with pytest.raises(ConfigurationError, match="length: must be an integer"):
        NumberPolicy.from_config({"length": "9"})


def test_parse_refuses_other_numbers() -> None:
    p = NumberPolicy("UT")
    for other in ("XY0000001", "UT000001", "UT00000A1", "L898902C3"):
        with pytest.raises(InputError, match=r"document\.number"):
            p.parse(other)


def test_check_number() -> None:
    assert check_number("L898902C3") == "L898902C3"
    for bad in ("", "L898902C36", "l898902c3", "L898<02C3"):
        with pytest.raises(InputError):
            check_number(bad)


@settings(max_examples=100)
@given(
    prefix=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=5),
    length=st.integers(6, 9),
    data=st.data(),
)
def test_format_parse_round_trip(prefix: str, length: int, data: st.DataObject) -> None:
    p = NumberPolicy(prefix, length)
    seq = data.draw(st.integers(p.start, p.last))
    number = p.format(seq)
    assert len(number) == length and number.startswith(prefix)
    assert check_number(number) == number
    assert p.parse(number) == seq


# --- allocation ---------------------------------------------------------------------------------------


def test_sequence_starts_at_the_policys_start_and_policies_are_independent(store: RecordStore) -> None:
    a = NumberPolicy("UT", start=500)
    b = NumberPolicy("ZZ")
    apps = [store.receive_application(f"k{i}", {"i": i}) for i in range(3)]
    assert store.allocate_number(a, apps[0].id) == "UT0000500"
    assert store.allocate_number(b, apps[1].id) == "ZZ0000001"
    assert store.allocate_number(a, apps[2].id) == "UT0000501"


def test_overlapping_policies_are_refused_not_reused(store: RecordStore) -> None:
    apps = [store.receive_application(f"k{i}", {"i": i}) for i in range(2)]
    assert store.allocate_number(NumberPolicy("1"), apps[0].id) == "100000001"
    with pytest.raises(ConfigurationError, match="100000001 already exists"):
        store.allocate_number(NumberPolicy("", start=100000001), apps[1].id)


WORKERS = 4
PER_WORKER = 12


def _worker(url: str, worker: int, gate: multiprocessing.synchronize.Event, out: Any) -> None:
    """Receive and number PER_WORKER applications; every third document fails and is spoiled, and its
    application gets a fresh number."""
    policy = NumberPolicy("UT")
    results: list[tuple[str, str]] = []
    with RecordStore.open(url) as store:
        gate.wait(30)
        for i in range(PER_WORKER):
            app = store.receive_application(f"w{worker}-{i}", {"worker": worker, "i": i})
            number = store.allocate_number(policy, app.id, actor=f"worker-{worker}")
            if i % 3 == 0:
                store.transition(
                    number, DocumentState.SPOILED, actor=f"worker-{worker}", detail={"step": "chip"}
                )
                results.append((number, "spoiled"))
                number = store.allocate_number(policy, app.id, actor=f"worker-{worker}")
            store.transition(number, DocumentState.VALIDATED, actor=f"worker-{worker}")
            results.append((number, "validated"))
    out.put((worker, results))


@pytest.mark.slow
def test_numbers_are_unique_under_concurrent_worker_processes(store_url: str) -> None:
    with RecordStore.open(store_url):  # create the tables before the workers race
        pass
    ctx = multiprocessing.get_context("fork")
    gate = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(store_url, w, gate, out)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    gate.set()
    collected: dict[int, list[tuple[str, str]]] = {}
    deadline = time.monotonic() + 240
    while len(collected) < WORKERS:
        try:
            worker, results = out.get(timeout=0.5)
            collected[worker] = results
        except queue.Empty:
            failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            assert not failed, f"a worker failed (exit codes {failed})"
            assert time.monotonic() < deadline, "workers did not finish in time"
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    handed_out = [pair for w in range(WORKERS) for pair in collected[w]]
    numbers = [n for n, _ in handed_out]
    assert len(numbers) == len(set(numbers)), "a number was handed out twice"
    spoiled = {n for n, s in handed_out if s == "spoiled"}
    expected_total = WORKERS * PER_WORKER + WORKERS * len(range(0, PER_WORKER, 3))
    assert len(numbers) == expected_total
    # No gaps: the numbers are exactly 1..total; the only ones not in use are the spoiled ones.
    policy = NumberPolicy("UT")
    assert set(numbers) == {policy.format(v) for v in range(1, expected_total + 1)}
    with RecordStore.open(store_url) as store:
        docs = {d.number: d.state for d in store.documents()}
        assert set(docs) == set(numbers)
        assert {n for n, s in docs.items() if s is DocumentState.SPOILED} == spoiled
        assert all(s is DocumentState.VALIDATED for n, s in docs.items() if n not in spoiled)
        report = verify_chain(store)
        assert report.ok, report
        # received + allocated + validated per application, plus spoil + re-allocation per failure.
        assert report.entries == WORKERS * PER_WORKER * 3 + 2 * len(spoiled)
