"""The station loop: wait for a blank booklet, claim a job, open its chip keys, personalise the chip and
read it back, print or write the page, report; a heartbeat keeps the lease while the devices work.

Devices: a PC/SC reader (`reader`), or the chip simulator in process (`reader` None: for a simulated
station); a printer (`printer`, through CUPS's `lp`) or a folder (`out`). `device_seconds` makes each job
take at least that long (a simulated device's chip encoding and printing time, for benchmarks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519

from mrtd.chip.keytransport import open_keys, public_key_text
from mrtd.chip.perso import ChipImage, personalise
from mrtd.chip.transport import Transport
from mrtd.errors import MrtdError
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
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in job.page.items():
            (folder / name).write_bytes(data)
        chip = folder / "chip"
        chip.mkdir(exist_ok=True)
        for name, data in job.files.items():
            (chip / (f"{name}.bin" if name.startswith("DG") else name)).write_bytes(data)
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


def do_job(config: StationConfig, service: Service, key: x25519.X25519PrivateKey, job: Job) -> dict[str, Any]:
    """One job end to end; returns the service's outcome (issued or spoiled)."""
    started = time.monotonic()
    beat = _Heartbeat(service, job.id, config.heartbeat_seconds)
    try:
        report: dict[str, Any] | None = None
        files: dict[str, bytes] = {}
        if job.files:
            keys = open_keys(job.keys, key, job.key_info)
            image = ChipImage(job.files, keys.aa_key, keys.ca_key, keys.ca_key_id, job.can)
            try:
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
        outcome = service.result(job.id, report, files, print_check, config.reader or "simulator")
        if outcome.get("state") == "issued" and config.out is not None and outcome.get("receipt"):
            import json

            (config.out / job.number / "receipt.json").write_text(
                json.dumps(outcome["receipt"], ensure_ascii=False, indent=1) + "\n", "utf-8")
        return outcome
    finally:
        beat.stop()


def run(config: StationConfig, service: Service, key: x25519.X25519PrivateKey, *, max_jobs: int | None = None,
        idle_exit: float | None = None, status: Callable[[str], None] | None = None,
        stop: threading.Event | None = None) -> Tally:
    """Claim and do jobs until `stop`, `max_jobs` done, or no job came for `idle_exit` seconds."""
    tally = Tally()
    public = public_key_text(key)
    say = status or (lambda line: print(line, file=sys.stderr, flush=True))
    idle_since = time.monotonic()
    stop = stop or threading.Event()
    while not stop.is_set() and (max_jobs is None or tally.issued + tally.spoiled < max_jobs):
        try:
            if config.reader is not None:
                from mrtd.chip.pcsc import wait_for_card

                wait_for_card(config.reader, config.card_wait_seconds)  # a blank booklet is in
            job = service.claim(config.name, config.formats, public)
        except MrtdError as exc:
            tally.errors += 1
            tally.last = f"waiting: {exc}"
            say(tally.line(config.name))
            stop.wait(config.poll_seconds)
            continue
        if job is None:
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                break
            stop.wait(config.poll_seconds)
            continue
        tally.last = f"job {job.id}: {job.number} ..."
        say(tally.line(config.name))
        started = time.monotonic()
        try:
            outcome = do_job(config, service, key, job)
        except MrtdError as exc:
            tally.errors += 1
            tally.last = f"job {job.id}: {job.number} not reported: {exc}"
            say(tally.line(config.name))
            continue
        if outcome.get("state") == "issued":
            tally.issued += 1
            tally.numbers.append(job.number)
        else:
            tally.spoiled += 1
        tally.last = (f"job {job.id}: {job.number} {outcome.get('state')} in {time.monotonic() - started:.1f} s"
                      + ("" if outcome.get("state") == "issued" else f" ({outcome.get('message')})"))
        say(tally.line(config.name))
        idle_since = time.monotonic()
        if config.reader is not None:
            from mrtd.chip.pcsc import wait_for_removal

            wait_for_removal(config.reader, config.card_wait_seconds)  # the booklet is taken out
    return tally
