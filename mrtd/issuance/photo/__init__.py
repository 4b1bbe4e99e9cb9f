"""`mrtd photo`: is this photo fit to be a travel document portrait, and the ICAO token crop made from it.

    report = check_photo(image_bytes)          # faces, eye centres and every check with its figure
    check_photo(image_bytes, kept=reports)     # or the report already made of these bytes (by SHA-256)
    report.findings("portrait")                # what intake reports, errors refuse the photo
    annotated_png(image_bytes, report)         # the photo with what was measured and what failed
    token_image(image_bytes, report)           # the token frontal crop at the eye centres (PIL image)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import cv2
import numpy as np
from PIL import Image

from mrtd.chip.portrait import decode, token_crop
from mrtd.errors import InputError
from mrtd.issuance.photo.annotate import annotated_png
from mrtd.issuance.photo.checks import Check, PhotoReport, Rule, checker, measure, rules, work_size

__all__ = ["Check", "PhotoChecks", "PhotoReport", "Rule", "annotated_png", "check_photo", "checker",
           "one_thread_per_check", "photo_sha256", "rules", "token_image"]

# Photo checks already made, by the SHA-256 of the image's bytes (hex): the records keep intake's, so that
# producing a document (perhaps on another API node) does not measure the same portrait again.
PhotoChecks = Mapping[str, PhotoReport]


def photo_sha256(image_bytes: bytes) -> str:
    return hashlib.sha256(image_bytes).hexdigest()


def check_photo(image_bytes: bytes, *, strict: bool = False, kept: PhotoChecks | None = None) -> PhotoReport:
    """Decode a photo (JPEG, PNG, JPEG 2000; turned upright by its EXIF orientation) and check it.

    InputError when it is not an image; otherwise every check is in the report, failed or not.
    `strict` makes every failed check refuse the photo, warnings included. A report in `kept` for these
    very bytes (made as strictly) is returned instead of checking again: the check depends on nothing else."""
    if kept:
        report = kept.get(photo_sha256(image_bytes))
        if report is not None and report.strict == strict:
            return report
    img = decode(image_bytes).convert("RGB")
    size = img.size
    work = work_size(*size)
    if work != size:
        img = img.resize(work, Image.Resampling.BOX, reducing_gap=2.0)
    return measure(np.asarray(img), size, strict=strict)


def one_thread_per_check() -> None:
    """For a process that checks many photos at once (the service, a request each): OpenCV works each
    check in this one thread. Its own worker threads only compete with the other requests for the cores,
    and split work costs more: on anna.jpg a check took 52-58 ms of CPU spread over threads against 43-45 ms
    in one."""
    cv2.setNumThreads(1)


def token_image(image_bytes: bytes, report: PhotoReport) -> Image.Image:
    """The token frontal crop of the photo, made at the eye centres the check found."""
    if report.eyes is None:
        raise InputError("portrait: no face with two eyes was found; the token image is made from the eye centres")
    return token_crop(decode(image_bytes), report.eyes)
