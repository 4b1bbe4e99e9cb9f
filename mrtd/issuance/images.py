"""Checks on the images that come with an application (portrait, signature, fingerprints) before anything decodes them.

The file is read once into memory (with a size cap) and closed at once, so nothing keeps it open. The
pixel count is read from the header and refused above a limit before any pixel data is decoded: a
decompression bomb (a small file that claims a huge image) never gets the chance to expand.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from mrtd.errors import Finding, InputError, Severity
from mrtd.limits import read_file


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What one kind of image may be: file size, pixel dimensions and count."""

    max_bytes: int
    min_width: int
    min_height: int
    max_pixels: int


# Portrait: ISO/IEC 19794-5 and 39794-5 ask for at least 240 px across the face image; the upper limits
# only keep a resize from turning into a denial of service (the pipeline scales the portrait down anyway).
LIMITS: dict[str, ImageLimits] = {
    "portrait": ImageLimits(max_bytes=10 * 1024 * 1024, min_width=240, min_height=300, max_pixels=25_000_000),
    "signature": ImageLimits(max_bytes=4 * 1024 * 1024, min_width=120, min_height=30, max_pixels=12_000_000),
    # a 500 ppi finger image (ISO/IEC 19794-4); the chip stores it as WSQ, at most 1000 pixels a side
    "fingerprint": ImageLimits(max_bytes=4 * 1024 * 1024, min_width=64, min_height=64, max_pixels=1_000_000),
}

# Pillow's names for the formats accepted: JPEG (MPO is a camera JPEG), PNG and JPEG 2000.
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "JPEG2000": "JPEG 2000"}


def check_image(path: Path, kind: str) -> list[Finding]:
    """Every problem with the image at `path` used as a `kind` ("portrait" or "signature").

    Findings name `kind` as their field. The file is closed when this returns.
    """
    limits = LIMITS.get(kind)
    if limits is None:
        raise ValueError(f"unknown image kind {kind!r}; expected one of {sorted(LIMITS)}")
    if not path.exists():
        return [Finding(kind, "image-missing", f"{str(path)!r} does not exist")]
    if path.is_dir():
        return [Finding(kind, "image-missing", f"{str(path)!r} is a folder, not an image file")]
    try:  # a regular file only: a FIFO or a device would block the read for ever
        data = read_file(path, kind, limits.max_bytes)
    except InputError as exc:
        if "over the limit" in str(exc):
            return [Finding(kind, "image-too-large", f"{path.name} is larger than {limits.max_bytes} bytes")]
        return [Finding(kind, "image-unreadable", str(exc))]
    if not data:
        return [Finding(kind, "image-undecodable", f"{path.name} is empty")]
    return _check_bytes(data, path.name, kind, limits)


def _check_bytes(data: bytes, name: str, kind: str, limits: ImageLimits) -> list[Finding]:
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than Pillow's warning threshold.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            return [_bomb(kind, name, None, limits)]
        except Exception:  # Pillow raises many types for junk; all mean "not an image it knows"
            return [Finding(kind, "image-format", f"{name} is not a JPEG, PNG or JPEG 2000 image")]
        with image:
            fmt = image.format or ""
            if fmt not in FORMATS:
                return [Finding(kind, "image-format", f"{name} is {fmt or 'of an unknown format'}, not JPEG, PNG or JPEG 2000")]
            width, height = image.size
            if width * height > limits.max_pixels:
                return [_bomb(kind, name, (width, height), limits)]
            findings: list[Finding] = []
            if width < limits.min_width or height < limits.min_height:
                findings.append(
                    Finding(
                        kind,
                        "image-too-small",
                        f"{name} is {width}x{height} px; a {kind} needs at least "
                        f"{limits.min_width}x{limits.min_height} px",
                    )
                )
            if kind == "portrait" and width > height:
                findings.append(
                    Finding(
                        kind,
                        "portrait-orientation",
                        f"{name} is {width}x{height} px, wider than high; a portrait is upright",
                        severity=Severity.WARNING,
                    )
                )
            try:
                image.load()
            except Image.DecompressionBombError:
                return [_bomb(kind, name, (width, height), limits)]
            except Exception:
                findings.append(Finding(kind, "image-undecodable", f"{name} is a damaged or truncated {FORMATS[fmt]} file"))
            return findings


def _bomb(kind: str, name: str, size: tuple[int, int] | None, limits: ImageLimits) -> Finding:
    claimed = f" claims {size[0]}x{size[1]} px and" if size else ""
    return Finding(
        kind,
        "image-too-many-pixels",
        f"{name}{claimed} exceeds {limits.max_pixels} pixels; refused without decoding (decompression bomb?)",
    )
