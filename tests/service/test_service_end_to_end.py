"""The service end to end, every part a real process: `mrtd serve` under uvicorn, stations as their own
`mrtd station run` processes writing chips through pcscd + vpcd into the simulated card (a booklet feeder
on each vpcd slot), the clerk, approver and supervisor over HTTP.

enrol -> approve -> claim -> write -> read back -> issued; report-lost -> replace -> issued; a batch
document reprinted from the stored payload; search in national script and transliteration; a station
killed with kill -9 mid-job: its lease expires, its number is spoiled, another station issues the
application, no number twice.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import EXAMPLES, ROOT, pcscd_stack, secret_env
from servicekit import READERS, SERVE_SECRETS, auth, feeders, make_site, make_users, serving, submission

from mrtd.issuance.roles import Role

pytestmark = pytest.mark.pcsc

SCRIPT = ROOT / "scripts" / "pcscd.sh"
MRTD = [sys.executable, "-m", "mrtd.cli"]


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    with pcscd_stack():
        yield


@pytest.fixture(scope="module")
def service(pcscd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("e2e")
    site = make_site(root / "site")
    tokens = make_users(site, {"st2": Role.STATION})
    for name in ("st1", "st2"):
        (root / f"{name}.token").write_text(tokens[name] + "\n", "ascii")
    env = {**os.environ, **secret_env(SERVE_SECRETS)}  # the batch below signs a checkpoint too
    with serving(site, "--lease-seconds", "5", "--no-print-check") as url, feeders():
        yield {"url": url, "tokens": tokens, "root": root, "site": site, "env": env}


def station(svc: dict[str, Any], name: str, slot: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*MRTD, "station", "run", "--service", svc["url"], "--name", name,
                             "--token-file", str(svc["root"] / f"{name}.token"), "--reader", READERS[slot],
                             "--out", str(svc["root"] / f"out-{name}"), "--poll", "0.2", "--heartbeat", "1", *extra],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)


def run_station(svc: dict[str, Any], name: str, slot: int, jobs: int = 1) -> str:
    proc = station(svc, name, slot, "--max-jobs", str(jobs))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return err


def submit_and_approve(client: httpx.Client, tokens: dict[str, str], body: dict[str, Any]) -> int:
    made = client.post("/v1/applications", json=body, headers=auth(tokens["carla"]))
    assert made.status_code == 201, made.text
    app_id = int(made.json()["id"])
    approved = client.post(f"/v1/applications/{app_id}/approve", json={}, headers=auth(tokens["amal"]))
    assert approved.status_code == 200, approved.text
    return app_id


def issued_number(client: httpx.Client, tokens: dict[str, str], app_id: int) -> str:
    detail = client.get(f"/v1/applications/{app_id}", headers=auth(tokens["sam"])).json()
    issued = [d["number"] for d in detail["documents"] if d["state"] == "issued"]
    assert detail["state"] == "issued" and len(issued) == 1, detail
    return str(issued[0])


def test_enrol_approve_station_issues_replace_reprint_search(service: dict[str, Any]) -> None:
    tokens = service["tokens"]
    with httpx.Client(base_url=service["url"], timeout=60) as client:
        app_id = submit_and_approve(client, tokens, submission("olena-shevchenko-cyrillic.json"))
        log = run_station(service, "st1", 0)
        number = issued_number(client, tokens, app_id)
        assert f"{number} issued" in log
        out = service["root"] / "out-st1" / number
        assert {"page.png", "page.pdf", "seal.png", "receipt.json"} <= {p.name for p in out.iterdir()}
        document = client.get(f"/v1/documents/{number}", headers=auth(tokens["audra"])).json()
        assert document["state"] == "issued" and document["chip"]["profile"] == "mrtd-sim"
        transitions = [(e["to_state"], e["actor"]) for e in document["events"]]
        assert ("approved", "st1") in transitions and ("issued", "st1") in transitions
        approved = next(e for e in document["events"] if e["to_state"] == "approved")
        assert approved["detail"]["approved_by"] == "amal" and approved["detail"]["submitted_by"] == "carla"
        verdict = client.post("/v1/verify/seal", content=(out / "seal.png").read_bytes(),
                              headers={"Content-Type": "image/png"}).json()
        assert verdict["ok"] and verdict["verdict"] == "valid"

        # lost, then replaced from the stored application with a change; issued by the other station
        lost = client.post(f"/v1/documents/{number}/report-lost", json={"reason": "lost at the border"},
                           headers=auth(tokens["sam"]))
        assert lost.status_code == 200 and lost.json()["state"] == "reported-lost"
        replaced = client.post(f"/v1/documents/{number}/replace", json={"changes": {"holder": {"place_of_birth": "LVIV"}}},
                               headers=auth(tokens["sam"]))
        assert replaced.status_code == 201, replaced.text
        new_id = int(replaced.json()["id"])
        assert client.post(f"/v1/applications/{new_id}/approve", json={}, headers=auth(tokens["amal"])).status_code == 200
        run_station(service, "st2", 1)
        new_number = issued_number(client, tokens, new_id)
        assert new_number != number
        summary = client.get(f"/v1/applications/{new_id}", headers=auth(tokens["sam"])).json()
        assert summary["replaces"] == number and summary["application"]["holder"]["place_of_birth"] == "LVIV"

        # search: national script, lower case, transliteration, prefix
        for query in ("Шевченко", "шевченко олена", "SHEVCHENKO", "shev"):
            found = client.get("/v1/search", params={"name": query, "reason": "replacement check"},
                               headers=auth(tokens["sam"])).json()["items"]
            assert {f["application_id"] for f in found} == {app_id, new_id}, query
        entries = client.get("/v1/audit", params={"limit": 1000}, headers=auth(tokens["audra"])).json()["items"]
        searches = [e for e in entries if e["action"] == "person.searched"]
        assert len(searches) == 4 and all(e["actor"] == "sam" and e["detail"]["reason"] == "replacement check"
                                          for e in searches)

        # a batch document (issued on the command line, no service involved) reprinted through the API
        batch = next(p for p in sorted((EXAMPLES / "batches").iterdir()) if p.suffix == ".csv")
        done = subprocess.run([*MRTD, "batch", "issue", str(batch), "--site", str(service["site"].root), "--out",
                               str(service["root"] / "batch"), "--json", "--no-print-check"], env=service["env"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1), done.stderr
        folder = next(p for p in sorted((service["root"] / "batch").iterdir()) if (p / "page.png").exists())
        reprint = client.post(f"/v1/documents/{folder.name}/reprint", headers=auth(tokens["sam"]))
        assert reprint.status_code == 200, reprint.text
        assert base64.b64decode(reprint.json()["files"]["page.png"]) == (folder / "page.png").read_bytes()


def test_station_killed_mid_job(service: dict[str, Any]) -> None:
    tokens = service["tokens"]
    with httpx.Client(base_url=service["url"], timeout=60) as client:
        app_id = submit_and_approve(client, tokens, submission("anna-eriksson-td3.json"))
        slow = station(service, "st1", 0, "--device-seconds", "60")
        assert slow.stderr is not None
        first = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = slow.stderr.readline()
            if "..." in line and "job " in line:
                first = line.split(":")[2].split()[0]  # "st1: ... ; job N: NUMBER ..."
                break
        assert first, "the station never claimed the job"
        time.sleep(2.0)  # mid-job: the chip is being written and the page printed; heartbeats keep the lease
        detail = client.get(f"/v1/documents/{first}", headers=auth(tokens["audra"])).json()
        assert detail["state"] == "approved"  # produced at the centre, not yet reported
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait()
        time.sleep(1.5)  # the feeder's card was left locked or half-written: take the next booklet
        run_station(service, "st2", 1)
        second = issued_number(client, tokens, app_id)
        assert second != first
        spoiled = client.get(f"/v1/documents/{first}", headers=auth(tokens["audra"])).json()
        assert spoiled["state"] == "spoiled" and spoiled["events"][-1]["actor"] == "lease-expiry"
        entries = client.get("/v1/audit", params={"limit": 1000}, headers=auth(tokens["audra"])).json()["items"]
    numbers = [e["subject"] for e in entries if e["action"] == "document.allocated"]
    assert len(numbers) == len(set(numbers)) and {first, second} <= set(numbers)
