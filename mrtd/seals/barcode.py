"""The only module that draws or reads 2D barcodes: QR (qrcode) and DataMatrix ECC 200 (zxing-cpp writer),
and byte-exact decoding of both from images with zxing-cpp.

No ECI designator is written: a VDS reader expects the first byte to be 0xDC, and zxing-cpp's writer
would otherwise insert ECI 899 ("binary") which other decoders (libdmtx) hand back as extra bytes.
Images are made for 300 dpi printing: 4 pixels per module = 0.34 mm modules.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import numpy as np
import qrcode
import qrcode.constants
import zxingcpp
from PIL import Image, ImageOps

from mrtd.errors import EncodingError, InputError
from mrtd.limits import MAX_SIDE, read_file
from mrtd.limits import open_image as open_image_within_limits

DPI = 300
MODULE_PX = 4  # at 300 dpi: 0.339 mm per module
_QR_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
_ECI_MODIFIERS = {"d": "456", "Q": "246"}  # ISO/IEC 15424 symbology identifier modifiers that mean ECI


class Symbology(StrEnum):
    QR = "qr"
    DATAMATRIX = "datamatrix"


@dataclass(frozen=True, slots=True)
class DecodedBarcode:
    symbology: Symbology
    data: bytes
    has_eci: bool  # the symbol carried an ECI designator (our writer never adds one)


def render(
    data: bytes, symbology: Symbology = Symbology.QR, module_px: int = MODULE_PX, qr_ec: str = "M"
) -> Image.Image:
    """Draw `data` as a black-on-white 8-bit image with the symbology's quiet zone."""
    if not data:
        raise EncodingError("barcode: nothing to encode")
    if module_px < 1:
        raise EncodingError(f"barcode: module size {module_px} px is not positive")
    if Symbology(symbology) is Symbology.QR:
        return _render_qr(data, module_px, qr_ec)
    return _render_datamatrix(data, module_px)


def _render_qr(data: bytes, module_px: int, ec: str) -> Image.Image:
    if ec not in _QR_EC:
        raise EncodingError(f"barcode: QR error correction {ec!r} is not L, M, Q or H")
    qr = qrcode.QRCode(error_correction=_QR_EC[ec], box_size=module_px, border=4)
    # An upper-case IDB string goes into alphanumeric mode by itself; seal bytes go into byte mode.
    try:
        qr.add_data(data)
        qr.make(fit=True)
    except (ValueError, qrcode.exceptions.DataOverflowError) as exc:
        raise EncodingError(f"barcode: {len(data)} bytes do not fit a QR code ({exc})") from None
    # The module grid (quiet zone included) scaled to pixels: what qrcode's own PIL drawing makes, without
    # drawing each module as a rectangle.
    dark = np.array(qr.get_matrix(), dtype=bool)
    pixels = np.where(dark, 0, 255).astype(np.uint8).repeat(module_px, axis=0).repeat(module_px, axis=1)
    return Image.fromarray(pixels, "L")


def _render_datamatrix(data: bytes, module_px: int) -> Image.Image:
    try:
        symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.DataMatrix, eci="0")
    except (ValueError, RuntimeError) as exc:
        raise EncodingError(f"barcode: {len(data)} bytes do not fit a DataMatrix ({exc})") from None
    bitmap = symbol.to_image(scale=module_px, add_quiet_zones=True)
    height, width = (int(n) for n in bitmap.shape)
    pixels = memoryview(cast(Any, bitmap)).tobytes()  # the stub omits zxing-cpp's buffer protocol
    return Image.frombytes("L", (width, height), pixels)


def modules(image: Image.Image, module_px: int = MODULE_PX) -> tuple[str, ...]:
    """The module grid of a symbol drawn by `render` at `module_px` (quiet zone included), as rows of
    '1' (dark) and '0' (light): what a vector printer draws."""
    if image.width % module_px or image.height % module_px:
        raise InputError(f"barcode: a {image.width}x{image.height} image is not a grid of {module_px} px modules")
    half = module_px // 2
    centres = np.asarray(image.convert("L"))[half::module_px, half::module_px]  # each module's centre pixel
    return tuple("".join(row) for row in np.where(centres < 128, "1", "0"))


def to_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def open_image(source: bytes | Path) -> Image.Image:
    """An image from outside, within `mrtd.limits` (file size, regular file, pixel count)."""
    data = source if isinstance(source, bytes) else read_file(source, "image")
    img = open_image_within_limits(data, "image")
    return img if img.mode in ("L", "RGB") else img.convert("L")  # zxing-cpp reads both as they are


RETRY_PIXELS = 8_000_000  # upscaled retries stay within an A4 page at 300 dpi

_FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix])


def decode(image: Image.Image) -> list[DecodedBarcode]:
    """Every QR and DataMatrix symbol in the image, with its exact bytes (ECI designators removed)."""
    # Printed seals are dark on light: look for those first, and for inverted symbols (screens) only
    # when nothing was found; that halves the time of the common case. Rotation stays on: zxing-cpp's
    # DataMatrix detector misses symbols turned by exactly 90, 180 or 270 degrees without it.
    found = zxingcpp.read_barcodes(image, formats=_FORMATS, text_mode=zxingcpp.TextMode.HexECI, try_invert=False)
    if not found:
        found = zxingcpp.read_barcodes(image, formats=_FORMATS, text_mode=zxingcpp.TextMode.HexECI)
    out: list[DecodedBarcode] = []
    for b in found:
        symbology = Symbology.QR if b.format == zxingcpp.BarcodeFormat.QRCode else Symbology.DATAMATRIX
        ident = bytes.fromhex(b.text[:8]).decode("ascii", "replace") if len(b.text) >= 8 else ""
        has_eci = len(ident) == 3 and ident[2] in _ECI_MODIFIERS.get(ident[1], "")
        out.append(DecodedBarcode(symbology, bytes(b.bytes), has_eci))
    return out


def decode_retrying(image: Image.Image) -> list[DecodedBarcode]:
    """`decode`, then, for a photograph of a small seal (modules of one or two pixels, soft edges, uneven
    light), the same image upscaled and binarized, within the pixel limit."""
    found = decode(image)
    if found:
        return found
    grey = image.convert("L")
    found = decode(_binarized(grey))
    if found:
        return found
    for factor in (2, 3, 4):
        width, height = grey.width * factor, grey.height * factor
        if width * height > RETRY_PIXELS or max(width, height) > MAX_SIDE:
            break  # a large image is not a small seal: upscaling would only cost time
        up = grey.resize((width, height), Image.Resampling.LANCZOS)
        for candidate in (up, _binarized(up)):
            found = decode(candidate)
            if found:
                return found
    return []


def _binarized(image: Image.Image) -> Image.Image:
    """Black and white at the mean of the stretched histogram (light and ink of a photographed print)."""
    stretched = ImageOps.autocontrast(image, cutoff=2)
    histogram = stretched.histogram()
    total = sum(histogram) or 1
    threshold = sum(i * n for i, n in enumerate(histogram)) / total
    return stretched.point(lambda v: 255 if v > threshold else 0)


def decode_one(image: Image.Image) -> DecodedBarcode:
    found = decode_retrying(image)
    if not found:
        raise InputError("image: no QR code or DataMatrix found (also tried upscaled and binarized)")
    if len(found) > 1:
        raise InputError(f"image: {len(found)} barcodes found; give an image with one seal")
    return found[0]
