"""`mrtd render` (applications -> printed page images or vector PDF, checked by OCR; print sheets with a
printer's calibration offset) and `mrtd layout check` (OCR check of an existing page image, e.g. a scan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mrtd.cli._common import EXIT_FINDINGS, emit_json, guarded, json_option, print_findings
from mrtd.cli.output import verdict
from mrtd.errors import InputError, MrtdError
from mrtd.issuance.application import read_application
from mrtd.layouts import load_template, sheet_pdf
from mrtd.layouts import render as render_page
from mrtd.layouts import write as write_page
from mrtd.layouts.pdf import parse_offset, sheets
from mrtd.layouts.qa import check_print, mrz_image, verify_print
from mrtd.layouts.viewmodel import page_from_document
from mrtd.limits import open_image, read_file
from mrtd.model import Application
from mrtd.seals import barcode

LAYOUTS = ("td3", "td1", "td2", "mrv-a", "mrv-b")


def _read_bytes(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return read_file(path, what)
    except InputError as exc:
        raise InputError(f"{what}: cannot read {path} ({exc})") from None


def _layout_for(app: Application) -> str:
    return app.document.format.value.lower()


def _seal_modules(data: bytes | None) -> tuple[str, ...]:
    """A seal image made by `mrtd seal make` as its barcode modules (printed as vectors); () for any
    other image, which is then printed as an image."""
    if data is None:
        return ()
    try:
        return barcode.modules(barcode.open_image(data))
    except MrtdError:
        return ()


@click.command("render")
@click.argument("applications", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(LAYOUTS), default=None,
              help="Page template (default: from the application's format).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.png (two sides: FILE-front.png, FILE-back.png) or FILE.pdf (vector, one page per side).")
@click.option("--dpi", type=click.Choice(["300", "600"]), default="300", show_default=True,
              help="Resolution of the PNG and of the OCR check.")
@click.option("--seal", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Seal image (e.g. a VDS barcode) for the template's seal zone.")
@click.option("--sheet", type=click.Choice(sorted(sheets())), default=None,
              help="Print sheet PDF: the documents placed on the printer's paper with crop marks.")
@click.option("--offset", default="0,0", show_default=True,
              help="Printer calibration for --sheet: DX,DY in mm (right, down).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Read the MRZ back with tesseract before writing; a mismatch writes nothing.")
@json_option
@guarded
def render(applications: tuple[Path, ...], layout: str | None, out: Path, dpi: str, seal: Path | None,
           sheet: str | None, offset: str, check: bool, as_json: bool) -> None:
    """Render the data page of APPLICATION (several, n-up, with --sheet)."""
    if len(applications) > 1 and sheet is None:
        raise click.UsageError("several applications are printed together on a --sheet")
    if sheet is not None and out.suffix.lower() != ".pdf":
        raise click.UsageError("--sheet writes a PDF: give --out FILE.pdf")
    res = int(dpi)
    seal_data = _read_bytes(seal, "--seal")
    payload: dict[str, Any] = {"dpi": res, "documents": []}
    documents = []
    for path in applications:
        app = read_application(path)
        name = layout or _layout_for(app)
        template = load_template(name)
        modules = _seal_modules(seal_data)
        page = page_from_document(app.document, template, portrait=_read_bytes(app.portrait, "portrait"),
                                  signature=_read_bytes(app.signature, "signature"),
                                  seal=None if modules else seal_data, seal_modules=modules, extra=app.extra)
        sides = render_page(template, page, res)
        entry: dict[str, Any] = {"application": str(path), "layout": name}
        if check:
            result = verify_print(mrz_image([s.image for s in sides], template), template, page.mrz)
            entry["mrz_read"] = list(result.read)
            entry["raw_agreement"] = result.raw_agreement
            entry["fillers_recovered"] = len(result.recovered)
        payload["documents"].append(entry)
        documents.append((template, sides))
    if sheet is not None:
        blob = sheet_pdf(sheet, [[s.layout for s in sides if s.layout] for _, sides in documents],
                         parse_offset(offset), title=f"mrtd {sheet}")
        try:
            out.write_bytes(blob)
        except OSError as exc:
            raise InputError(f"--out: cannot write {out} ({exc})") from None
        written = [out]
    else:
        template, sides = documents[0]
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
    picture = open_image(read_file(image, "IMAGE"), f"IMAGE {image}").convert("RGB")
    result = check_print(picture, template, page.mrz)
    if as_json:
        emit_json({"expected": list(page.mrz), "read": list(result.read),
                   "raw_agreement": result.raw_agreement, "fillers_recovered": len(result.recovered),
                   "findings": [f.as_dict() for f in result.findings]}, ok=result.ok,
                  **verdict(result.ok, result.findings))
    elif result.ok:
        click.echo(f"MRZ reads back as printed (raw OCR agreement {result.raw_agreement:.1%} before recovery; "
                   f"{len(result.recovered)} fillers recovered from misreads)")
    else:
        click.echo("MRZ does not read back as printed:")
        print_findings(result.findings)
    if not result.ok:
        raise SystemExit(EXIT_FINDINGS)
