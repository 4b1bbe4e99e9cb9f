"""Finger images for DG3: any image Pillow reads -> 8-bit grey -> WSQ through the `wsq` package (IDEMIA's
Pillow plugin around NIST's NBIS 5.0 WSQ codec, wsq_encode_mem/wsq_decode_mem), the FBI's compression
for 500 ppi fingerprints that ISO/IEC 19794-4 names; then the ISO/IEC 19794-4 record and DG3."""

from __future__ import annotations

import io
from collections.abc import Sequence

import wsq  # noqa: F401  (registers the WSQ codec with Pillow)
from PIL import Image, UnidentifiedImageError

from mrtd.chip.lds.dg3 import Dg3
from mrtd.chip.lds.finger import Compression, FingerImage, FingerPosition, FingerRecord
from mrtd.errors import InputError

RESOLUTION_PPI = 500
MIN_SIDE, MAX_SIDE = 64, 1000


def wsq_encode(image: bytes, *, what: str = "fingerprint") -> tuple[bytes, int, int]:
    """(WSQ bytes, width, height) of an image file; InputError when it is not an image or not finger-sized."""
    try:
        with Image.open(io.BytesIO(image)) as img:
            grey = img.convert("L")
    except (UnidentifiedImageError, OSError, ValueError):
        raise InputError(f"{what}: the image cannot be decoded") from None
    width, height = grey.size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InputError(f"{what}: {width}x{height} pixels; a 500 ppi finger image is {MIN_SIDE}-{MAX_SIDE} pixels a side "
                         "[ISO/IEC 19794-4 §7]")
    out = io.BytesIO()
    grey.save(out, "WSQ")
    return out.getvalue(), width, height


def wsq_decode(data: bytes) -> Image.Image:
    """The grey image of a WSQ file (NBIS's decoder)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.copy()


def build_dg3(fingers: Sequence[tuple[FingerPosition, bytes]]) -> Dg3:
    """DG3 from (position, image file) pairs: one WSQ record per finger."""
    records = []
    for position, image in fingers:
        data, width, height = wsq_encode(image, what=f"fingerprint {position.name.lower()}")
        records.append(FingerRecord.create([FingerImage(position, data, width, height)], Compression.WSQ, RESOLUTION_PPI))
    return Dg3.create(records)
