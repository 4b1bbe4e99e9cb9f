"""Shared by the EAC tests: a CV PKI (CVCA -> DV -> inspection system) in a temporary folder, synthetic
finger and iris images, and a specimen chip image with DG3 (WSQ) and DG4 protected by Terminal
Authentication."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageDraw

from mrtd.chip.fingerprint import build_dg3
from mrtd.chip.lds import efcvca
from mrtd.chip.lds.dg4 import Dg4
from mrtd.chip.lds.finger import FingerPosition
from mrtd.chip.lds.iris import Eye, ImageFormat, IrisRecord
from mrtd.chip.reader import TerminalCredentials
from mrtd.chip.sim.specimen import Specimen, specimen
from mrtd.pki.cvc.certificate import READ_DG3, READ_DG4, CvCertificate, split_certificates
from mrtd.pki.cvc.store import CvPki
from mrtd.pki.keys import decrypt_private_key

TODAY = dt.date(2026, 1, 5)
PW = b"eac test passphrase"
FINGERS = (FingerPosition.RIGHT_INDEX, FingerPosition.LEFT_INDEX)


def finger_png(seed: int, size: tuple[int, int] = (260, 320)) -> bytes:
    """Ridges: concentric ellipses around a core, like a whorl (a test image, not a real finger)."""
    img = Image.new("L", size, 230)
    draw = ImageDraw.Draw(img)
    cx, cy = size[0] // 2 + seed * 7, size[1] // 2 - seed * 5
    for r in range(4, max(size), 9):
        draw.ellipse((cx - r, cy - int(r * 1.3), cx + r, cy + int(r * 1.3)), outline=40, width=4)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def iris_jpeg() -> bytes:
    img = Image.new("L", (640, 480), 200)
    draw = ImageDraw.Draw(img)
    draw.ellipse((170, 90, 470, 390), fill=110)
    draw.ellipse((270, 190, 370, 290), fill=15)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass(frozen=True)
class Eac:
    cvca: CvCertificate
    dv: CvCertificate
    terminal: TerminalCredentials
    chain_file: Path
    key_file: Path


def cv_pki(root: Path, country: str = "UT", *, is_days: int = 30, today: dt.date = TODAY) -> Eac:
    cv = CvPki(root, country)
    cvca = cv.init_cvca("CVCA", "brainpoolP256r1", 3 * 365, READ_DG3 | READ_DG4, PW, today)
    dv = cv.issue_dv("DVBORDER", True, READ_DG3 | READ_DG4, 90, PW, today)
    _term, chain_file, key_file = cv.issue_is(dv.chr, "IS", READ_DG3 | READ_DG4, is_days, PW, PW, today, root / "is")
    key = decrypt_private_key(key_file.read_bytes(), PW)  # as `mrtd chip read --is-key` loads it
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Eac(cvca, dv, TerminalCredentials(tuple(split_certificates(chain_file.read_bytes())), key), chain_file, key_file)


def dg3_dg4() -> dict[int, bytes]:
    dg3 = build_dg3([(pos, finger_png(i)) for i, pos in enumerate(FINGERS)])
    jpeg = iris_jpeg()
    dg4 = Dg4.create([IrisRecord.create(Eye.RIGHT, [jpeg], ImageFormat.MONO_JPEG, 640, 480, 300)])
    return {3: dg3.raw, 4: dg4.raw}


def eac_specimen(eac: Eac, profile: str = "mrtd-sim", today: dt.date = TODAY) -> Specimen:
    return specimen(profile, 4000, extra=dg3_dg4(), cvca=[eac.cvca.raw], ef_cvca=efcvca.create([eac.cvca.chr]),
                    chip_date=today)
