"""TD3 data pages per second at 600 dpi, PNG encoding included, and peak memory (one core).

Run: .venv/bin/python benchmarks/bench_layouts.py [pages]
Prints: render-only and render+PNG rates, PNG size, peak RSS and the peak Python heap (tracemalloc,
measured on a separate, shorter run because tracing slows Pillow's Python side).
"""

from __future__ import annotations

import io
import math
import resource
import sys
import time
import tracemalloc

from PIL import Image, ImageDraw

from mrtd.layouts import PageData, load_template, png_bytes, render

GOAL = 5.0
DPI = 600


def _image(size: tuple[int, int], draw_face: bool) -> bytes:
    im = Image.new("RGB", size, (214, 222, 232))
    d = ImageDraw.Draw(im)
    if draw_face:
        d.ellipse((size[0] * 0.27, size[1] * 0.2, size[0] * 0.73, size[1] * 0.66), fill=(224, 186, 160))
        d.ellipse((size[0] * 0.1, size[1] * 0.72, size[0] * 0.9, size[1] * 1.3), fill=(40, 60, 110))
    else:
        d.line([(10 + t * 5, 80 + 40 * math.sin(t / 5)) for t in range(100)], fill=(0, 0, 0), width=5)
    buf = io.BytesIO()
    im.save(buf, "JPEG" if draw_face else "PNG")
    return buf.getvalue()


def page(i: int) -> PageData:
    return PageData(
        document_code="P<", issuing_state="UTO", issuing_state_name="Utopia", document_number=f"L{i:08d}",
        surname="ERIKSSON", given_names="ANNA MARIA", nationality="UTO", date_of_birth="12 AUG 1974",
        sex="F", date_of_expiry="15 APR 2034", date_of_issue="16 APR 2024", place_of_birth="ZENITH",
        authority="PASSPORT OFFICE", personal_number="ZE184226B",
        mrz=("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"),
        portrait=_image((700, 900), True), signature=_image((600, 160), False),
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    t = load_template("td3")
    pages = [page(i) for i in range(n)]
    render(t, pages[0], DPI)  # warm the font, template and background caches

    start = time.perf_counter()
    images = [render(t, p, DPI)[0].image for p in pages[: max(5, n // 4)]]
    render_rate = len(images) / (time.perf_counter() - start)
    del images

    start = time.perf_counter()
    size = 0
    for p in pages:
        size += len(png_bytes(render(t, p, DPI)[0].image, DPI))
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tracemalloc.start()
    for p in pages[:3]:
        png_bytes(render(t, p, DPI)[0].image, DPI)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    w, h = render(t, pages[0], DPI)[0].image.size
    print(f"TD3 at {DPI} dpi: {w}x{h} px, {n} pages")
    print(f"render only:        {render_rate:6.2f} pages/s")
    print(f"render + PNG:       {rate:6.2f} pages/s ({elapsed / n * 1000:.0f} ms/page), goal {GOAL} -> ratio {rate / GOAL:.2f}")
    print(f"PNG size:           {size / n / 1e6:6.2f} MB/page (compress_level=1)")
    print(f"peak RSS:           {rss_mb:6.0f} MB")
    print(f"peak traced heap:   {heap_peak / 1e6:6.2f} MB (Python allocations; Pillow's image buffers are native)")


if __name__ == "__main__":
    main()
