"""Seals made per second (sign + image) and verified per second from a 300-dpi image.

Goal: verification from the image (zxing-cpp decode + signature + path validation) in at most 20 ms.
Plain script: `python benchmarks/bench_seals.py [seconds-per-case]`. Prints figures and the ratio to the goal.
Images: the bare symbol at 4 px/module (0.34 mm at 300 dpi), and the symbol placed on a 105 x 74 mm
(A7 sticker) white page at 300 dpi, 1240 x 874 px, which is what a scanner hands over.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from mrtd.pki.certificates import Issuer, build_csca, build_seal_signer, build_vdsnc_signer, make_name
from mrtd.pki.signer import MemorySigner
from mrtd.seals import barcode
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb, make_vds, make_vdsnc, parse_duration
from mrtd.seals.verify import Trust, check_seal

GOAL_MS = 20.0
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
VISA_MRZ = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")
SHARED_VECTOR = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "seals"


def _rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    fn()  # warm up
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed, 1000 * elapsed / n


def _make_png(make: Callable[[], bytes], symbology: barcode.Symbology) -> bytes:
    return barcode.to_png(barcode.render(make(), symbology))


def _page(symbol: Image.Image) -> bytes:
    page = Image.new("L", (1240, 874), 255)
    page.paste(symbol, (900 - symbol.size[0] // 2, 437 - symbol.size[1] // 2))
    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    csca_signer = MemorySigner(ec.generate_private_key(ec.SECP384R1()))
    csca = build_csca(csca_signer, make_name("DE", "CSCA Bench"), not_before=start,
                      not_after=start + dt.timedelta(days=4000), key_usage_end=start + dt.timedelta(days=1000),
                      rng=os.urandom)
    issuer = Issuer(csca_signer, csca)
    signer = MemorySigner(ec.generate_private_key(ec.BrainpoolP256R1()))
    cert = build_seal_signer(issuer, signer.public_key(), "DE", "TS", not_before=start,
                             not_after=start + dt.timedelta(days=700), rng=os.urandom)
    nc_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    nc_cert = build_vdsnc_signer(issuer, nc_signer.public_key(), "DE", "NC", not_before=start,
                                 not_after=start + dt.timedelta(days=700), rng=os.urandom)
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    nc_der = nc_cert.public_bytes(serialization.Encoding.DER)
    trust = Trust.of([csca.public_bytes(serialization.Encoding.PEM)], lookup=[cert_der])
    req = SealRequest(DocumentKind.VISA, "D<<", VISA_MRZ, NOW.date(), passport_number="L898902C",
                      duration_of_stay=parse_duration("90"))
    makers: dict[str, Callable[[], bytes]] = {
        "vds": lambda: make_vds(req, signer, cert, NOW.date()).raw,
        "idb": lambda: make_idb(req, signer, cert_der, NOW.date()).text.encode(),
        "vdsnc": lambda: make_vdsnc(req, nc_signer, nc_der).text.encode(),
    }
    print(f"{'case':34} {'per second':>11} {'ms each':>9} {'ratio to 20 ms goal':>20}")
    for fmt, make in makers.items():
        rate, ms = _rate(make, seconds / 4)
        print(f"{'sign ' + fmt:34} {rate:11.0f} {ms:9.2f}")
        for sym in barcode.Symbology:
            rate, ms = _rate(functools.partial(_make_png, make, sym), seconds / 2)
            print(f"{'make ' + fmt + ' ' + sym.value + ' (sign+PNG)':34} {rate:11.0f} {ms:9.2f}")
    for fmt, make in makers.items():
        payload = make()
        for sym in barcode.Symbology:
            symbol = barcode.render(payload, sym)
            for label, png in (("symbol", barcode.to_png(symbol)), ("A7 page", _page(symbol))):
                report = check_seal(png, trust, NOW)
                assert report.ok, report.checks
                rate, ms = _rate(functools.partial(check_seal, png, trust, NOW), seconds / 2)
                name = f"verify {fmt} {sym.value} {label}"
                print(f"{name:34} {rate:11.0f} {ms:9.2f} {GOAL_MS / ms:19.1f}x")
    b224 = SHARED_VECTOR / "vds" / "vdstools_visa_224bitSig.bin"
    if b224.exists():
        t224 = Trust.of([(SHARED_VECTOR / "certs" / "vdstools_DETS32.pem").read_bytes()])
        raw = b224.read_bytes()
        rate, ms = _rate(lambda: check_seal(raw, t224, NOW), seconds / 2)
        print(f"{'verify brainpoolP224r1 bytes (ecdsa)':34} {rate:11.0f} {ms:9.2f} {GOAL_MS / ms:19.1f}x")


if __name__ == "__main__":
    main()
