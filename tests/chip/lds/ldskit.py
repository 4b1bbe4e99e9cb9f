"""Chip-data test plumbing: a small PKI made with mrtd.pki's builders (CSCA -> Document Signer), a
sample document, a prepared portrait, and a document image built from them."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image, ImageDraw

from mrtd.chip.document import DocumentImage, build_document_image
from mrtd.chip.portrait import prepare_portrait
from mrtd.model import Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.mrz import mrz_lines
from mrtd.pki.certificates import Issuer, build_csca, build_document_signer, make_name
from mrtd.pki.signer import MemorySigner
from mrtd.pki.trust import TrustStore

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Pki:
    csca: x509.Certificate
    csca_signer: MemorySigner
    ds: x509.Certificate
    ds_signer: MemorySigner

    def trust(self) -> TrustStore:
        store = TrustStore()
        store.add_certificate(self.csca)
        return store

    def write_csca(self, path: Path) -> Path:
        path.write_bytes(self.csca.public_bytes(serialization.Encoding.PEM))
        return path


def _key(kind: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves: dict[str, Callable[[], ec.EllipticCurve]] = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "bp256": ec.BrainpoolP256R1}
    return ec.generate_private_key(curves[kind]())


@functools.cache
def make_pki(ds_kind: str = "p256", country: str = "NL", doc_types: tuple[str, ...] = ("P",)) -> Pki:
    csca_signer = MemorySigner(_key("p384"), "csca-test")
    csca = build_csca(
        csca_signer, make_name(country, "CSCA Test"), not_before=START,
        not_after=START + dt.timedelta(days=365 * 12), key_usage_end=START + dt.timedelta(days=365 * 3),
        rng=os.urandom,
    )  # fmt: skip
    ds_signer = MemorySigner(_key(ds_kind), f"ds-test-{ds_kind}")
    ds = build_document_signer(
        Issuer(csca_signer, csca), ds_signer.public_key(), make_name(country, "DS Test"),
        not_before=START, usage_end=START + dt.timedelta(days=90),
        not_after=START + dt.timedelta(days=365 * 11), document_types=doc_types, rng=os.urandom,
    )  # fmt: skip
    return Pki(csca, csca_signer, ds, ds_signer)


def sample_document(state: str = "NLD", code: str = "P") -> Document:
    holder = Holder(
        primary_identifier="DE BRUIJN",
        secondary_identifier="WILLEKE LISELOTTE",
        nationality=state,
        date_of_birth=PartialDate(1965, 3, 10),
        sex=Sex.FEMALE,
        place_of_birth="AMSTERDAM",
        personal_number="999999990",
        address="Kerkstraat 1, Amsterdam",
        profession="Engineer",
    )
    return Document(
        code=DocumentCode(code), format=DocumentFormat.TD3, issuing_state=state, holder=holder,
        date_of_expiry=dt.date(2036, 1, 4), date_of_issue=dt.date(2026, 1, 5), number="SPECI2026",
        authority="Burgemeester van Amsterdam",
    )  # fmt: skip


MRZ = mrz_lines(sample_document())


def synthetic_photo(width: int = 600, height: int = 750, seed: int = 1) -> bytes:
    """A noisy passport-style picture (a head-shaped ellipse on a plain background) as a JPEG."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (width, height), (205, 215, 230))
    d = ImageDraw.Draw(img)
    d.ellipse((width * 0.27, height * 0.1, width * 0.73, height * 0.85), fill=(225, 185, 160))
    for ex in (0.4, 0.6):
        d.ellipse((width * ex - 15, height * 0.44 - 8, width * ex + 15, height * 0.44 + 8), fill=(40, 40, 40))
    px = img.load()
    assert px is not None
    for _ in range(width * height // 8):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r, g, b = px[x, y]  # type: ignore[misc]
        n = rnd.randrange(-40, 40)
        px[x, y] = (max(0, min(255, r + n)), max(0, min(255, g + n)), max(0, min(255, b + n)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


@functools.cache
def portrait(fmt: str = "jpeg") -> bytes:
    return prepare_portrait(synthetic_photo(), fmt="jp2" if fmt == "jp2" else "jpeg", budget=18_000)


def build(pki: Pki | None = None, **kw: object) -> DocumentImage:
    pki = pki or make_pki()
    doc = kw.pop("document", None) or sample_document()
    mrz = kw.pop("mrz", None) or MRZ
    return build_document_image(
        doc, mrz, kw.pop("portrait", None) or portrait(), kw.pop("signature", None),  # type: ignore[arg-type]
        pki.ds_signer, pki.ds, clock=lambda: NOW, **kw,  # type: ignore[arg-type]
    )


def openssl() -> str | None:
    return shutil.which("openssl")


def openssl_cms_verify(
    content_info: bytes, csca: x509.Certificate, tmp: Path, at: dt.datetime = NOW, extra: tuple[str, ...] = ()
) -> tuple[int, bytes, str]:
    """`openssl cms -verify` of a CMS ContentInfo against the CSCA; returns (exit code, content, stderr)."""
    (tmp / "sod.der").write_bytes(content_info)
    (tmp / "csca.pem").write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    out = tmp / "content.der"
    proc = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp / "sod.der"), "-CAfile", str(tmp / "csca.pem"),
         "-purpose", "any", "-binary", "-out", str(out), "-attime", str(int(at.timestamp())), *extra],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return proc.returncode, out.read_bytes() if out.exists() else b"", proc.stderr
