"""`mrtd render` (an application -> printed page images, checked by OCR) and `mrtd layout check`
(OCR check of an existing page image, e.g. a scan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from PIL import Image, UnidentifiedImageError

from mrtd.cli._common import EXIT_FINDINGS, emit_json, guarded, json_option, print_findings
from mrtd.errors import InputError
from mrtd.issuance.application import read_application
from mrtd.layouts import load_template
from mrtd.layouts import render as render_page
from mrtd.layouts import write as write_page
from mrtd.layouts.qa import check_print, mrz_image, verify_print
from mrtd.layouts.viewmodel import page_from_document
from mrtd.model import Application, DocumentFormat

LAYOUTS = ("td3", "td1")


def _read_bytes(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what}: cannot read {path} ({exc})") from None


def _layout_for(app: Application) -> str:
    fmt = app.document.format
    if fmt is DocumentFormat.TD1:
        return "td1"
    if fmt is DocumentFormat.TD3:
        return "td3"
    raise InputError(f"--layout: the application is {fmt.value}; give --layout td3 or td1")


@click.command("render")
@click.argument("application", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(LAYOUTS), required=True, help="Page template.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.png (TD1: FILE-front.png and FILE-back.png) or FILE.pdf (one page per side).")
@click.option("--dpi", type=click.Choice(["300", "600"]), default="300", show_default=True)
@click.option("--seal", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seal image (e.g. a VDS barcode) for the template's seal zone.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Read the MRZ back with tesseract before writing; a mismatch writes nothing.")
@json_option
@guarded
def render(application: Path, layout: str, out: Path, dpi: str, seal: Path | None, check: bool,
           as_json: bool) -> None:
    """Render the data page of APPLICATION."""
    app = read_application(application)
    template = load_template(layout)
    page = page_from_document(app.document, template, portrait=_read_bytes(app.portrait, "portrait"),
                              signature=_read_bytes(app.signature, "signature"),
                              seal=_read_bytes(seal, "--seal"))
    res = int(dpi)
    sides = render_page(template, page, res)
    payload: dict[str, Any] = {"ok": True, "layout": layout, "dpi": res}
    if check:
        result = verify_print(mrz_image([s.image for s in sides], template), template, page.mrz)
        payload["mrz_read"] = list(result.read)
        payload["fillers_recovered"] = len(result.recovered)
    written = write_page(template, sides, out, res)
    payload["files"] = [str(p) for p in written]
    if as_json:
        emit_json(payload)
    else:
        for p in written:
            click.echo(str(p))


@click.group("layout")
def layout() -> None:
    """Printed page layouts and their print quality check."""


@layout.command("check")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--application", "application", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="The application whose MRZ must be on the page.")
@click.option("--layout", "layout_name", type=click.Choice(LAYOUTS), default=None,
              help="Template (default: from the application's format). TD1: give the back side.")
@json_option
@guarded
def check(image: Path, application: Path, layout_name: str | None, as_json: bool) -> None:
    """OCR-check the MRZ on IMAGE (a rendered or scanned page) against APPLICATION."""
    app = read_application(application)
    template = load_template(layout_name or _layout_for(app))
    page = page_from_document(app.document, template)
    try:
        with Image.open(image) as im:
            im.load()
            picture = im.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"IMAGE: {image} is not a readable image ({exc})") from None
    result = check_print(picture, template, page.mrz)
    if as_json:
        emit_json({"ok": result.ok, "expected": list(page.mrz), "read": list(result.read),
                   "fillers_recovered": len(result.recovered),
                   "findings": [f.as_dict() for f in result.findings]})
    elif result.ok:
        click.echo(f"MRZ reads back as printed ({len(result.recovered)} fillers recovered from misreads)")
    else:
        click.echo("MRZ does not read back as printed:")
        print_findings(result.findings)
    if not result.ok:
        raise SystemExit(EXIT_FINDINGS)
