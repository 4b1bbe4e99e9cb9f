"""Print quality check: read the MRZ back from the page image with tesseract and compare it with what had
to be printed.

Tesseract's stock English model reads OCR-B letters and digits well once the alphabet is narrowed, but
it misreads the filler `<` (as `K`, `S`, `E`, ...) and merges or drops runs of them. The check therefore
uses the MRZ's fixed structure:
- the template's geometry gives every character cell, so the MRZ is cut out cell by cell;
- the field tables of Doc 9303 give each position's class (letters, digits, or both), and each class is
  read with its own alphabet (no O/0 or I/1 swap where only one is allowed);
- when comparing, only a position where the expected text has `<` may be recovered from a misread,
  a dropped or an extra character next to it; every expected letter or digit must be read exactly,
  in order. Every cell must also carry ink (a blank where a `<` belongs is not a filler).

The check reports the raw agreement too: the share of MRZ characters the first reading got exactly,
before any filler was recovered or any run re-read. That first reading already uses the layout (cells
cut where the template puts them, one alphabet per character class); a reader without that knowledge
reads whole lines with one alphabet (PassportEye: tests/layouts/test_layout_passporteye.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from mrtd.errors import Finding, InputError, ValidationError
from mrtd.layouts import ocr
from mrtd.layouts.ocr import read_words
from mrtd.layouts.render import px
from mrtd.layouts.template import Template, standard

CLAUSE = "Doc 9303-3 §4.3 (print quality, OCR-B)"
CLASSES = {
    "A": "ABCDEFGHIJKLMNOPQRSTUVWXYZ<",
    "N": "0123456789<",
    "X": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
}
_WORK_PITCH_PX = 30  # cells are resampled to 300 dpi: tesseract reads OCR-B best at that size
_BIG = 1_000_000


class PrintQualityError(ValidationError):
    """The MRZ read back from the page differs from what had to be printed."""


# --- comparison -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Alignment:
    ok: bool
    recovered: tuple[int, ...]  # expected positions (0-based) where a `<` was recovered
    bad: tuple[tuple[int, str, str], ...]  # (expected position, expected char, read char or '')
    matched: int = 0  # expected characters read exactly, in place


def align(expected: str, read: str) -> Alignment:
    """Align an OCR read with the expected text; only `<` may be recovered, never a letter or digit.

    Allowed at no risk (cost 1, recovered): read something else where `<` is expected, read nothing
    for an expected `<`, read an extra character at the edge of a run of `<`. Everything else (a
    letter or digit not read exactly, an extra character between letters) is a mismatch.
    """
    n, m = len(expected), len(read)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, str] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0

    def relax(i: int, j: int, ni: int, nj: int, c: float, op: str) -> None:
        if cost[i][j] + c < cost[ni][nj]:
            cost[ni][nj] = cost[i][j] + c
            back[ni][nj] = (i, j, op)

    for i in range(n + 1):
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            e = expected[i] if i < n else ""
            filler_edge = e == "<" or (i > 0 and expected[i - 1] == "<")
            if i < n and j < m:
                if read[j] == e:
                    relax(i, j, i + 1, j + 1, 0, "match")
                elif e == "<":
                    relax(i, j, i + 1, j + 1, 1, "recover")
                else:
                    relax(i, j, i + 1, j + 1, _BIG, "wrong")
            if i < n:
                relax(i, j, i + 1, j, 1 if e == "<" else _BIG, "dropped" if e == "<" else "missing")
            if j < m:
                relax(i, j, i, j + 1, 1 if filler_edge else _BIG, "extra" if filler_edge else "inserted")
    recovered: list[int] = []
    bad: list[tuple[int, str, str]] = []
    matched = 0
    i, j = n, m
    while (i, j) != (0, 0):
        step = back[i][j]
        assert step is not None
        pi, pj, op = step
        matched += op == "match"
        if op in ("recover", "dropped"):
            recovered.append(pi)
        elif op == "wrong":
            bad.append((pi, expected[pi], read[pj]))
        elif op == "missing":
            bad.append((pi, expected[pi], ""))
        elif op == "inserted":
            bad.append((min(pi, n - 1), expected[min(pi, n - 1)] if n else "", read[pj]))
        i, j = pi, pj
    return Alignment(not bad, tuple(sorted(set(recovered))), tuple(sorted(bad)), matched)


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Segment:
    line: int
    start: int  # 0-based, inclusive
    end: int  # 0-based, exclusive
    cls: str


def segments(t: Template) -> list[Segment]:
    """The MRZ positions of `t`'s format grouped by character class (`standard.toml`, [ocr])."""
    table = standard()["ocr"].get(t.format.value)
    if table is None:
        return [Segment(i, 0, t.line_length, "X") for i in range(t.lines)]
    return [Segment(i, int(a) - 1, int(b), str(c)) for i in range(t.lines) for a, b, c in table[f"line{i + 1}"]]


@dataclass(frozen=True, slots=True)
class PrintCheck:
    ok: bool
    findings: tuple[Finding, ...]
    read: tuple[str, ...]  # what tesseract read per line (segments joined, as read)
    recovered: tuple[tuple[int, int], ...] = field(default=())  # (line, position), 1-based
    raw_agreement: float = 0.0  # share of MRZ characters the first reading got exactly (before recovery)


def _cells(image: Image.Image, t: Template, dpi: float, line: int, start: int, end: int) -> Image.Image:
    m = t.mrz
    pitch = px(m.char_pitch, dpi)
    centre = image.height - px(m.centre(line), dpi)
    half = px(min(m.line_pitch, 4.6) / 2, dpi)
    x0 = px(m.left, dpi) + start * pitch
    box = (round(x0), round(centre - half), round(x0 + (end - start) * pitch), round(centre + half))
    crop = image.crop(box).convert("L")
    scale = _WORK_PITCH_PX / pitch
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    return crop.resize(size, Image.Resampling.LANCZOS)


def _blank_cells(image: Image.Image, t: Template, dpi: float, line: int) -> list[int]:
    """Cells of a line with no ink at all."""
    strip = _cells(image, t, dpi, line, 0, t.line_length).point(lambda v: 255 if v < 128 else 0)
    out = []
    for k in range(t.line_length):
        if strip.crop((k * _WORK_PITCH_PX, 0, (k + 1) * _WORK_PITCH_PX, strip.height)).getbbox() is None:
            out.append(k)
    return out


def page_dpi(image: Image.Image, t: Template) -> float:
    """The resolution of a page image: its width over the document's width (the image is the page)."""
    return image.width * 25.4 / t.width


def _sheet(rows: Sequence[Image.Image], gap_ratio: float = 0.5) -> tuple[Image.Image, int, int]:
    """Stack crops as rows of one white sheet (one tesseract run reads them all); returns the sheet,
    the row pitch and the top gap."""
    row_h = max(r.height for r in rows)
    gap = max(4, int(row_h * gap_ratio))
    width = max(r.width for r in rows) + 2 * gap
    sheet = Image.new("L", (width, gap + len(rows) * (row_h + gap)), 255)
    for k, r in enumerate(rows):
        sheet.paste(r, (gap, gap + k * (row_h + gap)))
    return sheet.point(lambda v: 0 if v < 160 else 255), row_h + gap, gap


def _read_rows(rows: Sequence[Image.Image], alphabet: str, gap_ratio: float = 0.5) -> list[str]:
    """Read each crop as one text row (words joined left to right)."""
    sheet, pitch, gap = _sheet(rows, gap_ratio)
    texts = [""] * len(rows)
    for w in sorted(read_words(sheet, alphabet), key=lambda w: w.left):
        k = min(len(rows) - 1, max(0, int((w.centre_y - gap / 2) // pitch)))
        texts[k] += w.text
    return texts


def _scaled(im: Image.Image, factor: float) -> Image.Image:
    return im.resize((round(im.width * factor), round(im.height * factor)), Image.Resampling.LANCZOS)


def read_mrz(image: Image.Image, t: Template) -> dict[Segment, str]:
    """Read each MRZ segment of a page image (the MRZ side), one tesseract run per character class."""
    dpi = page_dpi(image, t)
    by_class: dict[str, list[tuple[Segment, Image.Image]]] = {}
    for seg in segments(t):
        by_class.setdefault(seg.cls, []).append((seg, _cells(image, t, dpi, seg.line, seg.start, seg.end)))
    result: dict[Segment, str] = {}
    for cls, rows in by_class.items():
        for (seg, _), text in zip(rows, _read_rows([r for _, r in rows], CLASSES[cls]), strict=True):
            result[seg] = text
    return result


@dataclass(frozen=True, slots=True)
class _Run:
    """A run of letters and digits of the expected text inside one segment."""

    seg: Segment
    start: int  # 0-based line position
    text: str


def _reread_runs(image: Image.Image, t: Template, runs: Sequence[_Run]) -> set[_Run]:
    """Second and third readings of runs of letters and digits that the first reading did not match.

    Tesseract's stock model reads a run of OCR-B letters and digits more reliably without the fillers
    around it (larger, alone on its line), or else character by character (one cell per row). A run
    passes only if one reading gives exactly its text: no letter or digit is ever recovered.
    """
    dpi = page_dpi(image, t)
    passed: set[_Run] = set()
    by_class: dict[str, list[_Run]] = {}
    for r in runs:
        by_class.setdefault(r.seg.cls, []).append(r)
    for cls, todo in by_class.items():
        crops = {r: _cells(image, t, dpi, r.seg.line, r.start, r.start + len(r.text)) for r in todo}
        texts = _read_rows([_scaled(crops[r], 1.6) for r in todo], CLASSES[cls])
        left = []
        for r, text in zip(todo, texts, strict=True):
            (passed.add(r) if text == r.text else left.append(r))
        if not left:
            continue
        cells = [(r, k, crops[r].crop((k * _WORK_PITCH_PX, 0, (k + 1) * _WORK_PITCH_PX, crops[r].height)))
                 for r in left for k in range(len(r.text))]
        reads = _read_rows([c for _, _, c in cells], CLASSES[cls])
        got: dict[_Run, list[str]] = {r: [""] * len(r.text) for r in left}
        for (r, k, _), text in zip(cells, reads, strict=True):
            got[r][k] = text
        passed.update(r for r in left if got[r] == list(r.text))
    return passed


def _alnum_runs(seg: Segment, expected: str) -> list[_Run]:
    runs, k = [], seg.start
    while k < seg.end:
        if expected[k] == "<":
            k += 1
            continue
        j = k
        while j < seg.end and expected[j] != "<":
            j += 1
        runs.append(_Run(seg, k, expected[k:j]))
        k = j
    return runs


def check_print(image: Image.Image, t: Template, expected: Sequence[str]) -> PrintCheck:
    """Compare the MRZ on `image` (the side of `t` that carries it) with `expected`; every finding names
    the line and the 1-based position.

    The fast in-process reading decides when it matches; when it does not, the `tesseract` program
    reads again and its verdict stands (each reading must match exactly on its own: no letter or
    digit is ever taken from one reading and combined with the other).
    """
    result = _check_print(image, t, expected)
    if not result.ok and ocr.in_process():
        with ocr.program_only():
            result = _check_print(image, t, expected)
    return result


def _check_print(image: Image.Image, t: Template, expected: Sequence[str]) -> PrintCheck:
    if len(expected) != t.lines or any(len(x) != t.line_length for x in expected):
        raise ValidationError([Finding("mrz", "mrz-shape", f"{t.format.value} has {t.lines} lines of "
                                       f"{t.line_length} characters", CLAUSE)])
    dpi = page_dpi(image, t)
    if dpi < 100 or abs(image.height / image.width - t.height / t.width) > 0.02:
        raise InputError(f"image: {image.width}x{image.height} px is not a whole {t.format.value} page "
                         f"({t.width} x {t.height} mm) at 100 dpi or more; crop the scan to the page")
    reads = read_mrz(image, t)
    per_line = [""] * t.lines
    first: dict[Segment, Alignment] = {}
    for seg in segments(t):
        text = reads[seg]
        per_line[seg.line] += text if seg.start == 0 else f" {text}"
        first[seg] = align(expected[seg.line][seg.start:seg.end], text)
    # Segments the first reading did not match: re-read their runs of letters and digits alone.
    retry = [r for seg, a in first.items() if not a.ok for r in _alnum_runs(seg, expected[seg.line])]
    passed = _reread_runs(image, t, retry) if retry else set()
    findings: list[Finding] = []
    recovered: list[tuple[int, int]] = []
    for seg, a in first.items():
        if a.ok:
            recovered += [(seg.line + 1, seg.start + p + 1) for p in a.recovered]
            continue
        runs = _alnum_runs(seg, expected[seg.line])
        if all(r in passed for r in runs):
            # Every letter and digit was read exactly; the fillers between them are recovered.
            recovered += [(seg.line + 1, k + 1) for k in range(seg.start, seg.end) if expected[seg.line][k] == "<"]
            continue
        for p, e, r in a.bad:
            pos = seg.start + p + 1
            got = f"read {r!r}" if r else "read nothing"
            findings.append(Finding(f"mrz.line{seg.line + 1}[{pos}]", "ocr-mismatch",
                                    f"expected {e!r}, {got} (segment {seg.start + 1}-{seg.end} read as "
                                    f"{reads[seg]!r})", CLAUSE))
    for line in range(t.lines):
        for k in _blank_cells(image, t, dpi, line):
            findings.append(Finding(f"mrz.line{line + 1}[{k + 1}]", "blank-cell",
                                    f"no ink where {expected[line][k]!r} must be printed", CLAUSE))
    raw = sum(a.matched for a in first.values()) / (t.lines * t.line_length)
    return PrintCheck(not findings, tuple(findings), tuple(per_line), tuple(sorted(set(recovered))), round(raw, 4))


def verify_print(image: Image.Image, t: Template, expected: Sequence[str]) -> PrintCheck:
    """`check_print`, raising PrintQualityError (with every finding) when the MRZ does not read back."""
    result = check_print(image, t, expected)
    if not result.ok:
        raise PrintQualityError(result.findings, source="print check")
    return result


def mrz_image(images: Sequence[Image.Image], t: Template) -> Image.Image:
    """The image of the side that carries the MRZ, from the sides in template order."""
    names = [s.name for s in t.sides]
    return images[names.index(t.mrz.side)]
