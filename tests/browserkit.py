"""Shared by the browser tests: Debian's chromium driven by playwright (no browser download: the executable
is /usr/bin/chromium, installed by scripts/install-system-packages.sh), signing in, screenshots, axe-core.

Screenshots go to $MRTD_SCREENSHOTS when set (a folder to look at), else to the test's temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import ROOT, require

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VENDOR = ROOT / "mrtd" / "service" / "pages" / "static" / "vendor"
AXE = VENDOR / "axe-core" / "axe.min.js"
PASSWORDS = {name: f"pages-{name}-passphrase" for name in ("carla", "amal", "sam", "audra", "st1", "ada", "tess")}


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (one per module: each test opens its own contexts)."""
    require(CHROMIUM.exists() or shutil.which("chromium") is not None, "chromium (Debian package)")
    require((VENDOR / "zxing-wasm").is_dir() and AXE.is_file(), "the vendored npm files (scripts/vendor_web.py)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright (Python package)")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def set_passwords(site: Any) -> None:
    from mrtd.issuance.signin import set_password
    from mrtd.issuance.users import users

    with site.open_records() as store:
        known = {u.name for u in users(store)}
        for name, password in PASSWORDS.items():
            if name in known:
                set_password(store, name, password, actor="admin")


def sign_in(browser: Any, url: str, name: str, *, locale: str = "en-GB", **options: Any) -> Any:
    """A new browser context signed in as `name` (its page is returned; the context is page.context)."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.goto(f"{url}/sign-in")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form button.primary")
    page.wait_for_load_state()
    assert "/sign-in" not in page.url, page.content()[:2000]
    return page


def shots_dir(fallback: Path) -> Path:
    folder = Path(os.environ.get("MRTD_SCREENSHOTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def in_language(page: Any, url: str, language: str) -> None:
    """Choose the page's language the way a person does: the language menu (a cookie)."""
    page.goto(f"{url}/language?to={language}&next=/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in ("serious", "critical")]


def photo_of(png: bytes, *, scale: float = 1.0, angle: float = 2.5) -> bytes:
    """A phone's photo of a printed page, roughly: turned a little, softened, on a grey desk, JPEG."""
    import io

    from PIL import Image, ImageFilter

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.LANCZOS)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 236, 230))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def fill_enrol(page: Any, *, surname: str, given: str, birth: tuple[str, str, str], sex: str, expiry: str,
               portrait: Path | None = None, signature: Path | None = None) -> None:
    """Fill the clerk's enrolment form as a person does (the live preview follows each change)."""
    page.fill("#holder\\.primary_identifier", surname)
    page.fill("#holder\\.secondary_identifier", given)
    day, month, year = birth
    page.select_option("#birth\\.day", day)
    page.select_option("#birth\\.month", month)
    page.fill("#birth\\.year", year)
    page.select_option("#holder\\.sex", sex)
    page.fill("#document\\.date_of_expiry", expiry)
    for selector, path in (("#portrait", portrait), ("#signature", signature)):
        if path is not None:
            page.set_input_files(selector, str(path))


def wait_js(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """Poll `expression` in the page until it is truthy (page.evaluate runs beside the page's CSP, which
    refuses the eval that wait_for_function needs)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)
