"""Image checks: formats, limits, decompression bombs refused before decoding, files not kept open."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from conftest import EXAMPLES
from PIL import Image

from mrtd.errors import Severity
from mrtd.issuance.images import LIMITS, check_image


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png_bomb(path: Path, side: int) -> None:
    """A genuine bomb: a 1-bit greyscale PNG of side x side pixels, all zero, that compresses to little."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(9)
    idat = bytearray()
    block = row * 1000
    for _ in range(side // 1000):
        idat += packer.compress(block)
    idat += packer.compress(row * (side % 1000))
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", bytes(idat))
        + _png_chunk(b"IEND", b"")
    )


def _save(path: Path, size: tuple[int, int], fmt: str, mode: str = "RGB") -> Path:
    Image.new(mode, size, (200, 210, 220) if mode == "RGB" else 0).save(path, fmt)
    return path


def _rules(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.rule for f in findings]


@pytest.mark.parametrize("key", sorted(p.stem for p in (EXAMPLES / "portraits").glob("*.jpg")))
def test_example_images_pass(key: str) -> None:
    assert check_image(EXAMPLES / "portraits" / f"{key}.jpg", "portrait") == []
    assert check_image(EXAMPLES / "signatures" / f"{key}.png", "signature") == []


@pytest.mark.parametrize("fmt,suffix", [("JPEG", "jpg"), ("PNG", "png"), ("JPEG2000", "jp2")])
def test_accepted_formats(tmp_path: Path, fmt: str, suffix: str) -> None:
    assert check_image(_save(tmp_path / f"p.{suffix}", (480, 600), fmt), "portrait") == []


def test_other_formats_refused(tmp_path: Path) -> None:
    found = check_image(_save(tmp_path / "p.gif", (480, 600), "GIF", "L"), "portrait")
    assert _rules(found) == ["image-format"]
    assert "GIF" in found[0].message and found[0].field == "portrait"


def test_decompression_bomb_refused_without_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.png"
    make_png_bomb(bomb, 30_000)  # 900 million pixels in about 100 kB
    assert bomb.stat().st_size < 1_000_000

    decoded: list[object] = []
    original_load = Image.Image.load

    def spy(self: Image.Image) -> object:
        decoded.append(self)
        return original_load(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    found = check_image(bomb, "portrait")
    assert _rules(found) == ["image-too-many-pixels"]
    assert decoded == []


def test_image_over_our_pixel_limit_but_under_pillows_refused(tmp_path: Path) -> None:
    # 6000 x 6000 = 36 M pixels: below Pillow's own warning threshold (89 M), above our portrait limit.
    bomb = tmp_path / "big.png"
    make_png_bomb(bomb, 6000)
    assert LIMITS["portrait"].max_pixels < 6000 * 6000
    found = check_image(bomb, "portrait")
    assert _rules(found) == ["image-too-many-pixels"]
    assert "6000x6000" in found[0].message


def test_undecodable_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all" * 50)
    assert _rules(check_image(junk, "portrait")) == ["image-format"]

    good = io.BytesIO()
    Image.effect_noise((480, 600), 60).convert("RGB").save(good, "JPEG", quality=90)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.getvalue()[: len(good.getvalue()) // 3])
    found = check_image(truncated, "portrait")
    assert _rules(found) == ["image-undecodable"]
    assert "truncated" in found[0].message

    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert _rules(check_image(empty, "signature")) == ["image-undecodable"]


def test_too_small(tmp_path: Path) -> None:
    found = check_image(_save(tmp_path / "tiny.jpg", (120, 150), "JPEG"), "portrait")
    assert _rules(found) == ["image-too-small"]
    assert found[0].message == "tiny.jpg is 120x150 px; a portrait needs at least 240x300 px"
    assert _rules(check_image(_save(tmp_path / "s.png", (100, 20), "PNG"), "signature")) == [
        "image-too-small"
    ]


def test_landscape_portrait_is_a_warning(tmp_path: Path) -> None:
    found = check_image(_save(tmp_path / "wide.jpg", (800, 600), "JPEG"), "portrait")
    assert _rules(found) == ["portrait-orientation"]
    assert found[0].severity is Severity.WARNING


def test_file_too_large_refused_before_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\x00" * (LIMITS["signature"].max_bytes + 10))
    assert _rules(check_image(big, "signature")) == ["image-too-large"]


def test_missing_and_folder(tmp_path: Path) -> None:
    assert _rules(check_image(tmp_path / "nope.jpg", "portrait")) == ["image-missing"]
    assert _rules(check_image(tmp_path, "portrait")) == ["image-missing"]


def test_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        check_image(tmp_path / "x.jpg", "tattoo")


def test_file_not_kept_open(tmp_path: Path) -> None:
    path = _save(tmp_path / "p.jpg", (480, 600), "JPEG")
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.exists():
        pytest.skip("needs /proc to list open files")
    assert check_image(path, "portrait") == []

    def open_on(p: Path) -> list[str]:
        out = []
        for fd in fd_dir.iterdir():
            try:
                if os.readlink(fd) == str(p):
                    out.append(fd.name)
            except OSError:
                continue
        return out

    assert open_on(path) == []
