"""The two readings of the print check: tesseract in-process (tesserocr) and the `tesseract` program.
Each on its own must read a good print back and refuse a misprint; the library reading decides only
when it matches, otherwise the program's reading stands."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import pytest
from conftest import require
from layout_fixtures import specimens, utopia_td3

from mrtd.layouts import load_template, ocr, render
from mrtd.layouts.qa import _check_print, check_print, mrz_image

pytestmark = pytest.mark.ocr

ENGINES: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "library": nullcontext,
    "program": ocr.program_only,
}


@pytest.fixture(autouse=True)
def _engines() -> None:
    require(ocr.tesseract_path() is not None, "tesseract (Debian tesseract-ocr)")
    require(ocr._engine(6) is not None, "tesserocr with Debian's eng.traineddata")


@pytest.mark.parametrize("engine", ENGINES)
def test_each_reading_alone_reads_a_good_print(engine: str) -> None:
    s = specimens()["td3"]
    lines = (s["line1"], s["line2"])
    t = load_template("td3")
    img = mrz_image([r.image for r in render(t, utopia_td3(mrz=lines), 300)], t)
    with ENGINES[engine]():
        assert ocr.in_process() is (engine == "library")
        result = _check_print(img, t, lines)
    assert result.ok, [str(f) for f in result.findings]


@pytest.mark.parametrize("engine", ENGINES)
def test_each_reading_alone_refuses_a_wrong_digit(engine: str) -> None:
    s = specimens()["td3"]
    expected = (s["line1"], s["line2"])
    printed = (s["line1"], s["line2"][:43] + str((int(s["line2"][43]) + 1) % 10))
    t = load_template("td3")
    img = mrz_image([r.image for r in render(t, utopia_td3(mrz=printed), 300)], t)
    with ENGINES[engine]():
        result = _check_print(img, t, expected)
    assert [f.field for f in result.findings] == ["mrz.line2[44]"]
    assert not check_print(img, t, expected).ok
