"""A small world made by the project for the fuzz targets and their seeds: a country's PKI (CSCA, Document
Signer, barcode and VDS-NC signers, master list signer, a CRL), a document's chip files, its seals as data,
images and a PDF, and the example applications. Everything is made once per process, in memory."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from mrtd.asn1.x509 import Certificate, as_certificate
from mrtd.chip.document import build_document_image
from mrtd.issuance.application import read_application
from mrtd.mrz import mrz_lines
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.crl import Revocation, build_crl
from mrtd.pki.signer import MemorySigner
from mrtd.pki.trust import TrustStore
from mrtd.seals import barcode
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb, make_vdsnc
from mrtd.seals.verify import Trust

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "applications"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    csca: x509.Certificate
    ds: x509.Certificate
    seal_cert: x509.Certificate
    vdsnc_cert: x509.Certificate
    ml_cert: x509.Certificate
    crl: bytes
    masterlist: bytes
    files: dict[str, bytes]  # the chip's files by short name (EF.COM, DG1, ..., EF.SOD, EF.CardSecurity)
    vds: bytes
    idb: bytes
    vdsnc: bytes

    @property
    def store(self) -> TrustStore:
        store = TrustStore()
        store.add_certificate(self.csca)
        store.add_crl(self.crl)
        return store

    @property
    def seal_trust(self) -> Trust:
        return Trust(self.store, [as_certificate(self.seal_cert)])

    def certificates(self) -> list[Certificate]:
        return [as_certificate(c) for c in (self.csca, self.ds, self.seal_cert, self.vdsnc_cert, self.ml_cert)]

    def csca_pem(self) -> bytes:
        return self.csca.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@functools.cache
def world() -> World:
    csca_signer = MemorySigner(ec.generate_private_key(ec.BrainpoolP256R1()), "csca")
    csca = C.build_csca(csca_signer, C.make_name("UT", "CSCA UT"), not_before=START,
                        not_after=START + dt.timedelta(days=3650), key_usage_end=START + dt.timedelta(days=1000),
                        rng=os.urandom, mrz_code="UTO")
    issuer = C.Issuer(csca_signer, csca)
    ds_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "ds")
    ds = C.build_document_signer(issuer, ds_signer.public_key(), C.make_name("UT", "DS UT"), not_before=START,
                                 usage_end=START + dt.timedelta(days=90), not_after=START + dt.timedelta(days=3000),
                                 document_types=("P",), rng=os.urandom)
    seal_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "seal")
    seal_cert = C.build_seal_signer(issuer, seal_signer.public_key(), "UT", "TS", not_before=START,
                                    not_after=START + dt.timedelta(days=700), rng=os.urandom)
    nc_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "vdsnc")
    nc_cert = C.build_vdsnc_signer(issuer, nc_signer.public_key(), "UT", "NC", not_before=START,
                                   not_after=START + dt.timedelta(days=700), rng=os.urandom)
    ml_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "ml")
    ml_cert = C.build_masterlist_signer(issuer, ml_signer.public_key(), C.make_name("UT", "ML UT"),
                                        not_before=START, not_after=START + dt.timedelta(days=700), rng=os.urandom)
    crl = build_crl(csca, csca_signer, number=1, this_update=START, next_update=START + dt.timedelta(days=90),
                    revoked=[Revocation(12345, START)]).public_bytes(serialization.Encoding.DER)
    ml = masterlist.build([csca], ml_signer, ml_cert, START, include=[csca])
    app = read_application(EXAMPLES / "anna-eriksson-td3.json")
    doc = app.document
    lines = mrz_lines(doc)
    portrait = (EXAMPLES / "portraits" / "anna.jpg").read_bytes()
    from mrtd.chip.portrait import prepare_portrait

    image = build_document_image(doc, lines, prepare_portrait(portrait, budget=8000), None, ds_signer, ds,
                                 clock=lambda: START + dt.timedelta(days=2), card_security=True)
    req = SealRequest(kind=DocumentKind.MRZ, issuing_state=doc.issuing_state, mrz=tuple(lines),
                      issue_date=START.date())
    idb_text = make_idb(req, seal_signer, der(seal_cert), START.date()).text.encode("ascii")
    from mrtd.asn1.tlv import Tlv
    from mrtd.seals import vds

    header = vds.VdsHeader(issuing_country="UTO", signer_id="UTTS", cert_ref=f"{seal_cert.serial_number:X}",
                           issue_date=START.date(), signature_date=START.date(), feature_ref=0x5E, category=0x03)
    vds_raw = vds.make(header, (Tlv(2, b"\x13\x3c" * 24),), seal_signer).raw
    etd = read_application(EXAMPLES / "arnpol-long-name-td2.json").document
    nc = make_vdsnc(SealRequest(kind=DocumentKind.ETD, issuing_state=etd.issuing_state, mrz=tuple(mrz_lines(etd)),
                                issue_date=START.date()), nc_signer, der(nc_cert)).text.encode("utf-8")
    return World(csca, ds, seal_cert, nc_cert, ml_cert, crl, ml, dict(image.files), vds_raw, idb_text, nc)


def png(payload: bytes, module_px: int = 4) -> bytes:
    return barcode.to_png(barcode.render(payload, module_px=module_px))


def jpeg(payload: bytes) -> bytes:
    out = io.BytesIO()
    barcode.render(payload, module_px=2).convert("L").save(out, format="JPEG", quality=85)
    return out.getvalue()


def pdf(payload: bytes) -> bytes:
    """A one-page PDF holding the seal: a label-sized page (an A4 page renders 16 times slower, for the
    same parsing code)."""
    out = io.BytesIO()
    symbol = barcode.render(payload, module_px=2)
    page = Image.new("L", (symbol.width + 40, symbol.height + 40), 255)
    page.paste(symbol, (20, 20))
    page.save(out, format="PDF", resolution=300)
    return out.getvalue()


def portrait(width: int = 240, height: int = 300) -> bytes:
    """A small synthetic portrait (head-and-shoulders shapes), JPEG."""
    from PIL import ImageDraw

    img = Image.new("RGB", (width, height), (200, 205, 210))
    draw = ImageDraw.Draw(img)
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.6), fill=(190, 150, 120))
    draw.rectangle((width * 0.15, height * 0.65, width * 0.85, height), fill=(40, 50, 90))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()
