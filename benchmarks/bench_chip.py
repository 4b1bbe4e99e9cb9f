"""Chip personalisation through the real stack: pyscard -> pcscd -> vpcd -> the simulator process.

Personalises one specimen document with a 20 KB DG2 (per profile), recording every APDU; then sends the
same APDUs raw to a card that only answers 90 00 (the transport floor) and prints the ratio (goal for
the writing: <= 1.5). Also times reading DG1 + DG2 + EF.SOD with PACE.

    .venv/bin/python benchmarks/bench_chip.py [--dg2 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from mrtd.chip import pcsc
from mrtd.chip.perso import personalise, plan
from mrtd.chip.profiles import load_profile
from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.reader import ChipSession
from mrtd.chip.sim.specimen import specimen

ROOT = Path(__file__).resolve().parent.parent
READERS = {0: "Virtual PCD 00 00", 1: "Virtual PCD 00 01"}
PORTS = {0: 35963, 1: 35964}
MRZ = MrzInfo("L898902C3", "740812", "120415")


class Recording:
    def __init__(self, inner: pcsc.PcscTransport) -> None:
        self.inner = inner
        self.sent: list[bytes] = []
        self.times: list[float] = []
        self.bytes_in = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        rsp = self.inner.transmit(apdu)
        self.times.append(time.perf_counter())
        self.bytes_in += len(rsp)
        return rsp

    def close(self) -> None:
        self.inner.close()


def start_card(slot: int, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "mrtd.chip.sim.vpcd", "--port", str(PORTS[slot]), *extra],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    pcsc.wait_for_card(READERS[slot], 10)
    return proc


def stop_card(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    time.sleep(1.0)  # let pcscd see the slot empty before the next card


def floor(apdus: list[bytes], slot: int) -> float:
    t = pcsc.PcscTransport(READERS[slot])
    try:
        start = time.perf_counter()
        for a in apdus:
            t.transmit(a)
        return time.perf_counter() - start
    finally:
        t.close()


def bench_profile(profile: str, dg2: int, rounds: int, null_slot: int) -> None:
    sp = specimen(profile, dg2_size=dg2)
    n_plan = len(plan(sp.image, load_profile(profile)))
    best_total = best_write = read_s = float("inf")
    rec: Recording | None = None
    for _ in range(rounds):
        proc = start_card(0, "--profile", profile)
        try:
            rec = Recording(pcsc.PcscTransport(READERS[0]))
            # the writing alone, repeated on the unlocked card (the plan may run again)
            prof = load_profile(profile)
            for _ in range(5):
                session = ChipSession(rec.inner)
                w0 = time.perf_counter()
                for step in plan(sp.image, prof):
                    session.send(step.command, step.step).check(step.step)
                best_write = min(best_write, time.perf_counter() - w0)
            t0 = time.perf_counter()
            report = personalise(sp.image, rec, profile)
            total = time.perf_counter() - t0
            assert report.ok, report.checks
            best_total = min(best_total, total)
            # reading DG1 + DG2 + EF.SOD (PACE if the chip offers it, else BAC) on the locked chip
            rec.inner.reconnect()
            s = ChipSession(rec.inner, max_read=60000 if profile == "mrtd-sim" else 223)
            t1 = time.perf_counter()
            access = s.read_card_access()
            if access:
                from mrtd.chip.protocol.pace import parse_card_access

                s.run_pace(parse_card_access(access)[0], MRZ)
                s.select_applet()
            else:
                s.select_applet()
                s.run_bac(MRZ)
            for name in ("DG1", "DG2", "EF.SOD"):
                assert s.read_file(name) == sp.image.files[name]
            read_s = min(read_s, time.perf_counter() - t1)
            rec.inner.close()
        finally:
            stop_card(proc)
    assert rec is not None
    null = start_card(null_slot, "--null")
    try:
        floor_total = min(floor(rec.sent, null_slot) for _ in range(5 * rounds))
        floor_write = min(floor(rec.sent[:n_plan], null_slot) for _ in range(5 * rounds))
    finally:
        stop_card(null)
    out = sum(len(a) for a in rec.sent)
    print(f"[{profile}] DG2 {len(sp.image.files['DG2'])} bytes, {len(sp.image.files)} files")
    print(f"  writing (plan):       {n_plan:4d} APDUs, {sum(len(a) for a in rec.sent[:n_plan]):6d} bytes out, "
          f"{best_write * 1e3:.2f} ms; floor {floor_write * 1e3:.2f} ms; ratio {best_write / floor_write:.2f}")
    print(f"  personalise (all):    {len(rec.sent):4d} APDUs, {out:6d} bytes out, {rec.bytes_in:6d} bytes in, "
          f"{best_total * 1e3:.1f} ms; floor {floor_total * 1e3:.2f} ms; ratio {best_total / floor_total:.2f}"
          " (includes PACE/BAC, AA, CA, read-back and their crypto on both sides)")
    print(f"  read DG1+DG2+EF.SOD:  {read_s * 1e3:.1f} ms ({'PACE' if profile == 'mrtd-sim' else 'BAC'}, best of rounds)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dg2", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    subprocess.run([str(ROOT / "scripts" / "pcscd.sh"), "start"], check=True)
    for profile in ("mrtd-sim", "jmrtd-applet"):
        bench_profile(profile, args.dg2, args.rounds, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
