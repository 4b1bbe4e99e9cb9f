"""The virtual card on its own: access conditions, life cycle, status words, secure-messaging rules,
persistence; random APDUs never crash it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.apdu import Command, Response
from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.reader import ChipSession
from mrtd.chip.sim.card import ATR, VirtualCard
from mrtd.chip.sim.transport import SimTransport

AID = bytes.fromhex("A0000002471001")
MRZ = MrzInfo("L898902C3", "740812", "120415")
COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")  # App. D.4 EF.COM


def sw(card: VirtualCard, cmd: Command | str) -> int:
    raw = bytes.fromhex(cmd) if isinstance(cmd, str) else cmd.encode()
    return Response.decode(card.process(raw)).sw


def written(profile: str = "jmrtd-applet") -> VirtualCard:
    card = VirtualCard(profile)
    for c in (pc.select_applet(AID), pc.create_file(0x011E, len(COM)), pc.select_file(0x011E),
              pc.update_binary(0, COM), pc.put_mrz_seed(MRZ.document_number, MRZ.date_of_birth, MRZ.date_of_expiry)):
        assert sw(card, c) == 0x9000, c
    return card


def test_atr_checksum() -> None:
    x = 0
    for b in ATR[1:]:
        x ^= b
    assert x == 0 and ATR[0] == 0x3B


def test_reading_needs_bac_even_before_the_lock() -> None:
    card = written()
    assert sw(card, pc.select_file(0x011E)) == 0x9000
    assert sw(card, pc.read_binary(0, 4)) == 0x6982
    session = ChipSession(SimTransport(card))
    session.select_applet()
    session.run_bac(MRZ)
    assert session.read_file("EF.COM") == COM


def test_lock_then_status_words() -> None:
    card = written()
    assert sw(card, pc.lock()) == 0x9000
    assert sw(card, pc.select_applet(AID)) == 0x9000
    assert sw(card, pc.select_file(0x011E)) == 0x6982
    assert sw(card, pc.read_binary(0, 4)) == 0x6982
    assert sw(card, pc.create_file(0x0101, 10)) == 0x6985
    assert sw(card, pc.update_binary(0, b"x")) == 0x6985
    assert sw(card, pc.put_mrz_seed("X", "000101", "000101")) == 0x6985
    assert sw(card, pc.lock()) == 0x6985
    # the chip still reads over BAC
    session = ChipSession(SimTransport(card))
    session.select_applet()
    session.run_bac(MRZ)
    assert session.read_file("EF.COM") == COM


def test_jmrtd_profile_limits() -> None:
    card = written()
    assert sw(card, Command(0, 0xD6, 0, 0, bytes(300))) == 0x6700  # no extended length
    assert sw(card, pc.create_file(0x0101, 40000)) == 0x6A84  # files at most 32767 bytes
    assert sw(card, pc.create_file(0x011E, len(COM) + 1)) == 0x6985  # re-create may only shrink
    assert sw(card, pc.select_file(0x0105)) == 0x6A82
    session = ChipSession(SimTransport(card))
    session.select_applet()
    session.run_bac(MRZ)
    assert session.send(Command(0, 0xB0, 0x9E, 0, b"", 4), "sfi").sw == 0x6A81  # no SFI READ BINARY


def test_plain_command_aborts_the_secure_channel() -> None:
    card = written()
    t = SimTransport(card)
    session = ChipSession(t)
    session.select_applet()
    session.run_bac(MRZ)
    assert card.channel is not None
    assert Response.decode(t.transmit(pc.select_file(0x011E).encode())).sw == 0x9000
    assert card.channel is None and card.auth is None
    assert Response.decode(t.transmit(pc.read_binary(0, 4).encode())).sw == 0x6982


def test_bad_mac_drops_the_session() -> None:
    card = written()
    t = SimTransport(card)
    session = ChipSession(t)
    session.select_applet()
    session.run_bac(MRZ)
    assert session.channel is not None
    bad = bytearray(session.channel.wrap(pc.select_file(0x011E)).encode())
    bad[-3] ^= 1
    assert Response.decode(t.transmit(bytes(bad))).sw == 0x6988
    assert card.channel is None


def test_wrong_bac_key_refused() -> None:
    card = written()
    session = ChipSession(SimTransport(card))
    session.select_applet()
    with pytest.raises(Exception, match="6300"):
        session.run_bac(MrzInfo("L898902C3", "740812", "120416"))


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    card = VirtualCard.load(path, "jmrtd-applet")
    for c in (pc.select_applet(AID), pc.create_file(0x011E, len(COM)), pc.select_file(0x011E), pc.update_binary(0, COM)):
        assert sw(card, c) == 0x9000
    again = VirtualCard.load(path, "jmrtd-applet")
    assert bytes(again.state.files["app:011E"]) == COM and not again.state.locked


@settings(max_examples=300)
@given(st.binary(min_size=0, max_size=300))
def test_random_apdus_never_crash(raw: bytes) -> None:
    card = written("mrtd-sim")
    rsp = card.process(raw)
    assert len(rsp) >= 2


@settings(max_examples=100)
@given(st.sampled_from([0x22, 0x86, 0x88, 0x82, 0x84, 0xA4, 0xB0, 0xDA, 0xE0, 0xD6]), st.binary(max_size=120),
       st.integers(0, 255), st.integers(0, 255))
def test_random_commands_of_known_ins_never_crash(ins: int, data: bytes, p1: int, p2: int) -> None:
    card = written("mrtd-sim")
    rsp = card.process(Command(0, ins, p1, p2, data, 256).encode())
    assert len(rsp) >= 2  # the card always answers with a status word


# every object PUT DATA writes (P1, P2), each in its own tag as perso_commands builds it
PUT_OBJECTS = [(0x00, 0x60), (0x00, 0x61), (0x00, 0x62), (0x00, 0x63), (0x00, 0x65), (0x00, 0x66), (0x00, 0x67),
               (0x01, 0x67), (0x00, 0x68)]


@pytest.mark.parametrize(("p2", "value"), [(0x65, b"12\xeb456"), (0x66, bytes.fromhex("3003020100")),
                                           (0x66, b"not a key")])
def test_a_malformed_can_or_active_authentication_key_is_refused_with_6a80(p2: int, value: bytes) -> None:
    from mrtd.asn1.tlv import tlv

    card = written("mrtd-sim")
    assert sw(card, Command(0x00, 0xDA, 0x00, p2, tlv(p2, value))) == 0x6A80
    assert card.state.can is None and card.state.aa_pkcs8 is None


@settings(max_examples=200)
@given(st.sampled_from(PUT_OBJECTS), st.binary(max_size=200), st.sampled_from(["mrtd-sim", "jmrtd-applet"]))
def test_put_data_of_any_content_never_crashes(p1p2: tuple[int, int], value: bytes, profile: str) -> None:
    from mrtd.asn1.tlv import tlv

    card = written(profile)
    assert len(card.process(Command(0x00, 0xDA, *p1p2, tlv(p1p2[1], value)).encode())) >= 2


class _IdleAfterAnswer(SimTransport):
    """The card served as the vpcd loop serves it: `idle` once each answer has gone out."""

    def __init__(self, card: VirtualCard) -> None:
        super().__init__(card)
        self.between: list[bool] = []  # after each answer that agreed new keys: the old ones gone before `idle`

    def transmit(self, apdu: bytes) -> bytes:
        rsp = super().transmit(apdu)
        if self.card.pending_channel is not None:
            self.between.append(self.card.channel is None)
        self.card.idle()
        return rsp


@pytest.mark.parametrize("transport", [SimTransport, _IdleAfterAnswer], ids=["next-command", "idle"])
def test_pace_and_chip_authentication_keys_derived_after_the_answer(transport: type[SimTransport]) -> None:
    """The card derives the session keys PACE and Chip Authentication agree after the answer that agreed them,
    in `idle` or else before the next command: the read-back of a personalisation passes PACE, Chip and
    Active Authentication either way, and between Chip Authentication's answer and `idle` the old keys are
    gone."""
    from mrtd.chip.perso import personalise
    from mrtd.chip.sim.specimen import specimen

    sp = specimen("mrtd-sim", dg2_size=1500)
    card = VirtualCard("mrtd-sim")
    t = transport(card)
    report = personalise(sp.image, t, "mrtd-sim")
    assert report.ok and report.read is not None
    checks = {c.name: c.status for c in report.read.checks}
    assert checks["chip-authentication"] == checks["active-authentication"] == "pass"
    assert report.read.access == "PACE"
    if isinstance(t, _IdleAfterAnswer):
        assert t.between == [True]  # Chip Authentication's answer, once
