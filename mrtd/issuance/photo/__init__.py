"""`mrtd photo`: is this photo fit to be a travel document portrait, and the ICAO token crop made from it.

    report = check_photo(image_bytes)          # faces, eye centres and every check with its figure
    report.findings("portrait")                # what intake reports, errors refuse the photo
    annotated_png(image_bytes, report)         # the photo with what was measured and what failed
    token_image(image_bytes, report)           # the token frontal crop at the eye centres (PIL image)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from mrtd.chip.portrait import decode, token_crop
from mrtd.errors import InputError
from mrtd.issuance.photo.annotate import annotated_png
from mrtd.issuance.photo.checks import Check, PhotoReport, Rule, measure, rules, work_size

__all__ = ["Check", "PhotoReport", "Rule", "annotated_png", "check_photo", "rules", "token_image"]


def check_photo(image_bytes: bytes, *, strict: bool = False) -> PhotoReport:
    """Decode a photo (JPEG, PNG, JPEG 2000; turned upright by its EXIF orientation) and check it.

    InputError when it is not an image; otherwise every check is in the report, failed or not.
    `strict` makes every failed check refuse the photo, warnings included."""
    img = decode(image_bytes).convert("RGB")
    size = img.size
    work = work_size(*size)
    if work != size:
        img = img.resize(work, Image.Resampling.BOX, reducing_gap=2.0)
    return measure(np.asarray(img), size, strict=strict)


def token_image(image_bytes: bytes, report: PhotoReport) -> Image.Image:
    """The token frontal crop of the photo, made at the eye centres the check found."""
    if report.eyes is None:
        raise InputError("portrait: no face with two eyes was found; the token image is made from the eye centres")
    return token_crop(decode(image_bytes), report.eyes)
