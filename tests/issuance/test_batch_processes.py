"""Processes of a batch, tried the way an accident would, on SQLite and PostgreSQL: the batch's own process
killed with `kill -9` leaves no worker behind, and running the batch again issues every application once.

The batches run through the `mrtd` command as real subprocesses, on a site that renders no page (every
other step, the simulated chip included, runs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from clikit import json_result
from conftest import EXAMPLES, KEY_SECRETS, ROOT, secret_env
from sqlalchemy import create_engine, text

from mrtd.issuance.audit import verify_chain
from mrtd.issuance.processes import ProcessId, alive, this_process
from mrtd.issuance.records import ISSUING_LEASE, AlreadyBeingIssued, RecordStore
from mrtd.issuance.site import SiteConfig, init_site, load_site
from mrtd.issuance.states import DocumentState

pytest_plugins = ["test_records_backends"]  # store_url: SQLite, and PostgreSQL in a schema of its own

COUNT = 12


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _letters(i: int) -> str:
    return "".join("ABCDEFGHIJ"[int(c)] for c in f"{i:03d}")


def _application(i: int) -> dict[str, object]:
    return {"document": {"code": "PP", "format": "TD3", "issuing_state": "UTO", "date_of_expiry": "2036-11-19"},
            "holder": {"primary_identifier": "KAMARA", "secondary_identifier": f"FATMATA {_letters(i)}",
                       "nationality": "UTO", "date_of_birth": "1984-03-12", "sex": "F"},
            "portrait": str((EXAMPLES / "portraits" / "anna.jpg").resolve())}


def make_site(root: Path, url: str) -> SiteConfig:
    """A site on the records at `url` that renders no page (to keep the runs short)."""
    site = init_site(root, "UTO", secrets=KEY_SECRETS, clock=_now, certificate_country="UT", kdf_log2n=12,
                     database_url=url)
    toml = root / "mrtd.toml"
    toml.write_text(toml.read_text("utf-8").replace("render = true", "render = false"), "utf-8")
    return load_site(site.root)


def mrtd(*args: str) -> subprocess.Popen[str]:
    """`mrtd ARGS` in its own session, the signing keys' secrets in its environment."""
    return subprocess.Popen([sys.executable, "-m", "mrtd.cli", *args], cwd=ROOT,
                            env={**os.environ, **secret_env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _stat(pid: str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def session_members(sid: int) -> list[int]:
    """Live processes (zombies excluded) of the session `sid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) and fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and (fields := _stat(e.name)) and int(fields[1]) == pid]


def issued_folders(out: Path) -> int:
    """Documents issued so far: their output folders (a partial one starts with a dot)."""
    return sum(1 for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else 0


def test_kill_9_of_the_batch_leaves_no_worker_and_the_resumed_batch_issues_each_once(
        store_url: str, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", store_url)
    source = tmp_path / "batch.jsonl"
    source.write_text("".join(json.dumps(_application(i)) + "\n" for i in range(COUNT)), "utf-8")
    out = tmp_path / "out"
    command = ("batch", "issue", str(source), "--site", str(site.root), "--out", str(out), "--workers", "2",
               "--json")

    batch = mrtd(*command)
    try:
        # Mid-batch: both workers up and at least two documents issued (a slow machine waits longer).
        deadline = time.monotonic() + 300
        while batch.poll() is None and time.monotonic() < deadline:
            if len(children(batch.pid)) >= 2 and issued_folders(out) >= 2:
                break
            time.sleep(0.05)
        workers = children(batch.pid)
        assert batch.poll() is None and len(workers) == 2, (workers, batch.poll())
        assert issued_folders(out) < COUNT, "the batch finished before it could be killed"
        os.kill(batch.pid, signal.SIGKILL)  # the batch's own process only, not its process group
        batch.wait()
        deadline = time.monotonic() + 10
        while session_members(batch.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = session_members(batch.pid)
    finally:
        for pid in session_members(batch.pid):  # never leave one behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        batch.communicate()
    assert left == [], f"worker processes {left} outlived the batch by 10 s"

    resumed = mrtd(*command)
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    counts = json_result(stdout)["counts"]
    assert counts["issued"] + counts["already-issued"] == COUNT and counts["already-issued"] >= 2, counts

    with site.open_records() as store:
        docs = store.documents()
        assert verify_chain(store).ok
    issued = [d for d in docs if d.state is DocumentState.ISSUED]
    assert len(issued) == COUNT
    assert len({d.application_key for d in issued}) == COUNT  # every application issued exactly once
    assert len({d.number for d in docs}) == len(docs)  # no number twice, spoiled ones included
    assert {d.state for d in docs} <= {DocumentState.ISSUED, DocumentState.SPOILED}
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(d.number for d in issued)  # no partial left


def test_a_lock_holder_is_known_alive_dead_or_unknown() -> None:
    me = this_process()
    assert ProcessId.parse(me.text()) == me and alive(me) is True
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = ProcessId(me.host, me.boot, child.pid, me.start)
    assert alive(dead) is False  # gone (or its pid reused by a process started at another time)
    assert alive(ProcessId(me.host, me.boot, me.pid, me.start + 1)) is False  # a reused pid
    assert alive(ProcessId(me.host, "another-boot", me.pid, me.start)) is False  # the machine restarted
    assert alive(ProcessId("elsewhere.example", me.boot, me.pid, me.start)) is None  # cannot be told
    assert ProcessId.parse("not a holder") is None


def test_six_concurrent_runs_of_one_application_issue_it_once_and_spoil_nothing(
        store_url: str, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", store_url)
    application = tmp_path / "application.json"
    application.write_text(json.dumps(_application(7)), "utf-8")
    runs = [mrtd("issue", str(application), "--site", str(site.root), "--out", str(tmp_path / f"out-{i}"))
            for i in range(6)]
    outputs = [run.communicate(timeout=600) for run in runs]
    results = [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs, strict=True)]
    issued = [out for code, out, _ in results if code == 0]
    stopped = [err for code, _, err in results if code != 0]
    assert len(issued) == 1 and len(stopped) == 5, results
    assert all(code in (0, 1) for code, _, _ in results), results
    for err in stopped:  # stopped before anything was changed, or after the first run issued it
        assert "already being issued" in err or "already issued as document" in err, err
    print("stopped:", [err.strip()[:60] for err in stopped])

    with site.open_records() as store:
        docs = store.documents()
        assert verify_chain(store).ok
    assert [d.state for d in docs] == [DocumentState.ISSUED], docs  # one document, nothing spoiled
    assert issued[0].startswith(f"issued {docs[0].number} ")


HOLDER = """
import sys, time
from mrtd.issuance.records import RecordStore
store = RecordStore.open(sys.argv[1])
with store.issuing(store.application(sys.argv[2])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_issuing_lock_of_a_killed_process_is_taken_over(store_url: str) -> None:
    with RecordStore.open(store_url) as store:
        app = store.receive_application("a" * 64, {"holder": "test"})
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, store_url, app.key], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(AlreadyBeingIssued, match="already being issued by") as busy, store.issuing(app):
                pass
            if store.dialect == "sqlite":
                assert f"process {holder.pid} on " in str(busy.value)  # the row names who holds it
        finally:
            holder.kill()
            holder.wait()
        # PostgreSQL frees the lock as it sees the connection close; the row of a dead process is taken over.
        deadline = time.monotonic() + 10
        while True:
            try:
                with store.issuing(app):
                    break
            except AlreadyBeingIssued:
                assert time.monotonic() < deadline, "the lock of a killed process still blocks after 10 s"
                time.sleep(0.1)
        with store.issuing(app):  # released when the block ends
            pass


def test_a_lock_row_from_another_host_is_honoured_for_its_lease(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    with RecordStore.open(url) as store:
        app = store.receive_application("b" * 64, {"holder": "test"})
        me = this_process()
        other = ProcessId("elsewhere.example", me.boot, me.pid, me.start).text()
        engine = create_engine(url)

        def left_by_another_host(ago: dt.timedelta) -> None:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM issuing_locks"))
                conn.execute(text("INSERT INTO issuing_locks (application_id, holder, since) VALUES (:a, :h, :s)"),
                             {"a": app.id, "h": other, "s": (dt.datetime.now(dt.UTC) - ago).replace(tzinfo=None)})

        left_by_another_host(dt.timedelta(minutes=1))
        with pytest.raises(AlreadyBeingIssued, match=r"process \d+ on elsewhere\.example"), store.issuing(app):
            pass
        left_by_another_host(ISSUING_LEASE + dt.timedelta(minutes=1))
        refused: list[BaseException] = []

        def another_thread() -> None:
            try:
                with store.issuing(app):
                    pass
            except AlreadyBeingIssued as exc:
                refused.append(exc)

        with store.issuing(app):  # its lease has run out: taken over
            # The row names this process: another thread of it is told apart in memory.
            thread = threading.Thread(target=another_thread)
            thread.start()
            thread.join()
        assert len(refused) == 1 and "another thread of this process" in str(refused[0])
        with store.issuing(app):
            pass
        engine.dispose()
