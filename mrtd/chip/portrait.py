"""Portrait preparation: an application photo -> the DG2 face image (ISO/IEC 19794-5 token frontal).

Token frontal geometry (ISO/IEC 19794-5:2005 clause 9, Table 10; Doc 9303-10 §4.7.2): width W, height
W/0.75, both eye centres on a horizontal line 0.6 W from the top, 0.25 W apart, their midpoint at 0.5 W.

The crop is made from the eye centres: a rotation and scale that puts the two eyes exactly where the
token image has them (so a slight head tilt is levelled). The eye centres come from the caller, normally
`mrtd.issuance.photo`, which finds them with a face detector. Without them, a caller may give the head
box (crown, chin, vertical axis), or fall back to where an ICAO-conformant 35 x 45 mm passport photo has
the head (head 32-36 mm of 45 mm, centred, crown about 10 % below the top); from a head box the eyes are
placed the way anthropometry puts them: 47 % of the head height below the crown, 27 % of it apart.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from mrtd.errors import InputError
from mrtd.limits import MAX_PIXELS, open_image

CLAUSE = "ISO/IEC 19794-5:2005 clause 9 (token face image)"
TOKEN_ASPECT = 0.75  # width / height
EYE_LINE = 0.6  # eye line, from the top, in units of W
EYE_DISTANCE = 0.25  # in units of W
FIRST_EYE = 0.375  # the eye on the viewer's left (the subject's right), in units of W
MIN_TOKEN_WIDTH = 240  # eyes 60 px apart: the token minimum
TARGET_TOKEN_WIDTH = 360  # eyes 90 px apart: ICAO's recommended resolution
MIN_SOURCE_EYE_DISTANCE = 45  # below this the portrait would be upscaled by more than a third
MIN_ASPECT, MAX_ASPECT = 0.6, 1.0  # a passport-style photo is taller than wide (35 x 45 mm = 0.78)
PAD_COLOUR = (224, 224, 224)  # neutral light grey where the crop runs past the photo's edge

Format = Literal["jpeg", "jp2"]
Point = tuple[float, float]
Affine = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class EyeCentres:
    """The centres of the two eyes in image pixels (x to the right, y down).

    `right` is the subject's right eye, which the viewer sees on the left; `left` the subject's left eye
    (ISO/IEC 19794-5 names eyes from the subject's side)."""

    right: Point
    left: Point

    @property
    def distance(self) -> float:
        return math.dist(self.right, self.left)

    @property
    def midpoint(self) -> Point:
        return ((self.right[0] + self.left[0]) / 2, (self.right[1] + self.left[1]) / 2)

    @property
    def roll(self) -> float:
        """Degrees the eye line is turned from horizontal; positive when the subject's left eye is lower."""
        return math.degrees(math.atan2(self.left[1] - self.right[1], self.left[0] - self.right[0]))


def token_eyes(width: int) -> EyeCentres:
    """Where the eyes are in a token image `width` pixels wide: that is what the token geometry means."""
    y = EYE_LINE * width
    return EyeCentres(right=(FIRST_EYE * width, y), left=((FIRST_EYE + EYE_DISTANCE) * width, y))


@dataclass(frozen=True, slots=True)
class FaceBox:
    """The head in source pixels: crown (top), chin (bottom), and the vertical axis through the face."""

    top: float
    bottom: float
    centre_x: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def eyes(self) -> EyeCentres:
        """The eyes where anthropometry puts them in this head: an estimate, for callers without a detector."""
        y = self.top + 0.47 * self.height
        half = 0.27 * self.height / 2
        return EyeCentres(right=(self.centre_x - half, y), left=(self.centre_x + half, y))


def assumed_face_box(width: int, height: int) -> FaceBox:
    """Where an ICAO-conformant passport photo has the head: 75 % of the height, crown 10 % from the top."""
    return FaceBox(top=0.10 * height, bottom=0.85 * height, centre_x=width / 2)


def decode(image_bytes: bytes) -> Image.Image:
    """The image, loaded and turned upright by its EXIF orientation; InputError for anything else."""
    img = open_image(image_bytes, "portrait", max_pixels=MAX_PIXELS)
    transposed = ImageOps.exif_transpose(img)
    return transposed if transposed is not None else img


def token_mapping(eyes: EyeCentres) -> tuple[tuple[int, int], Affine]:
    """The token crop's size at the source's own resolution (W = eye distance / 0.25) and the similarity
    transform (rotate, scale, shift) that puts the eyes where `token_eyes` says, as Pillow's AFFINE data:
    each output pixel mapped back into the source, source = (a x + b y + c, d x + e y + f)."""
    width = max(1, round(eyes.distance / EYE_DISTANCE))
    target = token_eyes(width)
    scale = eyes.distance / (EYE_DISTANCE * width)
    angle = math.radians(eyes.roll)
    a, b = scale * math.cos(angle), -scale * math.sin(angle)
    d, e = scale * math.sin(angle), scale * math.cos(angle)
    c = eyes.right[0] - (a * target.right[0] + b * target.right[1])
    f = eyes.right[1] - (d * target.right[0] + e * target.right[1])
    return (width, round(width / TOKEN_ASPECT)), (a, b, c, d, e, f)


def token_crop(img: Image.Image, eyes: EyeCentres) -> Image.Image:
    """The token frontal crop (`token_mapping`), padded where the photo ends.

    OpenCV's bicubic warp makes the pixels Pillow's `transform` would (within a fraction of a grey level on
    the example portraits) in a quarter of the time: 6 ms, not 25, of a document's production. cv2 is
    imported here, as the chip floor's other users of this module (chip read, the LDS) never crop. Pillow
    samples at pixel centres (x + 0.5 out, - 0.5 in) and OpenCV at integers, hence the shifted offsets."""
    import cv2

    size, (a, b, c, d, e, f) = token_mapping(eyes)
    mode = "L" if img.mode in ("L", "LA", "I;16") else "RGB"
    fill = PAD_COLOUR[0] if mode == "L" else PAD_COLOUR
    inverse = np.array([[a, b, c + (a + b) / 2 - 0.5], [d, e, f + (d + e) / 2 - 0.5]])
    out = cv2.warpAffine(np.asarray(img.convert(mode)), inverse, size,
                         flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=fill)
    return Image.fromarray(out)  # 8-bit: L from two dimensions, RGB from three


def _encode(img: Image.Image, fmt: Format, quality: float) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        img.save(out, "JPEG", quality=int(quality), optimize=True)
    else:
        # quality is a compression ratio here (OpenJPEG 'rates' layer)
        img.save(out, "JPEG2000", quality_mode="rates", quality_layers=[quality], irreversible=True)
    return out.getvalue()


def _fit(img: Image.Image, fmt: Format, budget: int) -> bytes | None:
    """The best-quality encoding of `img` within `budget` bytes, or None."""
    if fmt == "jpeg":
        lo, hi = 30, 95
        best = None
        while lo <= hi:
            q = (lo + hi) // 2
            data = _encode(img, fmt, q)
            if len(data) <= budget:
                best, lo = data, q + 1
            else:
                hi = q - 1
        return best
    raw = img.width * img.height * len(img.getbands())
    ratio = max(raw / budget, 1.0) * 1.02
    for _ in range(8):
        data = _encode(img, fmt, ratio)
        if len(data) <= budget:
            return data
        ratio *= 1.15
    return None


def prepare_portrait(
    image_bytes: bytes,
    *,
    budget: int = 20_000,
    fmt: Format = "jpeg",
    eyes: EyeCentres | None = None,
    face_box: FaceBox | None = None,
    width: int = TARGET_TOKEN_WIDTH,
) -> bytes:
    """Crop and scale to the token frontal geometry, then encode as JPEG or JPEG 2000 within `budget` bytes.

    The crop is made from `eyes` (found by a face detector), else from `face_box`, else from where a
    passport photo has the head. Raises InputError when the image cannot be decoded, is too small, or is
    not shaped like a portrait."""
    if fmt not in ("jpeg", "jp2"):
        raise InputError(f"portrait format: {fmt!r} is not 'jpeg' or 'jp2' [Doc 9303-10 §4.7.2]")
    if budget < 2_000:
        raise InputError(f"portrait budget: {budget} bytes is too small for a face image")
    img = decode(image_bytes)
    w, h = img.size
    aspect = w / h if h else 0.0
    if eyes is None:
        if face_box is None:
            if not MIN_ASPECT <= aspect <= MAX_ASPECT:
                raise InputError(
                    f"portrait: {w}x{h} (aspect {aspect:.2f}) is not a face-sized photo; expected a portrait-format "
                    f"photo with width/height between {MIN_ASPECT} and {MAX_ASPECT} (35 x 45 mm is 0.78) [Doc 9303-3]"
                )
            face_box = assumed_face_box(w, h)
        elif not (0 <= face_box.top < face_box.bottom <= h and 0 <= face_box.centre_x <= w):
            raise InputError(f"portrait: the face box is outside the {w}x{h} image")
        eyes = face_box.eyes()
    elif not all(0 <= x <= w and 0 <= y <= h for x, y in (eyes.right, eyes.left)) or eyes.left[0] <= eyes.right[0]:
        raise InputError(f"portrait: the eye centres {eyes.right} and {eyes.left} are not two eyes inside the {w}x{h} image")
    if eyes.distance < MIN_SOURCE_EYE_DISTANCE:
        raise InputError(
            f"portrait: {w}x{h} is too small; the eyes are {eyes.distance:.0f} px apart, at least "
            f"{MIN_SOURCE_EYE_DISTANCE} are needed for a token image with {MIN_TOKEN_WIDTH * EYE_DISTANCE:.0f} [{CLAUSE}]"
        )
    crop = token_crop(img, eyes)
    out_w = max(MIN_TOKEN_WIDTH, min(width, crop.width))
    while out_w >= MIN_TOKEN_WIDTH:
        out_h = round(out_w / TOKEN_ASPECT)
        scaled = crop.resize((out_w, out_h), Image.Resampling.LANCZOS)
        data = _fit(scaled, fmt, budget)
        if data is not None:
            return data
        out_w = int(out_w * 0.85)
    raise InputError(f"portrait: cannot be encoded within {budget} bytes at the token minimum of {MIN_TOKEN_WIDTH} px [{CLAUSE}]")


def prepare_signature(image_bytes: bytes, *, budget: int = 10_000) -> bytes:
    """A displayed signature for DG7: kept as it is when JPEG or JPEG 2000 within `budget`, else re-encoded
    as a greyscale JPEG (scaled down until it fits)."""
    if len(image_bytes) <= budget and (image_bytes[:3] == b"\xff\xd8\xff" or image_bytes[:4] in (b"\x00\x00\x00\x0c", b"\xff\x4f\xff\x51")):
        decode(image_bytes)
        return image_bytes
    src = decode(image_bytes)
    if src.mode in ("RGBA", "LA", "PA") or (src.mode == "P" and "transparency" in src.info):
        rgba = src.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        src = flat
    img = src.convert("L")
    while img.width >= 100:
        data = _fit(img, "jpeg", budget)
        if data is not None:
            return data
        img = img.resize((int(img.width * 0.8), max(1, int(img.height * 0.8))), Image.Resampling.LANCZOS)
    raise InputError(f"signature image: cannot be encoded within {budget} bytes [Doc 9303-10 §4.7.7]")
