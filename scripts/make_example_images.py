"""Draw the synthetic portraits and signatures used by examples/applications/ (deterministic).

Portraits: 600x750 px JPEG, a head-and-shoulders drawing on a plain light background, face centred,
proportioned after the ICAO portrait guidance (crown to chin about 70-80 % of the image height, eyes a
little above the middle). Signatures: a handwritten-looking stroke on a transparent background, PNG.
Nothing here is a photograph of anyone: each figure comes from fixed parameters and a seeded generator.

Run from the repository root: `.venv/bin/python scripts/make_example_images.py`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "examples" / "applications"
W, H = 600, 750
SS = 3  # supersampling factor: draw large, scale down for smooth edges

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Person:
    key: str
    skin: RGB
    hair: RGB
    hair_style: str  # "short", "long", "bob", "bald", "scarf"
    clothing: RGB
    eyes: RGB
    face_width: float  # fraction of the image width
    beard: bool
    signature: str
    seed: int
    background: RGB = (232, 236, 240)


PEOPLE = [
    Person("anna", (238, 205, 180), (196, 158, 98), "long", (44, 62, 112), (72, 110, 150), 0.60, False, "Anna Eriksson", 1),
    Person("olena", (240, 212, 190), (92, 58, 34), "bob", (120, 40, 52), (90, 100, 60), 0.58, False, "Olena Shevchenko", 2),
    Person("abubakr", (196, 150, 112), (34, 28, 24), "short", (230, 230, 226), (60, 40, 24), 0.62, True, "Abu Bakr al-Razi", 3),
    Person("chayapa", (214, 172, 130), (24, 20, 20), "short", (36, 36, 44), (48, 32, 20), 0.60, False, "Chayapa N.", 4),
    Person("dingo", (226, 186, 156), (150, 82, 40), "short", (70, 96, 64), (60, 90, 120), 0.63, True, "D. Bennelong", 5),
    Person("arnpol", (206, 160, 118), (20, 18, 18), "short", (90, 90, 140), (40, 28, 20), 0.61, False, "Arnpol N.", 6),
    Person("fatmata", (120, 82, 58), (18, 14, 12), "scarf", (200, 120, 40), (36, 24, 16), 0.59, False, "Fatmata Kamara", 7),
    Person("leyla", (222, 180, 146), (40, 26, 20), "long", (60, 110, 110), (70, 50, 30), 0.57, False, "Leyla Mirza", 8),
    Person("jeanpierre", (104, 70, 50), (16, 12, 10), "bald", (150, 150, 156), (30, 20, 14), 0.62, False, "J-P Habimana", 9),
    Person("siobhan", (244, 214, 196), (170, 70, 30), "long", (30, 90, 60), (70, 120, 80), 0.58, False, "Siobhan O'Neill", 10),
    Person("alex", (230, 196, 170), (110, 80, 50), "short", (110, 60, 120), (80, 100, 120), 0.60, False, "Alex Mueller", 11),
]


def _shade(c: RGB, f: float) -> RGB:
    return (min(255, int(c[0] * f)), min(255, int(c[1] * f)), min(255, int(c[2] * f)))


def _e(cx: float, cy: float, rx: float, ry: float) -> tuple[int, int, int, int]:
    return (int((cx - rx) * SS), int((cy - ry) * SS), int((cx + rx) * SS), int((cy + ry) * SS))


def _pts(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    return [(int(x * SS), int(y * SS)) for x, y in points]


def portrait(p: Person) -> Image.Image:
    rng = random.Random(p.seed)
    img = Image.new("RGB", (W * SS, H * SS), p.background)
    d = ImageDraw.Draw(img)
    cx = W / 2 + rng.uniform(-4, 4)
    crown, chin = 95.0, 615.0  # head height 520 px: about 69 % of 750 plus hair above the crown line
    face_h = chin - crown
    rx = W * p.face_width / 2
    face_cy = crown + face_h * 0.5
    eye_y = crown + face_h * 0.47  # eye line about 57 % of the height from the bottom

    # Hair behind the head (long hair and scarves fall behind the shoulders): drawn first.
    if p.hair_style == "long":
        d.rounded_rectangle(_e(cx, face_cy + 70, rx * 1.2, face_h * 0.6), radius=140 * SS, fill=p.hair)
    if p.hair_style == "bob":
        d.rounded_rectangle(_e(cx, face_cy - 10, rx * 1.16, face_h * 0.5), radius=150 * SS, fill=p.hair)
    if p.hair_style == "scarf":
        d.ellipse(_e(cx, face_cy + 30, rx * 1.22, face_h * 0.66), fill=p.clothing)

    # Shoulders and neck.
    d.rounded_rectangle(
        (int((cx - 280) * SS), int(660 * SS), int((cx + 280) * SS), int((H + 200) * SS)), radius=150 * SS, fill=p.clothing
    )
    d.rectangle(_e(cx, 640, rx * 0.42, 45), fill=_shade(p.skin, 0.9))
    d.polygon(_pts([(cx - 60, 662), (cx, 720), (cx + 60, 662)]), fill=_shade(p.skin, 0.9))
    d.line(_pts([(cx - 60, 662), (cx, 720), (cx + 60, 662)]), fill=_shade(p.clothing, 0.7), width=4 * SS)

    # Ears; the hair cap sits behind the face, so only a crescent above the forehead shows.
    for side in (-1, 1):
        d.ellipse(_e(cx + side * rx * 0.98, eye_y + 25, 24, 45), fill=_shade(p.skin, 0.93))
    if p.hair_style in ("short", "long", "bob"):
        d.ellipse(_e(cx, face_cy - 22, rx * 1.05, face_h / 2 + 4), fill=p.hair)
    if p.hair_style == "scarf":
        d.ellipse(_e(cx, face_cy - 28, rx * 1.1, face_h / 2 + 8), fill=_shade(p.clothing, 0.9))
    d.ellipse(_e(cx, face_cy + 12, rx, face_h / 2 - 12), fill=p.skin)
    d.ellipse(_e(cx, face_cy + 50, rx * 0.8, face_h * 0.36), fill=_shade(p.skin, 1.02))
    if p.hair_style in ("short", "long", "bob"):
        # A side-swept fringe.
        if p.seed % 2:
            d.chord(_e(cx + rx * 0.35, crown + 40, rx * 0.9, 75), 110, 330, fill=p.hair)
        else:  # swept the other way
            d.chord(_e(cx - rx * 0.35, crown + 40, rx * 0.9, 75), 210, 430, fill=p.hair)
    if p.beard:
        d.chord(_e(cx, face_cy + 12, rx * 0.99, face_h / 2 - 12), 40, 140, fill=_shade(p.hair, 1.1))  # a trimmed beard

    # Eyes, brows.
    eye_dx = rx * 0.38
    for side in (-1, 1):
        ex = cx + side * eye_dx
        d.ellipse(_e(ex, eye_y, 30, 14), fill=(250, 250, 248))
        d.ellipse(_e(ex, eye_y, 12, 12), fill=p.eyes)
        d.ellipse(_e(ex, eye_y, 5, 5), fill=(15, 15, 15))
        d.arc(_e(ex, eye_y + 2, 31, 16), 190, 350, fill=_shade(p.skin, 0.6), width=3 * SS)
        brow = [(ex - 34, eye_y - 30 + side * 0), (ex, eye_y - 40), (ex + 34, eye_y - 31)]
        if side < 0:
            brow = [(ex - 34, eye_y - 31), (ex, eye_y - 40), (ex + 34, eye_y - 30)]
        d.line(_pts(brow), fill=_shade(p.hair, 0.9), width=8 * SS, joint="curve")

    # Nose and mouth.
    nose_y = eye_y + 95
    d.line(_pts([(cx + 4, eye_y + 15), (cx + 10, nose_y - 6), (cx - 10, nose_y)]), fill=_shade(p.skin, 0.72), width=4 * SS)
    d.arc(_e(cx, nose_y - 2, 26, 12), 20, 160, fill=_shade(p.skin, 0.7), width=3 * SS)
    mouth_y = nose_y + 62
    d.chord(_e(cx, mouth_y, 52, 14), 0, 180, fill=_shade(p.skin, 0.72))
    d.line(_pts([(cx - 52, mouth_y), (cx + 52, mouth_y)]), fill=_shade(p.skin, 0.55), width=3 * SS)

    if p.beard:  # moustache
        d.chord(_e(cx, mouth_y - 12, 58, 18), 180, 360, fill=_shade(p.hair, 1.1))

    img = img.resize((W, H), Image.Resampling.LANCZOS)
    # A little softness so that the drawing does not look like vector art.
    return img.filter(ImageFilter.GaussianBlur(0.6))


def signature(p: Person) -> Image.Image:
    rng = random.Random(1000 + p.seed)
    w, h = 600, 200
    img = Image.new("RGBA", (w * SS, h * SS), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    ink = (20, 30, 80, 255)
    letters = [c for c in p.signature if c.isalpha()]
    step = 440 / max(len(letters), 1)
    x0, base = 60.0, 120.0
    points: list[tuple[float, float]] = []
    for i, c in enumerate(letters):
        tall = c.isupper() or c in "bdfhklt"
        height = (70 if tall else 38) * rng.uniform(0.85, 1.15)
        loops = 2 if c in "mw" else 1
        shape = (ord(c) + i) % 3  # loop, arch or cup, so that letters differ
        for k in range(24):
            t = k / 24
            angle = 2 * math.pi * loops * t
            if shape == 0 or tall:
                x = x0 + (i + t) * step + 10 * math.sin(angle)
                y = base - height * (0.5 - 0.5 * math.cos(angle))
            elif shape == 1:
                x = x0 + (i + t) * step
                y = base - height * abs(math.sin(math.pi * loops * t))
            else:
                x = x0 + (i + t) * step + 6 * math.sin(angle)
                y = base - height * 0.8 * (1 - abs(math.cos(math.pi * t))) ** 0.6
            points.append((x, y + 6 * math.sin(2 * angle + i)))
    slant = rng.uniform(0.15, 0.3)
    points = [(x + slant * (base - y), y) for x, y in points]
    for i in range(1, len(points)):
        width = 3.0 + 1.6 * math.sin(i / 7.0)
        d.line(_pts([points[i - 1], points[i]]), fill=ink, width=max(1, int(width * SS)))
    # The closing flourish under the name.
    fx = [x0 + 20 + t * 400 for t in (0, 0.3, 0.7, 1.0)]
    fy = [base + 30, base + 42, base + 36, base + 22 + rng.uniform(-6, 6)]
    curve = []
    for k in range(41):
        t = k / 40
        a = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        curve.append((sum(a[j] * fx[j] for j in range(4)), sum(a[j] * fy[j] for j in range(4))))
    d.line(_pts(curve), fill=ink, width=3 * SS, joint="curve")
    return img.resize((w, h), Image.Resampling.LANCZOS)


def main() -> None:
    (OUT / "portraits").mkdir(parents=True, exist_ok=True)
    (OUT / "signatures").mkdir(parents=True, exist_ok=True)
    for p in PEOPLE:
        portrait(p).save(OUT / "portraits" / f"{p.key}.jpg", "JPEG", quality=88, subsampling=0)
        signature(p).save(OUT / "signatures" / f"{p.key}.png", "PNG", optimize=True)
        print(f"{p.key}: portraits/{p.key}.jpg signatures/{p.key}.png")


if __name__ == "__main__":
    main()
