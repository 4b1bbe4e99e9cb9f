"""The print-ready vector PDF (reportlab): the composed page (`compose.py`) as vector graphics.

Text stays text, in fonts embedded as subsets (DejaVu Sans, Noto Naskh Arabic shaped by HarfBuzz,
OCR-B for the MRZ and the CAN, each MRZ line one string at the size whose advance is the 2.54 mm pitch,
so a PDF reader extracts the lines exactly); the background pattern is curves; a barcode is its modules
as filled rectangles; only the portrait, the ghost image and the signature are images (the ghost and the
signature multiply, like ink, over the pattern).

A document's PDF has one page per side at the document's exact size. A print sheet (`sheets.toml`) puts
sides on paper for a printer: an emergency travel document on A4 secure paper, cards n-up, with crop
marks at every trim corner and registration marks on the edges; a site's calibration offset moves the
print (not the marks' paper) to where its printer really prints.
"""

from __future__ import annotations

import functools
import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

from mrtd.errors import ConfigurationError, InputError
from mrtd.layouts import pictures
from mrtd.layouts.compose import Curve, Ink, Modules, Ocrb, Op, Picture, Rect, SideLayout, Text, dark_runs
from mrtd.layouts.fonts import font_path
from mrtd.layouts.template import Box
from mrtd.layouts.text import run_width_pt, runs

PT_PER_MM = 72 / 25.4
IMAGE_DPI = 600  # ghost and signature images are resampled to this; the portrait keeps its own pixels
_MARK_LEN, _MARK_GAP, _MARK_LINE = 4.0, 1.5, 0.1  # crop marks (mm)


@functools.cache
def _font(key: str) -> str:
    """Register a packaged font with reportlab once; its PDF name."""
    name = f"mrtd-{key}"
    try:
        pdfmetrics.getFont(name)
    except KeyError:
        path = font_path("ocrb-pdf" if key == "ocrb" else key)
        pdfmetrics.registerFont(TTFont(name, str(path), shapable=key == "arabic"))
    return name


def _colour(c: Ink) -> tuple[float, float, float]:
    return c[0] / 255, c[1] / 255, c[2] / 255


class _Page:
    """Draws a side's operations on a canvas at an origin (mm, top-left of the side on the sheet)."""

    def __init__(self, canvas: Canvas, sheet_height: float, x0: float, y0: float) -> None:
        self.c, self.h, self.x0, self.y0 = canvas, sheet_height, x0, y0

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return _point(x, y, self.h, self.x0, self.y0)

    def rect(self, b: Box) -> tuple[float, float, float, float]:
        x, y = self.xy(b.x, b.bottom)
        return x, y, b.w * PT_PER_MM, b.h * PT_PER_MM

    def draw(self, ops: Sequence[Op]) -> None:
        for op in ops:
            if isinstance(op, Text):
                self.text(op)
            elif isinstance(op, Ocrb):
                self.c.setFillColorRGB(0, 0, 0)
                self.c.setFont(_font("ocrb"), op.size_pt)
                self.c.drawString(*self.xy(op.x, op.baseline), op.text)
            elif isinstance(op, Modules):
                self.modules(op)
            elif isinstance(op, Picture):
                self.picture(op)
            elif isinstance(op, Rect):
                if op.fill is not None:
                    self.c.setFillColorRGB(*_colour(op.fill))
                if op.outline is not None:
                    self.c.setStrokeColorRGB(*_colour(op.outline))
                    self.c.setLineWidth(op.line * PT_PER_MM)
                self.c.rect(*self.rect(op.box), stroke=int(op.outline is not None), fill=int(op.fill is not None))
            else:
                assert isinstance(op, Curve)
                self.curve(op)

    def text(self, op: Text) -> None:
        pieces = [(r, run_width_pt(r, op.size)) for r in runs(op.text, op.rtl, op.bold)]
        total = sum(w for _, w in pieces) / PT_PER_MM
        x = op.x - {"l": 0.0, "m": total / 2, "r": total}[op.anchor]
        self.c.setFillColorRGB(*_colour(op.colour))
        for r, w in pieces:
            name = _font(r.font)
            self.c.setFont(name, op.size)
            if r.rtl:
                # HarfBuzz (through reportlab) joins the letters and returns the glyphs in visual order.
                # Canvas.drawString would only shape with reportlab's optional bidi package.
                t = self.c.beginText(*self.xy(x, op.baseline))
                t.setFont(name, op.size)
                t.textOut(shapeStr(r.text, name, op.size))
                self.c.drawText(t)
            else:
                self.c.drawString(*self.xy(x, op.baseline), r.text)
            x += w / PT_PER_MM

    def curve(self, op: Curve) -> None:
        self.c.setStrokeColorRGB(*_colour(op.colour))
        self.c.setLineWidth(op.line * PT_PER_MM)
        self.c.drawPath(_polyline(op.points, self.h, self.x0, self.y0), stroke=1, fill=0)

    def modules(self, op: Modules) -> None:
        m = op.box.w / len(op.rows)
        self.c.setFillColorRGB(1, 1, 1)
        self.c.rect(*self.rect(op.box), stroke=0, fill=1)
        self.c.setFillColorRGB(0, 0, 0)
        path = self.c.beginPath()
        for i, row in enumerate(op.rows):
            for a, b in dark_runs(row):
                path.rect(*self.rect(Box(op.box.x + a * m, op.box.y + i * m, (b - a) * m, m)))
        self.c.drawPath(path, stroke=0, fill=1)

    def picture(self, op: Picture) -> None:
        b = op.box
        size = (round(b.w / 25.4 * IMAGE_DPI), round(b.h / 25.4 * IMAGE_DPI))
        self.c.saveState()
        if op.kind == "portrait":
            self._cover(op)
        elif op.kind in ("ghost", "signature"):
            img = pictures.ghost(op.data, size) if op.kind == "ghost" else pictures.ink(op.data, size)
            w, h = img.width / IMAGE_DPI * 25.4, img.height / IMAGE_DPI * 25.4
            self.c.setBlendMode("Multiply")
            self.c.drawImage(ImageReader(img), *self.rect(Box(b.x + (b.w - w) / 2, b.y + (b.h - h) / 2, w, h)))
        else:
            img = pictures.open_image(op.data, "seal").convert("RGB")
            scale = min(b.w / img.width, b.h / img.height)
            w, h = img.width * scale, img.height * scale
            self.c.drawImage(ImageReader(img), *self.rect(Box(b.x + (b.w - w) / 2, b.y + (b.h - h) / 2, w, h)))
        self.c.restoreState()

    def _cover(self, op: Picture) -> None:
        """The portrait's own pixels (a JPEG stays the JPEG), scaled to cover the box and clipped to it."""
        b = op.box
        im = pictures.open_image(op.data, "portrait")
        scale = max(b.w / im.width, b.h / im.height)
        w, h = im.width * scale, im.height * scale
        clip = self.c.beginPath()
        clip.rect(*self.rect(b))
        self.c.clipPath(clip, stroke=0, fill=0)
        source: Any = io.BytesIO(op.data) if im.format == "JPEG" and im.mode in ("RGB", "L") else im.convert("RGB")
        at = Box(b.x - (w - b.w) * 0.5, b.y - (h - b.h) * 0.4, w, h)
        self.c.drawImage(ImageReader(source), *self.rect(at))


@functools.lru_cache(maxsize=512)
def _polyline(points: tuple[tuple[float, float], ...], sheet_height: float, x0: float, y0: float) -> PDFPathObject:
    """A background curve's path at its place on the sheet (`_Page.xy`). The paper pattern is the same on
    every document of a template, and formatting its thousands of points was a third of writing a PDF:
    each path is built once (a path object only holds its operators; drawing one does not change it)."""
    path = PDFPathObject()
    path.moveTo(*_point(*points[0], sheet_height, x0, y0))
    for x, y in points[1:]:
        path.lineTo(*_point(x, y, sheet_height, x0, y0))
    return path


def _point(x: float, y: float, sheet_height: float, x0: float, y0: float) -> tuple[float, float]:
    """PDF points (from the sheet's bottom left) of a point in mm from the top left of a side placed at
    (x0, y0) mm on a sheet `sheet_height` mm high."""
    return (x0 + x) * PT_PER_MM, (sheet_height - y0 - y) * PT_PER_MM


def _canvas(buf: io.BytesIO, title: str) -> Canvas:
    c = Canvas(buf, pageCompression=1, invariant=1, initialFontName=_font("sans"), initialFontSize=8)
    c.setTitle(title)
    c.setCreator("mrtd")
    return c


def _paint(c: Canvas, side: SideLayout, sheet_h: float, x0: float, y0: float) -> None:
    page = _Page(c, sheet_h, x0, y0)
    c.setFillColorRGB(*_colour(side.paper))
    c.rect(*page.rect(Box(0, 0, side.width, side.height)), stroke=0, fill=1)
    page.draw(side.background)
    page.draw(side.ops)


def pdf_bytes(sides: Sequence[SideLayout], title: str = "") -> bytes:
    """One page per side, each exactly the document's physical size (MediaBox in points)."""
    if not sides:
        raise InputError("pdf: nothing to print")
    buf = io.BytesIO()
    c = _canvas(buf, title)
    for side in sides:
        c.setPageSize((side.width * PT_PER_MM, side.height * PT_PER_MM))
        _paint(c, side, side.height, 0.0, 0.0)
        c.showPage()
    c.save()
    return buf.getvalue()


# --- print sheets -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    width: float
    height: float
    columns: int
    rows: int
    gap: float
    duplex: bool  # one sheet per side name (fronts, then backs in mirrored columns); else sides flow on


@functools.cache
def sheets() -> dict[str, Sheet]:
    raw = tomllib.loads(resources.files("mrtd.layouts").joinpath("sheets.toml").read_text("utf-8"))
    return {name: Sheet(name, float(s["width"]), float(s["height"]), int(s["columns"]), int(s["rows"]),
                        float(s["gap"]), bool(s.get("duplex", False))) for name, s in raw["sheet"].items()}


def parse_offset(text: str) -> tuple[float, float]:
    """A printer calibration offset `DX,DY` in mm (right, down); at most 10 mm each way."""
    try:
        dx, dy = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigurationError(f"offset: {text!r} is not DX,DY in mm (e.g. 0.4,-0.2)") from None
    if max(abs(dx), abs(dy)) > 10:
        raise ConfigurationError(f"offset: {text!r}: a calibration offset beyond 10 mm is not a calibration")
    return dx, dy


def sheet(name: str) -> Sheet:
    try:
        return sheets()[name]
    except KeyError:
        raise ConfigurationError(f"sheet: {name!r} is not one of {sorted(sheets())}") from None


def _cells(s: Sheet, w: float, h: float) -> list[tuple[float, float]]:
    grid_w, grid_h = s.columns * w + (s.columns - 1) * s.gap, s.rows * h + (s.rows - 1) * s.gap
    if grid_w > s.width - 2 * (_MARK_LEN + _MARK_GAP) or grid_h > s.height - 2 * (_MARK_LEN + _MARK_GAP):
        raise ConfigurationError(f"sheet {s.name}: {s.columns} x {s.rows} documents of {w} x {h} mm do not "
                                 f"fit on {s.width} x {s.height} mm with their crop marks")
    x0, y0 = (s.width - grid_w) / 2, (s.height - grid_h) / 2
    return [(x0 + col * (w + s.gap), y0 + row * (h + s.gap)) for row in range(s.rows) for col in range(s.columns)]


def _crop_marks(c: Canvas, s: Sheet, x: float, y: float, w: float, h: float) -> None:
    """Short lines outside each trim corner, along the trim edges' extensions."""
    page = _Page(c, s.height, 0.0, 0.0)
    c.setLineWidth(_MARK_LINE * PT_PER_MM)
    c.setStrokeColorRGB(0, 0, 0)
    for cx in (x, x + w):
        for cy in (y, y + h):
            dx = -1 if cx == x else 1
            dy = -1 if cy == y else 1
            c.line(*page.xy(cx + dx * _MARK_GAP, cy), *page.xy(cx + dx * (_MARK_GAP + _MARK_LEN), cy))
            c.line(*page.xy(cx, cy + dy * _MARK_GAP), *page.xy(cx, cy + dy * (_MARK_GAP + _MARK_LEN)))


def _registration_marks(c: Canvas, s: Sheet, dx: float, dy: float) -> None:
    """A circle with a cross at the middle of each sheet edge: the printer's alignment targets."""
    page = _Page(c, s.height, dx, dy)
    r = 2.0
    c.setLineWidth(_MARK_LINE * PT_PER_MM)
    c.setStrokeColorRGB(0, 0, 0)
    for mx, my in ((s.width / 2, r + 1), (s.width / 2, s.height - r - 1), (r + 1, s.height / 2),
                   (s.width - r - 1, s.height / 2)):
        c.circle(*page.xy(mx, my), r * 0.6 * PT_PER_MM, stroke=1, fill=0)
        c.line(*page.xy(mx - r, my), *page.xy(mx + r, my))
        c.line(*page.xy(mx, my - r), *page.xy(mx, my + r))


def sheet_pdf(name: str, documents: Sequence[Sequence[SideLayout]], offset: tuple[float, float] = (0.0, 0.0),
              title: str = "") -> bytes:
    """Print sheets for `documents` (each the sides of one document, all of one size).

    Duplex sheets put every document's first side on one sheet and the other sides on the next ones,
    columns mirrored so that each back falls behind its front when the sheet turns over its long
    edge. `offset` (mm, right and down) is the site's printer calibration: the print moves, the crop
    and registration marks move with it (they mark where the print is), the sheet does not.
    """
    s = sheet(name)
    sides = [side for doc in documents for side in doc]
    if not sides:
        raise InputError("sheet: nothing to print")
    w, h = sides[0].width, sides[0].height
    if any((x.width, x.height) != (w, h) for x in sides):
        raise InputError(f"sheet {s.name}: every document on a sheet must be of one size")
    cells = _cells(s, w, h)
    pages: list[list[tuple[int, SideLayout]]] = []
    if s.duplex:
        per = len(cells)
        for start in range(0, len(documents), per):
            batch = documents[start:start + per]
            for k in range(max(len(d) for d in batch)):
                mirror = k % 2 == 1
                placed = []
                for i, doc in enumerate(batch):
                    if k < len(doc):
                        row, col = divmod(i, s.columns)
                        placed.append((row * s.columns + (s.columns - 1 - col if mirror else col), doc[k]))
                pages.append(placed)
    else:
        for start in range(0, len(sides), len(cells)):
            pages.append(list(enumerate(sides[start:start + len(cells)])))
    buf = io.BytesIO()
    c = _canvas(buf, title)
    dx, dy = offset
    for placed in pages:
        c.setPageSize((s.width * PT_PER_MM, s.height * PT_PER_MM))
        for cell, side in placed:
            x, y = cells[cell]
            _paint(c, side, s.height, x + dx, y + dy)
            _crop_marks(c, s, x + dx, y + dy, w, h)
        _registration_marks(c, s, dx, dy)
        c.showPage()
    c.save()
    return buf.getvalue()
