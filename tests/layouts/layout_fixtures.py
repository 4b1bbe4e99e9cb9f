"""Fixture pages for the layout tests: synthetic portrait, signature and seal images, page data driven
by the Doc 9303 specimen MRZ lines (tests/vectors/layouts/specimens.json), and pages of the example
applications in every format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import math
from pathlib import Path

import qrcode
from conftest import EXAMPLES
from PIL import Image, ImageDraw

from mrtd.issuance.application import read_application
from mrtd.layouts import PageData, Template, load_template, page_from_document
from mrtd.seals import barcode

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "layouts"


def specimens() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((VECTORS / "specimens.json").read_text("utf-8"))
    return data


def portrait_bytes(seed: int = 0) -> bytes:
    """A drawn head-and-shoulders picture (JPEG), 35:45 like a passport photograph."""
    w, h = 350, 450
    im = Image.new("RGB", (w, h), (214, 222, 232))
    d = ImageDraw.Draw(im)
    skin = (224 - seed * 20, 186 - seed * 25, 160 - seed * 30)
    d.ellipse((40, 330, 310, 560), fill=(40 + seed * 30, 60, 110))  # shoulders
    d.rectangle((150, 270, 200, 340), fill=skin)  # neck
    d.ellipse((95, 90, 255, 300), fill=skin)  # face
    d.chord((85, 60, 265, 230), 180, 360, fill=(60, 40, 25))  # hair
    for ex in (140, 210):
        d.ellipse((ex - 10, 175, ex + 10, 190), fill=(40, 40, 40))
    d.arc((140, 215, 210, 260), 20, 160, fill=(150, 60, 60), width=4)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def signature_bytes() -> bytes:
    im = Image.new("L", (600, 160), 255)
    d = ImageDraw.Draw(im)
    pts = [(20 + t * 5.6, 90 + 40 * math.sin(t / 6.0) * math.cos(t / 17.0)) for t in range(100)]
    d.line(pts, fill=0, width=6)
    d.line([(300, 40), (340, 140), (380, 50), (560, 120)], fill=0, width=5)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def seal_bytes(text: str = "VDS-TEST-SEAL") -> bytes:
    qr = qrcode.QRCode(border=2, box_size=4)
    qr.add_data(text)
    img = qr.make_image(fill_color="black", back_color="white").get_image()
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def utopia_td3(**changes: object) -> PageData:
    s = specimens()["td3"]
    base = dict(
        document_code="P<", issuing_state="UTO", issuing_state_name="Utopia",
        document_number="L898902C3", surname="ERIKSSON", given_names="ANNA MARIA",
        nationality="UTOPIAN", date_of_birth="12 AUG/AOÛT/AGO 1974", sex="F",
        date_of_expiry="15 APR/AVR/ABR 2012", date_of_issue="16 APR/AVR/ABR 2002",
        place_of_birth="ZENITH", authority="PASSPORT OFFICE", personal_number="ZE184226B",
        mrz=(s["line1"], s["line2"]), portrait=portrait_bytes(), signature=signature_bytes(),
        seal=seal_bytes(), can="123456",
    )
    base.update(changes)
    return PageData(**base)  # type: ignore[arg-type]


def utopia_td1(**changes: object) -> PageData:
    s = specimens()["td1"]
    base = dict(
        document_code="I<", issuing_state="UTO", issuing_state_name="Utopia",
        document_number="D23145890", surname="ERIKSSON", given_names="ANNA MARIA",
        nationality="UTO", date_of_birth="12 AUG/AOÛT/AGO 1974", sex="F",
        date_of_expiry="15 APR/AVR/ABR 2012", date_of_issue="16 APR/AVR/ABR 2002",
        place_of_birth="ZENITH", authority="CITY OF ZENITH", address="1 MAIN STREET, ZENITH",
        mrz=(s["line1"], s["line2"], s["line3"]), portrait=portrait_bytes(1), signature=signature_bytes(),
        seal=seal_bytes(), can="654321",
    )
    base.update(changes)
    return PageData(**base)  # type: ignore[arg-type]


TD2_SITE_TEMPLATE = """
# A site's own TD2 card (Doc 9303 Part 6, 105 x 74 mm): front with zones I-V and the MRZ.
name = "site-td2"
format = "TD2"
description = "TD2 card (site template)"
width = 105.0
height = 74.0
label_size = 4.0
value_size = 7.0

[mrz]
side = "front"
left = 3.6
first_centre = 15.75
line_pitch = 6.35
char_pitch = 2.54

[side.front]
paper = "#f4f0f6"
pattern = "#d7c9e3"
accent = "#4b2a6b"
zones = [
  { kind = "state", x = 36.0, y = 2.5, w = 66.0, h = 4.5, size = 8.5 },
  { kind = "title", x = 36.0, y = 7.0, w = 66.0, h = 3.8, size = 5.5 },
  { kind = "portrait", x = 3.0, y = 11.0, w = 30.0, h = 38.0 },
  { kind = "field", field = "surname", x = 36.0, y = 11.5, w = 66.0, h = 8.5 },
  { kind = "field", field = "given_names", x = 36.0, y = 20.0, w = 66.0, h = 8.5 },
  { kind = "field", field = "document_number", x = 36.0, y = 28.5, w = 30.0, h = 7.0 },
  { kind = "field", field = "date_of_birth", x = 67.0, y = 28.5, w = 35.0, h = 7.0 },
  { kind = "field", field = "date_of_expiry", x = 67.0, y = 35.5, w = 35.0, h = 7.0 },
  { kind = "field", field = "sex", x = 36.0, y = 35.5, w = 30.0, h = 7.0 },
]
"""


def utopia_td2(**changes: object) -> PageData:
    s = specimens()["td2"]
    return utopia_td1(mrz=(s["line1"], s["line2"]), **changes)


# One example application per MRZ format (the visa application printed on both visa templates).
FORMAT_CASES = [("anna-eriksson-td3.json", "td3"), ("anna-eriksson-td1.json", "td1"),
                ("arnpol-long-name-td2.json", "td2"), ("alex-mueller-visa-mrva.json", "mrv-a"),
                ("alex-mueller-visa-mrva.json", "mrv-b")]


def application_page(app_name: str, layout: str, seal: bytes = b"DC03UTOSEAL-TEST-PAYLOAD",
                     date_of_issue: dt.date | None = None, language: str | None = None,
                     ) -> tuple[Template, PageData]:
    """The template and page of an example application laid out on `layout` (its format if it differs),
    with `date_of_issue` as issuing sets it, its labels in `language` (else the issuing state's)."""
    app = read_application(EXAMPLES / app_name)
    t = load_template(layout)
    doc = app.document if app.document.format is t.format else dataclasses.replace(app.document, format=t.format)
    if date_of_issue is not None:
        doc = dataclasses.replace(doc, date_of_issue=date_of_issue)
    modules = barcode.modules(barcode.render(seal, barcode.Symbology.DATAMATRIX))
    page = page_from_document(doc, t, portrait=app.portrait.read_bytes() if app.portrait else None,
                              signature=app.signature.read_bytes() if app.signature else None,
                              seal_modules=modules, extra=app.extra, language=language)
    return t, page
