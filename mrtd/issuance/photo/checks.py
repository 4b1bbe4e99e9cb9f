"""The portrait checks: each measures one thing and holds it to the figure in `rules.toml`.

The measurements are made on the photo as given (scaled down to at most `WORK_SIDE` pixels for speed; the
figures in pixels are converted back to the photo's own pixels):
- eye centres and the face box from `detect`;
- the background: the colour of the strips along the left and right edges above the eye line (beside the
  head), compared in CIELAB with their median colour;
- the head: where the background is uniform, the crown is the first row from the top in which the band
  over the eyes is mostly not background, the head width the run of not-background pixels along the eye
  line; the chin is the bottom of the detector's face box (a frontal Haar box ends at the chin);
- sharpness: the variance of the Laplacian of the face, scaled to 160 px wide and stretched to full
  contrast (so a dark photo is judged dark, not blurred);
- exposure: how many of the 256 grey levels the face uses.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from mrtd.chip.portrait import EyeCentres
from mrtd.errors import Finding, Severity
from mrtd.issuance.photo.detect import Box, Detection, Grey, detect

RGB = npt.NDArray[Any]  # H x W x 3, 8 bits
Status = Literal["pass", "fail", "unmeasured"]
# What a kept report was made by: bump MEASURES when a change alters what the checks measure, so that a
# report kept in the records (see `PhotoReport.to_record`) is made again rather than trusted.
MEASURES = 2  # 2: faces located by BlazeFace, the frontal cascade only near their size
WORK_SIDE = 1000  # longest side the photo is measured at
FACE_SCALE = 160  # face width at which sharpness is measured
EDGE = 0.08  # width of the background strips, fraction of the photo width


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    what: str
    unit: str
    min: float | None
    max: float | None
    severity: Severity
    clause: str

    def max_or(self, default: float) -> float:
        return default if self.max is None else self.max

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def amount(self, value: float) -> str:
        """A value in this rule's unit: 82.4 px, -2.334°, 0.516."""
        gap = "" if self.unit in ("", "°") else " "
        return f"{number_text(value)}{gap}{self.unit}"

    @property
    def figure(self) -> str:
        if self.min is not None and self.max is not None:
            if self.min == self.max:
                return f"exactly {self.amount(self.min)}"
            if self.min == -self.max:
                return f"within ±{self.amount(self.max)}"
            return f"{number_text(self.min)} to {self.amount(self.max)}"
        if self.min is not None:
            return f"at least {self.amount(self.min)}"
        return f"at most {self.amount(self.max or 0)}"


def number_text(v: float) -> str:
    """A figure or a measured value as people write it: 60, 0.45, 82.4, 0.752."""
    if v == int(v):
        return str(int(v))
    return f"{v:.3f}".rstrip("0") if abs(v) < 10 else f"{v:.1f}"


@cache
def _rules_text() -> str:
    return resources.files("mrtd.issuance.photo").joinpath("rules.toml").read_text("utf-8")


@cache
def rules() -> dict[str, Rule]:
    """The rules as shipped (`rules.toml`), in report order."""
    out: dict[str, Rule] = {}
    for name, r in tomllib.loads(_rules_text()).items():
        out[name] = Rule(name, r["what"], r["unit"], r.get("min"), r.get("max"), Severity(r["severity"]), r["clause"])
    return out


@cache
def checker() -> str:
    """Names this checker (its rules and measurements): a kept report made by another is not reused."""
    return f"{MEASURES}-{hashlib.sha256(_rules_text().encode()).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Check:
    """One rule applied: the value measured (None when it could not be), and the outcome."""

    rule: Rule
    value: float | None
    status: Status
    detail: str = ""

    def finding(self, field: str, strict: bool) -> Finding | None:
        if self.status != "fail":
            return None
        severity = Severity.ERROR if strict else self.rule.severity
        measured = self.rule.amount(self.value) if self.value is not None else "nothing"
        why = f" ({self.detail})" if self.detail else ""
        return Finding(field, f"photo-{self.rule.name}",
                       f"{self.rule.what}: {measured}, needs {self.rule.figure}{why}", self.rule.clause, severity)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.name, "what": self.rule.what, "value": self.value, "unit": self.rule.unit,
                "figure": self.rule.figure, "status": self.status, "severity": self.rule.severity.value,
                "clause": self.rule.clause, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Head:
    """The head in photo pixels: crown and chin rows, and its left and right edges on the eye line."""

    crown: float
    chin: float
    left: float
    right: float


@dataclass(frozen=True, slots=True)
class PhotoReport:
    """Everything `check_photo` found, in the photo's own pixels."""

    width: int
    height: int
    detection: Detection
    head: Head | None
    checks: tuple[Check, ...]
    strict: bool = False

    @property
    def eyes(self) -> EyeCentres | None:
        return self.detection.eyes

    def findings(self, field: str = "portrait") -> list[Finding]:
        return [f for c in self.checks if (f := c.finding(field, self.strict)) is not None]

    @property
    def ok(self) -> bool:
        """True when nothing refuses the photo (warnings may remain)."""
        return not any(f.severity is Severity.ERROR for f in self.findings())

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.rule.name for c in self.checks if c.status == "fail")

    def as_dict(self) -> dict[str, Any]:
        eyes = self.eyes
        return {
            "ok": self.ok, "width": self.width, "height": self.height, "strict": self.strict,
            "faces": [[round(v, 1) for v in (b.x, b.y, b.w, b.h)] for b in self.detection.faces],
            "eyes": None if eyes is None else {"right": [round(v, 1) for v in eyes.right],
                                                "left": [round(v, 1) for v in eyes.left]},
            "head": None if self.head is None else {k: round(getattr(self.head, k), 1)
                                                    for k in ("crown", "chin", "left", "right")},
            "checks": [c.as_dict() for c in self.checks],
            "findings": [f.as_dict() for f in self.findings()],
        }

    def to_record(self) -> str:
        """The report as JSON text that `from_record` reads back equal (floats exact): the records keep the
        check made at intake so that producing the document does not make it again."""
        d = self.detection
        return json.dumps({
            "size": [self.width, self.height], "strict": self.strict,
            "faces": [_box(b) for b in d.faces], "eye_boxes": [_box(b) for b in d.eye_boxes],
            "eyes": None if d.eyes is None else [list(d.eyes.right), list(d.eyes.left)],
            "head": None if self.head is None else [self.head.crown, self.head.chin, self.head.left, self.head.right],
            "checks": [[c.rule.name, c.value, c.status, c.detail] for c in self.checks],
        })

    @classmethod
    def from_record(cls, text: str) -> PhotoReport:
        r = json.loads(text)
        eyes = r["eyes"]
        detection = Detection(tuple(Box(*b) for b in r["faces"]),
                              None if eyes is None else EyeCentres(right=(eyes[0][0], eyes[0][1]), left=(eyes[1][0], eyes[1][1])),
                              tuple(Box(*b) for b in r["eye_boxes"]))
        checks = tuple(Check(rules()[name], value, status, detail) for name, value, status, detail in r["checks"])
        return cls(r["size"][0], r["size"][1], detection, None if r["head"] is None else Head(*r["head"]), checks,
                   r["strict"])


def _box(b: Box) -> list[float]:
    return [b.x, b.y, b.w, b.h]


def measure(work: RGB, size: tuple[int, int], *, strict: bool = False) -> PhotoReport:
    """Run every check on an RGB photo (H x W x 3, uint8) of `size` (width, height) pixels, given scaled
    to at most `WORK_SIDE` (see `work_size`); what is reported is in the photo's own pixels."""
    width, height = size
    f = work.shape[1] / width
    grey: Grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    found = detect(work, grey)
    values: dict[str, tuple[float | None, str]] = {}
    values["face"] = (float(len(found.faces)), "")
    eyes, face = found.eyes, found.face
    if len(found.faces) == 1:
        values["eyes"] = (2.0 if eyes else 0.0, "")
    else:
        values["eyes"] = (None, f"{len(found.faces)} faces: no one face to look in")
    spread, background = _background(work, eyes, face)
    values["background"] = (spread, "")
    head: Head | None = None
    if eyes is not None and face is not None:
        values["token-resolution"] = values["eye-distance"] = (eyes.distance / f, "")
        values["tilt"] = (eyes.roll, "")
        mx, my = eyes.midpoint
        values["horizontal-position"] = (mx / grey.shape[1], "")
        values["vertical-position"] = (my / grey.shape[0], "")
        uniform = spread <= rules()["background"].max_or(math.inf)
        head = _head(work, background, spread, eyes, face) if uniform else None
        why = "" if head else ("the head's outline was not found against the background" if uniform
                               else "the background is not uniform enough to find the head's outline")
        values["head-width"] = ((head.right - head.left) / grey.shape[1] if head else None, why)
        values["head-length"] = ((head.chin - head.crown) / grey.shape[0] if head else None, why)
    if face is not None:
        region = _crop(grey, face)
        values["sharpness"] = (_sharpness(region), "")
        # the grey levels used: a histogram of the 256 levels (sorting the face's pixels costs more)
        values["exposure"] = (float(np.count_nonzero(np.bincount(region.ravel(), minlength=256))), "")
    checks = tuple(_judge(rule, *values.get(name, (None, "no face and eyes to measure")))
                   for name, rule in rules().items())
    detection = found.scaled(1 / f) if f != 1.0 else found
    if head is not None and f != 1.0:
        head = Head(head.crown / f, head.chin / f, head.left / f, head.right / f)
    return PhotoReport(width, height, detection, head, checks, strict)


def work_size(width: int, height: int) -> tuple[int, int]:
    """The size a photo is measured at: its own, or scaled down to `WORK_SIDE` on its longer side."""
    f = min(1.0, WORK_SIDE / max(width, height))
    return (round(width * f), round(height * f))


def _judge(rule: Rule, value: float | None, detail: str) -> Check:
    if value is None:
        # Nothing to measure: the face or eye rules that failed already say why; no second refusal.
        return Check(rule, None, "unmeasured", detail)
    return Check(rule, value, "pass" if rule.holds(value) else "fail", detail)


def _crop(img: Grey, box: Box) -> Grey:
    h, w = img.shape[:2]
    x0, y0 = max(0, round(box.x)), max(0, round(box.y))
    return img[y0:min(h, round(box.y + box.h)), x0:min(w, round(box.x + box.w))]


def _lab(rgb: RGB) -> npt.NDArray[Any]:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _background(rgb: RGB, eyes: EyeCentres | None, face: Box | None) -> tuple[float, npt.NDArray[Any]]:
    """The spread of the background colour (95th percentile ΔE from the median) and the median (CIELAB)."""
    h, w = rgb.shape[:2]
    edge = max(2, round(w * EDGE))
    # beside the head: down to the eye line, or to the top of the face box when no eyes were found
    limit = eyes.midpoint[1] if eyes is not None else (face.y if face is not None else h / 3)
    rows = max(2, min(h, round(limit)))
    samples = np.concatenate([_lab(rgb[:rows, :edge]).reshape(-1, 3), _lab(rgb[:rows, w - edge:]).reshape(-1, 3)])
    median = np.median(samples, axis=0).astype(np.float32)
    spread = float(np.percentile(np.linalg.norm(samples - median, axis=1), 95))
    return spread, median


def _head(rgb: RGB, background: npt.NDArray[Any], spread: float, eyes: EyeCentres, face: Box) -> Head | None:
    """Crown, chin and head width against a uniform background; None when the outline cannot be found.
    The crown is looked for in the band over the eyes, the width along the eye line: only those two
    windows of the photo are classified."""
    h, w = rgb.shape[:2]
    # Not background: further from its colour than the background's own spread, with a floor for noise.
    limit = max(8.0, 3 * spread)
    speck = max(3, w // 100) | 1
    mx, my = eyes.midpoint
    half = eyes.distance / 2
    c0, c1 = max(0, round(mx - half)), min(w, round(mx + half) + 1)
    row = min(h - 1, round(my))
    band = _foreground(rgb, background, limit, speck, (0, h), (c0, c1))
    line = _foreground(rgb, background, limit, speck, (row, row + 1), (0, w))[0]
    rows = np.nonzero(band.mean(axis=1) >= 0.5)[0]
    cols = np.nonzero(line)[0]
    if rows.size == 0 or cols.size == 0:
        return None
    return Head(crown=float(rows[0]), chin=face.bottom, left=float(cols[0]), right=float(cols[-1] + 1))


def _foreground(rgb: RGB, background: npt.NDArray[Any], limit: float, speck: int, rows: tuple[int, int],
                cols: tuple[int, int]) -> npt.NDArray[Any]:
    """The window `rows` x `cols` (start, stop) of the photo's foreground mask: 1 where the colour is more
    than `limit` ΔE from the background, after an opening that clears specks under `speck` px. An
    opening reaches `speck - 1` px, so the mask is made over the window widened by that much: the window
    comes out exactly as in the whole photo's mask, at a fraction of the cost."""
    h, w = rgb.shape[:2]
    reach = speck - 1
    r0, r1 = max(0, rows[0] - reach), min(h, rows[1] + reach)
    k0, k1 = max(0, cols[0] - reach), min(w, cols[1] + reach)
    mask = (np.linalg.norm(_lab(rgb[r0:r1, k0:k1]) - background, axis=2) > limit).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((speck, speck), np.uint8))
    return mask[rows[0] - r0:rows[1] - r0, cols[0] - k0:cols[1] - k0]


def _sharpness(face: Grey) -> float:
    if face.size == 0:
        return 0.0
    scale = FACE_SCALE / face.shape[1]
    small = cv2.resize(face, (FACE_SCALE, max(1, round(face.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    lo, hi = np.percentile(small, (1, 99))
    stretched = np.clip((small.astype(np.float64) - lo) * (255.0 / max(1.0, hi - lo)), 0, 255)
    return float(cv2.Laplacian(stretched, cv2.CV_64F).var())
