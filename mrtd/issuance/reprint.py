"""Reprint the data page of an issued document, exactly as it was issued.

The page is made again from the same application (its content hash must be the one the document was
issued from) and the receipt in the document's output folder (its SHA-256 must be the one recorded when
the document became `issued`, so an edited receipt is refused). The MRZ must come out identical to the
receipt's; the seal image is the one issued. The new page passes the same OCR print check, and the
reprint is recorded in the audit log. Nothing new is signed and no number is drawn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrtd.errors import InputError, StateError
from mrtd.issuance.pipeline import (
    PAGE_PDF,
    PAGE_PNG,
    RECEIPT,
    SEAL_FILE,
    application_key,
    application_payload,
    page_template,
)
from mrtd.issuance.records import RecordStore
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import DocumentState
from mrtd.layouts import render as render_page
from mrtd.layouts import write as write_page
from mrtd.layouts.qa import mrz_image, verify_print
from mrtd.layouts.viewmodel import page_from_document
from mrtd.model import Application
from mrtd.mrz import mrz_lines


@dataclass(frozen=True, slots=True)
class Reprint:
    number: str
    out_dir: Path
    files: dict[str, str]  # file name -> SHA-256
    audit_seq: int


def _issued_receipt(store: RecordStore, number: str, issued_dir: Path) -> dict[str, Any]:
    """The receipt of `number`, checked against the hash recorded when it became `issued`."""
    recorded = [e.detail.get("receipt_sha256") for e in store.events(number)
                if e.to_state is DocumentState.ISSUED and isinstance(e.detail, dict)]
    path = issued_dir / RECEIPT
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the issued receipt ({exc.strerror or exc})") from None
    if not recorded or hashlib.sha256(raw).hexdigest() != recorded[-1]:
        raise InputError(f"{path}: not the receipt recorded when {number} was issued (SHA-256 differs)")
    receipt: dict[str, Any] = json.loads(raw)
    return receipt


def reprint_page(application: Application, number: str, *, store: RecordStore, site: SiteConfig,
                 issued_dir: Path, out_dir: Path, actor: str) -> Reprint:
    record = store.document(number)
    if record.state is not DocumentState.ISSUED:
        raise StateError(f"document {number}: only an issued document is reprinted (it is {record.state.value})")
    if application_key(application_payload(application)) != record.application_key:
        raise InputError(f"application: not the application document {number} was issued from (content differs)")
    receipt = _issued_receipt(store, number, issued_dir)
    issued_on = dt.date.fromisoformat(receipt["document"]["date_of_issue"])
    doc = dataclasses.replace(application.document, number=number, date_of_issue=issued_on)
    template = page_template(site, doc.format)
    if template is None:
        raise InputError(f"document {number}: no page template for {doc.format.value} (mrtd.layouts or the site's)")
    lines = tuple(mrz_lines(doc, site.names))
    if list(lines) != receipt.get("mrz"):
        raise InputError(f"document {number}: the MRZ built today differs from the issued one (the site's "
                         "transliteration settings changed?); refusing to print a different MRZ")
    seal_path = issued_dir / SEAL_FILE
    seal = seal_path.read_bytes() if seal_path.exists() else None
    portrait = application.portrait.read_bytes() if application.portrait else None
    signature = application.signature.read_bytes() if application.signature else None
    page = page_from_document(doc, template, portrait=portrait, signature=signature, seal=seal, names=site.names)
    sides = render_page(template, page, site.dpi)
    verify_print(mrz_image([s.image for s in sides], template), template, page.mrz)

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".reprint-{number}-", dir=out_dir.parent))
    try:
        write_page(template, sides, work / PAGE_PNG, site.dpi)
        write_page(template, sides, work / PAGE_PDF, site.dpi)
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(work.iterdir())}
        if out_dir.exists():
            out_dir.rmdir()  # only an empty folder is replaced
        work.rename(out_dir)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise InputError(f"{out_dir}: cannot write the reprint ({exc.strerror or exc}); it must be new or empty") from None
    seq = store.note(number, "reprint", actor=actor, detail={"files": files})
    return Reprint(number, out_dir, files, seq)
