"""Tesseract (Debian `tesseract-ocr`, stock English model) called as a program: image in, words with
their boxes out. Only this module runs it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image

from mrtd.errors import ConfigurationError, MrtdError

TIMEOUT_S = 60


class OcrUnavailable(ConfigurationError):
    """Tesseract is not installed (or not on PATH)."""


class OcrFailed(MrtdError):
    """Tesseract ran but failed."""


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int

    @property
    def centre_y(self) -> float:
        return self.top + self.height / 2


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def read_words(image: Image.Image, alphabet: str, psm: int = 6) -> list[Word]:
    """Words tesseract finds in `image`, restricted to `alphabet`, with their boxes (TSV level 5).

    The dictionaries are switched off: MRZ text is not language.
    """
    exe = tesseract_path()
    if exe is None:
        raise OcrUnavailable("tesseract: not found on PATH (Debian package tesseract-ocr)")
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)
    cmd = [exe, "stdin", "stdout", "--psm", str(psm), "-l", "eng",
           "-c", f"tessedit_char_whitelist={alphabet}",
           "-c", "load_system_dawg=0", "-c", "load_freq_dawg=0", "tsv"]
    try:
        # One thread: tesseract's OpenMP would otherwise take every core for a few lines of text.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=TIMEOUT_S, check=False,
                              env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrFailed(f"tesseract: {exc}") from None
    if proc.returncode != 0:
        raise OcrFailed(f"tesseract: exit {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}")
    words = []
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 12 and parts[0] == "5" and parts[11].strip():
            left, top, width, height = (int(p) for p in parts[6:10])
            words.append(Word(parts[11].strip(), left, top, width, height))
    return words
