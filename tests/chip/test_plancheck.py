"""Plans checked as a whole before the first byte (mrtd.chip.plancheck): the JMRTD applet refuses the
default document with every reason and an untouched card, and takes the document it can hold; the chip
holds exactly the built files (no EF.CardAccess for a --no-pace document); DG14 carries what Doc 9303-11
§9.2.11 asks for the protocols offered; status words are described by what they mean."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lds"))
import ldskit

from mrtd.chip.image import ChipImage
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.perso import personalise, plan
from mrtd.chip.plancheck import check_plan
from mrtd.chip.profiles import load_profile
from mrtd.chip.protocol.apdu import Response
from mrtd.chip.protocol.kdf import Cipher
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.chip.protocol.status import describe
from mrtd.chip.reader import ChipSession, mrz_info_from_dg1, read_chip
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.errors import ChipError, ProfileError


@pytest.fixture(scope="module")
def pki() -> ldskit.Pki:
    return ldskit.make_pki()


def test_jmrtd_applet_refuses_the_default_document_before_writing(pki: ldskit.Pki) -> None:
    default = ldskit.build(pki)  # the defaults of `mrtd chip build`: PACE, ECDSA P-256 AA, ECDH P-256 CA
    card = VirtualCard("jmrtd-applet")
    with pytest.raises(ProfileError) as err:
        personalise(default, SimTransport(card), "jmrtd-applet", trust=pki.trust(), at=ldskit.NOW)
    rules = {f.rule for f in err.value.findings}
    assert {"file-not-held", "aa-key-type", "ca-curve", "pace-protocol"} <= rules
    assert "secp256r1" in str(err.value) and "nothing was sent" in str(err.value)
    assert card.apdus == 0 and not card.state.files and not card.state.locked


def test_jmrtd_applet_takes_the_document_it_can_hold(pki: ldskit.Pki) -> None:
    holdable = ldskit.build(pki, aa="rsa-1024", ca="ecdh-p192", pace=False, ca_protocol=si.ID_CA_ECDH_3DES)
    assert check_plan(ChipImage(holdable.files, holdable.aa_key, holdable.ca_key), load_profile("jmrtd-applet")) == []
    card = VirtualCard("jmrtd-applet")
    report = personalise(holdable, SimTransport(card), "jmrtd-applet", trust=pki.trust(), at=ldskit.NOW)
    assert report.ok, report.checks
    assert {c.name: c.status for c in report.checks}["chip-authentication"] == "pass"
    assert card.state.locked


def test_the_sim_card_refuses_a_key_its_profile_cannot_take() -> None:
    """What the real applet did after files were written (6A80), the simulator does too; the plan check
    is what keeps it from happening."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from mrtd.chip.protocol import perso_commands as pc
    from mrtd.chip.protocol.curves import domain

    card = VirtualCard("jmrtd-applet")
    key = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    rsp = Response.decode(card.process(pc.put_ca_key(domain(12), key, None).encode()))
    assert rsp.sw == 0x6A80
    with pytest.raises(ChipError, match="6A80") as err:
        rsp.check("Chip Authentication key")
    assert "incorrect parameters in the command data field" in str(err.value)


def test_a_no_pace_document_gets_a_chip_without_pace(pki: ldskit.Pki) -> None:
    doc = ldskit.build(pki, pace=False)
    assert "EF.CardAccess" not in doc.files
    steps = plan(ChipImage(doc.files, doc.aa_key, doc.ca_key), load_profile("mrtd-sim"))
    assert not any("CardAccess" in s.step for s in steps)
    card = VirtualCard("mrtd-sim")
    report = personalise(doc, SimTransport(card), "mrtd-sim", trust=pki.trust(), at=ldskit.NOW)
    assert report.ok and report.read is not None
    assert report.read.access == "BAC" and set(report.read.files) == set(doc.files)
    card.power_on()
    session = ChipSession(SimTransport(card))
    assert session.read_card_access() is None  # the chip does not offer PACE
    assert read_chip(SimTransport(card), mrz_info_from_dg1(doc.files["DG1"])).access == "BAC"


def test_dg14_must_carry_what_the_chip_offers(pki: ldskit.Pki) -> None:
    doc = ldskit.build(pki)
    prof = load_profile("mrtd-sim")
    infos = Dg14.decode(doc.files["DG14"]).security_infos.infos
    # DG14 without the PACEInfo of EF.CardAccess, or without the chip's CA key
    for drop in (si.PaceInfo, si.ChipAuthenticationPublicKeyInfo):
        dg14 = Dg14.create([i for i in infos if not isinstance(i, drop)]).raw
        findings = check_plan(ChipImage({**doc.files, "DG14": dg14}, doc.aa_key, doc.ca_key), prof)
        assert {"dg14-card-access" if drop is si.PaceInfo else "ca-key-mismatch", "sod-coverage"} & {f.rule for f in findings}
    # a file the chip would hold that EF.COM does not list; a key with no DG15
    extra = ldskit.build(pki, aa=None)
    found = {f.rule for f in check_plan(ChipImage(extra.files, doc.aa_key, doc.ca_key), prof)}
    assert "aa-key-missing" in found
    assert check_plan(ChipImage(doc.files, doc.aa_key, doc.ca_key), prof) == []


@pytest.mark.parametrize(
    "sw,meaning",
    [(0x6A80, "incorrect parameters in the command data field"), (0x6982, "security status not satisfied"),
     (0x6985, "conditions of use not satisfied"), (0x0005, "CryptoException"), (0x63C2, "2 tries left"),
     (0x6A82, "file or application not found")],
)
def test_status_words_say_what_they_mean(sw: int, meaning: str) -> None:
    assert meaning in describe(sw)


def test_a_plain_refusal_inside_secure_messaging_is_described() -> None:
    channel = SecureChannel(bytes(16), bytes(16), 0, Cipher.AES128)
    with pytest.raises(ChipError) as err:
        channel.unwrap(bytes.fromhex("0005"), step="Chip Authentication key")
    assert err.value.sw == 0x0005 and "closed the channel" not in str(err.value)
    assert "ILLEGAL_USE" in str(err.value)
    with pytest.raises(ChipError, match="closed the channel"):
        SecureChannel(bytes(16), bytes(16), 0, Cipher.AES128).unwrap(b"\x90\x00", step="read DG1")


def test_files_beyond_32767_bytes_use_odd_ins_both_ways() -> None:
    from mrtd.chip.sim.specimen import specimen

    sp = specimen("mrtd-sim", dg2_size=50_000)
    assert len(sp.image.files["DG2"]) > 0x7FFF
    sent: list[bytes] = []

    class Spy(SimTransport):
        def transmit(self, apdu: bytes) -> bytes:
            sent.append(apdu)
            return super().transmit(apdu)

    card = VirtualCard("mrtd-sim")
    small_writes = dataclasses.replace(load_profile("mrtd-sim"), max_command_data=20_000)
    report = personalise(sp.image, Spy(card), small_writes)
    assert report.ok, report.checks
    assert bytes(card.state.files["app:0102"]) == sp.image.files["DG2"]
    assert any(a[1] == 0xD7 for a in sent)  # UPDATE BINARY with odd INS past offset 32767
    card.power_on()
    sent.clear()
    again = read_chip(Spy(card), "123456", max_read=8000)  # small reads, so offsets pass 32767
    assert again.files["DG2"] == sp.image.files["DG2"]
    assert any(a[1] == 0xB1 for a in sent)  # READ BINARY with odd INS (inside secure messaging)
    with pytest.raises(ProfileError) as err:  # the JMRTD applet's files stop at 32767 bytes
        plan(specimen("jmrtd-applet", dg2_size=50_000).image, load_profile("jmrtd-applet"))
    assert {f.rule for f in err.value.findings} == {"file-too-large"}


def test_update_binary_beyond_32767_is_odd_ins() -> None:
    from mrtd.chip.protocol import perso_commands as pc

    cmd = pc.update_binary(40_000, b"abc")
    assert (cmd.ins, cmd.p1, cmd.p2) == (0xD7, 0, 0) and cmd.data == bytes.fromhex("54029C40530361626300")[:-1]
    assert pc.parse_odd_data(cmd.data, "x") == (40_000, b"abc")
    assert pc.read_binary(40_000, 100).ins == 0xB1 and pc.read_binary(100, 100).ins == 0xB0
