"""One Pillow renderer for any template: paper and pattern, captions, VIZ values, portrait and its ghost
image, signature, seal image, CAN and the OCR-B MRZ; PNG with its DPI, PDF at the exact physical size.

Everything that depends only on the template, the side, the resolution and the language (paper, pattern,
captions, titles) is drawn once and cached; a page copies it and adds the holder's data.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from mrtd.errors import InputError
from mrtd.layouts import labels
from mrtd.layouts.fonts import font, has_arabic, ocrb_cap_band_em, ocrb_for_pitch
from mrtd.layouts.page import PageData
from mrtd.layouts.template import Box, Side, Template, Zone

MIN_DPI, MAX_DPI = 150, 1200
_MIN_SCALE = 0.6  # text shrinks to fit its zone down to 60% of the template's size, never further
_INK = (20, 22, 28)
_PT_PER_INCH = 72.0
_MM_PER_INCH = 25.4


class LayoutError(InputError):
    """A value that cannot be laid out in its zone without being clipped or overlapping."""


@dataclass(frozen=True, slots=True)
class RenderedSide:
    name: str
    image: Image.Image


def px(mm: float, dpi: int) -> float:
    return mm * dpi / _MM_PER_INCH


def page_size_px(t: Template, dpi: int) -> tuple[int, int]:
    return round(px(t.width, dpi)), round(px(t.height, dpi))


def _box_px(b: Box, dpi: int) -> tuple[int, int, int, int]:
    return round(px(b.x, dpi)), round(px(b.y, dpi)), round(px(b.right, dpi)), round(px(b.bottom, dpi))


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    if len(c) != 6:
        raise InputError(f"colour {colour!r} is not #rrggbb")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


# --- text ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Run:
    """One line of text: what, in which role (caption/value), bold or not, and right-to-left or not."""

    text: str
    caption: bool
    bold: bool = False
    mono: bool = False
    rtl: bool = False
    centre: bool = False


def _font_for(run: _Run, size_px: float) -> ImageFont.FreeTypeFont:
    if has_arabic(run.text):
        # Noto Naskh has no Latin letters; a mixed string (`ذكر/M`) takes DejaVu Sans, which has both
        # scripts, and raqm orders the runs (bidi).
        return font("sans" if any("A" <= c <= "Z" or "a" <= c <= "z" for c in run.text) else "arabic", size_px)
    return font("sans-bold" if run.bold else "sans", size_px)


def _direction(run: _Run) -> dict[str, str]:
    return {"direction": "rtl", "language": "ar"} if run.rtl and has_arabic(run.text) else {}


def _caption_font(text: str, size_px: float) -> ImageFont.FreeTypeFont:
    return font("arabic" if has_arabic(text) else "sans", size_px)


def _width(run: _Run, f: ImageFont.FreeTypeFont) -> float:
    return f.getlength(run.text, **_direction(run))  # type: ignore[arg-type]


def _line_height(f: ImageFont.FreeTypeFont) -> tuple[int, int]:
    ascent, descent = f.getmetrics()
    return ascent, descent


def _wrap_caption(parts: Sequence[str], f: ImageFont.FreeTypeFont, width: float, first_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} / {part}" if current else part
        limit = first_width if not lines else width
        if current and f.getlength(candidate) > limit:
            lines.append(current)
            current = part
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _caption_layout(caption: labels.Caption, label_px: float, width: int, max_lines: int,
                    ) -> tuple[list[tuple[_Run, ImageFont.FreeTypeFont, float]], float] | None:
    """Caption runs with baselines (from the block's top) and the height used, or None if it does not
    fit on `max_lines` lines at this size."""
    lf = font("sans", label_px)
    rtl_w = 0.0
    placed: list[tuple[_Run, ImageFont.FreeTypeFont, float]] = []
    asc, desc = _line_height(lf)
    if caption.rtl:
        af = _caption_font(caption.rtl, label_px)
        rtl_w = af.getlength(caption.rtl, direction="rtl", language="ar") + label_px
        placed.append((_Run(caption.rtl, True, rtl=True), af, float(asc)))
    parts = caption.ltr.split(" / ") if caption.ltr else []
    lines = _wrap_caption(parts, lf, width, width - rtl_w)
    if len(lines) > max_lines or any(lf.getlength(t) > width for t in lines[1:]) \
            or (lines and lf.getlength(lines[0]) > width - rtl_w):
        return None
    y = 0.0
    for t in lines or [""]:
        if t:
            placed.append((_Run(t, True), lf, y + asc))
        y += asc + desc
    return placed, y


def _values_layout(values: Sequence[_Run], value_px: float, width: int,
                   ) -> tuple[list[tuple[_Run, ImageFont.FreeTypeFont, float]], float] | None:
    placed: list[tuple[_Run, ImageFont.FreeTypeFont, float]] = []
    y = 0.0
    for run in values:
        vf = _font_for(run, value_px)
        asc, desc = _line_height(vf)
        if has_arabic(run.text):
            # Naskh's ascent/descent cover stacked marks; use the ink box of this text instead.
            _, top, _, bottom = vf.getbbox(run.text, anchor="ls", **_direction(run))  # type: ignore[arg-type]
            asc, desc = round(-top) + 1, round(bottom) + 1
        if _width(run, vf) > width:
            return None
        placed.append((run, vf, y + asc))
        y += asc + desc
    return placed, y


def _draw_block(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], caption: labels.Caption | None,
                values: Sequence[_Run], label_px: float, value_px: float, what: str,
                max_caption_lines: int = 2) -> int:
    """Draw a caption (wrapped onto at most two lines) above value lines inside `box`. The caption and
    the values each shrink, separately, until they fit; a zone too small even at 60% is refused
    (LayoutError) rather than clipped. Returns the height used (px)."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    steps = [1.0 - 0.05 * k for k in range(int((1.0 - _MIN_SCALE) / 0.05 + 1e-9) + 1)]
    cap: tuple[list[tuple[_Run, ImageFont.FreeTypeFont, float]], float] = ([], 0.0)
    if caption is not None:
        found = next((c for sc in steps if (c := _caption_layout(caption, label_px * sc, width, max_caption_lines))), None)
        if found is None:
            raise LayoutError(f"{what}: the caption does not fit its zone ({width} px wide)")
        cap = found
    vals = None
    for sc in steps:
        vals = _values_layout(values, value_px * sc, width)
        if vals is not None and cap[1] + vals[1] <= height:
            break
        vals = None
    if vals is None:
        raise LayoutError(f"{what}: the text does not fit its zone ({width}x{height} px) even at "
                          f"{int(_MIN_SCALE * 100)}% of the template's size")
    placed = cap[0] + [(r, f, cap[1] + base) for r, f, base in vals[0]]
    for run, f, base in placed:
        kwargs = _direction(run)
        fill = (70, 70, 80) if run.caption else _INK
        if run.centre:
            draw.text(((x0 + x1) / 2, y0 + base), run.text, font=f, fill=fill, anchor="ms", **kwargs)  # type: ignore[arg-type]
        elif run.rtl:
            draw.text((x1, y0 + base), run.text, font=f, fill=fill, anchor="rs", **kwargs)  # type: ignore[arg-type]
        else:
            draw.text((x0, y0 + base), run.text, font=f, fill=fill, anchor="ls")
    return math.ceil(cap[1] + vals[1])


def _pt_px(pt: float, dpi: int) -> float:
    return pt * dpi / _PT_PER_INCH


# --- the cached background --------------------------------------------------------------------------

def _pattern(draw: ImageDraw.ImageDraw, w: int, h: int, colour: tuple[int, int, int], dpi: int) -> None:
    """A guilloche-like net of sine waves: security-print look, drawn once per template and resolution."""
    step = max(2, dpi // 100)
    line_w = max(1, dpi // 300)
    period = px(24.0, dpi)
    for k in range(0, 28):
        base = h * (k - 2) / 24
        amp = px(2.2 + (k % 3) * 0.6, dpi)
        for phase in (0.0, math.pi):
            pts = [(float(x), base + amp * math.sin(2 * math.pi * x / period + phase + k * 0.35)
                    + px(1.5, dpi) * math.sin(2 * math.pi * x / (period * 3.1)))
                   for x in range(0, w + step, step)]
            draw.line(pts, fill=colour, width=line_w)


# A 600 dpi TD3 background is ~18 MB: keep a handful (templates x sides x resolutions x languages).
@functools.lru_cache(maxsize=8)
def _background(t: Template, side: Side, dpi: int, language: str, document_code: str,
                state_name: str) -> Image.Image:
    w, h = page_size_px(t, dpi)
    paper = _rgb(side.paper)
    img = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(img)
    _pattern(draw, w, h, _rgb(side.pattern), dpi)
    if side.name == t.mrz.side:
        # The MRZ zone stays plain so the reader sees only the characters (Doc 9303-3: clear zone).
        zone = t.mrz_zone()
        draw.rectangle(_box_px(zone, dpi), fill=(255, 255, 255))
    label_px = _pt_px(t.label_size, dpi)
    accent = _rgb(side.accent)
    for z in side.zones:
        box = _box_px(z.box, dpi)
        if z.kind == "state":
            _draw_block(draw, box, None, [_Run(state_name.upper(), False, bold=True, centre=True)],
                        label_px, _pt_px(z.size or 9.0, dpi), "issuing state name")
        elif z.kind == "title":
            cap = labels.title(document_code, language)
            runs = [_Run(cap.ltr, False, centre=True)]
            if cap.rtl:
                runs.insert(0, _Run(cap.rtl, False, rtl=True, centre=True))
            _draw_block(draw, box, None, runs, label_px, _pt_px(z.size or 6.0, dpi), "document title")
        elif z.kind == "portrait":
            draw.rectangle(box, fill=(232, 232, 232), outline=accent, width=max(1, dpi // 300))
    img.info["dpi"] = (dpi, dpi)
    return img


# --- images -----------------------------------------------------------------------------------------

def _open_image(data: bytes, what: str) -> Image.Image:
    """Decode an image; transparency is flattened onto white (a transparent PNG signature is ink on
    nothing, not ink on black)."""
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{what}: not a readable image ({exc})") from None
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return im


def _fit_cover(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    return ImageOps.fit(im, size, method=Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _multiply(page: Image.Image, overlay: Image.Image, at: tuple[int, int]) -> None:
    """Print `overlay` like ink: darker wins, white leaves the paper and pattern visible."""
    region = (at[0], at[1], at[0] + overlay.width, at[1] + overlay.height)
    page.paste(ImageChops.multiply(page.crop(region), overlay.convert("RGB")), region[:2])


# --- drawing a page ---------------------------------------------------------------------------------

def _draw_mrz(draw: ImageDraw.ImageDraw, t: Template, lines: Sequence[str], dpi: int, height_px: int) -> None:
    m = t.mrz
    pitch = px(m.char_pitch, dpi)
    f = ocrb_for_pitch(pitch)
    top_em, bottom_em = ocrb_cap_band_em()
    size = f.size
    for i, line in enumerate(lines):
        centre_y = height_px - px(m.centre(i), dpi)
        baseline = centre_y - (top_em + bottom_em) / 2 * size
        x0 = px(m.left, dpi)
        for j, ch in enumerate(line):
            if ch != " ":
                draw.text((x0 + j * pitch, baseline), ch, font=f, fill=(0, 0, 0), anchor="ls")


def _draw_zone(img: Image.Image, draw: ImageDraw.ImageDraw, t: Template, z: Zone, page: PageData, dpi: int) -> None:
    box = _box_px(z.box, dpi)
    x0, y0, x1, y1 = box
    size = (x1 - x0, y1 - y0)
    label_px, value_px = _pt_px(t.label_size, dpi), _pt_px(z.size or t.value_size, dpi)
    if z.kind == "field":
        values = page.values(z.field)
        if not values:
            return  # an empty optional field prints nothing, not even its caption
        runs = [_Run(v, False, bold=(z.field in ("surname", "given_names") and k == 0), mono=z.mono,
                     rtl=has_arabic(v)) for k, v in enumerate(values)]
        _draw_block(draw, box, labels.caption(z.label or z.field, page.language), runs, label_px, value_px, z.field)
    elif z.kind == "portrait" and page.portrait is not None:
        img.paste(_fit_cover(_open_image(page.portrait, "portrait").convert("RGB"), size), (x0, y0))
    elif z.kind == "ghost" and page.portrait is not None:
        grey = ImageOps.autocontrast(_fit_cover(_open_image(page.portrait, "portrait").convert("L"), size))
        ghost = grey.point(lambda v: 255 - int((255 - v) * 0.42))
        _multiply(img, ghost, (x0, y0))
    elif z.kind == "signature":
        cap_h = _draw_block(draw, box, labels.caption("signature", page.language), [],
                            label_px, value_px, "signature caption")
        if size[1] - cap_h < size[1] // 2:
            raise LayoutError("signature: the caption leaves less than half of the zone for the signature")
        if page.signature is not None:
            sig = _open_image(page.signature, "signature").convert("L")
            sig = ImageOps.contain(sig, (size[0], size[1] - cap_h), method=Image.Resampling.LANCZOS)
            _multiply(img, sig, (x0 + (size[0] - sig.width) // 2, y0 + cap_h + (size[1] - cap_h - sig.height) // 2))
    elif z.kind == "seal" and page.seal is not None:
        seal = _open_image(page.seal, "seal").convert("RGB")
        # Barcodes must keep sharp module edges: scale by nearest neighbour.
        seal = ImageOps.contain(seal, size, method=Image.Resampling.NEAREST)
        img.paste(seal, (x0 + (size[0] - seal.width) // 2, y0 + (size[1] - seal.height) // 2))
    elif z.kind == "can" and page.can:
        pitch = px(2.54, dpi)
        f = ocrb_for_pitch(pitch)
        digits_w = pitch * len(page.can)
        if z.inline:
            _draw_block(draw, (x0, y0, round(x1 - digits_w - pitch / 2), y1), None,
                        [_Run("CAN", False)], label_px, value_px, "can caption")
            top_em, bottom_em = ocrb_cap_band_em()
            baseline = (y0 + y1) / 2 - (top_em + bottom_em) / 2 * f.size
            for j, ch in enumerate(page.can):
                draw.text((x1 - digits_w + j * pitch, baseline), ch, font=f, fill=(0, 0, 0), anchor="ls")
        else:
            cap_h = _draw_block(draw, box, labels.caption("can", page.language), [],
                                label_px, value_px, "can caption")
            top_em, bottom_em = ocrb_cap_band_em()
            baseline = (y0 + cap_h + y1) / 2 - (top_em + bottom_em) / 2 * f.size
            start = (x0 + x1 - digits_w) / 2
            for j, ch in enumerate(page.can):
                draw.text((start + j * pitch, baseline), ch, font=f, fill=(0, 0, 0), anchor="ls")


def render(t: Template, page: PageData, dpi: int = 300) -> list[RenderedSide]:
    """Draw every side of `t` with `page`'s data; one RGB image per side, DPI recorded in `info`."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InputError(f"dpi: {dpi} is outside {MIN_DPI}-{MAX_DPI}")
    if len(page.mrz) != t.lines or any(len(line) != t.line_length for line in page.mrz):
        raise InputError(f"mrz: template {t.name} ({t.format.value}) prints {t.lines} lines of "
                         f"{t.line_length} characters, got {[len(x) for x in page.mrz]} [Doc 9303-3 §4.2]")
    out = []
    for side in t.sides:
        img = _background(t, side, dpi, page.language, page.document_code,
                          page.issuing_state_name or page.issuing_state).copy()
        draw = ImageDraw.Draw(img)
        for z in side.zones:
            _draw_zone(img, draw, t, z, page, dpi)
        if side.name == t.mrz.side:
            _draw_mrz(draw, t, page.mrz, dpi, img.height)
        img.info["dpi"] = (dpi, dpi)
        out.append(RenderedSide(side.name, img))
    return out


# --- output -----------------------------------------------------------------------------------------

def png_bytes(image: Image.Image, dpi: int, compress_level: int = 1) -> bytes:
    """PNG with the resolution in its pHYs chunk; level 1 compression (fast, pages are mostly flat)."""
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(dpi, dpi), compress_level=compress_level)
    return buf.getvalue()


def pdf_bytes(t: Template, images: Sequence[Image.Image]) -> bytes:
    """One PDF page per side, each exactly the document's physical size (MediaBox in points)."""
    first, *rest = images
    buf = io.BytesIO()
    # Per-axis resolution chosen from the rounded pixel size, so the page is the exact size in mm.
    dpi = (first.width * _MM_PER_INCH / t.width, first.height * _MM_PER_INCH / t.height)
    first.save(buf, "PDF", save_all=True, append_images=rest, dpi=dpi, quality=95,
               title=f"{t.description}")
    return buf.getvalue()


def output_paths(out: Path, sides: Sequence[str]) -> list[Path]:
    """`FILE.png` for one side; `FILE-front.png`, `FILE-back.png` for two."""
    if len(sides) == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{s}{out.suffix}") for s in sides]


def write(t: Template, rendered: Sequence[RenderedSide], out: Path, dpi: int) -> list[Path]:
    """Write PNG (one file per side) or PDF (one page per side), chosen by the suffix. All outputs are
    encoded before anything is written, and each file is written whole (temporary file + rename)."""
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        blobs = [(out, pdf_bytes(t, [r.image for r in rendered]))]
    elif suffix == ".png":
        paths = output_paths(out, [r.name for r in rendered])
        blobs = [(p, png_bytes(r.image, dpi)) for p, r in zip(paths, rendered, strict=True)]
    else:
        raise InputError(f"--out: {out.name!r} must end in .png or .pdf")
    # Every file is written to a temporary name first; only when all are written are they renamed.
    temps = [(path.with_name(path.name + ".part"), path, data) for path, data in blobs]
    try:
        for tmp, _, data in temps:
            tmp.write_bytes(data)
        for tmp, path, _ in temps:
            tmp.replace(path)
    except OSError as exc:
        for tmp, _, _ in temps:
            tmp.unlink(missing_ok=True)
        raise InputError(f"--out: cannot write {out} ({exc})") from None
    return [p for p, _ in blobs]
