"""Extended Access Control in-process: DG3 (ISO 19794-4 WSQ finger images) and DG4 (ISO 19794-6 iris)
readable only after Terminal Authentication with a valid, unexpired chain and the right access rights;
the chip's current date moves with accurate certificates; the finger images decode with NBIS's WSQ
decoder and match their ISO 19794-4 headers. (The same through pcscd + vpcd: test_pcsc_integration.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import eackit

from mrtd.chip.fingerprint import wsq_decode
from mrtd.chip.lds.dg3 import Dg3
from mrtd.chip.lds.dg4 import Dg4
from mrtd.chip.lds.finger import Compression
from mrtd.chip.perso import personalise
from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.reader import ChipSession, read_chip
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.pki.cvc.certificate import READ_DG3
from mrtd.pki.cvc.store import CvPki
from mrtd.pki.trust import TrustStore

MRZ = MrzInfo("L898902C3", "740812", "120415")
AT = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def eac(tmp_path_factory: pytest.TempPathFactory) -> eackit.Eac:
    return eackit.cv_pki(tmp_path_factory.mktemp("cvpki"))


@pytest.fixture(scope="module")
def card(eac: eackit.Eac) -> tuple[VirtualCard, TrustStore, dict[str, bytes]]:
    sp = eackit.eac_specimen(eac)
    trust = TrustStore()
    trust.add_certificate(sp.csca_certificate)
    c = VirtualCard("mrtd-sim")
    report = personalise(sp.image, SimTransport(c), "mrtd-sim", trust=trust, at=AT)
    assert report.ok, report.checks
    assert c.state.locked and c.state.current_date == eackit.TODAY.isoformat()
    return c, trust, dict(sp.image.files)


@pytest.mark.parametrize("secret", [MRZ, "123456"], ids=["PACE-MRZ", "PACE-CAN"])
def test_a_valid_chain_reads_dg3_and_dg4(card: tuple[VirtualCard, TrustStore, dict[str, bytes]], eac: eackit.Eac, secret: MrzInfo | str) -> None:
    c, trust, files = card
    c.power_on()
    report = read_chip(SimTransport(c), secret, trust, AT, terminal=eac.terminal, max_read=60000)
    assert report.ok, report.checks
    assert report.check("terminal-authentication").status == "pass"  # type: ignore[union-attr]
    assert report.files["DG3"] == files["DG3"] and report.files["DG4"] == files["DG4"]
    assert report.check("passive-authentication").status == "pass"  # type: ignore[union-attr]


def test_finger_images_decode_with_nbis_and_match_their_headers(card: tuple[VirtualCard, TrustStore, dict[str, bytes]]) -> None:
    dg3 = Dg3.decode(card[2]["DG3"])
    assert [i.header_value(0x82) for i in dg3.instances] == [b"\x09", b"\x0a"]  # right / left pointer finger
    assert all(i.header_value(0x88) == b"\x00\x07" for i in dg3.instances)  # ISO/IEC 19794-4
    for k, record in enumerate(dg3.records()):
        assert record.compression is Compression.WSQ and record.resolution == 500
        (view,) = record.images
        img = wsq_decode(view.image)  # NBIS's wsq_decode_mem
        assert img.mode == "L" and img.size == (view.width, view.height) == (260, 320)
        same = _mean_difference(img, eackit.finger_png(k))
        other = _mean_difference(img, eackit.finger_png(k + 5))
        assert same < other / 2  # lossy, but the picture that went in
    iris = Dg4.decode(card[2]["DG4"]).records()[0]
    assert iris.images[0][:3] == b"\xff\xd8\xff" and (iris.width, iris.height) == (640, 480)


def _mean_difference(img: object, png: bytes) -> float:
    import io

    from PIL import Image, ImageChops, ImageStat

    original = Image.open(io.BytesIO(png)).convert("L")
    return float(ImageStat.Stat(ImageChops.difference(img, original)).mean[0])  # type: ignore[arg-type]


def test_without_terminal_authentication_the_card_refuses(card: tuple[VirtualCard, TrustStore, dict[str, bytes]]) -> None:
    from mrtd.chip.protocol import perso_commands as pc

    c, trust, _ = card
    c.power_on()
    report = read_chip(SimTransport(c), MRZ, trust, AT)
    assert report.ok and "DG3" not in report.files
    assert report.check("terminal-authentication").status == "skipped"  # type: ignore[union-attr]
    c.power_on()
    s = ChipSession(SimTransport(c))
    s.run_pace(__import__("mrtd.chip.protocol.pace", fromlist=["x"]).parse_card_access(s.read_card_access() or b"")[0], MRZ)
    s.select_applet()
    s.check(pc.select_file(0x0103), "select DG3")
    assert s.send(pc.read_binary(0, 4), "read DG3").sw == 0x6982


def test_an_expired_chain_is_refused(tmp_path: Path, eac: eackit.Eac, card: tuple[VirtualCard, TrustStore, dict[str, bytes]]) -> None:
    c, trust, _ = card
    cv = CvPki(tmp_path, "UT")
    # the same CVCA's key is not here, so make a fresh PKI whose IS certificate expired before the chip's date
    old = eackit.cv_pki(tmp_path / "old", today=dt.date(2025, 1, 1), is_days=10)
    del cv
    c.power_on()
    report = read_chip(SimTransport(c), MRZ, trust, AT, terminal=old.terminal)
    ta = report.check("terminal-authentication")
    assert ta is not None and ta.status == "fail" and "DG3" not in report.files


def test_an_expired_terminal_certificate_of_the_right_pki_is_refused(eac: eackit.Eac, card: tuple[VirtualCard, TrustStore, dict[str, bytes]]) -> None:
    c, trust, _ = card
    _dv, term = eac.terminal.chain
    # the chip's date is past the IS certificate's expiry: set it forward through its memory
    c.state.current_date = (term.expiration + dt.timedelta(days=1)).isoformat()
    try:
        c.power_on()
        report = read_chip(SimTransport(c), MRZ, trust, AT, terminal=eac.terminal)
        ta = report.check("terminal-authentication")
        assert ta is not None and ta.status == "fail" and "PSO:Verify Certificate" in ta.detail and "6A80" in ta.detail
    finally:
        c.state.current_date = eackit.TODAY.isoformat()


def test_rights_are_the_and_of_the_chain(tmp_path: Path, card: tuple[VirtualCard, TrustStore, dict[str, bytes]], eac: eackit.Eac) -> None:
    """An IS certificate with DG3 rights only, under the chip's CVCA: DG4 stays closed."""
    c, trust, files = card
    # issue, under the same CVCA (its PKI folder is the module fixture's), a DG3-only terminal
    root = Path(str(eac.chain_file)).parent.parent
    cv = CvPki(root, "UT")
    _t, chain, key = cv.issue_is(eac.dv.chr, "ISDG3", READ_DG3, 30, eackit.PW, eackit.PW, eackit.TODAY, tmp_path)
    from mrtd.pki.cvc.certificate import split_certificates
    from mrtd.pki.keys import decrypt_private_key

    k = decrypt_private_key(key.read_bytes(), eackit.PW)
    creds = dataclasses.replace(eac.terminal, chain=tuple(split_certificates(chain.read_bytes())), key=k)  # type: ignore[arg-type]
    c.power_on()
    report = read_chip(SimTransport(c), MRZ, trust, AT, terminal=creds)
    ta = report.check("terminal-authentication")
    assert ta is not None and ta.status == "fail" and "read DG4" in ta.detail and "6982" in ta.detail
    assert report.files["DG3"] == files["DG3"] and "DG4" not in report.files


def test_accurate_certificates_move_the_chip_date(tmp_path: Path) -> None:
    eac = eackit.cv_pki(tmp_path)
    sp = eackit.eac_specimen(eac, today=dt.date(2025, 12, 1))  # personalised a month before the PKI's date
    c = VirtualCard("mrtd-sim")
    assert personalise(sp.image, SimTransport(c), "mrtd-sim").ok
    assert c.state.current_date == "2025-12-01"
    c.power_on()
    report = read_chip(SimTransport(c), MRZ, None, AT, terminal=eac.terminal)
    assert report.check("terminal-authentication").status == "pass"  # type: ignore[union-attr]
    assert c.state.current_date == eackit.TODAY.isoformat()  # DV and domestic IS certificates are accurate


def test_a_link_certificate_moves_the_trust_point(tmp_path: Path) -> None:
    """CVCA rollover: the chip trusts the old CVCA; the terminal sends the link certificate (signed by the
    old key), then a DV certified by the new CVCA, then itself; the chip takes the new trust point."""
    from mrtd.chip.reader import TerminalCredentials
    from mrtd.pki.cvc.certificate import READ_DG4, split_certificates
    from mrtd.pki.keys import decrypt_private_key

    old = eackit.cv_pki(tmp_path / "cv")
    sp = eackit.eac_specimen(old)
    c = VirtualCard("mrtd-sim")
    assert personalise(sp.image, SimTransport(c), "mrtd-sim").ok
    cv = CvPki(tmp_path / "cv", "UT")
    later = eackit.TODAY + dt.timedelta(days=60)
    new, link = cv.link(3 * 365, eackit.PW, later)
    dv = cv.issue_dv("DVNEW", True, READ_DG3 | READ_DG4, 90, eackit.PW, later)
    _t, chain, key = cv.issue_is(dv.chr, "ISNEW", READ_DG3 | READ_DG4, 30, eackit.PW, eackit.PW, later, tmp_path / "is")
    k = decrypt_private_key(key.read_bytes(), eackit.PW)
    certs = (link, *split_certificates(chain.read_bytes()))
    c.power_on()
    report = read_chip(SimTransport(c), MRZ, None, AT, terminal=TerminalCredentials(certs, k))  # type: ignore[arg-type]
    assert report.check("terminal-authentication").status == "pass", report.checks  # type: ignore[union-attr]
    assert "DG3" in report.files and "DG4" in report.files
    from mrtd.pki.cvc.certificate import CvCertificate

    trust = [CvCertificate.decode(t).chr for t in c.state.cvca]
    assert trust == [new.chr, old.cvca.chr]  # the new trust point first, the old one kept as the previous
    assert c.state.current_date == later.isoformat()
    # without the link certificate a chip that only knows the old CVCA cannot check the new DV
    c2 = VirtualCard("mrtd-sim")
    assert personalise(eackit.eac_specimen(old).image, SimTransport(c2), "mrtd-sim").ok
    c2.power_on()
    refused = read_chip(SimTransport(c2), MRZ, None, AT, terminal=TerminalCredentials(certs[1:], k))  # type: ignore[arg-type]
    assert refused.check("terminal-authentication").status == "fail"  # type: ignore[union-attr]
