"""The renderer: page size in pixels, DPI stored in the PNG, PDF at the exact physical size, refusals."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from layout_fixtures import portrait_bytes, utopia_td1, utopia_td3
from PIL import Image

from mrtd.errors import InputError
from mrtd.layouts import LayoutError, load_template, page_size_px, pdf_bytes, png_bytes, render, write

MM_TO_PT = 72 / 25.4


@pytest.mark.parametrize("dpi", [300, 600])
def test_td3_png_size_and_dpi(dpi: int) -> None:
    t = load_template("td3")
    sides = render(t, utopia_td3(), dpi)
    assert [s.name for s in sides] == ["front"]
    img = sides[0].image
    assert img.size == page_size_px(t, dpi) == (round(125 / 25.4 * dpi), round(88 / 25.4 * dpi))
    back = Image.open(io.BytesIO(png_bytes(img, dpi)))
    assert back.format == "PNG"
    assert tuple(round(v) for v in back.info["dpi"]) == (dpi, dpi)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_png_reads_back_the_same_in_another_decoder(mode: str) -> None:
    """Our unfiltered PNG writer, read by OpenCV's decoder (libpng) and by Pillow: the same pixels and dpi."""
    import cv2
    import numpy as np

    page = render(load_template("td3"), utopia_td3(), 300)[0].image.convert(mode)
    data = png_bytes(page, 300)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if mode != "L":
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB if mode == "RGB" else cv2.COLOR_BGRA2RGBA)
    assert decoded.tobytes() == page.tobytes()
    back = Image.open(io.BytesIO(data))
    assert back.mode == mode and back.tobytes() == page.tobytes()
    assert tuple(round(v) for v in back.info["dpi"]) == (300, 300)


def _media_boxes(pdf: bytes) -> list[tuple[float, ...]]:
    return [tuple(float(v) for v in m.split()) for m in re.findall(rb"/MediaBox\s*\[\s*([^\]]+)\]", pdf)]


@pytest.mark.parametrize("name, pages", [("td3", 1), ("td1", 2)])
@pytest.mark.parametrize("dpi", [300])
def test_pdf_page_is_the_document_size(name: str, pages: int, dpi: int) -> None:
    t = load_template(name)
    page = utopia_td3() if name == "td3" else utopia_td1()
    pdf = pdf_bytes([s.layout for s in render(t, page, dpi) if s.layout is not None])
    boxes = _media_boxes(pdf)
    assert len(boxes) == pages
    for x0, y0, x1, y1 in boxes:
        assert (x0, y0) == (0.0, 0.0)
        assert x1 == pytest.approx(t.width * MM_TO_PT, abs=0.01)
        assert y1 == pytest.approx(t.height * MM_TO_PT, abs=0.01)


def test_td1_writes_front_and_back(tmp_path: Path) -> None:
    t = load_template("td1")
    written = write(t, render(t, utopia_td1(), 300), tmp_path / "card.png", 300)
    assert [p.name for p in written] == ["card-front.png", "card-back.png"]
    assert all(p.exists() and not p.with_name(p.name + ".part").exists() for p in written)


def test_unknown_suffix_writes_nothing(tmp_path: Path) -> None:
    t = load_template("td3")
    with pytest.raises(InputError):
        write(t, render(t, utopia_td3(), 300), tmp_path / "page.jpg", 300)
    assert list(tmp_path.iterdir()) == []


def test_mrz_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(InputError, match="mrz"):
        render(load_template("td1"), utopia_td3(), 300)


def test_non_mrz_characters_are_refused() -> None:
    with pytest.raises(InputError, match="line1"):
        utopia_td3(mrz=("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<a", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"))


def test_unreadable_portrait_is_refused() -> None:
    with pytest.raises(InputError, match="portrait"):
        render(load_template("td3"), utopia_td3(portrait=b"not an image"), 300)


def test_value_too_long_for_its_zone_is_refused_not_clipped() -> None:
    with pytest.raises(LayoutError, match="place_of_birth"):
        render(load_template("td3"), utopia_td3(place_of_birth="W" * 80), 300)


def test_long_value_shrinks_to_fit() -> None:
    img = render(load_template("td3"), utopia_td3(authority="MINISTRY OF FOREIGN AFFAIRS ZENITH"), 300)[0].image
    assert img.size == (1476, 1039)


def test_portrait_and_ghost_are_printed() -> None:
    t = load_template("td3")
    with_p = render(t, utopia_td3(), 300)[0].image
    without = render(t, utopia_td3(portrait=None), 300)[0].image
    ghost = next(z for z in t.sides[0].zones if z.kind == "ghost").box
    box = tuple(round(v / 25.4 * 300) for v in (ghost.x, ghost.y, ghost.right, ghost.bottom))
    assert with_p.crop(box).convert("L").getextrema()[0] < without.crop(box).convert("L").getextrema()[0]
    assert portrait_bytes() != portrait_bytes(1)


def test_arabic_is_shaped_right_to_left() -> None:
    """The renderer hands Arabic to raqm: the drawn word is narrower than its isolated letters (joined),
    and its first letter lies at the right."""
    from mrtd.layouts.fonts import font

    f = font("arabic", 60)
    word = "الرازي"
    joined = f.getlength(word, direction="rtl", language="ar")
    isolated = sum(f.getlength(ch) for ch in word)
    assert joined < isolated
    im = Image.new("L", (600, 120), 255)
    from PIL import ImageDraw

    ImageDraw.Draw(im).text((580, 90), "ا" + "   " + "ي", font=f, fill=0, anchor="rs", direction="rtl",
                            language="ar")
    alef = Image.new("L", (600, 120), 255)
    ImageDraw.Draw(alef).text((580, 90), "ا", font=f, fill=0, anchor="rs", direction="rtl", language="ar")
    # The alef (first in logical order) is drawn at the right end.
    assert alef.point(lambda v: 255 - v).getbbox()[2] == im.point(lambda v: 255 - v).getbbox()[2]


def test_pages_in_arabic_and_german_render_without_clipping() -> None:
    """Every caption and value fits its zone (the renderer raises LayoutError instead of clipping)."""
    ar = utopia_td3(language="ar", issuing_state_name="جمهورية مصر العربية", surname="الرازي",
                    surname_latin="ALRAZY", given_names="ابو بكر", given_names_latin="ABW BKR", sex="M",
                    name_national="ابو بكر الرازي")
    de = utopia_td1(language="de", issuing_state_name="Bundesrepublik Deutschland", surname="MÜLLER",
                    surname_latin="MUELLER", given_names="JÜRGEN", given_names_latin="JUERGEN", sex="M")
    for name, page in (("td3", ar), ("td1", de)):
        t = load_template(name)
        for dpi in (300, 600):
            sizes = [s.image.size for s in render(t, page, dpi)]
            assert sizes and set(sizes) == {page_size_px(t, dpi)}


def test_names_print_national_form_beside_the_transliteration() -> None:
    page = utopia_td3(surname="ШЕВЧЕНКО", surname_latin="SHEVCHENKO")
    assert page.values("surname") == ("ШЕВЧЕНКО", "SHEVCHENKO")
    assert utopia_td3().values("surname") == ("ERIKSSON",)
    assert utopia_td3(language="ru").values("sex") == ("Ж/F",)


def test_unwritable_output_leaves_nothing(tmp_path: Path) -> None:
    t = load_template("td1")
    blocker = tmp_path / "a-file"  # a missing folder is made (owner-only); one whose place a file holds cannot be
    blocker.write_bytes(b"")
    with pytest.raises(InputError, match="cannot write"):
        write(t, render(t, utopia_td1(), 300), blocker / "card.png", 300)
    assert list(tmp_path.iterdir()) == [blocker]
