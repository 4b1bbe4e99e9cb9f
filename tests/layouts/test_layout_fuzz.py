"""Outside input (image bytes for portrait, signature and seal; page images to measure) raises only
MrtdError subclasses."""

from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from layout_fixtures import portrait_bytes, utopia_td3
from PIL import Image

from mrtd.errors import MrtdError
from mrtd.layouts import load_template, render
from mrtd.layouts.measure import measure_mrz


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    return bytes(b)


@settings(max_examples=25)
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=12)
                 .map(lambda e: _mutate(portrait_bytes(), e)),
                 st.integers(1, 4000).map(lambda n: portrait_bytes()[:n])))
def test_image_inputs_raise_only_mrtd_errors(data: bytes) -> None:
    t = load_template("td3")
    for field in ("portrait", "signature", "seal"):
        with contextlib.suppress(MrtdError):
            render(t, utopia_td3(**{field: data}), 300)


@settings(max_examples=25)
@given(st.integers(50, 1100), st.booleans(), st.binary(min_size=16, max_size=64))
def test_measuring_random_images_raises_only_mrtd_errors(w: int, page_shaped: bool, seed: bytes) -> None:
    h = round(w * 53.98 / 85.60) if page_shaped else max(1, w // 3)
    im = Image.frombytes("L", (w, h), (seed * (w * h // len(seed) + 1))[: w * h])
    with contextlib.suppress(MrtdError):
        measure_mrz(im.convert("RGB"), load_template("td1"))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    assert buf.getvalue()
