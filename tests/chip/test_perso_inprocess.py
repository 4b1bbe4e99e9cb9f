"""Personalisation and read-back against the in-process simulator (what the issuing pipeline uses)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.chip.document import DocumentImage
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.perso import ChipImage, personalise, plan
from mrtd.chip.profiles import load_profile
from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.reader import mrz_info_from_dg1, read_chip
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.specimen import Specimen, specimen
from mrtd.chip.sim.transport import SimTransport
from mrtd.errors import ChipError, MrtdError, ProfileError, TransportError
from mrtd.pki.trust import TrustStore

AT = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
MRZ = MrzInfo("L898902C3", "740812", "120415")


@pytest.fixture(scope="module")
def sims() -> dict[str, Specimen]:
    return {p: specimen(p) for p in ("mrtd-sim", "jmrtd-applet")}


def _trust(sp: Specimen) -> TrustStore:
    ts = TrustStore()
    ts.add_certificate(sp.csca_certificate)
    return ts


class Dying:
    """A transport whose card goes away after `after` APDUs."""

    def __init__(self, inner: SimTransport, after: int) -> None:
        self.inner, self.left = inner, after

    def transmit(self, apdu: bytes) -> bytes:
        if self.left == 0:
            raise TransportError("transmit", "card removed")
        self.left -= 1
        return self.inner.transmit(apdu)

    def close(self) -> None:
        pass


class Corrupting:
    """Flips one byte in the data of the n-th UPDATE BINARY (a write that went wrong on the way)."""

    def __init__(self, inner: SimTransport, nth: int) -> None:
        self.inner, self.nth = inner, nth

    def transmit(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xD6:
            self.nth -= 1
            if self.nth == 0:
                apdu = apdu[:-1] + bytes((apdu[-1] ^ 0xFF,))
        return self.inner.transmit(apdu)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("profile", ["mrtd-sim", "jmrtd-applet"])
def test_personalise_document_image(sims: dict[str, Specimen], profile: str) -> None:
    sp = sims[profile]
    doc = DocumentImage(
        {k: v for k, v in sp.image.files.items()}, sp.image.aa_key, sp.image.ca_key, sp.image.ca_key_id
    )
    card = VirtualCard(profile)
    report = personalise(doc, SimTransport(card), profile, trust=_trust(sp), at=AT)
    assert report.ok and card.state.locked
    # read-back, AA, CA, passive authentication, the lock, and on the PACE chip the access control DG14 signs
    names = ["read-back", "access-control", "active-authentication", "chip-authentication", "passive-authentication",
             "lock"]
    if profile == "jmrtd-applet":
        names.remove("access-control")
    assert [(c.name, c.status) for c in report.checks] == [(n, "pass") for n in names]
    again = read_chip(SimTransport(card), MRZ, _trust(sp), AT)
    assert again.ok and again.files["DG2"] == sp.image.files["DG2"]


def test_plans_follow_the_profiles(sims: dict[str, Specimen]) -> None:
    short = plan(sims["jmrtd-applet"].image, load_profile("jmrtd-applet"))
    assert all(len(s.command.data) <= 255 and not s.command.extended for s in short)
    assert not any(s.step.startswith(("CAN", "create EF.CardAccess")) for s in short)
    ext = plan(sims["mrtd-sim"].image, load_profile("mrtd-sim"))
    assert [s.step for s in ext if s.step.startswith("write DG2")] == ["write DG2 at 0"]
    assert ext[0].step == "select master file" and any(s.step == "CAN" for s in ext)
    assert len(ext) < len(short) / 3


def test_profile_mismatch_refused(sims: dict[str, Specimen]) -> None:
    image = sims["jmrtd-applet"].image
    with pytest.raises(ProfileError):
        plan(ChipImage(image.files, ec.generate_private_key(ec.SECP256R1())), load_profile("jmrtd-applet"))
    with pytest.raises(ProfileError):
        plan(sims["mrtd-sim"].image, load_profile("jmrtd-applet"))  # EF.CardAccess, CAN


@pytest.mark.parametrize("profile,after", [("jmrtd-applet", 30), ("jmrtd-applet", 150), ("mrtd-sim", 9)])
def test_interrupted_personalisation_restarts(sims: dict[str, Specimen], profile: str, after: int) -> None:
    sp = sims[profile]
    card = VirtualCard(profile)
    with pytest.raises(TransportError) as err:
        personalise(sp.image, Dying(SimTransport(card), after), profile)
    assert err.value.step and err.value.step != "transmit"
    assert not card.state.locked
    card.power_on()
    assert personalise(sp.image, SimTransport(card), profile).ok


def test_failed_read_back_is_not_good_and_not_locked(sims: dict[str, Specimen]) -> None:
    sp = sims["jmrtd-applet"]
    card = VirtualCard("jmrtd-applet")
    report = personalise(sp.image, Corrupting(SimTransport(card), 5), "jmrtd-applet")
    assert report.status == "failed" and not report.ok and not card.state.locked
    assert report.checks[0].name == "read-back" and report.checks[0].status == "fail"
    # and a clean second run fixes it
    card.power_on()
    assert personalise(sp.image, SimTransport(card), "jmrtd-applet").ok


def test_interrupted_reading_names_the_step(sims: dict[str, Specimen]) -> None:
    sp = sims["mrtd-sim"]
    card = VirtualCard("mrtd-sim")
    assert personalise(sp.image, SimTransport(card), "mrtd-sim").ok
    card.power_on()
    with pytest.raises(TransportError) as err:
        read_chip(Dying(SimTransport(card), 12), MRZ, None, AT)
    assert err.value.step.startswith(("read ", "select ", "PACE"))


def test_can_on_a_bac_chip_is_refused(sims: dict[str, Specimen]) -> None:
    card = VirtualCard("jmrtd-applet")
    assert personalise(sims["jmrtd-applet"].image, SimTransport(card), "jmrtd-applet").ok
    with pytest.raises(ChipError) as err:
        read_chip(SimTransport(card), "123456")
    assert err.value.step == "access control"


def test_passive_authentication_catches_a_foreign_trust_store(sims: dict[str, Specimen]) -> None:
    card = VirtualCard("mrtd-sim")
    sp = sims["mrtd-sim"]
    report = personalise(sp.image, SimTransport(card), "mrtd-sim", trust=_trust(sims["jmrtd-applet"]), at=AT)
    assert report.status == "failed" and not card.state.locked
    passive = next(c for c in report.checks if c.name == "passive-authentication")
    assert passive.status == "fail"


def test_mrz_info_from_dg1_long_document_number() -> None:
    # Doc 9303-11 App. D.2, TD1 with a 12-character document number (tests/vectors/chip/p11.json)
    dg1 = Dg1.create(["I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2",
                      "STEVENSON<<PETER<JOHN<<<<<<<<<"]).encode()
    info = mrz_info_from_dg1(dg1)
    assert info.information == "D23145890734934071279507122"


@pytest.mark.parametrize(
    "mapping,cipher,param_id",
    [("IM", "AES128", 12), ("CAM", "AES128", 12), ("GM", "AES256", 16), ("GM", "DES3", 13)],
)
def test_pace_variants_through_the_simulator(sims: dict[str, Specimen], mapping: str, cipher: str, param_id: int) -> None:
    from mrtd.chip.protocol.kdf import Cipher
    from mrtd.chip.protocol.pace import Mapping, PaceParams

    params = PaceParams(Mapping[mapping], Cipher[cipher], param_id)
    sp = specimen("mrtd-sim", 2000, pace=params)
    image = sp.image
    card = VirtualCard("mrtd-sim")
    report = personalise(image, SimTransport(card), "mrtd-sim", trust=_trust(sp), at=AT)
    assert report.ok, report.checks
    card.power_on()
    read = read_chip(SimTransport(card), "123456", _trust(sp), AT, max_read=4000)
    assert read.ok and read.protocol == params.oid.hex().upper()
    if mapping == "CAM":
        cam = read.check("pace-cam")
        assert cam is not None and cam.status == "pass"


def test_cam_with_a_chip_key_on_another_curve_fails(sims: dict[str, Specimen]) -> None:
    from mrtd.chip.protocol.kdf import Cipher
    from mrtd.chip.protocol.pace import Mapping, PaceParams, card_access

    # the chip-authentication key is on P-256; CAM here runs on brainpoolP256r1
    sp = specimen("mrtd-sim", 2000, pace=PaceParams(Mapping.CAM, Cipher.AES128, 12))
    files = dict(sp.image.files) | {"EF.CardAccess": card_access(PaceParams(Mapping.CAM, Cipher.AES128, 13))}
    image = ChipImage(files, sp.image.aa_key, sp.image.ca_key, sp.image.ca_key_id)
    card = VirtualCard("mrtd-sim")
    with pytest.raises(ProfileError) as err:  # found before the first byte
        personalise(image, SimTransport(card), "mrtd-sim")
    assert {f.rule for f in err.value.findings} == {"cam-curve", "dg14-card-access"}
    assert card.apdus == 0 and not card.state.files


class Hostile:
    """A 'chip' that answers with random bytes (a broken or malicious card)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers

    def transmit(self, apdu: bytes) -> bytes:
        return self.answers.pop(0) if self.answers else b"\x90\x00"

    def close(self) -> None:
        pass


@settings(max_examples=150)
@given(st.lists(st.binary(max_size=80).map(lambda b: b + b"\x90\x00"), max_size=12))
def test_reader_against_random_answers_raises_only_mrtd_errors(answers: list[bytes]) -> None:
    with contextlib.suppress(MrtdError):
        read_chip(Hostile(list(answers)), MRZ, None, AT)


def test_a_built_document_image_goes_on_the_chip() -> None:
    """The LDS side's own builder (tests/chip/lds/ldskit.py): DocumentImage with DG7/11/12, EF.CardAccess
    on brainpoolP256r1, ECDSA AA, CA; personalised, read back and passively authenticated."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "lds"))
    import ldskit

    pki = ldskit.make_pki()
    img = ldskit.build(pki)
    card = VirtualCard("mrtd-sim")
    report = personalise(img, SimTransport(card), "mrtd-sim", trust=pki.trust(), at=ldskit.NOW)
    assert report.ok, report.checks
    assert report.read is not None and report.read.access == "PACE"
    assert set(report.read.files) == set(img.files)
    with pytest.raises(ProfileError):
        personalise(img, SimTransport(VirtualCard("jmrtd-applet")), "jmrtd-applet")  # EF.CardAccess: no MF


@pytest.fixture(scope="module")
def personalised(sims: dict[str, Specimen]) -> tuple[str, TrustStore]:
    """A locked mrtd-sim card's state (as JSON, so that each example starts from a fresh copy)."""
    card = VirtualCard("mrtd-sim")
    assert personalise(sims["mrtd-sim"].image, SimTransport(card), "mrtd-sim", trust=_trust(sims["mrtd-sim"]), at=AT).ok
    return card.state.to_json(), _trust(sims["mrtd-sim"])


def _cloned(state_json: str, key: str, content: bytes) -> VirtualCard:
    from mrtd.chip.sim.card import CardState

    state = CardState.from_json(state_json)
    state.files[key] = bytearray(content)
    return VirtualCard(state=state)


_SIGNED = ("DG1", "DG2", "DG14", "DG15", "EF.SOD")
_MUTATIONS = st.lists(
    st.tuples(st.sampled_from(["flip", "cut", "insert"]), st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=4
)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["mf:011C", "app:011E", "app:0101", "app:010E", "app:010F", "app:011D"]), _MUTATIONS)
def test_a_cloned_chip_with_altered_files_is_never_accepted_as_the_original(
    sims: dict[str, Specimen], personalised: tuple[str, TrustStore], key: str, mutations: list[tuple[str, int, int]]
) -> None:
    """A cloned or forged chip: secure messaging is genuine (the forger holds the keys), the contents are not.
    EF.CardAccess, EF.COM, DG1, DG14, DG15 or EF.SOD altered, cut or grown reach PACE, Chip and Active
    Authentication and passive authentication as the chip sends them. The read raises an MrtdError, or fails
    a check, or - where only the unsigned EF.COM or EF.CardAccess changed - still proves exactly what the
    original proves: the same signed files, PACE as DG14 signs it, Active and Chip Authentication run."""
    state_json, trust = personalised
    content = bytearray.fromhex(json.loads(state_json)["files"][key])
    for op, at, value in mutations:
        i = at % (len(content) + 1)
        if op == "flip" and content:
            content[i % len(content)] ^= value or 1
        elif op == "cut":
            del content[i:]
        else:
            content[i:i] = bytes((value,))
    try:
        report = read_chip(SimTransport(_cloned(state_json, key, bytes(content))), MRZ, trust, AT, max_read=4000)
    except MrtdError:
        return
    if report.ok:
        original = sims["mrtd-sim"].image.files
        assert all(report.files[n] == original[n] for n in _SIGNED)
        statuses = {c.name: c.status for c in report.checks}
        assert statuses["access-control"] == statuses["active-authentication"] == statuses["chip-authentication"] == "pass"


def test_an_ef_com_without_dg15_does_not_switch_active_authentication_off(
    sims: dict[str, Specimen], personalised: tuple[str, TrustStore]
) -> None:
    """EF.COM is not signed: the data groups EF.SOD covers are read even where EF.COM leaves them out."""
    from mrtd.asn1.tlv import parse_all, tlv

    state_json, trust = personalised
    (com,) = parse_all(sims["mrtd-sim"].image.files["EF.COM"])
    body = b"".join(tlv(k.tag, k.value.replace(b"\x6F", b"") if k.tag == 0x5C else k.value) for k in com.children())
    report = read_chip(SimTransport(_cloned(state_json, "app:011E", tlv(0x60, body))), MRZ, trust, AT, max_read=4000)
    assert report.ok and "DG15" in report.files
    assert report.check("active-authentication").status == "pass"  # type: ignore[union-attr]
    assert "leaves out DG15" in report.check("data-groups").detail  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "at,value,access,why",
    [(7, 0x55, "BAC", "BAC was used"),  # inside the PACE OID: no PACEInfo the reader knows
     (21, 13, "PACE", "on domain 13, which DG14 (signed) does not list")],  # brainpoolP256r1 for P-256
)
def test_an_altered_ef_card_access_is_caught_by_the_signed_dg14(
    sims: dict[str, Specimen], personalised: tuple[str, TrustStore], at: int, value: int, access: str, why: str
) -> None:
    """EF.CardAccess is not signed: damaged, it makes the reader fall back to BAC; altered, it makes both sides
    run another PACE. DG14's PACEInfo (signed) shows what the chip was issued with."""
    state_json, trust = personalised
    card_access = bytearray(sims["mrtd-sim"].image.files["EF.CardAccess"])
    card_access[at] = value
    report = read_chip(SimTransport(_cloned(state_json, "mf:011C", bytes(card_access))), MRZ, trust, AT, max_read=4000)
    assert report.access == access and not report.ok
    check = report.check("access-control")
    assert check is not None and check.status == "fail" and why in check.detail


def test_pace_the_reader_cannot_run_is_no_downgrade_when_ef_card_access_is_as_signed() -> None:
    """A chip with PACE on proprietary domain parameters (PACEInfo without parameterId, Doc 9303-11 §9.2.1):
    the reader falls back to BAC. EF.CardAccess holding DG14's PACEInfo byte for byte is the reader's limit,
    not an alteration; without it, it is."""
    from mrtd.chip.lds.dg14 import Dg14
    from mrtd.chip.lds.securityinfos import ID_PACE, PaceInfo, SecurityInfos
    from mrtd.chip.reader import _access_as_signed

    proprietary = PaceInfo.create(f"{ID_PACE}.2.2", None)  # ECDH-GM-AES-128 on domain parameters of its own
    dg14 = Dg14.create([proprietary]).encode()
    card_access = SecurityInfos.create([proprietary]).raw
    same = _access_as_signed({"DG14": dg14, "EF.CardAccess": card_access}, None)
    assert same is not None and same.status == "pass" and "BAC was used" in same.detail
    gone = _access_as_signed({"DG14": dg14}, None)
    assert gone is not None and gone.status == "fail"
