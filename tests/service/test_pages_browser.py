"""The web pages in headless Chromium (Debian's, driven by playwright): role boundaries, CSRF refused,
sign-in lockout and TOTP, every page in English and Arabic checked by axe-core (no serious or critical
violation) and photographed; the verifier's in-browser verdicts agree with the service's on every kind of
seal the site makes; a loaded verifier verifies a photographed seal with the server stopped and the browser
offline, and rejects a tampered one; online, a document reported lost shows as such.

Documents are issued here without a station (the in-process chip simulator); the whole life through a
station and pcscd is tests/service/test_pages_lifecycle.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import zxingcpp
from browserkit import (
    PASSWORDS,
    axe_violations,
    chromium,
    fill_enrol,
    in_language,
    photo_of,
    screenshot,
    set_passwords,
    shots_dir,
    sign_in,
    wait_js,
)
from conftest import EXAMPLES, ROOT, SEAL_SYMBOLOGIES, SIGNING_SECRETS, secret_env
from servicekit import make_site, make_users, now, serving

from mrtd.asn1.tlv import Tlv
from mrtd.issuance.office import Office
from mrtd.issuance.pipeline import seal_png
from mrtd.issuance.roles import Principal, Role
from mrtd.issuance.signin import MAX_FAILURES, enrol_totp
from mrtd.issuance.states import DocumentState
from mrtd.seals import c40, idb
from mrtd.service.pages.i18n import translations

MRTD = [sys.executable, "-m", "mrtd.cli"]
ISSUED = {"td3": "olena-shevchenko-cyrillic.json", "visa": "alex-mueller-visa-mrva.json",
          "td1": "anna-eriksson-td1.json", "arabic": "abubakr-alrazi-arabic.json"}


def _application(name: str, **document: Any) -> dict[str, Any]:
    data = json.loads((EXAMPLES / name).read_text("utf-8"))
    data["document"].pop("number", None)  # the site draws the number
    data["document"].update(document)
    return data


def _issue(office: Office, name: str, out: Path) -> str:
    clerk, approver = Principal("carla", Role.CLERK), Principal("amal", Role.APPROVER)
    case = office.submit(clerk, _application(name), base_dir=EXAMPLES).case
    office.approve(approver, case.id)
    receipt = office.issue_stored(Principal("operator"), case.id, out)
    return str(receipt.number)


def _mrtd(*args: str) -> None:
    done = subprocess.run([*MRTD, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **secret_env()})
    assert done.returncode == 0, done.stderr


def _seal_make(site: Path, application: Path, fmt: str, kind: str, out: Path) -> Path:
    _mrtd("seal", "make", str(application), "--format", fmt, "--type", kind, "--site", str(site), "--out", str(out))
    return out


def _tampered(seal_image: bytes) -> bytes:
    """The same signed IDB with one digit of the MRZ's date of birth changed (the signature kept)."""
    found = zxingcpp.read_barcodes(_image(seal_image), formats=SEAL_SYMBOLOGIES)
    seal = idb.decode(found[0].bytes.decode("ascii"))
    message = seal.messages[0]
    text = c40.decode(message.value)
    line2 = 44 if len(text) == 88 else 30
    pos = line2 + 13  # the first digit of the date of birth (TD3), inside line 2 of TD1 as well
    changed = text[:pos] + ("1" if text[pos] != "1" else "2") + text[pos + 1:]
    forged = dataclasses.replace(seal, messages=(Tlv(message.tag, c40.encode(changed)), *seal.messages[1:]))
    return seal_png(forged.encode().encode("ascii"), "qr")


def _image(data: bytes) -> Any:
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data))


@pytest.fixture(scope="module")
def office_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("pages")
    site = make_site(root / "site")
    make_users(site, {"tess": Role.CLERK})
    set_passwords(site)
    seals: dict[str, Path] = {}
    numbers: dict[str, str] = {}
    with Office(site, clock=now, secrets=SIGNING_SECRETS) as office:
        for kind, name in ISSUED.items():
            numbers[kind] = _issue(office, name, root / kind)
            seals[kind] = root / kind / "seal.png"
    # an emergency travel document's seal (a TD2 MRZ) as IDB, VDS and VDS-NC, made on the command line
    etd = json.loads((EXAMPLES / "arnpol-long-name-td2.json").read_text("utf-8"))  # with its number
    etd["portrait"] = str(EXAMPLES / etd["portrait"])
    etd["signature"] = str(EXAMPLES / etd["signature"])
    (root / "etd.json").write_text(json.dumps(etd), "utf-8")
    _mrtd("pki", "issue", "vdsnc-signer", "--common-name", "NC", "--site", str(site.root))
    for fmt in ("idb", "vds", "vdsnc"):
        seals[f"etd-{fmt}"] = _seal_make(site.root, root / "etd.json", fmt, "etd", root / f"etd-{fmt}.png")
    # a brainpool seal signer (WebCrypto has no brainpool: the page verifies with @noble/curves)
    _mrtd("pki", "issue", "seal-signer", "--algorithm", "ecdsa-brainpoolp256r1", "--common-name", "BP", "--site",
          str(site.root))
    for fmt in ("idb", "vds"):
        seals[f"brainpool-{fmt}"] = _seal_make(site.root, root / "etd.json", fmt, "etd", root / f"bp-{fmt}.png")
    # a seal whose signer this site does not know: another site's
    other = make_site(root / "other")
    seals["foreign"] = _seal_make(other.root, root / "etd.json", "idb", "etd", root / "foreign.png")
    (root / "tampered.png").write_bytes(_tampered((root / "td3" / "seal.png").read_bytes()))
    seals["tampered"] = root / "tampered.png"
    (root / "photo.jpg").write_bytes(photo_of((root / "td3" / "page.png").read_bytes()))
    (root / "tampered-photo.jpg").write_bytes(photo_of((root / "tampered.png").read_bytes()))
    (root / "bp-photo.jpg").write_bytes(photo_of(seals["brainpool-idb"].read_bytes()))
    (root / "vdsnc-photo.jpg").write_bytes(photo_of(seals["etd-vdsnc"].read_bytes()))
    shots = shots_dir(root / "shots")
    with serving(site, "--no-print-check") as url, chromium() as browser:
        yield {"url": url, "site": site, "root": root, "seals": seals, "numbers": numbers, "browser": browser,
               "shots": shots}


def _local_verdict(page: Any, image: Path) -> dict[str, Any]:
    """The verifier page's own verdict (on this device) for an image chosen as a person chooses it."""
    page.check("#mode-local")
    page.evaluate("window.mrtdLast = null")
    page.set_input_files("#file", str(image))
    wait_js(page, "window.mrtdLast !== null", 30)
    result: dict[str, Any] = page.evaluate("window.mrtdLast")
    return result


def test_unauthenticated_and_role_boundaries(office_site: dict[str, Any]) -> None:
    url, browser = office_site["url"], office_site["browser"]
    anonymous = browser.new_page()
    anonymous.goto(f"{url}/office/queue")
    assert "/sign-in?next=/office/queue" in anonymous.url
    anonymous.close()
    forbidden = {"carla": ["/office/queue", "/office/queue/1", "/office/search", "/office/audit", "/office/production"],
                 "amal": ["/office/enrol", "/office/search", "/office/audit", "/office/production"],
                 "audra": ["/office/enrol", "/office/queue", "/office/applications/1", "/office/search"],
                 "sam": ["/office/enrol", "/office/queue", "/office/audit"]}
    allowed = {"carla": ["/office/enrol", "/office/applications", "/office/applications/1"],
               "amal": ["/office/queue", "/office/applications"],
               "audra": ["/office/audit", "/office/production"],
               "sam": ["/office/search", "/office/production", "/office/documents/" + office_site["numbers"]["td3"]]}
    menus = {"carla": {"/office/enrol", "/office/applications"}, "amal": {"/office/queue", "/office/applications"},
             "audra": {"/office/production", "/office/audit"},
             "sam": {"/office/applications", "/office/search", "/office/production"}}
    for name, paths in forbidden.items():
        page = sign_in(browser, url, name)
        for path in paths:
            answer = page.goto(url + path)
            assert answer.status == 403, (name, path, answer.status)
            assert page.get_attribute("#error-detail", "data-rule") == "role", (name, path)
        for path in allowed[name]:
            assert page.goto(url + path).status == 200, (name, path)
        nav = page.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
        assert set(nav) - {"/", "/verify/"} == menus[name], (name, nav)
        page.context.close()


def test_csrf_refused(office_site: dict[str, Any]) -> None:
    url, browser = office_site["url"], office_site["browser"]
    with Office(office_site["site"], clock=now) as office:
        case = office.submit(Principal("carla", Role.CLERK), _application("anna-eriksson-td3.json"),
                             base_dir=EXAMPLES).case
    page = sign_in(browser, url, "amal")
    page.goto(f"{url}/office/queue/{case.id}")
    page.eval_on_selector_all("input[name=csrf]", "inputs => inputs.forEach(i => i.value = 'forged')")
    page.click("#approve")
    page.wait_for_load_state()
    assert page.get_attribute("#error-detail", "data-rule") == "csrf"
    # a request from elsewhere carries the session cookie (here: the context's own request API) but no token
    answer = page.request.post(f"{url}/office/queue/{case.id}/approve", form={"reason": "forged"})
    assert answer.status == 403 and "csrf" in answer.text()
    answer = page.request.post(f"{url}/sign-out", form={})
    assert answer.status == 403
    with Office(office_site["site"], clock=now) as office:
        assert office.casework.case(case.id).state.value == "received"  # nothing was decided
    # with the page's own token the same form works
    page.goto(f"{url}/office/queue/{case.id}")
    page.click("#approve")
    page.wait_for_load_state()
    assert page.url.endswith("/office/queue")
    page.context.close()


def test_session_cookie_and_sign_out(office_site: dict[str, Any]) -> None:
    """The session cookie is Secure, HttpOnly, SameSite=Strict and host-only (__Host-); signing out ends
    the session at the office, so the same cookie played back opens nothing."""
    url, browser = office_site["url"], office_site["browser"]
    page = sign_in(browser, url, "carla")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-mrtd-session"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict", session
    assert session["path"] == "/" and not session["domain"].startswith(".")
    assert page.evaluate("document.cookie").find("mrtd-session") == -1  # not readable by scripts
    page.click("form.signout button")
    page.wait_for_load_state()
    assert "/sign-in" in page.url
    assert "__Host-mrtd-session" not in {c["name"] for c in page.context.cookies()}
    page.context.add_cookies([session])  # the old cookie, played back
    page.goto(f"{url}/office/enrol")
    assert "/sign-in?next=/office/enrol" in page.url
    page.context.close()


def test_sign_in_lockout_and_totp(office_site: dict[str, Any]) -> None:
    url, browser, site = office_site["url"], office_site["browser"], office_site["site"]
    page = browser.new_page()
    for _ in range(MAX_FAILURES):
        page.goto(f"{url}/sign-in")
        page.fill("#name", "ada")
        page.fill("#password", "not the password at all")
        page.click("form button.primary")
        assert page.is_visible("#sign-in-error")
    page.goto(f"{url}/sign-in")
    page.fill("#name", "ada")
    page.fill("#password", PASSWORDS["ada"])
    page.click("form button.primary")
    assert page.is_visible("#sign-in-error") and "/sign-in" in page.url  # locked: the right password is refused
    with site.open_records() as store:
        secret_uri = enrol_totp(store, "tess", actor="admin")
    for code in ("", pyotp.parse_uri(secret_uri).now()):
        page.goto(f"{url}/sign-in")
        page.fill("#name", "tess")
        page.fill("#password", PASSWORDS["tess"])
        page.fill("#code", code)
        page.click("form button.primary")
        page.wait_for_load_state()
        if not code:
            assert page.is_visible("#sign-in-error")  # the second factor is required
    assert page.url.endswith("/office/enrol")
    page.context.close()
    with Office(site, clock=now) as office:
        actions = [e.action for e in office.audit(Principal("audra", Role.AUDITOR), limit=1000, actor="anonymous")]
    assert "user.locked" in actions and actions.count("user.sign-in-failed") >= MAX_FAILURES + 2


PAGES = {
    "carla": ["/office/enrol", "/office/applications", "/office/applications/1"],
    "amal": ["/office/queue", "/office/queue/1"],
    "sam": ["/office/search?name=shevchenko&reason=screenshot", "/office/documents/{td3}"],
    "audra": ["/office/production", "/office/audit"],
}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_page_in_english_and_arabic_passes_axe(office_site: dict[str, Any], language: str) -> None:
    url, browser, shots = office_site["url"], office_site["browser"], office_site["shots"]
    seen = []
    anonymous = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    public = anonymous.new_page()
    in_language(public, url, language)
    for path, name in (("/sign-in", "sign-in"), ("/verify/", "verify")):
        public.goto(url + path)
        assert public.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        screenshot(public, shots, f"{name}-{language}")
        assert axe_violations(public) == [], (path, language)
        seen.append(path)
    verdict = _local_verdict(public, office_site["root"] / "photo.jpg")
    assert verdict.get("verdict") == "valid", verdict
    screenshot(public, shots, f"verify-verdict-{language}")
    assert axe_violations(public) == []
    anonymous.close()
    for name, paths in PAGES.items():
        page = sign_in(browser, url, name, bypass_csp=True)
        in_language(page, url, language)
        for path in paths:
            path = path.format(**office_site["numbers"])
            assert page.goto(url + path).status == 200, path
            if path == "/office/enrol":
                fill_enrol(page, surname="الرازي", given="أبو بكر", birth=("14", "05", "1990"), sex="M",
                           expiry="2034-05-13")
                wait_js(page, "document.getElementById('pv-mrz').textContent.length > 0")
            assert page.get_attribute("html", "lang") == language
            if path == "/office/queue/1":
                assert page.is_visible("#page-preview"), page.inner_text("main")
            if path.startswith("/office/documents/"):
                assert page.is_visible("#document-page") and page.is_visible("img.seal"), page.inner_text("main")
            slug = path.strip("/").split("?")[0].replace("/", "-")
            screenshot(page, shots, f"{slug}-{language}")
            assert axe_violations(page) == [], (name, path, language)
            seen.append(path)
        page.context.close()
    assert len(seen) == 2 + sum(len(p) for p in PAGES.values())
    if language == "ar":  # the page's words come from the Arabic catalogue
        page = sign_in(browser, url, "amal")
        in_language(page, url, "ar")
        page.goto(f"{url}/office/queue")
        assert page.inner_text("h1") == "قائمة الاعتماد"
        page.context.close()
        auditor = sign_in(browser, url, "audra", locale="ar-EG")  # the charts' words too
        auditor.goto(f"{url}/office/production")
        arabic = translations("ar").gettext
        headings = auditor.eval_on_selector_all("svg.chart text.heading", "ts => ts.map(t => t.textContent)")
        assert headings == [arabic("Documents per hour, last 24 hours"), arabic("Documents per day, last 7 days")]
        assert arabic("spoiled") in (auditor.text_content("svg.chart") or "")
        auditor.context.close()


def test_findings_in_the_persons_language(office_site: dict[str, Any]) -> None:
    """A finding next to its field says what is wrong in the page's language, then the English detail."""
    url, browser = office_site["url"], office_site["browser"]
    clerk = sign_in(browser, url, "carla", locale="ar-EG")
    clerk.goto(f"{url}/office/enrol")
    fill_enrol(clerk, surname="الرازي", given="أبو بكر", birth=("14", "05", "1990"), sex="M", expiry="2001-01-01")
    selector = 'ul[data-for="document.date_of_expiry"] li[data-rule=expired]'
    wait_js(clerk, f"document.querySelector('{selector}')")
    said = clerk.inner_text(selector)
    assert said.startswith(translations("ar").gettext("The date of expiry has passed.")), said
    assert clerk.get_attribute(f"{selector} span", "lang") == "en" and "2001-01-01" in said
    clerk.context.close()


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_page_in_the_browsers_language(office_site: dict[str, Any], language: str) -> None:
    """No language chosen: the browser's Accept-Language picks French, Spanish or Arabic, and every page's
    heading, menu and main words are the catalogue's, not the English source (seen side by side)."""
    url, browser = office_site["url"], office_site["browser"]
    locale = {"fr": "fr-FR", "es": "es-MX", "ar": "ar-EG"}[language]

    def words(page: Any) -> dict[str, Any]:
        return {"h1": page.inner_text("h1"), "nav": page.inner_text("header"),
                "main": page.eval_on_selector_all("main label, main th, main button, main legend, main h2",
                                                  "els => els.map(e => e.innerText.trim())")}

    for name, paths in [("", ["/sign-in", "/verify/"]), *PAGES.items()]:
        pages = {}
        for lang in ("en", language):
            tag = "en-GB" if lang == "en" else locale
            if name:
                pages[lang] = sign_in(browser, url, name, locale=tag)
            else:
                pages[lang] = browser.new_context(locale=tag).new_page()
        for path in paths:
            path = path.format(**office_site["numbers"])
            seen = {}
            for lang, page in pages.items():
                assert page.goto(url + path).status == 200, path
                assert page.get_attribute("html", "lang") == lang, (path, lang)
                assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
                seen[lang] = words(page)
            english, translated = seen["en"], seen[language]
            assert translated["nav"] != english["nav"], (path, translated)
            # words that are the same in both languages ("Production" and "Documents" in French) are few
            pairs = list(zip([english["h1"], *english["main"]], [translated["h1"], *translated["main"]], strict=True))
            same = [w for w, t in pairs if w == t and w]
            assert len(same) <= max(1, len(pairs) // 4), (path, language, same)
        for page in pages.values():
            page.context.close()


def test_verifier_agrees_with_the_service(office_site: dict[str, Any]) -> None:
    """Every kind of seal the site makes, a tampered and a foreign one, and an issued PDF: the page's own
    verdict and summary (PDF.js, zxing-cpp and seal.js, in the browser) are the service's (mrtd.seals.verify)."""
    url, browser = office_site["url"], office_site["browser"]
    page = browser.new_page()
    page.goto(f"{url}/verify/")
    expected = {"td3": "valid", "visa": "valid", "td1": "valid", "arabic": "valid", "etd-idb": "valid",
                "etd-vds": "valid", "etd-vdsnc": "valid", "brainpool-idb": "valid", "brainpool-vds": "valid",
                "foreign": "unknown-signer", "tampered": "invalid"}
    expected["pdf"] = "valid"
    chosen = {**office_site["seals"], "pdf": office_site["root"] / "td3" / "page.pdf"}
    with httpx.Client(base_url=url, timeout=30) as client:
        for kind, image in chosen.items():
            kind_type = "application/pdf" if image.suffix == ".pdf" else "image/png"
            served = client.post("/v1/verify/seal", content=image.read_bytes(),
                                 headers={"Content-Type": kind_type}).json()
            mine = _local_verdict(page, image)
            assert mine.get("error") is None, (kind, mine)
            assert mine["verdict"] == served["verdict"] == expected[kind], (kind, mine, served["verdict"])
            assert mine["summary"] == served["summary"], (kind, mine["summary"], served["summary"])
    page.close()


def test_offline_verifier_with_the_network_cut(office_site: dict[str, Any]) -> None:
    """A verifier loaded from its own server, which is then stopped, and the browser set offline: the page
    reloads from its service worker and verifies a photographed seal, and rejects a tampered one."""
    browser, root = office_site["browser"], office_site["root"]
    context = browser.new_context()
    page = context.new_page()
    with ExitStack() as stack:
        url = stack.enter_context(serving(office_site["site"], "--no-print-check"))
        page.goto(f"{url}/verify/")
        wait_js(page, "document.body.dataset.offlineReady === '1'", 30)
        page.reload()
        wait_js(page, "navigator.serviceWorker.controller !== null", 30)
    context.set_offline(True)  # the server is stopped as well
    page.reload()
    assert page.inner_text("h1") == "Verify a seal"
    page.evaluate("window.mrtdLast = null")
    page.check("#mode-auto")  # automatic: the network is gone, so it verifies here
    page.set_input_files("#camera", str(root / "photo.jpg"))
    wait_js(page, "window.mrtdLast !== null", 30)
    good = page.evaluate("window.mrtdLast")
    assert good["verdict"] == "valid" and good["where"] == "local", good
    assert good["summary"]["document_number"] == office_site["numbers"]["td3"]
    assert page.get_attribute("#card", "data-verdict") == "valid"
    screenshot(page, office_site["shots"], "verify-offline-valid-en")
    bad = _local_verdict(page, root / "tampered-photo.jpg")
    assert bad["verdict"] == "invalid", bad
    screenshot(page, office_site["shots"], "verify-offline-tampered-en")
    # a brainpool signer (@noble/curves, not WebCrypto) and a VDS-NC, photographed; the issued PDF (PDF.js)
    for name, image in (("brainpool", root / "bp-photo.jpg"), ("vdsnc", root / "vdsnc-photo.jpg"),
                        ("pdf", root / "td3" / "page.pdf")):
        offline = _local_verdict(page, image)
        assert offline.get("verdict") == "valid" and offline["where"] == "local", (name, offline)
    assert offline["summary"]["document_number"] == office_site["numbers"]["td3"]
    screenshot(page, office_site["shots"], "verify-offline-pdf-en")
    assert page.evaluate("navigator.onLine") is False
    context.close()


def test_online_status_shows_a_document_reported_lost(office_site: dict[str, Any]) -> None:
    url, browser, root = office_site["url"], office_site["browser"], office_site["root"]
    number = office_site["numbers"]["td3"]
    verifier = browser.new_page()
    verifier.goto(f"{url}/verify/")
    verifier.set_input_files("#camera", str(root / "photo.jpg"))
    verifier.wait_for_selector("#card:not([hidden])")
    assert verifier.get_attribute("#card", "data-where") == "online"
    assert verifier.get_attribute("#v-status", "data-status") == "valid"
    verifier.evaluate("window.mrtdLast = null")
    verifier.set_input_files("#file", str(root / "td3" / "page.pdf"))  # a PDF: the service reads it
    pdf = wait_js(verifier, "window.mrtdLast")
    assert pdf["verdict"] == "valid" and pdf["where"] == "online" and pdf["summary"]["document_number"] == number
    supervisor = sign_in(browser, url, "sam")
    supervisor.goto(f"{url}/office/documents/{number}")
    supervisor.fill("#reason-report-lost", "reported at the consulate")
    supervisor.click("#do-report-lost")
    supervisor.wait_for_load_state()
    assert "state-reported-lost" in supervisor.get_attribute("h1 .state", "class")
    verifier.evaluate("window.mrtdLast = null")
    verifier.set_input_files("#camera", str(root / "photo.jpg"))
    wait_js(verifier, "window.mrtdLast !== null")
    last = verifier.evaluate("window.mrtdLast")
    assert last["verdict"] == "valid" and last["status"] == "reported-lost", last
    assert verifier.inner_text("#v-status") == "reported lost"
    assert verifier.is_visible("#status-warning") and "reported lost" in verifier.inner_text("#status-warning")
    assert verifier.get_attribute("#card", "data-status") == "reported-lost"
    screenshot(verifier, office_site["shots"], "verify-reported-lost-en")
    with Office(office_site["site"], clock=now) as office:
        record = office.store.document(number)
        asked = [e for e in office.audit(Principal("audra", Role.AUDITOR), limit=1000,
                                         action="document.status-asked")]
    assert record.state is DocumentState.REPORTED_LOST
    assert asked and all(e.actor == "anonymous" and set(e.detail) == {"answer"} for e in asked)
    supervisor.context.close()
    verifier.close()


def test_reject_void_replace_and_reprint_through_the_pages(office_site: dict[str, Any]) -> None:
    """The approver rejects with a reason (and cannot without one); the supervisor reprints a document (the
    PDF exactly as issued, its seal verified by the service), voids it and asks for its replacement: the
    verifier's status answer then says voided."""
    url, browser, site = office_site["url"], office_site["browser"], office_site["site"]
    number = office_site["numbers"]["td1"]
    with Office(site, clock=now) as office:
        case = office.submit(Principal("carla", Role.CLERK), _application("anna-eriksson-td1.json",
                                                                          date_of_expiry="2035-01-01"),
                             base_dir=EXAMPLES).case
    approver = sign_in(browser, url, "amal")
    approver.goto(f"{url}/office/queue/{case.id}")
    approver.click("#reject")  # no reason: the browser refuses the form (required), nothing is sent
    assert approver.url.endswith(f"/office/queue/{case.id}")
    approver.fill("#reject-reason", "portrait is not the applicant")
    approver.click("#reject")
    approver.wait_for_url(f"{url}/office/queue")
    approver.context.close()
    supervisor = sign_in(browser, url, "sam")
    supervisor.goto(f"{url}/office/applications/{case.id}")
    assert "state-rejected" in supervisor.get_attribute("h1 .state", "class")
    supervisor.goto(f"{url}/office/documents/{number}")
    with supervisor.expect_download() as download:
        supervisor.click("#do-reprint")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and download.value.suggested_filename == f"{number}.pdf"
    with httpx.Client(base_url=url, timeout=30) as client:
        served = client.post("/v1/verify/seal", content=pdf, headers={"Content-Type": "application/pdf"}).json()
        assert served["verdict"] == "valid" and served["summary"]["document_number"] == number
        assert not supervisor.is_visible("#do-replace")  # an issued document is voided before it is replaced
        supervisor.fill("#reason-void", "replaced after damage")
        supervisor.click("#do-void")
        supervisor.wait_for_load_state()
        assert "state-voided" in supervisor.get_attribute("h1 .state", "class")
        assert "replaced after damage" in supervisor.inner_text("ol.timeline")
        with supervisor.expect_navigation():
            supervisor.click("#do-replace")
        assert re.search(r"/office/applications/\d+\?submitted=replacement$", supervisor.url), \
            supervisor.inner_text("main")
        summary = served["summary"]
        status = client.post("/v1/status", json={"number": number, "date_of_birth": summary["date_of_birth"],
                                                 "date_of_expiry": summary["date_of_expiry"]}).json()
    assert status["status"] == "voided", status
    supervisor.context.close()
