"""Derive mrtd/layouts/fonts/OCRB.ttf from OCRB.otf (Matthew Skala's OCR-B, public domain).

The OTF has PostScript (CFF) outlines, which reportlab cannot embed in a PDF; the TrueType copy carries
the same glyphs with quadratic curves (cubics approximated to within 1/1000 em, 0.0035 mm at the MRZ
size) and the same advances. Both renderers use the TrueType copy, so raster and vector pages print the
same outlines. Run once when OCRB.otf changes: .venv/bin/python scripts/make_ocrb_ttf.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

FONTS = Path(__file__).resolve().parent.parent / "mrtd" / "layouts" / "fonts"
MAX_ERR_EM = 1.0  # font units (1000 per em)


def convert(src: Path, dst: Path) -> None:
    font = TTFont(str(src))
    glyph_set = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR_EM, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(dst))


if __name__ == "__main__":
    convert(FONTS / "OCRB.otf", FONTS / "OCRB.ttf")
    print(FONTS / "OCRB.ttf")
