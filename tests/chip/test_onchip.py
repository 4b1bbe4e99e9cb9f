"""Key pairs generated on the chip: the centre builds DG14/DG15 and EF.SOD around the public keys the chip
hands out; read back, Active and Chip Authentication pass against the chip's own keys; no private key
exists outside the chip (checked here in-process; through pcscd + vpcd with the issuing pipeline in
test_pcsc_onchip)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lds"))
import ldskit

from mrtd.chip.image import ChipImage
from mrtd.chip.onchip import ChipKeys, personalise_with_chip_keys
from mrtd.chip.reader import mrz_info_from_dg1, read_chip
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.errors import InputError, ProfileError


def _builder(pki: ldskit.Pki):  # type: ignore[no-untyped-def]
    def build(keys: ChipKeys) -> ChipImage:
        doc = ldskit.build(pki, aa_public=keys.aa, ca_public=keys.ca)
        assert doc.aa_key is None and doc.ca_key is None  # the centre never had a private key
        return ChipImage(doc.files, aa_public=keys.aa, ca_public=keys.ca)

    return build


@pytest.mark.parametrize("aa,ca", [("ecdsa-p256", "ecdh-brainpoolp256r1"), ("rsa-2048", "ecdh-p384")])
def test_keys_made_on_the_chip(aa: str, ca: str) -> None:
    pki = ldskit.make_pki()
    card = VirtualCard("mrtd-sim")
    image, report = personalise_with_chip_keys(_builder(pki), SimTransport(card), "mrtd-sim", aa=aa, ca=ca,
                                               trust=pki.trust(), at=ldskit.NOW)
    assert report.ok, report.checks
    checks = {c.name: c.status for c in report.checks}
    assert checks["active-authentication"] == checks["chip-authentication"] == "pass"
    assert image.aa_key is None and image.ca_key is None and image.onchip == {"active-authentication", "chip-authentication"}
    card.power_on()
    again = read_chip(SimTransport(card), mrz_info_from_dg1(image.files["DG1"]), pki.trust(), ldskit.NOW)
    assert again.ok and again.check("chip-authentication").status == "pass"  # type: ignore[union-attr]


def test_a_profile_that_cannot_generate_is_refused_untouched() -> None:
    pki = ldskit.make_pki()
    card = VirtualCard("jmrtd-applet")
    with pytest.raises(ProfileError):
        personalise_with_chip_keys(_builder(pki), SimTransport(card), "jmrtd-applet", aa="rsa-1024", ca="ecdh-p192")
    assert card.apdus == 0
    with pytest.raises(InputError):  # not a key algorithm
        personalise_with_chip_keys(_builder(pki), SimTransport(VirtualCard("mrtd-sim")), "mrtd-sim", aa=None, ca="ecdh-p521x")
