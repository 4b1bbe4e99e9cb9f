"""The annotated photo: what `check_photo` measured drawn over the photo, failures in red, and a legend.

Drawn: every face box, the eye centres and the eye line, the ISO bands where the eye midpoint belongs
(0.45-0.55 of the width, 0.30-0.50 of the height), the head's crown, chin and width, and the background
strips that were sampled. Below the photo, one line per check: its status, the value and the figure.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from mrtd.chip.portrait import decode
from mrtd.issuance.photo.checks import EDGE, Check, PhotoReport
from mrtd.layouts.fonts import font as load_font

SIDE = 900  # longest side of the drawn photo
PASS, FAIL, NEUTRAL = (0, 170, 60), (230, 20, 20), (250, 190, 0)
LINE = 18  # legend line height


def annotated_png(image_bytes: bytes, report: PhotoReport) -> bytes:
    photo = decode(image_bytes).convert("RGB")
    f = min(1.0, SIDE / max(photo.size))
    if f < 1.0:
        photo = photo.resize((round(photo.width * f), round(photo.height * f)), Image.Resampling.LANCZOS)
    w, h = photo.size
    checks = {c.rule.name: c for c in report.checks}
    font = load_font("sans", 13)
    legend = [_legend(c) for c in report.checks]
    canvas = Image.new("RGB", (max(w, 560), h + 8 + LINE * len(legend) + 8), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    d = ImageDraw.Draw(canvas)
    width = max(2, round(max(w, h) / 300))

    def colour(name: str) -> tuple[int, int, int]:
        c = checks.get(name)
        return NEUTRAL if c is None or c.status == "unmeasured" else PASS if c.status == "pass" else FAIL

    edge = round(w * EDGE)
    eyes = report.eyes
    limit = round(eyes.midpoint[1] * f) if eyes else (round(report.detection.faces[0].y * f) if report.detection.faces else h // 3)
    for x0 in (0, w - edge):
        d.rectangle((x0, 0, x0 + edge - 1, limit), outline=colour("background"), width=1)
    for frac in (0.45, 0.55):
        d.line((w * frac, 0, w * frac, h), fill=colour("horizontal-position"), width=1)
    for frac in (0.30, 0.50):
        d.line((0, h * frac, w, h * frac), fill=colour("vertical-position"), width=1)
    for box in report.detection.faces:
        d.rectangle((box.x * f, box.y * f, (box.x + box.w) * f, (box.y + box.h) * f), outline=colour("face"), width=width)
    if eyes is not None:
        (rx, ry), (lx, ly) = (eyes.right[0] * f, eyes.right[1] * f), (eyes.left[0] * f, eyes.left[1] * f)
        d.line((rx, ry, lx, ly), fill=colour("tilt"), width=width)
        r = max(4, round(eyes.distance * f / 12))
        for x, y in ((rx, ry), (lx, ly)):
            d.line((x - r, y, x + r, y), fill=colour("eye-distance"), width=width)
            d.line((x, y - r, x, y + r), fill=colour("eye-distance"), width=width)
    head = report.head
    if head is not None:
        for y in (head.crown, head.chin):
            d.line((head.left * f, y * f, head.right * f, y * f), fill=colour("head-length"), width=width)
        y = eyes.midpoint[1] * f if eyes else h / 2
        for x in (head.left, head.right):
            d.line((x * f, y - 3 * width, x * f, y + 3 * width), fill=colour("head-width"), width=width)
    y = h + 8
    for text, fill in legend:
        d.text((6, y), text, fill=fill, font=font)
        y += LINE
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def _legend(c: Check) -> tuple[str, tuple[int, int, int]]:
    if c.status == "unmeasured":
        return f"----  {c.rule.name}: not measured ({c.detail})", (120, 120, 120)
    value = c.rule.amount(c.value) if c.value is not None else "-"
    tag = "PASS" if c.status == "pass" else "FAIL" if c.rule.severity.value == "error" else "WARN"
    return f"{tag}  {c.rule.name}: {value} (needs {c.rule.figure})", PASS if c.status == "pass" else FAIL
