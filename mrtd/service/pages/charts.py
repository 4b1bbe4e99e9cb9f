"""Bar charts drawn on the server as SVG (no chart library, no script): documents issued and spoiled per
period, stacked, with a title and a text alternative for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 640, 220, 36


def stacked_bars(key: str, title: str, labels: Sequence[str], issued: Sequence[int], spoiled: Sequence[int],
                 legend: tuple[str, str], summary: str) -> Markup:
    """Issued (dark) with spoiled (light, on top) per label; every `step`-th label printed under its bar."""
    n = max(1, len(labels))
    top = max([a + b for a, b in zip(issued, spoiled, strict=True)] + [1])
    slot = (WIDTH - 2 * PAD) / n
    bar = max(2.0, slot * 0.7)
    scale = (HEIGHT - 2 * PAD) / top
    step = 1 if n <= 12 else 3
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 24}" role="img" '
             f'class="chart" aria-labelledby="t-{key}"><title id="t-{key}">{escape(title)}: '
             f'{escape(summary)}</title>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
             f'<text x="{PAD}" y="14" class="heading">{escape(title)}</text>',
             f'<text x="{PAD - 4}" y="{PAD + 4}" class="tick" text-anchor="end">{top}</text>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{PAD}" class="grid"/>']
    for i, (label, a, b) in enumerate(zip(labels, issued, spoiled, strict=True)):
        x = PAD + i * slot + (slot - bar) / 2
        h_a, h_b = a * scale, b * scale
        base = HEIGHT - PAD
        if a:
            parts.append(f'<rect x="{x:.1f}" y="{base - h_a:.1f}" width="{bar:.1f}" height="{h_a:.1f}" '
                         f'class="issued"><title>{escape(label)}: {a}</title></rect>')
        if b:
            parts.append(f'<rect x="{x:.1f}" y="{base - h_a - h_b:.1f}" width="{bar:.1f}" height="{h_b:.1f}" '
                         f'class="spoiled"><title>{escape(label)}: {b}</title></rect>')
        if i % step == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD + 14}" class="tick" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<rect x="{PAD}" y="{HEIGHT + 6}" width="10" height="10" class="issued"/>'
                 f'<text x="{PAD + 14}" y="{HEIGHT + 15}" class="tick">{escape(legend[0])}</text>'
                 f'<rect x="{PAD + 140}" y="{HEIGHT + 6}" width="10" height="10" class="spoiled"/>'
                 f'<text x="{PAD + 154}" y="{HEIGHT + 15}" class="tick">{escape(legend[1])}</text></svg>')
    return Markup("".join(parts))
