"""Peak memory and time of `mrtd seal verify` at the door: a 13000 x 13000 PNG (a small file that decodes to
169 megapixels) must be refused under 400 MB, and a 300-dpi A4 scan with a seal verified under 200 MB.

Plain script: `python benchmarks/bench_limits.py`. Each case runs `mrtd seal verify` in a fresh process; the
peak resident set size is that process's own (wait4 rusage). Prints figures and the ratio to each goal.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageFilter

from mrtd.pki.certificates import Issuer, build_csca, build_seal_signer, make_name
from mrtd.pki.signer import MemorySigner
from mrtd.seals import barcode
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb

MRTD = str(Path(sys.executable).with_name("mrtd"))
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime.now(dt.UTC)


def seal_and_trust(folder: Path) -> bytes:
    csca_key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    csca = build_csca(csca_key, make_name("UT", "CSCA UT"), not_before=NOW - dt.timedelta(days=1),
                      not_after=NOW + dt.timedelta(days=900), key_usage_end=NOW + dt.timedelta(days=300),
                      rng=os.urandom, mrz_code="UTO")
    signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    cert = build_seal_signer(Issuer(csca_key, csca), signer.public_key(), "UT", "TS",
                             not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=300),
                             rng=os.urandom)
    (folder / "trust.pem").write_bytes(csca.public_bytes(serialization.Encoding.PEM)
                                       + cert.public_bytes(serialization.Encoding.PEM))
    req = SealRequest(kind=DocumentKind.MRZ, issuing_state="UTO", mrz=TD3, issue_date=NOW.date())
    return make_idb(req, signer, cert.public_bytes(serialization.Encoding.DER), NOW.date()).text.encode("ascii")


def measure(image: Path, trust: Path) -> tuple[float, float, int, str]:
    """(peak RSS in MB, seconds, exit code, first line of output) of one `mrtd seal verify`."""
    start = time.perf_counter()
    proc = subprocess.Popen([MRTD, "seal", "verify", str(image), "--trust", str(trust)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    line = out.decode("utf-8", "replace").strip().splitlines()[0] if out.strip() else ""
    return usage.ru_maxrss / 1024, seconds, proc.returncode, line


def make_inputs(folder: Path) -> None:
    """The seal, its trust and both images (in its own process: a parent that held a 169-megapixel image
    would pass its pages to the forked child, and the child's peak would count them)."""
    payload = seal_and_trust(folder)
    Image.new("1", (13000, 13000), 1).save(folder / "huge.png", optimize=True)
    page = Image.new("L", (2480, 3508), 235)  # A4 at 300 dpi, grey paper
    page.paste(barcode.render(payload, module_px=4), (1500, 2700))
    noise = Image.effect_noise(page.size, 20).filter(ImageFilter.GaussianBlur(0.5))
    Image.blend(page, noise, 0.08).convert("RGB").save(folder / "a4-scan.jpg", quality=85, dpi=(300, 300))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--make":
        make_inputs(Path(sys.argv[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, __file__, "--make", str(folder)], check=True)
        huge, a4 = folder / "huge.png", folder / "a4-scan.jpg"
        print(f"13000 x 13000 PNG: {huge.stat().st_size / 1e3:.0f} kB; A4 scan 2480 x 3508 JPEG: {a4.stat().st_size / 1e3:.0f} kB")
        ok = True
        for name, path, goal, expect in (("13000 x 13000 PNG (refused)", huge, 400, 1),
                                         ("300-dpi A4 scan (verified)", a4, 200, 0)):
            peak, seconds, code, line = measure(path, folder / "trust.pem")
            good = code == expect and peak < goal
            ok &= good
            print(f"{name:30} peak {peak:6.1f} MB (goal < {goal} MB, ratio {peak / goal:.2f})  {seconds:5.2f} s  "
                  f"exit {code}  {line[:90]}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
