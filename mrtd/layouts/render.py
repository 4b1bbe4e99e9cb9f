"""The raster renderer: a composed page (`compose.py`) drawn with Pillow at a resolution, for screens, QA
and the OCR print check; PNG with its DPI. The vector PDF for printing is `pdf.py`.

The background (paper, pattern, captions of the State and the title) depends only on the template, the
side, the resolution and the language, so it is drawn once and cached; a page copies it and adds the
holder's data.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps

from mrtd.errors import InputError
from mrtd.layouts import pictures
from mrtd.layouts.compose import (
    Curve,
    LayoutError,
    Modules,
    Ocrb,
    Op,
    Picture,
    Rect,
    SideLayout,
    Text,
    background,
    compose,
    dark_runs,
    rgb,
)
from mrtd.layouts.fonts import font, ocrb_for_pitch
from mrtd.layouts.page import PageData
from mrtd.layouts.pdf import pdf_bytes
from mrtd.layouts.pngfile import png_file
from mrtd.layouts.template import Box, Side, Template
from mrtd.layouts.text import runs
from mrtd.private import write_private

__all__ = ["MAX_DPI", "MIN_DPI", "LayoutError", "RenderedSide", "page_size_px", "pdf_bytes", "render"]

MIN_DPI, MAX_DPI = 150, 1200
_PT_PER_INCH = 72.0
_MM_PER_INCH = 25.4


@dataclass(frozen=True, slots=True)
class RenderedSide:
    """One printed side: its raster image and the layout it was drawn from (the PDF draws the same)."""

    name: str
    image: Image.Image
    layout: SideLayout | None = None


def px(mm: float, dpi: int | float) -> float:
    return mm * dpi / _MM_PER_INCH


def page_size_px(t: Template, dpi: int) -> tuple[int, int]:
    return round(px(t.width, dpi)), round(px(t.height, dpi))


def _box_px(b: Box, dpi: int) -> tuple[int, int, int, int]:
    return round(px(b.x, dpi)), round(px(b.y, dpi)), round(px(b.right, dpi)), round(px(b.bottom, dpi))


def _multiply(page: Image.Image, overlay: Image.Image, at: tuple[int, int]) -> None:
    """Print `overlay` like ink: darker wins, white leaves the paper and pattern visible."""
    region = (at[0], at[1], at[0] + overlay.width, at[1] + overlay.height)
    page.paste(ImageChops.multiply(page.crop(region), overlay.convert("RGB")), region[:2])


def _text(draw: ImageDraw.ImageDraw, op: Text, dpi: int) -> None:
    size = op.size * dpi / _PT_PER_INCH
    pieces = []
    for r in runs(op.text, op.rtl, op.bold):
        f = font(r.font, size)
        kwargs = {"direction": "rtl", "language": "ar"} if r.rtl else {}
        pieces.append((r, f, kwargs, f.getlength(r.text, **kwargs)))  # type: ignore[arg-type]
    total = sum(w for *_, w in pieces)
    x = px(op.x, dpi) - {"l": 0.0, "m": total / 2, "r": total}[op.anchor]
    y = px(op.baseline, dpi)
    for r, f, kwargs, w in pieces:
        draw.text((x, y), r.text, font=f, fill=op.colour, anchor="ls", **kwargs)  # type: ignore[arg-type]
        x += w


def _ocrb(draw: ImageDraw.ImageDraw, op: Ocrb, dpi: int) -> None:
    pitch = px(op.pitch, dpi)
    f = ocrb_for_pitch(pitch)
    x0, baseline = px(op.x, dpi), px(op.baseline, dpi)
    for j, ch in enumerate(op.text):
        if ch != " ":
            draw.text((x0 + j * pitch, baseline), ch, font=f, fill=(0, 0, 0), anchor="ls")


def _modules(draw: ImageDraw.ImageDraw, op: Modules, dpi: int) -> None:
    """Whole pixels per module (sharp edges a reader can count), centred in the box."""
    x0, y0, x1, y1 = _box_px(op.box, dpi)
    n = len(op.rows)
    m = max(1, min(x1 - x0, y1 - y0) // n)
    ox, oy = x0 + (x1 - x0 - m * n) // 2, y0 + (y1 - y0 - m * n) // 2
    draw.rectangle((ox, oy, ox + m * n - 1, oy + m * n - 1), fill=(255, 255, 255))
    for i, row in enumerate(op.rows):
        for a, b in dark_runs(row):
            draw.rectangle((ox + a * m, oy + i * m, ox + b * m - 1, oy + (i + 1) * m - 1), fill=(0, 0, 0))


def _picture(img: Image.Image, op: Picture, dpi: int) -> None:
    x0, y0, x1, y1 = _box_px(op.box, dpi)
    size = (x1 - x0, y1 - y0)
    if op.kind == "portrait":
        img.paste(pictures.cover(op.data, size), (x0, y0))
    elif op.kind == "ghost":
        _multiply(img, pictures.ghost(op.data, size), (x0, y0))
    elif op.kind == "signature":
        sig = pictures.ink(op.data, size)
        _multiply(img, sig, (x0 + (size[0] - sig.width) // 2, y0 + (size[1] - sig.height) // 2))
    else:  # a seal image: barcodes keep sharp module edges, scaled by nearest neighbour
        seal = ImageOps.contain(pictures.open_image(op.data, "seal").convert("RGB"), size,
                                method=Image.Resampling.NEAREST)
        img.paste(seal, (x0 + (size[0] - seal.width) // 2, y0 + (size[1] - seal.height) // 2))


def _draw(img: Image.Image, ops: Sequence[Op], dpi: int) -> None:
    draw = ImageDraw.Draw(img)
    for op in ops:
        if isinstance(op, Text):
            _text(draw, op, dpi)
        elif isinstance(op, Ocrb):
            _ocrb(draw, op, dpi)
        elif isinstance(op, Modules):
            _modules(draw, op, dpi)
        elif isinstance(op, Picture):
            _picture(img, op, dpi)
        elif isinstance(op, Rect):
            width = max(1, round(px(op.line, dpi))) if op.outline else 0
            draw.rectangle(_box_px(op.box, dpi), fill=op.fill, outline=op.outline, width=width)
        else:
            assert isinstance(op, Curve)
            draw.line([(px(x, dpi), px(y, dpi)) for x, y in op.points], fill=op.colour,
                      width=max(1, round(px(op.line, dpi))))


# A 600 dpi TD3 background is ~18 MB: keep a handful (templates x sides x resolutions x languages).
@functools.lru_cache(maxsize=8)
def _background(t: Template, side: Side, dpi: int, language: str, document_code: str,
                state_name: str) -> Image.Image:
    img = Image.new("RGB", page_size_px(t, dpi), rgb(side.paper))
    _draw(img, background(t, side, language, document_code, state_name), dpi)
    return img


def render(t: Template, page: PageData, dpi: int = 300) -> list[RenderedSide]:
    """Draw every printed side of `t` with `page`'s data; one RGB image per side, DPI recorded in `info`."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InputError(f"dpi: {dpi} is outside {MIN_DPI}-{MAX_DPI}")
    out = []
    sides = {s.name: s for s in t.sides}
    for layout in compose(t, page):
        img = _background(t, sides[layout.name], dpi, page.language, page.document_code,
                          page.issuing_state_name or page.issuing_state).copy()
        _draw(img, layout.ops, dpi)
        img.info["dpi"] = (dpi, dpi)
        out.append(RenderedSide(layout.name, img, layout))
    return out


# --- output -----------------------------------------------------------------------------------------

def png_bytes(image: Image.Image, dpi: int, compress_level: int = 1) -> bytes:
    """PNG with the resolution in its pHYs chunk; level 1 compression (fast, pages are mostly flat), rows
    unfiltered (`mrtd.layouts.pngfile`)."""
    return png_file(image, dpi, compress_level)


def output_paths(out: Path, sides: Sequence[str]) -> list[Path]:
    """`FILE.png` for one side; `FILE-front.png`, `FILE-back.png` for two."""
    if len(sides) == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{s}{out.suffix}") for s in sides]


def write(t: Template, rendered: Sequence[RenderedSide], out: Path, dpi: int) -> list[Path]:
    """Write PNG (one file per side, raster) or PDF (one page per side, vector), chosen by the suffix.
    All outputs are encoded before anything is written, and each file is written whole (temporary
    file + rename)."""
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        layouts = [r.layout for r in rendered if r.layout is not None]
        if len(layouts) != len(rendered):
            raise InputError("--out: a PDF is drawn from the page's layout; render the page first")
        blobs = [(out, pdf_bytes(layouts, t.description))]
    elif suffix == ".png":
        paths = output_paths(out, [r.name for r in rendered])
        blobs = [(p, png_bytes(r.image, dpi)) for p, r in zip(paths, rendered, strict=True)]
    else:
        raise InputError(f"--out: {out.name!r} must end in .png or .pdf")
    # Every file is written to a temporary name first; only when all are written are they renamed.
    temps = [(path.with_name(path.name + ".part"), path, data) for path, data in blobs]
    try:
        for tmp, _, data in temps:
            write_private(tmp, data)
        for tmp, path, _ in temps:
            tmp.replace(path)
    except OSError as exc:
        for tmp, _, _ in temps:
            with contextlib.suppress(OSError):  # its folder may be what failed
                tmp.unlink(missing_ok=True)
        raise InputError(f"--out: cannot write {out} ({exc})") from None
    return [p for p, _ in blobs]
