"""A document's whole life through the web pages, each step by the role that takes it, in headless Chromium:
the clerk enrols (live MRZ preview, a finding next to its field, the photo check), the approver decides with
the portrait, the data and the page preview side by side, a station (`mrtd station run`, through pcscd +
vpcd into the simulated chip) issues it, the supervisor opens the document's page, the auditor sees it in
production and verifies the audit chain, and anyone verifies the seal from a photo of the printed page (taken
at a slant, out of focus): online with the office's status, and at a border post with the network cut."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import chromium, fill_enrol, photo_of, screenshot, set_passwords, shots_dir, sign_in, wait_js
from conftest import EXAMPLES, ROOT, pcscd_stack
from servicekit import READERS, feeders, make_site, make_users, serving

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("life")
    site = make_site(root / "site")
    tokens = make_users(site)
    set_passwords(site)
    (root / "st1.token").write_text(tokens["st1"] + "\n", "ascii")
    with pcscd_stack(), serving(site, "--no-print-check") as url, feeders(), chromium() as browser:
        yield {"url": url, "root": root, "browser": browser, "shots": shots_dir(root / "shots")}


def _station(served: dict[str, Any]) -> str:
    root = served["root"]
    done = subprocess.run([sys.executable, "-m", "mrtd.cli", "station", "run", "--service", served["url"], "--name",
                           "st1", "--token-file", str(root / "st1.token"), "--reader", READERS[0], "--out",
                           str(root / "out"), "--poll", "0.2", "--max-jobs", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_document_life_through_the_pages(served: dict[str, Any]) -> None:
    url, browser, shots = served["url"], served["browser"], served["shots"]

    # the clerk enrols: a finding shows next to its field, the preview follows, the photo is checked
    clerk = sign_in(browser, url, "carla")
    clerk.goto(f"{url}/office/enrol")
    fill_enrol(clerk, surname="Ковальчук", given="Марія", birth=("", "07", "1979"), sex="F", expiry="2001-01-01",
               portrait=EXAMPLES / "portraits" / "olena.jpg", signature=EXAMPLES / "signatures" / "olena.png")
    wait_js(clerk, "document.querySelector('ul[data-for=\"document.date_of_expiry\"] li[data-rule=expired]')")
    clerk.fill("#document\\.date_of_expiry", "2036-03-01")
    wait_js(clerk, "document.querySelector('ul[data-for=\"document.date_of_expiry\"] li') === null")
    wait_js(clerk, "document.getElementById('pv-mrz').textContent.includes('KOVALCHUK<<MARIIA')")
    mrz = clerk.inner_text("#pv-mrz").splitlines()
    assert mrz[0].startswith("PPUTOKOVALCHUK<<MARIIA") and mrz[1][13:19] == "7907<<"  # the day is unknown
    assert clerk.inner_text("#pv-surname") == "КОВАЛЬЧУК (KOVALCHUK)"
    wait_js(clerk, "document.getElementById('portrait-status').dataset.ok === 'true'", 60)
    screenshot(clerk, shots, "life-1-enrol")
    clerk.click("#enrol button.primary")
    clerk.wait_for_url(re.compile(r"/office/applications/\d+\?submitted=new"))
    application_id = int(re.search(r"/applications/(\d+)", clerk.url).group(1))  # type: ignore[union-attr]
    assert clerk.is_visible("#submitted")
    screenshot(clerk, shots, "life-2-received")

    # the approver decides with portrait, data and page preview side by side
    approver = sign_in(browser, url, "amal")
    approver.goto(f"{url}/office/queue")
    approver.click(f"a[href='/office/queue/{application_id}']")
    assert approver.is_visible("img.portrait") and approver.is_visible("#page-preview")
    assert "Ковальчук" in approver.inner_text("dl.data")
    screenshot(approver, shots, "life-3-decide")
    approver.click("#approve")
    approver.wait_for_url(re.compile(r"/office/queue$"))

    # a station issues it through pcscd + vpcd
    log = _station(served)
    number = re.search(r"([A-Z0-9]{9}) issued", log).group(1)  # type: ignore[union-attr]

    # the supervisor opens the document: issued, its timeline, page, seal and chip checks
    supervisor = sign_in(browser, url, "sam")
    supervisor.goto(f"{url}/office/applications/{application_id}")
    supervisor.click(f"a[href='/office/documents/{number}']")
    assert "state-issued" in supervisor.get_attribute("h1 .state", "class")
    assert supervisor.is_visible("#document-page") and supervisor.is_visible("img.seal")
    assert supervisor.inner_text(".verdict-valid")
    timeline = supervisor.inner_text("ol.timeline")
    assert "st1" in timeline and "amal" in timeline
    screenshot(supervisor, shots, "life-4-document")

    # the auditor: production shows it, the audit chain verifies
    auditor = sign_in(browser, url, "audra")
    auditor.goto(f"{url}/office/production")
    assert "st1" in auditor.inner_text("table")
    auditor.goto(f"{url}/office/audit?subject={number}")
    assert "document.allocated" in auditor.inner_text("table.audit")
    auditor.click("#verify-chain")
    assert "intact" in auditor.inner_text("#chain-result")
    screenshot(auditor, shots, "life-5-audit")

    # anyone verifies the seal from a photo of the printed page, online: valid, and valid at the office
    photo = served["root"] / "photo.jpg"
    photo.write_bytes(photo_of((served["root"] / "out" / number / "page.png").read_bytes()))
    verifier = browser.new_page()
    verifier.goto(f"{url}/verify/")
    verifier.set_input_files("#camera", str(photo))
    last = wait_js(verifier, "window.mrtdLast", 60)
    assert last["verdict"] == "valid" and last["where"] == "online" and last["status"] == "valid", last
    assert last["summary"]["document_number"] == number and last["summary"]["holder"] == "KOVALCHUK MARIIA"
    assert last["summary"]["date_of_birth"] == "1979-07-XX"  # the day unknown, as enrolled
    online = last["summary"]
    screenshot(verifier, shots, "life-6-verify")
    verifier.close()

    # and a border post with the network cut: the verifier, loaded once, verifies the same photo on the device
    border = browser.new_context(locale="ar-EG")
    post = border.new_page()
    post.goto(f"{url}/verify/")
    wait_js(post, "document.body.dataset.offlineReady === '1'", 60)
    post.reload()
    wait_js(post, "navigator.serviceWorker.controller !== null", 30)
    border.set_offline(True)
    post.reload()
    assert post.get_attribute("html", "dir") == "rtl"
    post.set_input_files("#camera", str(photo))
    last = wait_js(post, "window.mrtdLast", 60)
    assert last["verdict"] == "valid" and last["where"] == "local" and last["status"] is None, last
    assert last["summary"] == online  # the page's own reading of the seal is the service's
    # in the right-to-left page a date with unknown parts still reads 1979-07-XX (not XX-1979-07)
    assert post.evaluate("getComputedStyle(document.getElementById('v-birth')).direction") == "ltr"
    screenshot(post, shots, "life-7-verify-offline-ar")
    border.close()
    for page in (clerk, approver, supervisor, auditor):
        page.context.close()
