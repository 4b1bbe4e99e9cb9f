"""Find the faces and the eye centres in a photo with OpenCV's Haar cascades.

The cascade files ship inside the `opencv-python-headless` 4.x wheel (`cv2.data`); nothing is downloaded
at run time (the 5.x wheels no longer carry them, hence the pin below 5). A cascade finds a face box and
eye boxes; the centre of an eye box is only roughly the eye centre (it also holds brow and lids), so each
eye is refined to the darkest disc inside its box: the iris and pupil, which glasses frames and lashes
(thin dark lines) do not outweigh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mrtd.chip.portrait import EyeCentres
from mrtd.errors import ConfigurationError

Grey = npt.NDArray[Any]  # one 8-bit channel (OpenCV's stubs type every array loosely)

FACE_CASCADE = "haarcascade_frontalface_default.xml"
# The plain eye cascade first; the one trained with glasses where the plain one finds no pair.
EYE_CASCADES = ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml")
MIN_FACE = 0.12  # smallest face searched, as a fraction of the photo's shorter side
# Eye pairs: the eyes lie in this band of the face box (fractions of its height) and are this far apart
# (fractions of its width); the frontal face box is about two eye distances wide.
EYE_BAND = (0.15, 0.6)
EYE_SPAN = (0.25, 0.6)


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


_loaded = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """The named cascade, loaded once per thread: `detectMultiScale` keeps its working state in the
    classifier, so threads sharing one (the service checks photos in a thread pool) break each other's
    detection ("getScaleData" assertions, index errors)."""
    cascades: dict[str, cv2.CascadeClassifier] = _loaded.__dict__.setdefault("cascades", {})
    if name not in cascades:
        path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]  # the stubs omit cv2.data
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise ConfigurationError(
                f"photo: the OpenCV cascade {name} is missing from {path.parent}; install opencv-python-headless "
                "4.x (the 5.x wheels no longer ship the cascades)"
            )
        cascades[name] = cascade
    return cascades[name]


def detect(grey: Grey) -> Detection:
    """Faces and eye centres in a greyscale photo (coordinates in its pixels)."""
    equalised = cv2.equalizeHist(grey)
    side = max(24, round(min(grey.shape) * MIN_FACE))
    found = _cascade(FACE_CASCADE).detectMultiScale(equalised, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    faces = sorted((Box(*map(float, f)) for f in found), key=lambda b: -b.w * b.h)
    if len(faces) != 1:  # no face, or whose eyes would they be?
        return Detection(tuple(faces), None)
    pair = _eye_pair(equalised, faces[0])
    if pair is None:
        return Detection(tuple(faces), None)
    right_box, left_box = pair  # the viewer's left box is the subject's right eye
    eyes = EyeCentres(right=_eye_centre(grey, right_box), left=_eye_centre(grey, left_box))
    return Detection(tuple(faces), eyes, pair)


def _eye_pair(equalised: Grey, face: Box) -> tuple[Box, Box] | None:
    """The two eye boxes (viewer's left, viewer's right) that best fit the face: level, and centred on it."""
    top = round(face.y + EYE_BAND[0] * face.h)
    bottom = round(face.y + EYE_BAND[1] * face.h)
    x0, x1 = round(face.x), round(face.x + face.w)
    band = equalised[top:bottom, x0:x1]
    smallest, largest = max(8, round(face.w / 9)), max(9, round(face.w / 3))
    mid = face.x + face.w / 2
    for name in EYE_CASCADES:
        found = _cascade(name).detectMultiScale(band, scaleFactor=1.05, minNeighbors=3,
                                                minSize=(smallest, smallest), maxSize=(largest, largest))
        boxes = [Box(float(x + x0), float(y + top), float(w), float(h)) for x, y, w, h in found]
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
