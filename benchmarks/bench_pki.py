"""Signatures per second through the `Signer` (FileSigner) vs the bare cryptography call, per algorithm,
and PKCS#11 signatures per second on a SoftHSM2 token created in a temporary folder.

    .venv/bin/python benchmarks/bench_pki.py [seconds-per-measurement]

Goal: FileSigner overhead ratio (bare rate / Signer rate) <= 1.1.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, padding

from mrtd.pki.keys import ALGORITHMS, FileSigner, default_hash
from mrtd.pki.signer import hash_algorithm

DATA = b"\x42" * 256  # about the size of an EF.SOD's signed attributes


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(8):
            fn()
        n += 8
    return n / elapsed


def compare(signer: FileSigner, seconds: float) -> tuple[float, float, float]:
    """(bare rate, Signer rate, median per-round ratio) over 11 interleaved rounds: the machine is shared,
    so each round compares the two under the same load."""
    key = signer._key  # the same key, called directly: the baseline
    h = default_hash(signer.public_key())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        ec_key = key

        def bare() -> bytes:
            return ec_key.sign(DATA, ec.ECDSA(hash_algorithm(h)))
    else:
        rsa_key = key

        def bare() -> bytes:
            a = hash_algorithm(h)
            return rsa_key.sign(DATA, padding.PSS(padding.MGF1(a), a.digest_size), a)

    def through() -> bytes:
        return signer.sign(DATA, h)

    b_rates, s_rates, ratios = [], [], []
    for _ in range(11):
        b = rate(bare, seconds / 22)
        s = rate(through, seconds / 22)
        b_rates.append(b)
        s_rates.append(s)
        ratios.append(b / s)
    return statistics.median(b_rates), statistics.median(s_rates), statistics.median(ratios)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    tmp = Path(tempfile.mkdtemp())
    print(f"{'algorithm':24} {'bare/s':>10} {'Signer/s':>10} {'ratio':>7}  (medians; ratio = bare/Signer)")
    for alg in ALGORITHMS:
        signer = FileSigner.generate(tmp / f"{alg}.pem", alg, b"bench", scrypt_log2n=10)
        b, t, ratio = compare(signer, seconds)
        print(f"{alg:24} {b:10.0f} {t:10.0f} {ratio:7.3f}")
    shutil.rmtree(tmp)
    bench_softhsm(seconds)


def bench_softhsm(seconds: float) -> None:
    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not (shutil.which("softhsm2-util") and Path(module).exists()):
        print("SoftHSM2 not installed: PKCS#11 benchmark skipped")
        return
    base = Path(tempfile.mkdtemp())
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", "123456",
                    "--so-pin", "654321"], check=True, capture_output=True)
    from mrtd.pki import pkcs11 as p11

    session = p11.open_session(module, "bench", b"123456")
    print(f"\n{'PKCS#11 (SoftHSM2)':24} {'sign/s':>10}")
    for alg in ALGORITHMS:
        signer = p11.generate_key(session, alg, f"bench-{alg}")
        h = default_hash(signer.public_key())
        r = rate(lambda s=signer, h=h: s.sign(DATA, h), seconds)
        print(f"{alg:24} {r:10.0f}")
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
