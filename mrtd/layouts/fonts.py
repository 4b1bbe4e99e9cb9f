"""The fonts that ship with the package, loaded once per pixel size.

OCR-B (Matthew Skala, public domain) prints the MRZ and the CAN; DejaVu Sans covers Latin, Greek and
Cyrillic in the VIZ; Noto Naskh Arabic covers Arabic, which Pillow shapes and lays out right-to-left
through libraqm. The licence notes sit beside the files.
"""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources
from pathlib import Path

from PIL import ImageFont, features

from mrtd.errors import ConfigurationError

FONT_FILES = {
    "ocrb": "OCRB.otf",
    # The same glyphs with TrueType outlines (scripts/make_ocrb_ttf.py), for the PDF: reportlab embeds
    # only TrueType. The raster keeps the original, whose rendering the print check was tuned against.
    "ocrb-pdf": "OCRB.ttf",
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "arabic": "NotoNaskhArabic-Regular.ttf",
}

# OCR-B advances every glyph by 723/1000 em; the MRZ pitch fixes the em from that.
_OCRB_ADVANCE_EM = 0.723


def font_path(name: str) -> Path:
    try:
        file = FONT_FILES[name]
    except KeyError:
        raise ConfigurationError(f"font: {name!r} is not one of {sorted(FONT_FILES)}") from None
    return Path(str(resources.files("mrtd.layouts").joinpath("fonts", file)))


@functools.lru_cache(maxsize=256)
def font(name: str, size_px: float) -> ImageFont.FreeTypeFont:
    """A font at a pixel size (cached: templates draw the same sizes again and again)."""
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(font_path(name)), size_px, layout_engine=layout)


def ocrb_for_pitch(pitch_px: float) -> ImageFont.FreeTypeFont:
    """OCR-B sized so that one advance is exactly the character pitch (10 per 25.4 mm at 2.54 mm)."""
    return font("ocrb", round(pitch_px / _OCRB_ADVANCE_EM, 3))


@functools.lru_cache(maxsize=1)
def ocrb_cap_band_em() -> tuple[float, float]:
    """Top and bottom of the capitals and digits relative to the baseline, in em (up is negative)."""
    f = font("ocrb", 1000)
    top, bottom = 0.0, 0.0
    for ch in "AEHMXZ0258":
        _, t, _, b = f.getbbox(ch, anchor="ls")
        top, bottom = min(top, t), max(bottom, b)
    return top / 1000, bottom / 1000


def ocrb_cap_height_mm(char_pitch_mm: float) -> float:
    top, bottom = ocrb_cap_band_em()
    return (bottom - top) * char_pitch_mm / _OCRB_ADVANCE_EM


def is_rtl_text(text: str) -> bool:
    """True when the text's first strong character is right-to-left (Arabic, Hebrew, ...)."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in ("R", "AL"):
            return True
        if bidi == "L":
            return False
    return False


def has_arabic(text: str) -> bool:
    return any(0x0600 <= ord(ch) <= 0x06FF or 0x0750 <= ord(ch) <= 0x077F or 0xFB50 <= ord(ch) <= 0xFEFF
               for ch in text)
