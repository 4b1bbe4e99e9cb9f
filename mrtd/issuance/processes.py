"""Processes: worker processes that die with their parent, and which process holds a lock (alive or not).

A forked worker of a `ProcessPoolExecutor` inherits both ends of the pool's pipes, so when its parent is
killed (`kill -9`, the OOM killer) no read ever sees end-of-file: the worker waits for work for ever,
reparented to init. `die_with_parent` asks Linux to kill the worker with its parent (PR_SET_PDEATHSIG),
and checks the parent's pid where Linux cannot be asked. What the worker was doing is left in the records
(a document in production, a lock of a dead process) for the resumed batch to settle.

`ProcessId` names a process beyond its pid (host, boot, start time), so that a lock row left by a dead
process is recognised even after its pid was reused.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PROC = Path("/proc")
_POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Run first thing in a forked worker: the worker is killed as soon as `parent_pid` dies."""
    if not _set_parent_death_signal(signal.SIGKILL):
        # No prctl (not Linux): watch the parent's pid instead; a reparented worker sees another one.
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="die-with-parent", daemon=True).start()
    # The parent may have died between the fork and the prctl, before the signal was asked for: then the
    # worker is already reparented and no signal will ever come.
    if os.getppid() != parent_pid:
        os._exit(1)


def _set_parent_death_signal(sig: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return int(prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_POLL_SECONDS)
    os._exit(1)


# --- who holds a lock ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessId:
    """A process as a lock row records it: host, boot, pid and start time (clock ticks after boot)."""

    host: str
    boot: str
    pid: int
    start: int

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}"

    def text(self) -> str:
        return f"{self.host} {self.boot} {self.pid} {self.start}"

    @classmethod
    def parse(cls, text: str) -> ProcessId | None:
        parts = text.split(" ")
        if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]), int(parts[3]))


def this_process() -> ProcessId:
    pid = os.getpid()
    return ProcessId(socket.gethostname() or "localhost", _boot_id(), pid, _start_ticks(pid) or 0)


def alive(process: ProcessId) -> bool | None:
    """True or False for a process of this host and boot; None when it cannot be told (another host)."""
    me = this_process()
    if process.host != me.host:
        return None
    if process.boot != me.boot:
        return False  # the machine restarted since
    start = _start_ticks(process.pid)
    if start is None:
        if _PROC.is_dir():
            return False
        try:  # no /proc: only whether some process has the pid
            os.kill(process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return start == process.start  # another start time: the pid was reused


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip() or "-"
    except OSError:
        return "-"


def _start_ticks(pid: int) -> int | None:
    """The process's start time from /proc/<pid>/stat; None when it is gone or a zombie."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])
