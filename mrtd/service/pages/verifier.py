"""The public verifier: one page that checks a seal from a camera photo, an image or a PDF.

Online it asks the service (`POST /v1/verify/seal`, then `POST /v1/status` with the MRZ's number, date of
birth and expiry for the document's status at the issuing office). Offline - once the page was loaded, its
service worker keeps it, its scripts, zxing-cpp's WebAssembly reader, PDF.js and the trust list - it renders
a PDF's first pages as the service does (mrtd.limits), decodes the barcode in the browser and verifies the
signature with WebCrypto (P-256/384/521) or @noble/curves (brainpool) against the trust list bundled into
the page (refreshable from `/verify/trust.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from mrtd.limits import MAX_PDF_PAGES, PDF_DPI, PDF_PIXELS
from mrtd.service.pages.web import STATIC, PageRoute, page_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VENDOR = STATIC / "vendor"
# The files the service worker keeps for offline use (besides the page and the trust list).
OFFLINE_FILES = ("/static/style.css", "/static/verifier.js", "/static/seal.js",
                 "/static/vendor/zxing-wasm/dist/es/reader/index.js", "/static/vendor/zxing-wasm/dist/es/share.js",
                 "/static/vendor/zxing-wasm/dist/reader/zxing_reader.wasm",
                 "/static/vendor/pdfjs-dist/build/pdf.min.mjs", "/static/vendor/pdfjs-dist/build/pdf.worker.min.mjs")
# A PDF is read in the page as the service reads it: its first pages, at the same resolution and budget.
PDF_LIMITS = {"pages": MAX_PDF_PAGES, "dpi": PDF_DPI, "pixels": PDF_PIXELS}


def _vendor_modules() -> list[str]:
    """Every module of @noble/curves and @noble/hashes the verifier may import (the worker caches them)."""
    found = []
    for package in ("@noble/curves", "@noble/hashes"):
        root = VENDOR / package
        if root.is_dir():
            found += [f"/static/vendor/{package}/{p.relative_to(root).as_posix()}" for p in sorted(root.rglob("*.js"))]
    return found


def _version() -> str:
    """Changes whenever a cached file changes, so that the worker refreshes its cache."""
    stamps = [(STATIC / f.removeprefix("/static/")).stat().st_mtime_ns for f in OFFLINE_FILES
              if (STATIC / f.removeprefix("/static/")).exists()]
    stamps.append(Path(__file__).stat().st_mtime_ns)
    return str(max(stamps, default=0))


@router.get("/verify")
async def verify_redirect() -> Response:
    return Response(status_code=308, headers={"Location": "/verify/"})


@router.get("/verify/")
async def verify_page(request: Request) -> Response:
    office = request.app.state.office
    trust = await run_in_threadpool(office.verifier_trust)
    page = page_of(request)
    response = render(page, "verify.html", private=False, trust=Markup(json.dumps(trust).replace("</", "<\\/")),
                      import_map=Markup(json.dumps({"imports": {
                          "@noble/curves/": "/static/vendor/@noble/curves/",
                          "@noble/hashes/": "/static/vendor/@noble/hashes/"}})),
                      pdf_limits=Markup(json.dumps(PDF_LIMITS)),
                      offline_ready=(VENDOR / "zxing-wasm").is_dir())
    # A public page; the worker revalidates it whenever the network is there.
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/verify/trust.json")
async def trust_list(request: Request) -> Response:
    trust = await run_in_threadpool(request.app.state.office.verifier_trust)
    return JSONResponse(trust, headers={"Cache-Control": "no-cache"})


@router.get("/verify/sw.js")
async def service_worker(request: Request) -> Response:
    page = page_of(request)
    files = [*OFFLINE_FILES, *_vendor_modules(), "/verify/trust.json"]
    body = (STATIC / "sw.js").read_text("utf-8").replace("__VERSION__", _version()).replace(
        "__FILES__", json.dumps(files))
    return Response(body, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Content-Language": page.language})


@router.get("/static/{path:path}")
async def static(path: str) -> Response:
    """The pages' scripts, styles and the vendored npm files (scripts/vendor_web.py)."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.name.startswith("."):
        return Response("not found", status_code=404, media_type="text/plain")
    kind = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".svg": "image/svg+xml",
            ".png": "image/png", ".json": "application/json"}.get(target.suffix, "application/octet-stream")
    return Response(target.read_bytes(), media_type=kind,
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
