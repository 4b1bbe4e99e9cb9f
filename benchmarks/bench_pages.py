"""The public verifier in headless Chromium: time to first render of the page, and time from a photo chosen
to the verdict shown, online (the service verifies and answers the status) and offline (the page, kept by
its service worker, decodes with zxing-cpp's WebAssembly reader and verifies with WebCrypto; the server is
stopped and the browser offline); the same for the issued PDF (PDF.js renders it in the page when offline).
The photo is a slanted, blurred JPEG of the printed page (tests/browserkit.py photo_of). Prints medians and
90th percentiles over N runs, and the ratios.

    .venv/bin/python benchmarks/bench_pages.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browserkit import chromium, photo_of, wait_js  # noqa: E402
from conftest import SIGNING_SECRETS  # noqa: E402
from servicekit import make_site, make_users, now, serving  # noqa: E402

from mrtd.issuance.office import Office  # noqa: E402
from mrtd.issuance.roles import Principal, Role  # noqa: E402

PAINT = ("() => { const p = performance.getEntriesByName('first-contentful-paint')[0];"
         " return p ? p.startTime : null; }")


def stats(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ordered)})"


def first_render(page: Any, url: str) -> float:
    page.goto(f"{url}/verify/")
    value: float = wait_js(page, f"({PAINT})()", 30)
    return value


def photo_to_verdict(page: Any, photo: Path, mode: str) -> float:
    """From the file chosen (a photo through the camera input, a PDF through the file input) to the verdict."""
    page.check(f"#mode-{mode}")
    page.evaluate("window.mrtdLast = null")
    page.set_input_files("#file" if photo.suffix == ".pdf" else "#camera", str(photo))
    last = wait_js(page, "window.mrtdLast", 60)
    assert last.get("verdict") == "valid", last
    return float(last["ms"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    tmp = Path(tempfile.mkdtemp(prefix="mrtd-bench-pages-"))
    site = make_site(tmp / "site")
    make_users(site)
    examples = ROOT / "examples" / "applications"
    import json

    data = json.loads((examples / "olena-shevchenko-cyrillic.json").read_text("utf-8"))
    data["document"].pop("number", None)
    with Office(site, clock=now, secrets=SIGNING_SECRETS) as office:
        case = office.submit(Principal("carla", Role.CLERK), data, base_dir=examples).case
        office.approve(Principal("amal", Role.APPROVER), case.id)
        office.issue_stored(Principal("operator"), case.id, tmp / "doc")
    photo = tmp / "photo.jpg"
    photo.write_bytes(photo_of((tmp / "doc" / "page.png").read_bytes()))
    figures: dict[str, list[float]] = {}
    with chromium() as browser:
        # online: a fresh browser context per run (nothing cached), the service answering
        with serving(site, "--no-print-check", "--verify-rate", "1000") as url:
            for _ in range(runs):
                context = browser.new_context()
                page = context.new_page()
                figures.setdefault("first render, online, cold", []).append(first_render(page, url))
                figures.setdefault("photo to verdict, online (service + status)", []).append(
                    photo_to_verdict(page, photo, "auto"))
                figures.setdefault("photo to verdict, on this device, online", []).append(
                    photo_to_verdict(page, photo, "local"))
                figures.setdefault("PDF to verdict, online (service + status)", []).append(
                    photo_to_verdict(page, tmp / "doc" / "page.pdf", "auto"))
                context.close()
        # offline: load once (the worker keeps the page), stop the server, cut the network
        context = browser.new_context()
        page = context.new_page()
        with ExitStack() as stack:
            url = stack.enter_context(serving(site, "--no-print-check"))
            page.goto(f"{url}/verify/")
            wait_js(page, "document.body.dataset.offlineReady === '1'", 30)
            page.reload()
            wait_js(page, "navigator.serviceWorker.controller !== null", 30)
        context.set_offline(True)
        for _ in range(runs):
            page.reload()
            figures.setdefault("first render, offline (service worker)", []).append(
                wait_js(page, f"({PAINT})()", 30))
            figures.setdefault("photo to verdict, offline", []).append(photo_to_verdict(page, photo, "auto"))
            figures.setdefault("PDF to verdict, offline (PDF.js)", []).append(
                photo_to_verdict(page, tmp / "doc" / "page.pdf", "auto"))
        context.close()
    width = max(len(k) for k in figures)
    print(f"verifier page, headless Chromium, photo {photo.stat().st_size // 1024} KB JPEG of a TD3 page")
    for name, values in figures.items():
        print(f"  {name:<{width}}  {stats(values)}")
    online = statistics.median(figures["photo to verdict, online (service + status)"])
    offline = statistics.median(figures["photo to verdict, offline"])
    cold = statistics.median(figures["first render, online, cold"])
    kept = statistics.median(figures["first render, offline (service worker)"])
    print(f"  ratio photo-to-verdict offline / online: {offline / online:.2f}")
    print(f"  ratio first render offline / online cold: {kept / cold:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
