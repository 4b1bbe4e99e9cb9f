"""Find the faces and the eye centres in a photo: `locate` says where the faces are, then OpenCV's Haar
cascades measure the one face.

The cascade files ship inside the `opencv-python-headless` 4.x wheel (`cv2.data`); nothing is downloaded
at run time (the 5.x wheels no longer carry them, hence the pin below 5). The frontal face cascade looks
only for faces near the located face's size (searching the whole photo at every size was 30 ms of a
photo check's 56), and gives the face box the measurements use (a frontal Haar box ends at the chin); the
eye cascades find eye boxes in it. The centre of an eye box is only roughly the eye centre (it also holds
brow and lids), so each eye is refined to the darkest disc inside its box: the iris and pupil, which glasses
frames and lashes (thin dark lines) do not outweigh.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mrtd.chip.portrait import EyeCentres
from mrtd.errors import ConfigurationError
from mrtd.issuance.photo import locate
from mrtd.issuance.photo.pool import Pool

Grey = npt.NDArray[Any]  # one 8-bit channel (OpenCV's stubs type every array loosely)

FACE_CASCADE = "haarcascade_frontalface_default.xml"
# The plain eye cascade first; the one trained with glasses where the plain one finds no pair.
EYE_CASCADES = ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml")
# The frontal cascade looks for faces of FRONTAL_SIZES times the located box's width. Where it finds none,
# the located box stands in, made the size and place of a frontal box: on the example portraits the frontal
# box is 1.04 to 1.2 times as wide and its centre higher by 0.13 of the width (FRONTAL_FROM_LOCATED).
FRONTAL_SIZES = (0.8, 1.6)
FRONTAL_FROM_LOCATED = (1.15, -0.13)
# Eye pairs: the eyes lie in this band of the face box (fractions of its height) and are this far apart
# (fractions of its width); the frontal face box is about two eye distances wide.
EYE_BAND = (0.15, 0.6)
EYE_SPAN = (0.25, 0.6)
# The eye cascades look at the band scaled so the face is at most this wide: the eye boxes only say where to
# look for the darkest disc, which is found in the photo's own pixels, and a 400-pixel face took four times
# as long (11 of a photo check's 45 ms) for the same eye centres.
EYE_FACE_WIDTH = 200


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def scaled(self, f: float) -> Box:
        return Box(self.x * f, self.y * f, self.w * f, self.h * f)


@dataclass(frozen=True, slots=True)
class Detection:
    """Every face found (largest first) and, when there is exactly one, its eye centres if both were found."""

    faces: tuple[Box, ...]
    eyes: EyeCentres | None
    eye_boxes: tuple[Box, ...] = ()

    @property
    def face(self) -> Box | None:
        return self.faces[0] if self.faces else None

    def scaled(self, f: float) -> Detection:
        eyes = None
        if self.eyes is not None:
            eyes = EyeCentres(right=_mul(self.eyes.right, f), left=_mul(self.eyes.left, f))
        return Detection(tuple(b.scaled(f) for b in self.faces), eyes, tuple(b.scaled(f) for b in self.eye_boxes))


def _mul(p: tuple[float, float], f: float) -> tuple[float, float]:
    return (p[0] * f, p[1] * f)


def _load(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]  # the stubs omit cv2.data
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ConfigurationError(
            f"photo: the OpenCV cascade {name} is missing from {path.parent}; install opencv-python-headless "
            "4.x (the 5.x wheels no longer ship the cascades)"
        )
    return cascade


# one pool per cascade: `detectMultiScale` keeps its working state in the classifier (see pool.py)
_CASCADES = {name: Pool(functools.partial(_load, name)) for name in (FACE_CASCADE, *EYE_CASCADES)}


def _detect(name: str, image: Grey, **options: Any) -> Any:
    with _CASCADES[name].lent() as cascade:
        return cascade.detectMultiScale(image, **options)


def detect(rgb: npt.NDArray[Any], grey: Grey) -> Detection:
    """Faces and eye centres in a photo, given in colour and in grey (coordinates in its pixels)."""
    located = [Box(*b) for b in locate.faces(rgb)]
    if len(located) != 1:  # no face, or whose eyes would they be?
        return Detection(tuple(_as_frontal(b) for b in located), None)
    equalised = cv2.equalizeHist(grey)
    face = _frontal(equalised, located[0])
    pair = _eye_pair(equalised, face)
    if pair is None:
        return Detection((face,), None)
    right_box, left_box = pair  # the viewer's left box is the subject's right eye
    eyes = EyeCentres(right=_eye_centre(grey, right_box), left=_eye_centre(grey, left_box))
    return Detection((face,), eyes, pair)


def _frontal(equalised: Grey, located: Box) -> Box:
    """The frontal cascade's box for the located face: the largest it finds at sizes near the located box's
    that holds the located box's centre, else the located box made the size and place of one. The cascade
    runs over the whole photo (a crop would shift the grid of windows it tries, and so its box) at those
    sizes only."""
    smallest, largest = (max(24, round(f * located.w)) for f in FRONTAL_SIZES)
    found = _detect(FACE_CASCADE, equalised, scaleFactor=1.1, minNeighbors=5, minSize=(smallest, smallest),
                    maxSize=(largest, largest))
    boxes = [b for b in (Box(*map(float, f)) for f in found) if _contains(b, located.centre)]
    return max(boxes, key=lambda b: b.w * b.h) if boxes else _as_frontal(located)


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box.x <= point[0] <= box.x + box.w and box.y <= point[1] <= box.y + box.h


def _as_frontal(located: Box) -> Box:
    scale, rise = FRONTAL_FROM_LOCATED
    cx, cy = located.centre
    side = located.w * scale
    return Box(cx - side / 2, cy + rise * located.w - side / 2, side, side)


def _eye_pair(equalised: Grey, face: Box) -> tuple[Box, Box] | None:
    """The two eye boxes (viewer's left, viewer's right) that best fit the face: level, and centred on it."""
    top = round(face.y + EYE_BAND[0] * face.h)
    bottom = round(face.y + EYE_BAND[1] * face.h)
    x0, x1 = round(face.x), round(face.x + face.w)
    band = equalised[top:bottom, x0:x1]
    f = min(1.0, EYE_FACE_WIDTH / face.w)
    if f < 1.0:
        band = cv2.resize(band, (max(1, round(band.shape[1] * f)), max(1, round(band.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    width = face.w * f
    smallest, largest = max(8, round(width / 9)), max(9, round(width / 3))
    mid = face.x + face.w / 2
    for name in EYE_CASCADES:
        found = _detect(name, band, scaleFactor=1.05, minNeighbors=3, minSize=(smallest, smallest),
                        maxSize=(largest, largest))
        boxes = [Box(float(x / f + x0), float(y / f + top), float(w / f), float(h / f)) for x, y, w, h in found]
        lefts = [b for b in boxes if b.centre[0] < mid]
        rights = [b for b in boxes if b.centre[0] >= mid]
        best: tuple[float, Box, Box] | None = None
        for a in lefts:
            for b in rights:
                span = b.centre[0] - a.centre[0]
                if not EYE_SPAN[0] * face.w < span < EYE_SPAN[1] * face.w:
                    continue
                # level with each other, and their midpoint on the face's axis
                score = abs(a.centre[1] - b.centre[1]) + abs((a.centre[0] + b.centre[0]) / 2 - mid)
                if best is None or score < best[0]:
                    best = (score, a, b)
        if best is not None:
            return best[1], best[2]
    return None


def _eye_centre(grey: Grey, box: Box) -> tuple[float, float]:
    """The centre of the darkest disc (iris and pupil) in the middle of an eye box, to a fraction of a pixel."""
    x0, x1 = round(box.x + box.w / 6), round(box.x + box.w * 5 / 6)
    y0, y1 = round(box.y + box.h / 4), round(box.y + box.h * 5 / 6)
    r = max(2, round(box.w / 9))  # about the iris radius in an eye box
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)).astype(np.float32)
    disc /= disc.sum()
    mean = cv2.filter2D(grey[y0:y1, x0:x1].astype(np.float32), -1, disc, borderType=cv2.BORDER_REPLICATE)
    iy, ix = np.unravel_index(int(np.argmin(mean)), mean.shape)
    # Sub-pixel: the darkness-weighted centroid of the window around the darkest disc.
    a, b = max(0, int(iy) - r), min(mean.shape[0], int(iy) + r + 1)
    c, d = max(0, int(ix) - r), min(mean.shape[1], int(ix) + r + 1)
    window = mean[a:b, c:d]
    weight = window.max() - window + 1e-3
    ys, xs = np.mgrid[a:b, c:d]
    return (x0 + float((xs * weight).sum() / weight.sum()), y0 + float((ys * weight).sum() / weight.sum()))
