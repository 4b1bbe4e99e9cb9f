"""Text as both renderers draw it: a string cut into visual runs (bidi order, one font per run) and its
width in mm.

python-bidi (the Unicode Bidirectional Algorithm) orders the characters; each right-to-left run is put
back into logical order and handed whole to the shaper (raqm in Pillow, HarfBuzz in reportlab), which
joins the Arabic letters and lays the run out right to left. Both renderers draw the same runs with the
same fonts, so a caption that fits on the PNG fits in the PDF.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from bidi import get_display

from mrtd.layouts.fonts import font, has_arabic

MEASURE_PX_PER_PT = 10.0  # text is measured at 720 dpi, then scaled: widths are resolution independent
MM_PER_PT = 25.4 / 72.0
_RTL_CLASSES = frozenset({"R", "AL"})


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of a line in one direction and one font; `text` in logical order."""

    text: str
    rtl: bool
    font: str


def _is_rtl_char(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in _RTL_CLASSES


def _is_strong_or_digit(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("L", "R", "AL", "EN", "AN") or _is_rtl_char(ch)


def _font_key(text: str, bold: bool) -> str:
    """Noto Naskh for Arabic; DejaVu Sans for everything else, and for Arabic mixed with marks Naskh
    lacks (`/`, Latin): DejaVu Sans has Arabic letters too."""
    if has_arabic(text) and all(has_arabic(c) or c.isspace() for c in text):
        return "arabic"
    if has_arabic(text):
        return "sans"
    return "sans-bold" if bold else "sans"


@functools.lru_cache(maxsize=4096)
def runs(text: str, rtl_base: bool, bold: bool = False) -> tuple[Run, ...]:
    """The visual runs of `text`, left to right, for a paragraph whose base direction is RTL or LTR."""
    if not text:
        return ()
    if not any(_is_rtl_char(c) for c in text):
        return (Run(text, False, _font_key(text, bold)),)
    visual = get_display(text, base_dir="R" if rtl_base else "L")
    # Right-to-left spans of the visual line: from one right-to-left letter to the next with only
    # neutrals (spaces, punctuation) between; digits and Latin stay left-to-right runs.
    rtl_at = [k for k, ch in enumerate(visual) if _is_rtl_char(ch)]
    in_rtl = [False] * len(visual)
    for k0, k1 in zip(rtl_at, [*rtl_at[1:], rtl_at[-1]], strict=True):
        if all(not _is_strong_or_digit(c) for c in visual[k0 + 1:k1]):
            for k in range(k0, k1 + 1):
                in_rtl[k] = True
        in_rtl[k0] = True
    out = []
    k = 0
    while k < len(visual):
        j = k
        while j < len(visual) and in_rtl[j] == in_rtl[k]:
            j += 1
        piece = visual[k:j]
        if in_rtl[k]:
            piece = piece[::-1]  # back to logical order: the shaper lays it out right to left
        out.append(Run(piece, in_rtl[k], _font_key(piece, bold)))
        k = j
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def run_width_pt(run: Run, size_pt: float) -> float:
    """The advance of a run (pt). Kept: a template's captions are measured again for every document."""
    f = font(run.font, size_pt * MEASURE_PX_PER_PT)
    kwargs = {"direction": "rtl", "language": "ar"} if run.rtl else {}
    return float(f.getlength(run.text, **kwargs)) / MEASURE_PX_PER_PT  # type: ignore[arg-type]


def width_mm(text: str, size_pt: float, rtl_base: bool = False, bold: bool = False) -> float:
    return sum(run_width_pt(r, size_pt) for r in runs(text, rtl_base, bold)) * MM_PER_PT


def metrics_mm(text: str, size_pt: float, bold: bool = False) -> tuple[float, float]:
    """Ascent and descent of the line (mm): the largest of its runs', each in the font it is drawn in (a
    place of birth "الري / RAY" draws its Arabic run in Naskh, whose yeh reaches below DejaVu's descent).
    Arabic runs use their ink box: Naskh's line metrics cover stacked marks and would make every Arabic
    line twice as tall."""
    asc = desc = 0.0
    for run in runs(text, False, bold) or (Run(text, False, _font_key(text, bold)),):
        f = font(run.font, size_pt * MEASURE_PX_PER_PT)
        if run.font == "arabic":
            _, top, _, bottom = f.getbbox(run.text, anchor="ls", direction="rtl", language="ar")
            a, d = -top, bottom
        else:
            a, d = f.getmetrics()
        asc, desc = max(asc, a), max(desc, d)
    scale = MM_PER_PT / MEASURE_PX_PER_PT
    return asc * scale, desc * scale
