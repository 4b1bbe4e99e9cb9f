"""Lay a page out once, in millimetres: a template and a page's data -> what to print on each side.

The result is a list of plain drawing operations (text, OCR-B lines, pictures, barcode modules,
rectangles and the background pattern's curves). The raster renderer (`render.py`) and the vector one
(`pdf.py`) draw the same list, so the PNG and the PDF are the same page. Coordinates are mm from the
top-left corner, y downwards; text sizes are points.

Text fits its zone or the page is refused: a caption (wrapped onto at most two lines) and the values
below it shrink, separately, down to 60% of the template's size; a zone too small even then raises
`LayoutError` rather than clipping. On a right-to-left page (Arabic) values align right and captions
put the national words at the right; a side marked `mirror_rtl` also reflects its zones left-right.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mrtd.errors import InputError
from mrtd.layouts import labels
from mrtd.layouts.fonts import ocrb_cap_band_em
from mrtd.layouts.page import PageData
from mrtd.layouts.template import Box, Side, Template, Zone
from mrtd.layouts.text import MM_PER_PT, metrics_mm, width_mm

Ink = tuple[int, int, int]
INK: Ink = (20, 22, 28)
CAPTION_INK: Ink = (70, 70, 80)
BLACK: Ink = (0, 0, 0)
WHITE: Ink = (255, 255, 255)
HAIRLINE = 0.085  # mm: one dot at 300 dpi
MIN_SCALE = 0.6  # text shrinks to fit its zone down to 60% of the template's size, never further
_STEPS = tuple(1.0 - 0.05 * k for k in range(int((1.0 - MIN_SCALE) / 0.05 + 1e-9) + 1))
_OCRB_ADVANCE_EM = 0.723


class LayoutError(InputError):
    """A value that cannot be laid out in its zone without being clipped or overlapping."""


@dataclass(frozen=True, slots=True)
class Text:
    """A line of text; `x` is its left end, right end or centre as `anchor` says ('l', 'r', 'm')."""

    x: float
    baseline: float
    text: str
    size: float
    anchor: str = "l"
    rtl: bool = False  # paragraph direction (bidi base)
    bold: bool = False
    colour: Ink = INK


@dataclass(frozen=True, slots=True)
class Ocrb:
    """OCR-B characters at a fixed pitch from `x` (the first cell's left edge), centred on `centre`."""

    x: float
    centre: float
    text: str
    pitch: float

    @property
    def size_pt(self) -> float:
        """The font size whose advance is exactly the pitch."""
        return self.pitch / _OCRB_ADVANCE_EM / MM_PER_PT

    @property
    def baseline(self) -> float:
        top_em, bottom_em = ocrb_cap_band_em()
        return self.centre - (top_em + bottom_em) / 2 * self.size_pt * MM_PER_PT


@dataclass(frozen=True, slots=True)
class Picture:
    """An image in a box: `portrait` covers it; `ghost`, `signature` and `seal` are contained in it
    (ghost and signature print like ink: white leaves the paper visible)."""

    box: Box
    data: bytes
    kind: str


@dataclass(frozen=True, slots=True)
class Modules:
    """A 2D barcode: square modules filling `box` (rows of '1' dark / '0' light)."""

    box: Box
    rows: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rect:
    box: Box
    fill: Ink | None
    outline: Ink | None = None
    line: float = 0.0


@dataclass(frozen=True, slots=True)
class Curve:
    """A polyline of the background pattern."""

    points: tuple[tuple[float, float], ...]
    colour: Ink
    line: float


Op = Text | Ocrb | Picture | Modules | Rect | Curve


@dataclass(frozen=True, slots=True)
class SideLayout:
    name: str
    width: float
    height: float
    paper: Ink
    background: tuple[Op, ...]  # depends only on the template, side, language and document code
    ops: tuple[Op, ...]  # the holder's data


def rgb(colour: str) -> Ink:
    c = colour.lstrip("#")
    if len(c) != 6:
        raise InputError(f"colour {colour!r} is not #rrggbb")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


# --- text blocks ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    size: float
    anchor: str
    rtl: bool = False
    bold: bool = False
    colour: Ink = INK
    measure: str = ""  # what the line's height is measured on when more than `text` shares it


def _greedy(parts: Sequence[str], sep: str, fits: Callable[[str, int], bool]) -> list[str]:
    """Join `parts` with `sep` into as few lines as fit (`fits(text, line_index)`)."""
    lines: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if current and not fits(candidate, len(lines)):
            lines.append(current)
            current = part
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _stack(lines: Sequence[_Line], width: float, start: float = 0.0) -> tuple[list[tuple[_Line, float]], float] | None:
    """Baselines (from the block's top) of lines set one under another, or None if one is too wide."""
    placed, y = [], start
    for ln in lines:
        if width_mm(ln.text, ln.size, ln.rtl, ln.bold) > width + 1e-9:
            return None
        asc, desc = metrics_mm(ln.measure or ln.text, ln.size, ln.bold)
        placed.append((ln, y + asc))
        y += asc + desc
    return placed, y


def _caption_lines(caption: labels.Caption, size: float, width: float, max_lines: int,
                   ) -> tuple[list[tuple[_Line, float]], float] | None:
    """The caption: national right-to-left words at the right of the first line, the others wrapped
    from the left."""
    rtl_w = width_mm(caption.rtl, size, True) + size * MM_PER_PT if caption.rtl else 0.0
    parts = caption.ltr.split(" / ") if caption.ltr else []
    texts = _greedy(parts, " / ", lambda s, i: width_mm(s, size) <= (width - rtl_w if i == 0 else width))
    if len(texts) > max_lines:
        return None
    if texts and width_mm(texts[0], size) > width - rtl_w:
        return None
    lines = [_Line(t, size, "l", colour=CAPTION_INK) for t in texts] or [_Line(" ", size, "l")]
    if caption.rtl:  # the national words share the first line, so its height is theirs too
        lines[0] = dataclasses.replace(lines[0], measure=f"{lines[0].text} {caption.rtl}")
    stacked = _stack(lines, width)
    if stacked is None:
        return None
    placed, height = stacked
    first_baseline = placed[0][1]
    placed = [(ln, y) for ln, y in placed if ln.text.strip()]
    if caption.rtl:
        placed.insert(0, (_Line(caption.rtl, size, "r", rtl=True, colour=CAPTION_INK), first_baseline))
    return placed, height


def _block(box: Box, caption: labels.Caption | None, make_values: Callable[[float], list[_Line] | None],
           label_pt: float, what: str, max_caption_lines: int = 2) -> tuple[list[Text], float]:
    """Caption above value lines inside `box`, each shrunk until it fits; the Text ops and the height used."""
    cap: tuple[list[tuple[_Line, float]], float] = ([], 0.0)
    if caption is not None:
        found = next((c for sc in _STEPS if (c := _caption_lines(caption, label_pt * sc, box.w, max_caption_lines))),
                     None)
        if found is None:
            raise LayoutError(f"{what}: the caption does not fit its zone ({box.w:.1f} mm wide)")
        cap = found
    vals = None
    for sc in _STEPS:
        lines = make_values(sc)
        stacked = _stack(lines, box.w, cap[1]) if lines is not None else None
        if stacked is not None and stacked[1] <= box.h + 1e-9:
            vals = stacked
            break
    if vals is None:
        raise LayoutError(f"{what}: the text does not fit its zone ({box.w:.1f} x {box.h:.1f} mm) even at "
                          f"{int(MIN_SCALE * 100)}% of the template's size")
    ops = []
    for ln, base in cap[0] + vals[0]:
        x = {"l": box.x, "r": box.right, "m": box.x + box.w / 2}[ln.anchor]
        ops.append(Text(x, box.y + base, ln.text, ln.size, ln.anchor, ln.rtl, ln.bold, ln.colour))
    return ops, vals[1]


def _value_lines(values: Sequence[str], size: float, width: float, rtl_page: bool, *, bold_first: bool = False,
                 wrap: bool = False, centre: bool = False) -> list[_Line]:
    anchor = "m" if centre else ("r" if rtl_page else "l")
    out = []
    for k, v in enumerate(values):
        bold = bold_first and k == 0

        def fits(text: str, _line: int, bold: bool = bold) -> bool:
            return width_mm(text, size, rtl_page, bold) <= width

        texts = _greedy(v.split(), " ", fits) if wrap else [v]
        out += [_Line(t, size, anchor, rtl_page, bold) for t in texts]
    return out


def dark_runs(row: str) -> Iterable[tuple[int, int]]:
    """[start, end) of each run of dark modules in a row."""
    start = None
    for k, c in enumerate(row + "0"):
        if c == "1" and start is None:
            start = k
        elif c != "1" and start is not None:
            yield start, k
            start = None


# --- the page -------------------------------------------------------------------------------------

def _pattern(width: float, height: float, colour: Ink) -> tuple[Curve, ...]:
    """A guilloche-like net of sine waves: the security-print look, as curves."""
    step, period = 0.5, 24.0
    xs = [min(width, i * step) for i in range(int(width / step) + 2)]
    out = []
    for k in range(28):
        base = height * (k - 2) / 24
        amp = 2.2 + (k % 3) * 0.6
        for phase in (0.0, math.pi):
            pts = tuple((x, base + amp * math.sin(2 * math.pi * x / period + phase + k * 0.35)
                         + 1.5 * math.sin(2 * math.pi * x / (period * 3.1))) for x in xs)
            out.append(Curve(pts, colour, HAIRLINE))
    return tuple(out)


def _zones(t: Template, side: Side, language: str) -> tuple[Zone, ...]:
    if side.mirror_rtl and labels.is_rtl(language):
        return tuple(z.mirrored(t.width) for z in side.zones)
    return side.zones


@functools.lru_cache(maxsize=64)
def background(t: Template, side: Side, language: str, document_code: str, state_name: str) -> tuple[Op, ...]:
    """Paper pattern, the clear MRZ zone, issuing State, title and portrait frame."""
    ops: list[Op] = list(_pattern(t.width, t.height, rgb(side.pattern)))
    if side.name == t.mrz.side:
        ops.append(Rect(t.mrz_zone(), WHITE))  # Doc 9303-3: the MRZ stands on a clear zone
    accent = rgb(side.accent)
    rtl = labels.is_rtl(language)
    for z in _zones(t, side, language):
        if z.kind == "state":
            size = z.size or 9.0

            def state_line(sc: float, size: float = size) -> list[_Line]:
                return [_Line(state_name.upper(), size * sc, "m", rtl, True)]

            ops += _block(z.box, None, state_line, t.label_size, "issuing state name")[0]
        elif z.kind == "title":
            cap = labels.title(document_code, language)
            size = z.size or 6.0

            def title_lines(sc: float, cap: labels.Caption = cap, size: float = size, w: float = z.box.w,
                            ) -> list[_Line]:
                s = size * sc
                head = [_Line(cap.rtl, s, "m", True)] if cap.rtl else []
                parts = cap.ltr.split(" / ")
                return head + [_Line(x, s, "m") for x in _greedy(parts, " / ", lambda v, _i: width_mm(v, s) <= w)]

            ops += _block(z.box, None, title_lines, t.label_size, "document title")[0]
        elif z.kind == "portrait":
            ops.append(Rect(z.box, (232, 232, 232), accent, HAIRLINE))
    return tuple(ops)


def _field_caption(z: Zone, page: PageData) -> labels.Caption:
    key = z.label or (labels.number_caption(page.document_code) if z.field == "document_number" else z.field)
    return labels.caption(key, page.language)


def _square(box: Box) -> Box:
    """The largest square centred in `box` (a barcode's modules are square)."""
    side = min(box.w, box.h)
    return Box(box.x + (box.w - side) / 2, box.y + (box.h - side) / 2, side, side)


def _zone_ops(t: Template, z: Zone, page: PageData) -> list[Op]:
    rtl = labels.is_rtl(page.language)
    label_pt, value_pt = t.label_size, z.size or t.value_size
    box = z.box
    if z.kind == "field":
        values = page.values(z.field)
        if not values:
            return []  # an empty optional field prints nothing, not even its caption
        bold = z.field in ("surname", "given_names")
        caption = _field_caption(z, page)
        try:
            return list(_block(box, caption, lambda sc: _value_lines(values, value_pt * sc, box.w, rtl,
                                                                     bold_first=bold, wrap=z.wrap),
                               label_pt, z.field)[0])
        except LayoutError:
            if len(values) < 2 or z.wrap:
                raise
        # A national form and its Latin form that cannot stand one under the other share one line.
        joined = (" / ".join(values),)
        return list(_block(box, caption, lambda sc: _value_lines(joined, value_pt * sc, box.w, rtl, bold_first=bold),
                           label_pt, z.field)[0])
    if z.kind in ("portrait", "ghost") and page.portrait is not None:
        return [Picture(box, page.portrait, z.kind)]
    if z.kind == "signature":
        ops, cap_h = _block(box, labels.caption("signature", page.language), lambda sc: [], label_pt,
                            "signature caption")
        if box.h - cap_h < box.h / 2:
            raise LayoutError("signature: the caption leaves less than half of the zone for the signature")
        if page.signature is not None:
            return [*ops, Picture(Box(box.x, box.y + cap_h, box.w, box.h - cap_h), page.signature, "signature")]
        return list(ops)
    if z.kind == "seal":
        if page.seal_modules:
            return [Modules(_square(box), page.seal_modules)]
        if page.seal is not None:
            return [Picture(box, page.seal, "seal")]
        return []
    if z.kind == "can" and page.can:
        return _can_ops(t, z, page)
    return []


def _can_ops(t: Template, z: Zone, page: PageData) -> list[Op]:
    pitch, box = 2.54, z.box
    digits_w = pitch * len(page.can)
    if z.inline:
        cap_box = Box(box.x, box.y, box.w - digits_w - pitch / 2, box.h)
        ops: list[Op] = list(_block(cap_box, None, lambda sc: [_Line("CAN", t.value_size * sc, "l")], t.label_size,
                                    "can caption")[0])
        return [*ops, Ocrb(box.right - digits_w, box.y + box.h / 2, page.can, pitch)]
    cap_ops, cap_h = _block(box, labels.caption("can", page.language), lambda sc: [], t.label_size, "can caption")
    centre = box.y + (cap_h + box.h) / 2
    return [*cap_ops, Ocrb(box.x + (box.w - digits_w) / 2, centre, page.can, pitch)]


def _prints(side: Side, page: PageData) -> bool:
    """A side printed `when` a field has a value prints only then (an observations page)."""
    return not side.when or bool(page.values(side.when))


def compose(t: Template, page: PageData) -> list[SideLayout]:
    """Every printed side of `t` with `page`'s data, in template order (optional sides left out when
    they would be empty)."""
    if len(page.mrz) != t.lines or any(len(line) != t.line_length for line in page.mrz):
        raise InputError(f"mrz: template {t.name} ({t.format.value}) prints {t.lines} lines of "
                         f"{t.line_length} characters, got {[len(x) for x in page.mrz]} [Doc 9303-3 §4.2]")
    out = []
    for side in t.sides:
        if not _prints(side, page):
            continue
        bg = background(t, side, page.language, page.document_code, page.issuing_state_name or page.issuing_state)
        ops: list[Op] = []
        for z in _zones(t, side, page.language):
            ops += _zone_ops(t, z, page)
        if side.name == t.mrz.side:
            m = t.mrz
            ops += [Ocrb(m.left, t.height - m.centre(i), line, m.char_pitch) for i, line in enumerate(page.mrz)]
        out.append(SideLayout(side.name, t.width, t.height, rgb(side.paper), bg, tuple(ops)))
    return out
