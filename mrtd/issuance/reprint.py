"""Reprint the data page of an issued document, exactly as it was issued, from the records alone.

The records keep what the page was made from: the application (its content and images), the signed seal
payload and the receipt (whose SHA-256 was recorded when the document became `issued`, so an edited
receipt is refused). The page is rendered again with the date of issue of the receipt; its MRZ must come
out identical to the receipt's, the seal is drawn from the very payload that was signed (nothing is signed
again, no number is drawn), the new page passes the same OCR print check, and the reprint is recorded in
the audit log. Works for a document issued by `mrtd issue`, a batch or a station alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrtd.errors import InputError, StateError
from mrtd.issuance.casework import Casework
from mrtd.issuance.pipeline import PAGE_PDF, PAGE_PNG, RECEIPT, SEAL_PAYLOAD, page_template, seal_png
from mrtd.issuance.records import RecordStore
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import DocumentState
from mrtd.issuance.stored import stored_application
from mrtd.layouts import render as render_page
from mrtd.layouts import write as write_page
from mrtd.layouts.qa import mrz_image, verify_print
from mrtd.layouts.viewmodel import page_from_document
from mrtd.limits import read_file
from mrtd.mrz import mrz_lines
from mrtd.seals import barcode


@dataclass(frozen=True, slots=True)
class Reprint:
    number: str
    files: dict[str, bytes]  # page.png, page.pdf
    audit_seq: int

    @property
    def digests(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}


def _issued_receipt(store: RecordStore, number: str, raw: bytes | None) -> dict[str, Any]:
    """The receipt of `number`, checked against the hash recorded when it became `issued`."""
    recorded = [e.detail.get("receipt_sha256") for e in store.events(number)
                if e.to_state is DocumentState.ISSUED and isinstance(e.detail, dict)]
    if raw is None:
        raise InputError(f"document {number}: the records keep no receipt for it (issued before receipts were "
                         "kept), so its page cannot be made again")
    if not recorded or hashlib.sha256(raw).hexdigest() != recorded[-1]:
        raise InputError(f"document {number}: the kept receipt is not the one recorded when it was issued "
                         "(SHA-256 differs)")
    receipt: dict[str, Any] = json.loads(raw)
    return receipt


def reprint_page(number: str, *, store: RecordStore, site: SiteConfig, actor: str) -> Reprint:
    record = store.document(number)
    if record.state is not DocumentState.ISSUED:
        raise StateError(f"document {number}: only an issued document is reprinted (it is {record.state.value})")
    files = issued_page(number, store=store, site=site)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    seq = store.note(number, "reprint", actor=actor, detail={"files": digests})
    return Reprint(number, files, seq)


def issued_page(number: str, *, store: RecordStore, site: SiteConfig, dpi: int | None = None,
                check: bool = True, names: tuple[str, ...] = (PAGE_PNG, PAGE_PDF)) -> dict[str, bytes]:
    """The page of an issued document made again from the records (PNG and PDF by default, at the site's
    dpi, its MRZ read back by OCR when `check`): any document that was issued, whatever became of it since."""
    casework = Casework(store)
    application_id = casework.application_of(number)
    case = casework.case(application_id, with_payload=True)
    kept = casework.files(number)
    receipt = _issued_receipt(store, number, kept.get(RECEIPT))
    with stored_application(case.payload, casework.images(application_id), names=site.names,
                            source=f"application {application_id}",
                            photos=casework.photo_checks(application_id)) as application:
        issued_on = dt.date.fromisoformat(receipt["document"]["date_of_issue"])
        doc = dataclasses.replace(application.document, number=number, date_of_issue=issued_on)
        template = page_template(site, doc.format)
        if template is None:
            raise InputError(f"document {number}: no page template for {doc.format.value} (mrtd.layouts or the site's)")
        lines = tuple(mrz_lines(doc, site.names))
        if list(lines) != receipt.get("mrz"):
            raise InputError(f"document {number}: the MRZ built today differs from the issued one (the site's "
                             "transliteration settings changed?); refusing to print a different MRZ")
        seal = None
        if SEAL_PAYLOAD in kept:
            seal = seal_png(kept[SEAL_PAYLOAD], (receipt.get("seal") or {}).get("symbology", site.symbology))
        portrait = read_file(application.portrait, "portrait") if application.portrait else None
        signature = read_file(application.signature, "signature") if application.signature else None
        extra = dict(application.extra)
    modules = barcode.modules(barcode.open_image(seal)) if seal is not None else ()
    page = page_from_document(doc, template, portrait=portrait, signature=signature, seal_modules=modules,
                              names=site.names, extra=extra)
    res = dpi or site.dpi
    sides = render_page(template, page, res)
    if check:
        verify_print(mrz_image([s.image for s in sides], template), template, page.mrz)
    with tempfile.TemporaryDirectory(prefix=f"mrtd-reprint-{number}-") as tmp:
        # A page of several sides writes page-front.png, page-observations.png, ... and one page.pdf.
        written = [p for name in names for p in write_page(template, sides, Path(tmp) / name, res)]
        return {p.name: p.read_bytes() for p in written}
