"""Intake accepts fingerprints; the pipeline puts them in DG3 (WSQ) protected by Terminal Authentication
when the site has an EAC PKI, and the chip it personalises grants them only to a valid inspection system."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS

sys.path.insert(0, str(Path(__file__).parents[1] / "chip"))
import eackit

from mrtd.chip.lds.dg3 import Dg3
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.securityinfos import TerminalAuthenticationInfo
from mrtd.chip.reader import TerminalCredentials, read_chip
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.issuance.application import check_application, read_application
from mrtd.issuance.pipeline import IssueOptions, Issuer
from mrtd.issuance.site import init_site
from mrtd.pki.cvc.certificate import READ_DG3, READ_DG4, split_certificates
from mrtd.pki.cvc.store import CvPki
from mrtd.pki.keys import decrypt_private_key

PASS = b"pipeline-test-passphrase"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _application(tmp_path: Path, fingers: list[dict[str, str]]) -> Path:
    data = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text())
    for key in ("portrait", "signature"):
        if data.get(key):
            shutil.copy(EXAMPLES / data[key], tmp_path / Path(data[key]).name)
            data[key] = Path(data[key]).name
    for i in range(2):
        (tmp_path / f"finger{i}.png").write_bytes(eackit.finger_png(i))
    data["fingerprints"] = fingers
    path = tmp_path / "app.json"
    path.write_text(json.dumps(data))
    return path


def test_intake_checks_fingerprints(tmp_path: Path) -> None:
    good = read_application(_application(tmp_path, [{"finger": "right-index", "image": "finger0.png"},
                                                     {"finger": "left-index", "image": "finger1.png"}]))
    assert [f for f, _ in good.fingerprints] == ["right-index", "left-index"]
    bad_path = _application(tmp_path, [{"finger": "right-index", "image": "finger0.png"},
                                       {"finger": "right-index", "image": "finger1.png"},
                                       {"finger": "left-index", "image": "missing.png"}, {"finger": "toe", "image": "x"}])
    checked = check_application(json.loads(bad_path.read_text()), base_dir=tmp_path)
    rules = {f.rule for f in checked.errors}
    assert {"duplicate-finger", "image-missing", "enum"} <= rules, checked.errors


def test_issue_with_fingerprints_protected_by_eac(tmp_path: Path) -> None:
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=lambda: NOW, certificate_country="UT", kdf_log2n=12)
    cv = CvPki(site.root / "pki", "UT")
    cv.init_cvca("CVCA", "brainpoolP256r1", 3 * 365, READ_DG3 | READ_DG4, PASS, NOW.date())
    dv = cv.issue_dv("DV", True, READ_DG3 | READ_DG4, 90, PASS, NOW.date())
    _t, chain, key = cv.issue_is(dv.chr, "GATE", READ_DG3 | READ_DG4, 30, PASS, PASS, NOW.date(), tmp_path / "is")
    app = read_application(_application(tmp_path, [{"finger": "right-index", "image": "finger0.png"},
                                                    {"finger": "left-index", "image": "finger1.png"}]))
    card = VirtualCard("mrtd-sim")
    with Issuer(site, clock=lambda: NOW, secrets=SIGNING_SECRETS, options=IssueOptions(render_page=False, actor="t")) as issuer:
        receipt = issuer.issue(app, tmp_path / "out", transport_factory=lambda: SimTransport(card))
    assert receipt.as_dict()["chip"]["status"] == "personalised"
    files = dict(card.state.files)
    dg3 = Dg3.decode(bytes(files["app:0103"]))
    assert len(dg3.records()) == 2
    assert Dg14.decode(bytes(files["app:010E"])).security_infos.of_type(TerminalAuthenticationInfo)
    card.power_on()
    k = decrypt_private_key(key.read_bytes(), PASS)
    terminal = TerminalCredentials(tuple(split_certificates(chain.read_bytes())), k)  # type: ignore[arg-type]
    mrz = receipt.as_dict()["mrz"][1]
    from mrtd.chip.protocol.bac import MrzInfo

    info = MrzInfo(mrz[0:9].rstrip("<"), mrz[13:19], mrz[21:27])
    report = read_chip(SimTransport(card), info, None, NOW, terminal=terminal)
    assert report.check("terminal-authentication").status == "pass"  # type: ignore[union-attr]
    assert report.files["DG3"] == bytes(files["app:0103"])
    card.power_on()
    assert "DG3" not in read_chip(SimTransport(card), info, None, NOW).files


@pytest.mark.parametrize("finger", ["right-thumb", "left-little"])
def test_cbeff_subtypes(finger: str) -> None:
    from mrtd.chip.lds.finger import FingerPosition

    pos = FingerPosition[finger.upper().replace("-", "_")]
    assert pos.cbeff_subtype == {"right-thumb": 0b00101, "left-little": 0b10110}[finger]
