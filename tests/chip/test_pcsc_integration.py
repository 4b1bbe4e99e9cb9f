"""The real stack: pyscard -> pcscd -> vpcd -> the simulator as a separate process on a vpcd slot.

pcscd is started with scripts/pcscd.sh (and stopped again if this session started it). Faults are a
card process that ends abruptly after N APDUs (`--die-after`), as a card pulled from the field.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, pcscd_stack

from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.sim.specimen import Specimen, specimen
from mrtd.errors import ChipError, TransportError

pytestmark = pytest.mark.pcsc

SCRIPT = ROOT / "scripts" / "pcscd.sh"
READERS = {0: "Virtual PCD 00 00", 1: "Virtual PCD 00 01"}
PORTS = {0: 35963, 1: 35964}
AT = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
MRZ = MrzInfo("L898902C3", "740812", "120415")


@pytest.fixture(scope="session")
def pcscd() -> Iterator[None]:
    with pcscd_stack():
        yield


_last_stop: dict[int, float] = {}


@contextmanager
def virtual_card(slot: int, profile: str, state: Path, die_after: int | None = None) -> Iterator[subprocess.Popen[str]]:
    """The simulator process on `slot`, present to pcscd; killed (by its pid) afterwards."""
    from mrtd.chip import pcsc

    since = time.monotonic() - _last_stop.get(slot, 0.0)
    if since < 1.0:
        time.sleep(1.0 - since)  # a card back faster than pcscd's 0.4 s poll can leave the slot stuck
    cmd = [sys.executable, "-m", "mrtd.chip.sim.vpcd", "--port", str(PORTS[slot]), "--profile", profile,
           "--state", str(state)]
    if die_after is not None:
        cmd += ["--die-after", str(die_after)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        pcsc.wait_for_card(READERS[slot], 10)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        _last_stop[slot] = time.monotonic()


@pytest.fixture(scope="module")
def specimens() -> dict[str, Specimen]:
    return {p: specimen(p) for p in ("mrtd-sim", "jmrtd-applet")}


def _trust(sp: Specimen):  # type: ignore[no-untyped-def]
    from mrtd.pki.trust import TrustStore

    ts = TrustStore()
    ts.add_certificate(sp.csca_certificate)
    return ts


@pytest.mark.parametrize("profile,slot", [("mrtd-sim", 0), ("jmrtd-applet", 1)])
def test_personalise_read_back_lock(pcscd: None, specimens: dict[str, Specimen], tmp_path: Path, profile: str, slot: int) -> None:
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise
    from mrtd.chip.reader import read_chip

    sp = specimens[profile]
    with virtual_card(slot, profile, tmp_path / "card.json"):
        t = PcscTransport(READERS[slot])
        try:
            report = personalise(sp.image, t, profile, trust=_trust(sp), at=AT)
            assert report.status == "personalised", report.checks
            names = {c.name: c.status for c in report.checks}
            assert names == {
                "read-back": "pass", "active-authentication": "pass", "chip-authentication": "pass",
                "passive-authentication": "pass", "lock": "pass",
            } | ({"access-control": "pass"} if profile == "mrtd-sim" else {})  # PACE, as the signed DG14 lists it
            # a fresh reader session: BAC always, PACE (MRZ and CAN) on the PACE profile
            t.reconnect()
            bac_or_pace = read_chip(t, MRZ, _trust(sp), AT)
            assert bac_or_pace.ok, bac_or_pace.checks
            assert bac_or_pace.access == ("PACE" if profile == "mrtd-sim" else "BAC")
            assert {k: v for k, v in bac_or_pace.files.items()} == dict(
                sp.image.files
            ) | ({} if profile == "jmrtd-applet" else {"EF.CardAccess": sp.image.files["EF.CardAccess"]})
            if profile == "mrtd-sim":
                t.reconnect()
                by_can = read_chip(t, "123456", _trust(sp), AT, max_read=60000)
                assert by_can.ok and by_can.access == "PACE"
                t.reconnect()
                with pytest.raises(ChipError) as wrong:
                    read_chip(t, "654321", None, AT)
                assert wrong.value.step == "PACE mutual authentication" and wrong.value.sw == 0x6300
            # after the lock: writes refused 6985, plain reads 6982 (the JMRTD applet's status words)
            t.reconnect()
            assert t.transmit(bytes.fromhex("00A4040C07A0000002471001"))[-2:] == b"\x90\x00"
            assert t.transmit(bytes.fromhex("00A4020C020101"))[-2:] == b"\x69\x82"
            assert t.transmit(bytes.fromhex("00E00000066304001001 01".replace(" ", "")))[-2:] == b"\x69\x85"
            assert t.transmit(bytes.fromhex("00D6000001FF"))[-2:] == b"\x69\x85"
            assert t.transmit(bytes.fromhex("00DA00650365033132"))[-2:] == b"\x69\x85"
        finally:
            t.close()


def test_card_killed_during_personalisation_then_restart(pcscd: None, specimens: dict[str, Specimen], tmp_path: Path) -> None:
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise

    sp = specimens["jmrtd-applet"]
    state = tmp_path / "card.json"
    with virtual_card(1, "jmrtd-applet", state, die_after=40):
        t = PcscTransport(READERS[1])
        with pytest.raises((TransportError, ChipError)) as err:
            personalise(sp.image, t, "jmrtd-applet")
        t.close()
    # the step that failed is named: writing DG2 (the 41st APDU lands in DG2's chunks)
    assert err.value.step.startswith("write DG2 at "), err.value
    # the card comes back unlocked with what it had; the plan starts again and completes
    with virtual_card(1, "jmrtd-applet", state):
        t = PcscTransport(READERS[1])
        try:
            report = personalise(sp.image, t, "jmrtd-applet")
        finally:
            t.close()
    assert report.status == "personalised", report.checks


def test_card_killed_during_reading(pcscd: None, specimens: dict[str, Specimen], tmp_path: Path) -> None:
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise
    from mrtd.chip.reader import read_chip
    from mrtd.chip.sim.card import VirtualCard
    from mrtd.chip.sim.transport import SimTransport

    sp = specimens["mrtd-sim"]
    state = tmp_path / "card.json"
    card = VirtualCard.load(state, "mrtd-sim")
    assert personalise(sp.image, SimTransport(card), "mrtd-sim").ok  # written in-process, saved to state
    with virtual_card(0, "mrtd-sim", state, die_after=14):
        t = PcscTransport(READERS[0])
        with pytest.raises(TransportError) as err:
            read_chip(t, MRZ, None, AT)
        t.close()
    assert err.value.step.startswith(("read ", "select ")), err.value


def test_locked_chip_that_fails_is_spoiled(pcscd: None, specimens: dict[str, Specimen], tmp_path: Path) -> None:
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise

    state = tmp_path / "card.json"
    first = specimens["mrtd-sim"]
    with virtual_card(0, "mrtd-sim", state):
        t = PcscTransport(READERS[0])
        try:
            assert personalise(first.image, t, "mrtd-sim").ok
            # a second document onto the locked chip: refused writes, read-back differs -> spoiled
            other = specimen("mrtd-sim", dg2_size=1000)
            t.reconnect()
            report = personalise(other.image, t, "mrtd-sim")
        finally:
            t.close()
    assert report.status == "spoiled" and not report.ok
    assert any(c.name == "read-back" and c.status == "fail" for c in report.checks)


def test_no_card_and_no_reader(pcscd: None) -> None:
    from mrtd.chip.pcsc import PcscTransport, list_readers, wait_for_card

    assert set(READERS.values()) <= set(list_readers())
    with pytest.raises(TransportError) as err:
        PcscTransport("No Such Reader 00 00")
    assert err.value.step == "connect"
    with pytest.raises(TransportError) as err2:
        wait_for_card(READERS[1], 0.3)
    assert err2.value.step == "wait for card"


if os.environ.get("MRTD_PCSC_DEBUG"):
    print("pcsc tests use", SCRIPT)


def test_cli_write_and_read(pcscd: None, specimens: dict[str, Specimen], tmp_path: Path) -> None:
    from click.testing import CliRunner
    from cryptography.hazmat.primitives.serialization import Encoding

    from mrtd.chip.document import DocumentImage, write_folder
    from mrtd.cli.chip_card import read, write

    sp = specimens["mrtd-sim"]
    folder = tmp_path / "doc"
    write_folder(DocumentImage(dict(sp.image.files), sp.image.aa_key, sp.image.ca_key, sp.image.ca_key_id), folder)
    trust = tmp_path / "csca.pem"
    trust.write_bytes(sp.csca_certificate.public_bytes(Encoding.PEM))
    runner = CliRunner()
    with virtual_card(0, "mrtd-sim", tmp_path / "card.json"):
        w = runner.invoke(write, [str(folder), "--reader", READERS[0], "--profile", "mrtd-sim", "--trust", str(trust), "--json"])
        assert w.exit_code == 0, w.output
        out = tmp_path / "out"
        r = runner.invoke(read, ["--reader", READERS[0], "--mrz-info", "L898902C3,740812,120415", "--out", str(out),
                                 "--trust", str(trust)])
        assert r.exit_code == 0, r.output
        assert (out / "DG2.bin").read_bytes() == sp.image.files["DG2"]
        bad = runner.invoke(read, ["--reader", READERS[0], "--mrz-info", "L898902C3,740812,120416", "--out", str(out)])
        assert bad.exit_code == 1 and "PACE mutual authentication" in bad.output
        no_can = runner.invoke(read, ["--reader", READERS[0], "--can", "000000", "--out", str(out)])
        assert no_can.exit_code == 1 and "PACE MSE:Set AT" in no_can.output  # this document has no CAN
        usage = runner.invoke(read, ["--reader", READERS[0], "--out", str(out)])
        assert usage.exit_code == 2


def test_cli_simulate_serves_a_slot(pcscd: None, tmp_path: Path) -> None:
    """`mrtd chip simulate --slot 1` (invoked through its click command) is a card pcscd sees."""
    from mrtd.chip import pcsc

    since = time.monotonic() - _last_stop.get(1, 0.0)
    if since < 1.0:
        time.sleep(1.0 - since)
    code = "from mrtd.cli.chip_card import simulate; simulate(['--slot', '1', '--profile', 'jmrtd-applet'])"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and "vpcd slot 1" in proc.stdout.readline()
        pcsc.wait_for_card(READERS[1], 10)
        t = pcsc.PcscTransport(READERS[1])
        try:
            assert t.atr[:4] == bytes.fromhex("3B888001")
            assert t.transmit(bytes.fromhex("00A4040C07A0000002471001")) == b"\x90\x00"
            assert t.transmit(bytes.fromhex("00A4020C020101")) == b"\x6a\x82"  # a blank card
        finally:
            t.close()
    finally:
        proc.kill()
        proc.wait()
        _last_stop[1] = time.monotonic()
