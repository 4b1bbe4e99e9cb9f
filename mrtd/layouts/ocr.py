"""Tesseract (stock English model from Debian `tesseract-ocr-eng`): image in, words with their boxes out.
Only this module runs it.

In-process through tesserocr (the tesseract library, model loaded once per process: about 20 ms a read
instead of about 100 ms for a new `tesseract` process) when it and Debian's tessdata are there; else
the `tesseract` program.
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

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


# Dictionaries off: MRZ text is not language. These can only be set when the engine starts.
_INIT_VARIABLES = {"load_system_dawg": "0", "load_freq_dawg": "0"}
_engines = threading.local()
_program_only: ContextVar[bool] = ContextVar("program_only", default=False)


@contextmanager
def program_only() -> Iterator[None]:
    """Read with the `tesseract` program inside this block: a second reading by another build of the
    engine, for text the library read differently from what was expected."""
    token = _program_only.set(True)
    try:
        yield
    finally:
        _program_only.reset(token)


def in_process() -> bool:
    """True when reads go through the library (so a second reading by the program is possible)."""
    return not _program_only.get() and _engine(6) is not None


def _tessdata() -> str | None:
    found = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata/eng.traineddata"))
    return os.path.dirname(found[-1]) if found else None


def _engine(psm: int) -> Any | None:
    """This thread's tesserocr engine for `psm` (made once), or None when tesserocr or tessdata is missing."""
    cache: dict[tuple[int, int], Any] | None = getattr(_engines, "cache", None)
    if cache is None:
        cache = _engines.cache = {}
    key = (os.getpid(), psm)  # an engine made before a fork is not used in the child
    if key not in cache:
        try:
            import tesserocr
        except ImportError:
            cache[key] = None
            return None
        path = _tessdata()
        cache[key] = None if path is None else tesserocr.PyTessBaseAPI(
            path=path, lang="eng", psm=psm, variables=_INIT_VARIABLES
        )
    return cache[key]


def read_words(image: Image.Image, alphabet: str, psm: int = 6) -> list[Word]:
    """Words tesseract finds in `image`, restricted to `alphabet`, with their boxes."""
    engine = None if _program_only.get() else _engine(psm)
    if engine is None:
        return _read_words_cli(image, alphabet, psm)
    import tesserocr

    engine.SetVariable("tessedit_char_whitelist", alphabet)
    engine.SetImage(image)
    engine.Recognize()
    words = []
    level = tesserocr.RIL.WORD
    for item in tesserocr.iterate_level(engine.GetIterator(), level):
        try:
            text = (item.GetUTF8Text(level) or "").strip()
        except RuntimeError:  # tesserocr: "No text returned" for an empty word
            continue
        box = item.BoundingBox(level)
        if text and box is not None:
            left, top, right, bottom = box
            words.append(Word(text, left, top, right - left, bottom - top))
    return words


def _read_words_cli(image: Image.Image, alphabet: str, psm: int) -> list[Word]:
    """The same through the `tesseract` program (TSV level 5)."""
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
