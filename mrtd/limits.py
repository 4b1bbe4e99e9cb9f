"""The limits at every door: how big a file from outside may be, that it is a regular file, and how many
pixels an image may hold before it is decoded. Every path that opens a file, an image or a PDF given by
a user (seal verify, layout check, reprint, application intake, trust stores) goes through here, so that
a FIFO cannot block a command for ever and a small decompression bomb cannot take gigabytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mrtd.errors import InputError

MAX_FILE_BYTES = 64 * 1024 * 1024  # a master list of every country is ~2 MB; a 600-dpi A4 scan PNG ~30 MB
MAX_PIXELS = 40_000_000  # an A4 page at 600 dpi is 35 Mpx; 13000 x 13000 (169 Mpx) is refused


def read_file(path: Path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; FIFOs, devices and folders are refused
    before they are opened for reading."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path}: not a regular file")
    if info.st_size > max_bytes:
        raise InputError(f"{what} {path}: {info.st_size} bytes is over the limit of {max_bytes}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced between stat and open
                raise InputError(f"{what} {path}: not a regular file")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InputError(f"{what} {path}: over the limit of {max_bytes} bytes")
    return data
