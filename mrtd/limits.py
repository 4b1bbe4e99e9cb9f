"""The limits at every door: how big a file from outside may be, that it is a regular file, and how many
pixels an image (or a rendered PDF page) may hold before it is decoded. Every path that opens a file, an
image or a PDF given by a user (seal verify, layout check, reprint, application intake, trust stores) goes
through here, so that a FIFO cannot block a command for ever and a small decompression bomb cannot take
gigabytes: the pixel count is read from the image header and refused before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mrtd.errors import InputError

if TYPE_CHECKING:  # Pillow loads when an image is opened: reading a chip or a file does not pay for it
    from PIL import Image

MAX_FILE_BYTES = 64 * 1024 * 1024  # a master list of every country is ~2 MB; a 600-dpi A4 scan PNG ~30 MB
MAX_PIXELS = 40_000_000  # an A4 page at 600 dpi is 35 Mpx; 13000 x 13000 (169 Mpx) is refused
# The longest side of an image or rendered page: a 1200-dpi A4 scan is 14,032 px long; zxing-cpp refuses
# sides over 65,535, and a 100,000 x 40 strip is within the pixel count but is no document.
MAX_SIDE = 30_000
MAX_PDF_PAGES = 4  # a seal is on the first pages of what a verifier is given
PDF_PIXELS = 18_000_000  # all pages rendered together: two A4 pages at 300 dpi; bounds the time too
PDF_DPI = 300


def regular_file(path: Path, what: str = "file") -> Path:
    """`path`, if it is a regular file (for readers that stream it); FIFOs, devices and folders are refused."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path}: not a regular file")
    return path


def read_file(path: Path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; FIFOs, devices and folders are refused
    before they are opened for reading."""
    size = os.stat(regular_file(path, what)).st_size
    if size > max_bytes:
        raise InputError(f"{what} {path}: {size} bytes is over the limit of {max_bytes}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never blocks, even if a FIFO replaced the file
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InputError(f"{what} {path}: not a regular file")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InputError(f"{what} {path}: over the limit of {max_bytes} bytes")
    return data


def open_image(data: bytes, what: str = "image", *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an image whose header claims at most `max_pixels`; anything Pillow cannot read, or reads
    only in part, is an InputError naming `what`."""
    from PIL import Image

    if not data:
        raise InputError(f"{what}: empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit is the stricter one
        try:
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise InputError(f"{what}: {width}x{height} pixels is over the limit of {max_pixels}; "
                                 "refused before decoding")
            if max(width, height) > MAX_SIDE:
                raise InputError(f"{what}: {width}x{height} pixels has a side over the limit of {MAX_SIDE}; "
                                 "refused before decoding")
            img.load()
        except InputError:
            raise
        except Exception as exc:  # Pillow raises many types on junk (SyntaxError "broken PNG file", struct.error, ...)
            raise InputError(f"{what}: cannot be decoded as an image ({type(exc).__name__})") from None
    return img


def pdf_pages(data: bytes, what: str = "PDF", *, dpi: int = PDF_DPI, max_pixels: int = PDF_PIXELS,
              max_pages: int = MAX_PDF_PAGES) -> Iterator[Image.Image]:
    """The first pages of a PDF rendered to greyscale at `dpi`, scaled down so that all of them together
    stay within `max_pixels` and no side is over `MAX_SIDE`."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium reports damaged files as PdfiumError (a RuntimeError) and others
        raise InputError(f"{what}: cannot be read as a PDF ({type(exc).__name__})") from None
    try:
        count = len(doc)
        if count == 0:
            raise InputError(f"{what}: the PDF has no pages")
        budget = max_pixels
        for index in range(min(count, max_pages)):
            if budget < 10_000:
                break
            try:
                page = doc[index]
                width, height = page.get_size()  # points (1/72 inch)
                scale = dpi / 72
                if not (width > 0 and height > 0):
                    continue
                if width * height * scale * scale > budget:
                    scale = (budget / (width * height)) ** 0.5
                scale = min(scale, MAX_SIDE / max(width, height))
                budget -= int(width * height * scale * scale)
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil()
            except Exception as exc:
                raise InputError(f"{what}: page {index + 1} cannot be rendered ({type(exc).__name__})") from None
            yield image
    finally:
        doc.close()
