"""The station loop: wait for a blank booklet, claim a job, open its chip keys, personalise the chip and
read it back, print or write the page, report; a heartbeat keeps the lease while the devices work.

Devices: a PC/SC reader (`reader`), or the chip simulator in process (`reader` None: for a simulated
station); a printer (`printer`, through CUPS's `lp`) or a folder (`out`). `device_seconds` makes each job
take at least that long (a simulated device's chip encoding and printing time, for benchmarks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519

from mrtd.chip.keytransport import open_keys, public_key_text
from mrtd.chip.perso import ChipImage, personalise
from mrtd.chip.transport import Transport
from mrtd.errors import MrtdError
from mrtd.private import write_private
from mrtd.station.client import Job, Service, ServiceError


@dataclass
class StationConfig:
    name: str
    formats: list[str]
    reader: str | None = None  # None: the in-process chip simulator
    printer: str | None = None
    out: Path | None = None
    device_seconds: float = 0.0
    poll_seconds: float = 2.0
    heartbeat_seconds: float = 15.0
    card_wait_seconds: float = 30.0


@dataclass
class Tally:
    issued: int = 0
    spoiled: int = 0
    errors: int = 0
    last: str = ""
    numbers: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return f"{name}: {self.issued} issued, {self.spoiled} spoiled, {self.errors} errors; {self.last}"


def _transport(config: StationConfig, profile: str) -> Transport:
    if config.reader is None:
        from mrtd.chip.sim.card import VirtualCard
        from mrtd.chip.sim.transport import SimTransport

        return SimTransport(VirtualCard(profile))
    from mrtd.chip.pcsc import PcscTransport

    return PcscTransport(config.reader, wait=config.card_wait_seconds)


class _Heartbeat:
    """Extends the lease every `every` seconds until stopped."""

    def __init__(self, service: Service, job: int, every: float) -> None:
        self._stop = threading.Event()
        self.lost = ""
        self._thread = threading.Thread(target=self._run, args=(service, job, every), daemon=True)
        self._thread.start()

    def _run(self, service: Service, job: int, every: float) -> None:
        while not self._stop.wait(every):
            try:
                service.heartbeat(job)
            except ServiceError as exc:
                if exc.status in (404, 409):
                    self.lost = str(exc)
                    return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _page(config: StationConfig, job: Job) -> dict[str, str]:
    """Print or write the page; the print check says what was done and with which bytes."""
    if config.out is not None:
        folder = config.out / job.number
        for name, data in job.page.items():
            write_private(folder / name, data)
        for name, data in job.files.items():
            write_private(folder / "chip" / (f"{name}.bin" if name.startswith("DG") else name), data)
        written = ", ".join(f"{n} {hashlib.sha256((folder / n).read_bytes()).hexdigest()[:16]}" for n in sorted(job.page))
        return {"status": "pass" if job.page else "not-applicable", "detail": f"written to {folder}: {written}"}
    if config.printer is not None and "page.pdf" in job.page:
        try:
            done = subprocess.run(["lp", "-d", config.printer, "-t", job.number, "-"], input=job.page["page.pdf"],
                                  capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"status": "fail", "detail": f"lp: {exc}"}
        text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()[:300]
        return {"status": "pass" if done.returncode == 0 else "fail", "detail": f"lp -d {config.printer}: {text}"}
    return {"status": "skipped", "detail": "no printer and no output folder"}


@dataclass
class Done:
    """What the devices made of one job, to report."""

    job: Job
    report: dict[str, Any] | None
    files: dict[str, bytes]
    print_check: dict[str, str]
    started: float


def work(config: StationConfig, key: x25519.X25519PrivateKey, job: Job) -> Done:
    """The devices' part of one job: open the chip keys, personalise and read back, print or write."""
    started = time.monotonic()
    report: dict[str, Any] | None = None
    files: dict[str, bytes] = {}
    if job.files:
        try:
            keys = open_keys(job.keys, key, job.key_info)
            image = ChipImage(job.files, keys.aa_key, keys.ca_key, keys.ca_key_id, job.can)
            transport = _transport(config, job.chip_profile)
            try:
                done = personalise(image, transport, job.chip_profile, at=dt.datetime.now(dt.UTC))
            finally:
                transport.close()
            report = {**done.as_dict(), "access": done.read.access if done.read else "?"}
            files = dict(done.read.files) if done.read else {}
        except MrtdError as exc:  # the card failed or went away: report it, the centre spoils it
            step = getattr(exc, "step", "chip")
            report = {"profile": job.chip_profile, "status": "failed",
                      "checks": [{"name": str(step)[:64], "status": "fail", "detail": str(exc)[:2000]}]}
    print_check = _page(config, job)
    left = config.device_seconds - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)
    return Done(job, report, files, print_check, started)


def report(config: StationConfig, service: Service, done: Done) -> dict[str, Any]:
    """Tell the centre; keep its receipt beside the page when the document was issued."""
    outcome = service.result(done.job.id, done.report, done.files, done.print_check, config.reader or "simulator")
    if outcome.get("state") == "issued" and config.out is not None and outcome.get("receipt"):
        write_private(config.out / done.job.number / "receipt.json",
                      json.dumps(outcome["receipt"], ensure_ascii=False, indent=1) + "\n")
    return outcome


def run(config: StationConfig, service: Service, key: x25519.X25519PrivateKey, *, max_jobs: int | None = None,
        idle_exit: float | None = None, status: Callable[[str], None] | None = None,
        stop: threading.Event | None = None) -> Tally:
    """Claim and do jobs until `stop`, `max_jobs` done, or no job came for `idle_exit` seconds.

    The devices never wait for the network: while one job is in the devices, the next is claimed (its
    lease kept by heartbeats) and the one before is reported, each in its own thread. A job claimed but
    never done (the station stopped) is not lost: its lease runs out, its number is spoiled and its
    application goes back in the queue."""
    tally = Tally()
    public = public_key_text(key)
    say = status or (lambda line: print(line, file=sys.stderr, flush=True))
    stop = stop or threading.Event()
    lock = threading.Lock()
    beats: dict[int, _Heartbeat] = {}
    claimed = 0

    def claim() -> Job | None:
        """The next job (its heartbeat started), or None when there is none / the station must stop."""
        nonlocal claimed
        idle_since = time.monotonic()
        while not stop.is_set() and (max_jobs is None or claimed < max_jobs):
            try:
                job = service.claim(config.name, config.formats, public)
            except MrtdError as exc:
                with lock:
                    tally.errors += 1
                    tally.last = f"waiting: {exc}"
                say(tally.line(config.name))
                stop.wait(config.poll_seconds)
                continue
            if job is not None:
                claimed += 1
                beats[job.id] = _Heartbeat(service, job.id, config.heartbeat_seconds)
                return job
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                return None
            stop.wait(config.poll_seconds)
        return None

    def send(done: Done) -> None:
        try:
            outcome = report(config, service, done)
        except MrtdError as exc:
            with lock:
                tally.errors += 1
                tally.last = f"job {done.job.id}: {done.job.number} not reported: {exc}"
            say(tally.line(config.name))
            return
        finally:
            beats.pop(done.job.id).stop()
        issued = outcome.get("state") == "issued"
        with lock:
            if issued:
                tally.issued += 1
                tally.numbers.append(done.job.number)
            else:
                tally.spoiled += 1
            tally.last = (f"job {done.job.id}: {done.job.number} {outcome.get('state')} in "
                          f"{time.monotonic() - done.started:.1f} s"
                          + ("" if issued else f" ({outcome.get('message')})"))
        say(tally.line(config.name))

    with ThreadPoolExecutor(1, thread_name_prefix="claim") as claims, \
            ThreadPoolExecutor(1, thread_name_prefix="report") as reports:
        following: Future[Job | None] = claims.submit(claim)
        while True:
            job = following.result()
            if job is None:
                break
            following = claims.submit(claim)  # the next job is produced while this one is in the devices
            with lock:
                tally.last = f"job {job.id}: {job.number} ..."
            say(tally.line(config.name))
            reports.submit(send, work(config, key, job))
            if config.reader is not None:
                from mrtd.chip.pcsc import wait_for_removal

                wait_for_removal(config.reader, config.card_wait_seconds)  # the booklet is taken out
    return tally
