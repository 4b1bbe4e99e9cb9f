"""Shared by the service tests: a site with users and tokens, an application as the API takes it, and
what a station does with a claim."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from conftest import EXAMPLES, KEY_SECRETS, ROOT, secret_env

from mrtd.issuance.roles import Role
from mrtd.issuance.site import SiteConfig, init_site, load_site
from mrtd.issuance.users import add_user, issue_token

READERS = {0: "Virtual PCD 00 00", 1: "Virtual PCD 00 01"}
PORTS = {0: 35963, 1: 35964}
ROLES = [r for r in Role]
USERS = {Role.CLERK: "carla", Role.APPROVER: "amal", Role.SUPERVISOR: "sam", Role.STATION: "st1",
         Role.PKI_OFFICER: "pia", Role.AUDITOR: "audra", Role.ADMIN: "ada"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_site(root: Path, url: str | None = None) -> SiteConfig:
    init_site(root, "UTO", secrets=KEY_SECRETS, clock=now, certificate_country="UT", kdf_log2n=12, database_url=url)
    return load_site(root, {"page.print_check": False})


def make_users(site: SiteConfig, extra: dict[str, Role] | None = None) -> dict[str, str]:
    """Users for every role (and `extra`); returns name -> token."""
    tokens = {}
    with site.open_records() as store:
        for role, name in USERS.items():
            add_user(store, name, role, actor="admin")
            tokens[name] = issue_token(store, name, actor="admin")
        for name, role in (extra or {}).items():
            add_user(store, name, role, actor="admin")
            tokens[name] = issue_token(store, name, actor="admin")
    return tokens


def submission(name: str, **changes: Any) -> dict[str, Any]:
    """An example application as the API takes it: images inline, base64. Without the example's document
    number: the sites here draw numbers from their sequence (a number asked for is its blank's, issued once
    only, and these tests submit the same example again and retry spoiled documents)."""
    path = EXAMPLES / name
    data = json.loads(path.read_text("utf-8"))
    data["document"].pop("number", None)
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    images = {}
    for kind in ("portrait", "signature"):
        if kind in data:
            file = Path(data[kind])
            images[file.name] = base64.b64encode((path.parent / file).read_bytes()).decode("ascii")
            data[kind] = file.name
    return {"application": data, "images": images}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The service signs documents and checkpoints of the audit log: the signing keys' and the audit key's secrets.
SERVE_SECRETS = {role: KEY_SECRETS[role] for role in ("ds", "seal-signer", "audit")}


@contextmanager
def serving(site: SiteConfig, *options: str, scheme: str = "http",
            client: httpx.Client | None = None) -> Iterator[str]:
    """`mrtd serve` as a process of its own (a process group: workers included), up when /healthz
    answers; its URL. Stopped with SIGTERM (its group) at the end."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mrtd.cli", "serve", "--site", str(site.root), "--bind",
                               f"127.0.0.1:{port}", *options], env={**os.environ, **secret_env(SERVE_SECRETS)},
                              cwd=ROOT, start_new_session=True)
    url = f"{scheme}://127.0.0.1:{port}"
    probe = client or httpx.Client(timeout=2)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"mrtd serve exited with {server.returncode}"
            assert time.monotonic() < deadline, "mrtd serve did not come up"
            try:
                if probe.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        if client is None:
            probe.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def feeders() -> Iterator[None]:
    """A booklet feeder on each vpcd slot: a blank simulated card, replaced once it is locked and let go."""
    from mrtd.chip import pcsc

    procs = []
    try:
        for slot in (0, 1):
            proc = subprocess.Popen([sys.executable, "-m", "mrtd.chip.sim.vpcd", "--port", str(PORTS[slot]),
                                     "--feeder"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
            procs.append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            pcsc.wait_for_card(READERS[slot], 10)
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        time.sleep(1.0)  # pcscd polls every 0.4 s: let it see the cards gone before anyone else uses the slots
