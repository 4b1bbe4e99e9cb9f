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


def _perspective_coefficients(corners: list[tuple[float, float]], width: int, height: int) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping each output pixel back into the page: the page's corners
    (0,0), (w,0), (w,h), (0,h) land on `corners` in the photo (8 equations, 8 unknowns)."""
    import numpy as np

    source = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows, float), np.array(rhs, float))]


def photo_of(png: bytes, *, scale: float = 1.0, angle: float = 2.5, tilt: float = 0.08) -> bytes:
    """A phone's photo of a printed page, roughly: taken at a slant (a perspective warp: the far edge
    `tilt` narrower than the near one, one side shorter than the other), turned a little, on a grey desk
    under uneven light, out of focus, with sensor noise, saved as a JPEG."""
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    page = Image.open(io.BytesIO(png)).convert("RGB")
    page = page.resize((int(page.width * scale), int(page.height * scale)), Image.Resampling.LANCZOS)
    w, h = page.size
    margin = int(0.12 * max(w, h))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    inset, drop = tilt * w / 2, tilt * h / 3
    corners = [(margin + inset, margin + drop), (margin + w - inset * 0.6, margin),
               (margin + w + inset * 0.3, margin + h), (margin - inset * 0.2, margin + h - drop * 0.5)]
    warped = page.transform((out_w, out_h), Image.Transform.PERSPECTIVE,
                            _perspective_coefficients(corners, w, h), Image.Resampling.BICUBIC,
                            fillcolor=(128, 124, 118))
    photo = warped.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(128, 124, 118))
    photo = photo.filter(ImageFilter.GaussianBlur(0.9))
    pixels = np.asarray(photo, dtype=np.float32)
    light = np.linspace(1.0, 0.82, out_w, dtype=np.float32)[None, :, None]  # a lamp on one side
    noise = np.random.default_rng(14).normal(0.0, 4.0, pixels.shape).astype(np.float32)
    pixels = np.clip(pixels * light + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=80)
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
