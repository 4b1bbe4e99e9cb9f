"""Benchmark: whole LDS + EF.SOD per second on one core, and the time to prepare a portrait.

Per document: EF.COM, DG1, DG2 (the prepared portrait, 15-20 KB), DG11, DG12, DG14 (PACE, CA, AA info),
DG15, EF.SOD (ECDSA P-256, SHA-256) and EF.CardAccess; keys generated per document (AA and CA, P-256).
Run: .venv/bin/python benchmarks/bench_lds.py [seconds]
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageDraw

from mrtd.chip.document import build_document_image
from mrtd.chip.portrait import prepare_portrait
from mrtd.model import Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.mrz import mrz_lines
from mrtd.pki.certificates import Issuer, build_csca, build_document_signer, make_name
from mrtd.pki.signer import MemorySigner

GOAL = 1_000.0
NOW = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def photo() -> bytes:
    examples = Path(__file__).resolve().parent.parent / "examples" / "applications" / "portraits" / "anna.jpg"
    if examples.exists():
        return examples.read_bytes()
    img = Image.new("RGB", (600, 750), (205, 215, 230))
    ImageDraw.Draw(img).ellipse((160, 75, 440, 640), fill=(225, 185, 160))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    csca_signer = MemorySigner(ec.generate_private_key(ec.SECP384R1()), "csca")
    csca = build_csca(csca_signer, make_name("NL", "CSCA Bench"), not_before=start,
                      not_after=start + dt.timedelta(days=4000), key_usage_end=start + dt.timedelta(days=1000),
                      rng=os.urandom)  # fmt: skip
    ds_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "ds")
    ds = build_document_signer(Issuer(csca_signer, csca), ds_signer.public_key(), make_name("NL", "DS Bench"),
                               not_before=start, usage_end=start + dt.timedelta(days=90),
                               not_after=start + dt.timedelta(days=3700), document_types=("P",), rng=os.urandom)  # fmt: skip
    holder = Holder("DE BRUIJN", "WILLEKE", "NLD", PartialDate(1965, 3, 10), Sex.FEMALE, place_of_birth="AMSTERDAM")
    doc = Document(DocumentCode("P"), DocumentFormat.TD3, "NLD", holder, dt.date(2036, 1, 4), dt.date(2026, 1, 5),
                   "SPECI2026", authority="Amsterdam")  # fmt: skip
    mrz = mrz_lines(doc)
    src = photo()

    # portrait preparation
    for fmt, budget in (("jpeg", 20_000), ("jp2", 20_000)):
        runs = 20 if fmt == "jpeg" else 5
        t0 = time.perf_counter()
        for _ in range(runs):
            portrait = prepare_portrait(src, fmt=fmt, budget=budget)  # type: ignore[arg-type]
        per = (time.perf_counter() - t0) / runs
        print(f"prepare_portrait {fmt:4}: {per * 1000:7.1f} ms per portrait ({len(portrait)} bytes)")

    portrait = prepare_portrait(src, budget=20_000)
    image = build_document_image(doc, mrz, portrait, None, ds_signer, ds, clock=lambda: NOW)
    print(f"DG2 {len(image['DG2'])} bytes; EF.SOD {len(image['EF.SOD'])} bytes; files {', '.join(image.files)}")

    for label, kw in (("with per-document AA+CA keys", {}), ("LDS + EF.SOD only (no keys)", {"aa": None, "ca": None})):
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds / 2:
            build_document_image(doc, mrz, portrait, None, ds_signer, ds, clock=lambda: NOW, **kw)  # type: ignore[arg-type]
            n += 1
        rate = n / (time.perf_counter() - t0)
        print(f"build_document_image ({label}): {rate:8.0f} documents/s on one core "
              f"({1000 / rate:.2f} ms each; goal {GOAL:.0f}/s: ratio {rate / GOAL:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
