"""Where the faces in a photo are: BlazeFace short-range, MediaPipe's face detector, run by OpenCV's DNN
module.

The model (a 229 KB TFLite file, Apache-2.0) comes from the npm package @mediapipe/face_detection, fetched
and checked against its recorded hash by `scripts/vendor_web.py` (models.json). It looks at the photo
letterboxed into 128 x 128 pixels and answers 896 candidate boxes, one per anchor, each a score and a box
relative to its anchor; what is decoded here is MediaPipe's published configuration of that model (the
anchors of strides 8 and 16, two and six to a cell, of fixed size; scores through a sigmoid; boxes and the
six landmarks in units of the input's pixels). It finds a face in about 4 ms of one core where OpenCV's
frontal Haar cascade searching the whole photo takes 30, and faces down to about an eighth of the photo's
longer side (the Haar search looked for faces from 12 % of the shorter side). OpenCV has no decoder for
this model's output, hence the few lines below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mrtd.errors import ConfigurationError
from mrtd.issuance.photo.pool import Pool

MODEL = (Path(__file__).resolve().parent / "models" / "@mediapipe" / "face_detection"
         / "face_detection_short_range.tflite")
SIZE = 128  # the model's input, square
LAYERS = ((8, 2), (16, 6))  # (stride, anchors per cell): 16 x 16 x 2 + 8 x 8 x 6 = 896 anchors
MIN_SCORE = 0.5  # MediaPipe's default minimum detection confidence
OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one face


def _anchors() -> npt.NDArray[np.float32]:
    centres: list[tuple[float, float]] = []
    for stride, per_cell in LAYERS:
        cells = SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    return np.array(centres, np.float32) * SIZE


ANCHORS = _anchors()


def _load() -> Any:
    if not MODEL.is_file():
        raise ConfigurationError(
            f"photo: the face detector's model {MODEL.name} is missing from {MODEL.parent}; run `make setup` "
            "(scripts/vendor_web.py fetches it from the npm registry)"
        )
    return cv2.dnn.readNetFromTFLite(str(MODEL))


# a network keeps its buffers between calls: one caller at a time (see pool.py)
NETS: Pool[Any] = Pool(_load)


def faces(rgb: npt.NDArray[Any]) -> list[tuple[float, float, float, float]]:
    """The faces in an RGB photo (H x W x 3, uint8) as (x, y, w, h) boxes in its pixels, largest first."""
    h, w = rgb.shape[:2]
    scale = SIZE / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    oy, ox = (SIZE - nh) // 2, (SIZE - nw) // 2
    canvas = np.zeros((SIZE, SIZE, 3), np.uint8)  # letterboxed, as the model was trained
    canvas[oy:oy + nh, ox:ox + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    with NETS.lent() as net:
        net.setInput(cv2.dnn.blobFromImage(canvas, 1 / 127.5, (SIZE, SIZE), (127.5, 127.5, 127.5)))  # to [-1, 1]
        scores, boxes = net.forward(["classificators", "regressors"])
    logits = np.clip(scores.reshape(-1), -80.0, 80.0)
    score = 1.0 / (1.0 + np.exp(-logits))
    found: list[tuple[float, float, float, float]] = []
    for i in np.argsort(-score):
        if score[i] < MIN_SCORE:
            break
        dx, dy, bw, bh = (float(v) for v in boxes[0, i, :4])
        if not (bw > 0 and bh > 0):  # no box at all (or NaN): nothing to measure, nothing to divide by
            continue
        cx, cy = float(ANCHORS[i, 0]) + dx, float(ANCHORS[i, 1]) + dy
        box = ((cx - bw / 2 - ox) / scale, (cy - bh / 2 - oy) / scale, bw / scale, bh / scale)
        if all(_overlap(box, other) <= OVERLAP for other in found):
            found.append(box)
    return sorted(found, key=lambda b: -b[2] * b[3])


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)
