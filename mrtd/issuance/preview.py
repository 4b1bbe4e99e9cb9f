"""Previews for people at work: the MRZ and the printed name of an application being filled in, and the page
an application will print, before a number is drawn (a specimen number stands in for it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mrtd.errors import Finding, InputError, MrtdError
from mrtd.issuance.application import check_document
from mrtd.issuance.pipeline import page_template
from mrtd.issuance.site import SiteConfig
from mrtd.layouts import page_from_document, png_bytes
from mrtd.layouts import render as render_page
from mrtd.limits import read_file
from mrtd.model import Application, Document
from mrtd.mrz import mrz_lines

# Stands in for the number drawn at production (9 characters fit every format's number field).
SPECIMEN_NUMBER = "X00000000"
PREVIEW_DPI = 150  # the lowest the renderer draws at


@dataclass(frozen=True)
class Preview:
    findings: tuple[Finding, ...]
    mrz: tuple[str, ...] = ()
    # As the page prints them: surname, given_names, their Latin forms, the name in national characters.
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not any(f.severity.value == "error" for f in self.findings),
                "findings": [f.as_dict() for f in self.findings], "mrz": list(self.mrz), "names": dict(self.names)}


def _specimen(doc: Document) -> Document:
    return doc if doc.number else dataclasses.replace(doc, number=SPECIMEN_NUMBER)


def preview_application(data: object, site: SiteConfig, today: dt.date) -> Preview:
    """The MRZ and printed names of `data` (an application's JSON without images), with every finding."""
    document, findings = check_document(data, names=site.names, today=today)
    if document is None:
        return Preview(findings)
    doc = _specimen(document)
    try:
        lines = tuple(mrz_lines(doc, site.names))
        template = page_template(site, doc.format)
    except MrtdError as exc:
        return Preview((*findings, Finding("document", "mrz", str(exc))))
    names: dict[str, str] = {}
    if template is not None:
        extra = data.get("extra") if isinstance(data, Mapping) else None
        page = page_from_document(doc, template, names=site.names,
                                  extra={str(k): str(v) for k, v in extra.items()} if isinstance(extra, Mapping) else None)
        names = {"surname": page.surname, "given_names": page.given_names, "surname_latin": page.surname_latin,
                 "given_names_latin": page.given_names_latin, "name_national": page.name_national}
    return Preview(findings, lines, names)


def page_preview(app: Application, site: SiteConfig, dpi: int = PREVIEW_DPI) -> bytes:
    """The front of the page `app` will print, as PNG, with the specimen number and no seal."""
    doc = _specimen(app.document)
    template = page_template(site, doc.format)
    if template is None:
        raise InputError(f"document.format: no page template for {doc.format.value}")
    page = page_from_document(doc, template, names=site.names, extra=dict(app.extra),
                              portrait=read_file(app.portrait, "portrait") if app.portrait else None,
                              signature=read_file(app.signature, "signature") if app.signature else None)
    sides = render_page(template, page, dpi)
    return png_bytes(sides[0].image, dpi)
