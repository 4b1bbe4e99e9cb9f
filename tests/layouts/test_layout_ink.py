"""No two lines of text on a page touch: each line's ink, measured glyph by glyph in the font each of its
runs is drawn in (Naskh for Arabic, DejaVu Sans for the rest), stays clear of every other line's ink."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from conftest import EXAMPLES
from layout_fixtures import application_page

from mrtd.layouts.compose import Text, compose
from mrtd.layouts.fonts import font
from mrtd.layouts.text import MEASURE_PX_PER_PT, MM_PER_PT, runs, width_mm

Box = tuple[float, float, float, float]  # left, top, right, bottom (mm)


def ink_box(t: Text) -> Box:
    """Where the line's glyphs put ink: its horizontal extent from its advance and anchor, its vertical one
    from each run's own glyph boxes (not from line metrics, which is what the layout itself uses)."""
    width = width_mm(t.text, t.size, t.rtl, t.bold)
    left = {"l": t.x, "r": t.x - width, "m": t.x - width / 2}[t.anchor]
    top = bottom = t.baseline
    scale = MM_PER_PT / MEASURE_PX_PER_PT
    for run in runs(t.text, t.rtl, t.bold):
        if not run.text.strip():
            continue
        kwargs = {"direction": "rtl", "language": "ar"} if run.rtl else {}
        _, y0, _, y1 = font(run.font, t.size * MEASURE_PX_PER_PT).getbbox(run.text, anchor="ls", **kwargs)  # type: ignore[arg-type]
        top, bottom = min(top, t.baseline + y0 * scale), max(bottom, t.baseline + y1 * scale)
    return left, top, left + width, bottom


def overlap(a: Box, b: Box) -> float:
    """The smaller of the two overlaps, horizontal and vertical (mm); <= 0 when the boxes do not meet."""
    return min(min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1]))


CASES = [(name, layout) for name, layout in [
    ("abubakr-alrazi-arabic.json", "td3"), ("olena-shevchenko-cyrillic.json", "td3"),
    ("leyla-mirza-stateless.json", "td3"), ("jean-pierre-habimana-refugee.json", "td3"),
    ("siobhan-oneill-emergency.json", "td3"), ("chayapa-long-name-td3.json", "td3"),
    ("dingo-long-name-td1.json", "td1"), ("anna-eriksson-td1.json", "td1"), ("arnpol-long-name-td2.json", "td2"),
    ("alex-mueller-visa-mrva.json", "mrv-a"), ("alex-mueller-visa-mrva.json", "mrv-b"),
] if (EXAMPLES / name).is_file()]


@pytest.mark.parametrize("language", [None, "ar"])
@pytest.mark.parametrize(("app_name", "layout"), CASES)
def test_no_two_lines_of_text_touch(app_name: str, layout: str, language: str | None) -> None:
    """On the page in the issuing state's languages and on the Arabic (right-to-left) page."""
    t, page = application_page(app_name, layout, date_of_issue=dt.date(2026, 12, 3), language=language)
    for side in compose(t, page):
        lines = [op for op in (*side.background, *side.ops) if isinstance(op, Text) and op.text.strip()]
        touching = [(a.text, b.text, round(o, 2)) for a, b in itertools.combinations(lines, 2)
                    if (o := overlap(ink_box(a), ink_box(b))) > 0.02]
        assert not touching, f"{app_name} on {layout} ({language}), side {side.name}: lines whose ink meets: {touching}"
