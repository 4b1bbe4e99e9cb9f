"""Find the MRZ's glyph boxes in a page image and measure them in mm: where the first character
stands, the character pitch, the line pitch, each line's centre line above the bottom edge, and the
stroke width of a glyph.

Used by the tests (against Doc 9303's values and tolerances) and by `mrtd layout check` on scans.
Pure Pillow: row and column ink profiles come from box-filter resizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from PIL import Image

from mrtd.errors import InputError
from mrtd.layouts.template import Template

_INK = 128  # grey level below which a pixel is ink


@dataclass(frozen=True, slots=True)
class GlyphBox:
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int  # exclusive

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class LineMeasure:
    glyphs: tuple[GlyphBox, ...]
    left_mm: float  # left edge of the page to the first glyph's ink
    centre_mm: float  # centre line above the bottom edge (median of the glyph centres)
    pitch_mm: float  # least-squares character pitch
    max_residual_mm: float  # largest distance of a glyph centre from the fitted pitch grid
    top_mm: float  # highest ink above the bottom edge
    bottom_mm: float  # lowest ink above the bottom edge


@dataclass(frozen=True, slots=True)
class MrzMeasure:
    dpi: float
    lines: tuple[LineMeasure, ...]

    @property
    def line_pitches_mm(self) -> tuple[float, ...]:
        return tuple(a.centre_mm - b.centre_mm for a, b in zip(self.lines, self.lines[1:], strict=False))


def _runs(profile: list[float], threshold: float, min_gap: int = 1) -> list[tuple[int, int]]:
    """Index ranges [a, b) where the profile is below `threshold` (ink), merging gaps < `min_gap`."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, v in enumerate([*profile, 255.0]):
        if v < threshold and start is None:
            start = i
        elif v >= threshold and start is not None:
            if runs and start - runs[-1][1] < min_gap:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((start, i))
            start = None
    return runs


def measure_mrz(image: Image.Image, t: Template) -> MrzMeasure:
    """Glyph boxes of the MRZ side's image (the image is the whole page at any resolution)."""
    dpi = image.width * 25.4 / t.width
    ppmm = dpi / 25.4
    if dpi < 100 or abs(image.height / image.width - t.height / t.width) > 0.02:
        raise InputError(f"MRZ: a {image.width}x{image.height} image is not a whole {t.format.value} page "
                         f"({t.width} x {t.height} mm) at 100 dpi or more")
    zone = t.mrz_zone()
    top = round(zone.y * ppmm)
    grey = image.convert("L").point(lambda v: 0 if v < _INK else 255)
    area = grey.crop((0, top, grey.width, grey.height))
    rows = list(area.resize((1, area.height), Image.Resampling.BOX).tobytes())
    bands = [b for b in _runs([float(v) for v in rows], 254.5, min_gap=max(2, round(0.3 * ppmm)))
             if b[1] - b[0] > 0.8 * ppmm]
    if len(bands) != t.lines:
        raise InputError(f"MRZ: found {len(bands)} text lines in the MRZ zone, expected {t.lines}")
    pitch_px = t.mrz.char_pitch * ppmm
    out = []
    for a, b in bands:
        band = area.crop((0, a, area.width, b))
        cols = list(band.resize((band.width, 1), Image.Resampling.BOX).tobytes())
        glyphs = []
        for x0, x1 in _runs([float(v) for v in cols], 254.5):
            inv = band.crop((x0, 0, x1, band.height)).point(lambda v: 255 - v)
            bbox = inv.getbbox()
            if bbox is None:
                continue
            glyphs.append(GlyphBox(x0, top + a + bbox[1], x1, top + a + bbox[3]))
        if len(glyphs) < 2:
            raise InputError("MRZ: fewer than two glyphs on a line")
        first = glyphs[0].cx
        idx = [round((g.cx - first) / pitch_px) for g in glyphs]
        n = len(glyphs)
        mean_i, mean_x = sum(idx) / n, sum(g.cx for g in glyphs) / n
        var = sum((i - mean_i) ** 2 for i in idx)
        slope = sum((i - mean_i) * (g.cx - mean_x) for i, g in zip(idx, glyphs, strict=True)) / var
        icept = mean_x - slope * mean_i
        resid = max(abs(g.cx - (icept + slope * i)) for i, g in zip(idx, glyphs, strict=True))
        h = image.height
        out.append(LineMeasure(
            glyphs=tuple(glyphs),
            left_mm=glyphs[0].x0 / ppmm,
            centre_mm=(h - median(g.cy for g in glyphs)) / ppmm,
            pitch_mm=slope / ppmm,
            max_residual_mm=resid / ppmm,
            top_mm=(h - min(g.y0 for g in glyphs)) / ppmm,
            bottom_mm=(h - max(g.y1 for g in glyphs)) / ppmm,
        ))
    return MrzMeasure(dpi, tuple(out))


def stem_width_mm(image: Image.Image, glyph: GlyphBox, dpi: float) -> float:
    """Stroke width of a glyph with a vertical stem (E, I, L, H, 1): the median length of the ink runs
    across the middle third of its rows, the stroke's edge at half reflectance as ISO 1831 takes it."""
    third = (glyph.y1 - glyph.y0) // 3
    rows = image.convert("L").crop((glyph.x0, glyph.y0 + third, glyph.x1, glyph.y1 - third))
    runs = [b - a for y in range(rows.height)
            for a, b in _runs([float(v) for v in rows.crop((0, y, rows.width, y + 1)).tobytes()], _INK)]
    if not runs:
        raise InputError("MRZ: no ink in the middle of the glyph")
    return median(runs) * 25.4 / dpi
