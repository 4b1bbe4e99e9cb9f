"""The service on PostgreSQL: 2 API processes (`mrtd serve`), 12 station processes (`mrtd station run`)
whose simulated device takes 3 s per document (the chip simulator in process, then a wait to 3 s: chip
encoding and printing); then clerks submitting at a steady 20 requests/s (`--concurrent`: while the
stations work, the harder case on two cores).

Prints documents per minute against the ideal of 12 stations x 20/min = 240 (goal: at least 90 %),
duplicate numbers and lost jobs (goal: 0), and p50/p99 of POST /v1/applications at 20 requests/s (goal:
p99 under 250 ms). Needs PostgreSQL at 127.0.0.1:5432 (database `test`); works in a schema of its own,
dropped at the end.

Run: .venv/bin/python benchmarks/bench_service.py [--documents N] [--stations 12] [--seconds 30] [--rate 20]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pgsite import PG, ROOT
from pgsite import SECRETS as KEY_SECRETS

from mrtd.issuance.roles import Role
from mrtd.issuance.site import init_site, load_site
from mrtd.issuance.users import add_user, issue_token

EXAMPLES = ROOT / "examples" / "applications"
SIGNING_SECRETS = {r: KEY_SECRETS[r] for r in ("ds", "seal-signer")}
PASS = "benchmark-passphrase"
MRTD = [sys.executable, "-m", "mrtd.cli"]
DEVICE_SECONDS = 3.0
RATE = 20.0  # the goal's steady rate of submissions
LETTERS = "ABCDEFGHIJ"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def images() -> dict[str, str]:
    return {name: base64.b64encode((EXAMPLES / sub / name).read_bytes()).decode()
            for sub, name in (("portraits", "anna.jpg"), ("signatures", "anna.png"))}


def body(i: int, kind: str, pictures: dict[str, str]) -> dict[str, Any]:
    tag = "".join(LETTERS[int(c)] for c in f"{i:05d}")
    return {"application": {
        "document": {"code": "PP", "format": "TD3", "issuing_state": "UTO", "date_of_expiry": "2036-11-19",
                     "authority": "Benchmark Office"},
        "holder": {"primary_identifier": "ERIKSSON", "secondary_identifier": f"ANNA {kind} {tag}",
                   "nationality": "UTO", "date_of_birth": "1974-08-12", "sex": "F", "place_of_birth": "ZENITH"},
        "portrait": "anna.jpg", "signature": "anna.png"}, "images": pictures}


def psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(sql)


def pg_writes() -> tuple[int, ...]:
    """PostgreSQL's own write counters (pg_stat_bgwriter): checkpoints begun, buffers written by
    checkpoints, and by backends themselves (shared buffers full of dirty pages)."""
    import psycopg

    with psycopg.connect(PG, autocommit=True) as c:
        row = c.execute("SELECT checkpoints_timed + checkpoints_req, buffers_checkpoint, buffers_backend "
                        "FROM pg_stat_bgwriter").fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def pg_summary(before: tuple[int, ...], after: tuple[int, ...]) -> str:
    begun, by_checkpoint, by_backends = (b - a for a, b in zip(before, after, strict=True))
    return (f"{begun} checkpoint(s) begun, {by_checkpoint} buffers written by checkpoints, {by_backends} by the "
            "backends themselves (a checkpoint's writes and evictions share the disk with the commits)")


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"mrtd serve exited with {proc.returncode}")
        time.sleep(0.2)
    raise SystemExit("mrtd serve did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> list[int]:
    """The machine's CPU time so far by kind (/proc/stat: user nice system idle iowait irq softirq steal)."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def machine_share(before: list[int], after: list[int]) -> tuple[float, float]:
    """Of the machine's CPU time between two `cpu_ticks`: the share busy here, and the share stolen (a
    virtual machine's host ran something else on its cores: work here waited, whatever the code)."""
    d = [b - a for a, b in zip(before, after, strict=True)]
    total = max(1, sum(d))
    return (d[0] + d[1] + d[2] + d[5] + d[6]) / total, d[7] / total


def lock_metrics(urls: list[str]) -> dict[str, float]:
    """The records' write-lock histograms of the API processes (their /metrics), added up by sample."""
    from prometheus_client.parser import text_string_to_metric_families

    total: dict[str, float] = {}
    for url in urls:
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=30).text):
            for sample in family.samples:
                if sample.name.startswith("mrtd_records_write_lock_"):
                    key = sample.name + (f"|{sample.labels['le']}" if "le" in sample.labels else "")
                    total[key] = total.get(key, 0.0) + sample.value
    return total


def lock_summary(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """How the write lock went between two `lock_metrics`: writes, time held, waits (p99 as the histogram's
    bucket that holds it)."""
    grew = {k: after[k] - before.get(k, 0.0) for k in after}
    writes = grew.get("mrtd_records_write_lock_held_seconds_count", 0.0)
    if not writes:
        return "no writes"
    held = grew["mrtd_records_write_lock_held_seconds_sum"]
    waited = grew["mrtd_records_write_lock_wait_seconds_sum"] / writes
    buckets = sorted((float(k.split("|")[1]), v) for k, v in grew.items()
                     if k.startswith("mrtd_records_write_lock_wait_seconds_bucket|"))
    p99 = next(le for le, count in buckets if count >= 0.99 * writes)
    return (f"{writes:.0f} writes, held {held:.1f} s of the {seconds:.1f} s ({held / seconds:.0%}); waits: mean "
            f"{waited * 1000:.0f} ms, 99 % within {p99 * 1000:g} ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--documents", type=int, default=240, help="approved applications for the stations")
    ap.add_argument("--stations", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the 20 requests/s submission load")
    ap.add_argument("--concurrent", action="store_true", help="submit while the stations work")
    ap.add_argument("--rate", type=float, default=RATE, help="submissions per second (the goal is stated at 20)")
    args = ap.parse_args()
    schema = f"mrtd_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    psql(f'CREATE SCHEMA "{schema}"')
    work = Path(tempfile.mkdtemp(prefix="mrtd-bench-service-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url_db = f"postgresql://postgres@127.0.0.1:5432/test?options={quote(f'-csearch_path={schema}')}"
        now = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
        init_site(work / "site", "UTO", secrets=KEY_SECRETS, clock=now, certificate_country="UT",
                  database_url=url_db, kdf_log2n=14)
        site = load_site(work / "site", {"page.print_check": False})
        tokens: dict[str, str] = {}
        with site.open_records() as store:
            for name, role in [("clerk", Role.CLERK), ("approver", Role.APPROVER)] + [
                    (f"st{i:02d}", Role.STATION) for i in range(args.stations)]:
                add_user(store, name, role, actor="bench")
                tokens[name] = issue_token(store, name, actor="bench")
        env = {**os.environ, "MRTD_DS_PASSPHRASE": "bench ds passphrase", "MRTD_SEAL_PASSPHRASE": "bench seal passphrase", "OMP_THREAD_LIMIT": "1"}
        urls = []
        for _ in range(2):
            port = free_port()
            proc = subprocess.Popen([*MRTD, "serve", "--site", str(site.root), "--bind", f"127.0.0.1:{port}",
                                     "--no-print-check", "--lease-seconds", "30"], env=env, cwd=ROOT)
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            wait_up(url, proc)
        pictures = images()
        clerk = {"Authorization": f"Bearer {tokens['clerk']}"}
        approver = {"Authorization": f"Bearer {tokens['approver']}"}

        # the queue, filled before the stations start
        filled = time.perf_counter()
        ids = []
        with httpx.Client(timeout=60) as http:
            for i in range(args.documents):
                url = urls[i % 2]
                made = http.post(f"{url}/v1/applications", json=body(i, "Q", pictures), headers=clerk)
                made.raise_for_status()
                ids.append(made.json()["id"])
                http.post(f"{url}/v1/applications/{ids[-1]}/approve", json={}, headers=approver).raise_for_status()
        print(f"queue: {len(ids)} applications submitted and approved in {time.perf_counter() - filled:.1f} s")

        api_cpu = sum(cpu_seconds(p.pid) for p in procs[:2])
        production_ticks = cpu_ticks()
        locks_before, production_began, pg_before = lock_metrics(urls), time.perf_counter(), pg_writes()
        for i in range(args.stations):
            name = f"st{i:02d}"
            (work / f"{name}.token").write_text(tokens[name], "ascii")
            procs.append(subprocess.Popen(
                [*MRTD, "station", "run", "--service", urls[i % 2], "--name", name, "--token-file",
                 str(work / f"{name}.token"), "--formats", "TD3", "--device-seconds", str(DEVICE_SECONDS),
                 "--idle-exit", "4", "--poll", "0.5", "--heartbeat", "10"],
                env=env, cwd=ROOT, stderr=subprocess.DEVNULL))
        stations = procs[2:]
        latencies: list[float] = []
        failures = 0
        lock = threading.Lock()
        local = threading.local()

        def one(i: int) -> None:
            nonlocal failures
            if not hasattr(local, "http"):
                local.http = httpx.Client(timeout=30)
            t = time.perf_counter()
            try:
                r = local.http.post(f"{urls[i % 2]}/v1/applications", content=encoded[i], headers=sending)
                ok = r.status_code == 201
            except httpx.HTTPError:
                ok = False
            with lock:
                latencies.append(time.perf_counter() - t)
                failures += 0 if ok else 1

        # encoded before the clock starts: the load generator shares the two cores with what it measures
        encoded = [json.dumps(body(i, "L", pictures)).encode() for i in range(int(args.seconds * args.rate))]
        sending = {**clerk, "Content-Type": "application/json"}

        def submissions() -> None:
            """Clerks at a steady 20 requests/s, open loop (a pool of senders, each request on time)."""
            from concurrent.futures import ThreadPoolExecutor

            begin = time.perf_counter()
            with ThreadPoolExecutor(max_workers=64) as pool:
                for i in range(int(args.seconds * args.rate)):
                    time.sleep(max(0.0, begin + i / args.rate - time.perf_counter()))
                    pool.submit(one, i)

        if args.concurrent:
            time.sleep(2.0)
            ticks = cpu_ticks()
            submissions()
            busy, steal = machine_share(ticks, cpu_ticks())
        for proc in stations:
            proc.wait(timeout=args.documents * DEVICE_SECONDS + 300)
        api_cpu = sum(cpu_seconds(p.pid) for p in procs[:2]) - api_cpu
        production_busy, production_steal = machine_share(production_ticks, cpu_ticks())
        production_locks = lock_summary(locks_before, lock_metrics(urls), time.perf_counter() - production_began)
        production_pg = pg_summary(pg_before, pg_writes())
        if not args.concurrent:
            submit_cpu = sum(cpu_seconds(p.pid) for p in procs[:2])
            ticks = cpu_ticks()
            locks_before, submit_began, pg_before = lock_metrics(urls), time.perf_counter(), pg_writes()
            submissions()
            busy, steal = machine_share(ticks, cpu_ticks())
            submit_cpu = sum(cpu_seconds(p.pid) for p in procs[:2]) - submit_cpu
            submit_locks = lock_summary(locks_before, lock_metrics(urls), time.perf_counter() - submit_began)
            submit_pg = pg_summary(pg_before, pg_writes())
        with site.open_records() as store:
            docs = store.documents()
        issued = [d for d in docs if d.state.value == "issued"]
        last = max(d.state_changed_at for d in issued) if issued else None
        first_claim = min(d.created_at for d in docs) if docs else None
        elapsed = (last - first_claim).total_seconds() if last and first_claim else float("nan")
        per_app: dict[int, int] = {}
        for d in issued:
            per_app[d.application_id] = per_app.get(d.application_id, 0) + 1
        numbers = [d.number for d in docs]
        duplicates = len(numbers) - len(set(numbers)) + sum(1 for c in per_app.values() if c > 1)
        lost = len([i for i in ids if i not in per_app])
        rate = len(issued) * 60.0 / elapsed if elapsed == elapsed and elapsed > 0 else 0.0
        ideal = args.stations * 60.0 / DEVICE_SECONDS
        print(f"stations: {args.stations} x {DEVICE_SECONDS:.0f} s device, 2 API processes, PostgreSQL")
        print(f"documents: {len(issued)} issued of {len(ids)} in {elapsed:.1f} s from the first claim -> "
              f"{rate:.0f} documents/min; ideal {ideal:.0f}/min; {rate / ideal:.0%} of ideal (goal >= 90 %)")
        print(f"API processes' CPU while the stations worked: {api_cpu:.1f} s, {api_cpu / max(1, len(issued)) * 1000:.0f} "
              f"ms per document (the machine has {os.cpu_count()} cores; load average now "
              f"{os.getloadavg()[0]:.1f}); the machine {production_busy:.0%} busy, {production_steal:.0%} stolen by its host")
        print(f"records' write lock while the stations worked: {production_locks}")
        print(f"PostgreSQL while the stations worked: {production_pg}")
        print(f"spoiled: {sum(1 for d in docs if d.state.value == 'spoiled')}; duplicate numbers or applications "
              f"issued twice: {duplicates} (goal 0); lost jobs: {lost} (goal 0)")
        when = "during production" if args.concurrent else "after production"
        print(f"POST /v1/applications at {args.rate:g}/s for {args.seconds:.0f} s {when}: {len(latencies)} "
              f"requests, {failures} failed; p50 {statistics.median(latencies) * 1000:.0f} ms, p99 "
              f"{percentile(latencies, 0.99) * 1000:.0f} ms (goal p99 < 250 ms)")
        if not args.concurrent:
            print(f"API processes' CPU per submission: {submit_cpu / max(1, len(latencies)) * 1000:.0f} ms")
            print(f"records' write lock while submitting: {submit_locks}")
            print(f"PostgreSQL while submitting: {submit_pg}")
        print(f"the machine's CPU while submitting: {busy:.0%} busy, {steal:.0%} stolen by its host (a virtual "
              "machine's steal time: above a few per cent, the tail measures the host as much as mrtd)")
        print(json.dumps({"documents_per_minute": round(rate, 1), "ideal": ideal, "ratio": round(rate / ideal, 3),
                          "duplicates": duplicates, "lost": lost,
                          "submit_p50_ms": round(statistics.median(latencies) * 1000, 1),
                          "submit_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                          "busy": round(busy, 3), "steal": round(steal, 3)}))
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        psql(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
