"""The vector PDF and print sheets, checked by software we did not write: poppler's pdftotext (the MRZ
lines exactly), pdffonts (every font embedded), pdftoppm (it renders) and zxing-cpp (the seal reads from
the rendered PDF). PassportEye's reading of the printed MRZ is in test_layout_passporteye.py."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require
from layout_fixtures import FORMAT_CASES, application_page
from PIL import Image

from mrtd.layouts import pdf_bytes, render, sheet_pdf
from mrtd.seals import barcode

PT_PER_MM = 72 / 25.4


def _poppler(tool: str) -> str:
    exe = shutil.which(tool)
    require(exe is not None, f"{tool} (Debian poppler-utils)")
    assert exe is not None
    return exe


@pytest.mark.parametrize("app_name, layout", FORMAT_CASES)
def test_pdf_text_fonts_render_and_barcode(tmp_path: Path, app_name: str, layout: str) -> None:
    t, page = application_page(app_name, layout)
    sides = render(t, page, 300)
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(pdf_bytes([s.layout for s in sides if s.layout is not None], t.description))
    text = subprocess.run([_poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for mrz_line in page.mrz:
        assert mrz_line in lines  # each MRZ line extracted exactly, as one line of text
    fonts = subprocess.run([_poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [r.split() for r in fonts.splitlines()[2:]]
    assert rows and all(r[-5] == "yes" for r in rows), fonts  # the "emb" column
    assert any("OCRB" in r[0] for r in rows)
    assert b"/DCTDecode" not in pdf.read_bytes() or b"/Image" in pdf.read_bytes()  # only pictures are images
    subprocess.run([_poppler("pdftoppm"), "-r", "400", "-png", str(pdf), str(tmp_path / "r")], check=True)
    rendered = sorted(tmp_path.glob("r-*.png"))
    assert len(rendered) == len(sides)
    seal_side = next(i for i, s in enumerate(sides) if any(z.kind == "seal" for z in t.side(s.name).zones))
    with Image.open(rendered[seal_side]) as im:
        found = barcode.decode(im.convert("L"))
    assert [d.data for d in found] == [b"DC03UTOSEAL-TEST-PAYLOAD"]


def test_pdf_page_is_exact_size_and_has_no_raster_mrz(tmp_path: Path) -> None:
    t, page = application_page("anna-eriksson-td3.json", "td3")
    pdf = pdf_bytes([s.layout for s in render(t, page, 300) if s.layout is not None])
    boxes = [tuple(float(v) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[\s*([^\]]+)\]", pdf)]
    assert boxes == [(0.0, 0.0, pytest.approx(125 * PT_PER_MM, abs=0.01), pytest.approx(88 * PT_PER_MM, abs=0.01))]
    assert pdf.count(b"/Subtype /Image") <= 3  # portrait, ghost, signature: nothing else is pixels


def test_sheets_cards_eight_up_duplex_etd_on_a4_and_calibration(tmp_path: Path) -> None:
    t, page = application_page("anna-eriksson-td1.json", "td1")
    card = [s.layout for s in render(t, page, 300) if s.layout is not None]
    pdf = sheet_pdf("a4-cards", [card] * 9)
    boxes = re.findall(rb"/MediaBox\s*\[\s*([^\]]+)\]", pdf)
    assert len(boxes) == 4  # 8 fronts, 8 backs, then 1 front and 1 back
    a4 = tuple(float(v) for v in boxes[0].split())
    assert a4[2:] == (pytest.approx(210 * PT_PER_MM, abs=0.01), pytest.approx(297 * PT_PER_MM, abs=0.01))
    out = tmp_path / "cards.pdf"
    out.write_bytes(pdf)
    text = subprocess.run([_poppler("pdftotext"), "-f", "2", "-l", "2", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert text.count(page.mrz[0]) == 8  # the backs carry the MRZ

    t3, etd = application_page("siobhan-oneill-emergency.json", "td3")
    sides = [s.layout for s in render(t3, etd, 300) if s.layout is not None]
    assert [s.name for s in sides] == ["front", "observations"]
    plain = sheet_pdf("a4-etd", [sides])
    moved = sheet_pdf("a4-etd", [sides], offset=(1.5, -0.5))
    (tmp_path / "plain.pdf").write_bytes(plain)
    (tmp_path / "moved.pdf").write_bytes(moved)

    def mrz_x(name: str) -> float:
        xml = subprocess.run([_poppler("pdftotext"), "-bbox", str(tmp_path / name), "-"], capture_output=True,
                             text=True, check=True).stdout
        m = re.search(r"<word xMin=\"([0-9.]+)\"[^>]*>" + re.escape(html.escape(etd.mrz[0])) + "<", xml)
        assert m is not None
        return float(m.group(1))

    assert mrz_x("moved.pdf") - mrz_x("plain.pdf") == pytest.approx(1.5 * PT_PER_MM, abs=0.05)


def test_arabic_in_the_pdf_is_shaped_and_in_logical_order(tmp_path: Path) -> None:
    """An Arabic (right-to-left) page: the PDF's Arabic text is HarfBuzz-shaped (joined presentation
    forms), and a reader extracts its words in logical order (NFKC folds the forms back to the letters;
    pdftotext adds bidi embedding marks, removed here). A lam-alef ligature has no code point of its own
    and extracts as a private-use character, so the words checked have none."""
    import unicodedata

    t, page = application_page("anna-eriksson-td1.json", "td1")
    page = dataclasses.replace(page, language="ar", surname="الزهراء", surname_latin="AL-ZAHRAA",
                               address="عمان، شارع الملكة رانيا 12")
    pdf = tmp_path / "ar.pdf"
    pdf.write_bytes(pdf_bytes([s.layout for s in render(t, page, 300) if s.layout is not None]))
    text = subprocess.run([_poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "\ufee3" in text or any(0xFE70 <= ord(c) <= 0xFEFF for c in text)  # joined (presentation) forms
    folded = "".join(c for c in unicodedata.normalize("NFKC", text) if not 0x202A <= ord(c) <= 0x202E)
    assert "الزهراء" in folded and "شارع الملكة رانيا" in folded and "عمان" in folded
