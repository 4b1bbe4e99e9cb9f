"""Seals as verifiers meet them: in a PDF, photographed small, with the signer certificate found in a trust
folder holding a master list and the published barcode signer certificates, checked `--at` a date, and
a verdict that leads with what a person checks."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from click.testing import CliRunner
from clikit import json_result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageFilter
from sealkit import NOW, TODAY, SealPki, make_pki

from mrtd.cli import main
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.signer import MemorySigner
from mrtd.seals import barcode, vdsnc
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb
from mrtd.seals.verify import Trust, Verdict, check_seal

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def _idb(p: SealPki) -> bytes:
    req = SealRequest(kind=DocumentKind.MRZ, issuing_state="D", mrz=TD3, issue_date=TODAY)
    return make_idb(req, p.seal_signer, p.seal_der, TODAY).text.encode("ascii")


def test_pdf_and_small_photographed_seal_are_read() -> None:
    p = make_pki()
    payload = _idb(p)
    trust = Trust.of([p.seal_der])
    page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    page.paste(barcode.render(payload, module_px=4), (300, 2400))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=300)
    assert check_seal(out.getvalue(), trust, NOW).verdict is Verdict.VALID
    # photographs of a small print: modules of 1.6 to 2 px, soft edges, grey paper, JPEG. Some of them one
    # plain pass cannot read; the retries (upscaled, binarized) read every one of those
    symbol = barcode.render(payload, module_px=4).convert("L")
    rescued = 0
    for div, blur, quality in ((2.0, 0.8, 40), (2.0, 0.8, 70), (2.5, 0.0, 40), (2.5, 0.4, 40), (2.5, 0.4, 70)):
        small = symbol.resize((int(symbol.width / div), int(symbol.height / div)), Image.Resampling.BILINEAR)
        photo = small.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: 60 + v * 0.55)
        buf = io.BytesIO()
        photo.save(buf, format="JPEG", quality=quality)
        if barcode.decode(Image.open(io.BytesIO(buf.getvalue()))):
            continue
        assert check_seal(buf.getvalue(), trust, NOW).verdict is Verdict.VALID, (div, blur, quality)
        rescued += 1
    assert rescued >= 1


def test_verdict_leads_with_what_a_person_checks(tmp_path: Path) -> None:
    p = make_pki()
    (tmp_path / "seal.png").write_bytes(barcode.to_png(barcode.render(_idb(p))))
    (tmp_path / "signer.pem").write_bytes(p.seal_cert.public_bytes(serialization.Encoding.PEM))
    result = CliRunner().invoke(main, ["seal", "verify", str(tmp_path / "seal.png"), "--trust",
                                       str(tmp_path / "signer.pem"), "--at", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("verdict: valid")
    assert lines[1:7] == ["  holder: ERIKSSON ANNA MARIA", "  date of birth: 1974-08-12", "  document number: L898902C3",
                          "  document type: P (TD3)", "  date of expiry: 2012-04-15", "  issuing state: UTO"]
    assert lines[7].startswith("  signer: CN=TS,C=DE")
    payload = json_result(CliRunner().invoke(main, ["seal", "verify", str(tmp_path / "seal.png"), "--trust",
                                                    str(tmp_path / "signer.pem"), "--json"]).output)
    assert payload["summary"]["holder"] == "ERIKSSON ANNA MARIA"


def test_signer_found_in_a_folder_with_a_master_list_and_published_signers(tmp_path: Path) -> None:
    p = make_pki()
    ml_key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    ml_cert = C.build_masterlist_signer(C.Issuer(_csca_signer(p), p.csca), ml_key.public_key(),
                                        C.make_name("DE", "ML"), not_before=NOW - dt.timedelta(days=1),
                                        not_after=NOW + dt.timedelta(days=300), rng=os.urandom)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "countries.ml").write_bytes(masterlist.build([p.csca], ml_key, ml_cert, NOW))
    (trust / "barcode-signers.pem").write_bytes(b"published by the issuer\n"
                                                + p.seal_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "seal.png").write_bytes(barcode.to_png(barcode.render(_idb(p))))
    result = CliRunner().invoke(main, ["seal", "verify", str(tmp_path / "seal.png"), "--trust", str(trust), "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json_result(result.output)["checks"]}
    assert checks["chain"]["passed"] and "path of 2" in checks["chain"]["reason"]


def _csca_signer(p: SealPki) -> MemorySigner:
    return p.csca_signer


def test_vdsnc_signer_since_expired_checked_at_a_day_inside_its_validity(tmp_path: Path) -> None:
    p = make_pki()
    key = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    short = C.build_vdsnc_signer(C.Issuer(_csca_signer(p), p.csca), key.public_key(), "DE", "NC",
                                 not_before=NOW - dt.timedelta(days=5), not_after=NOW + dt.timedelta(days=5),
                                 rng=os.urandom)
    seal = vdsnc.make("icao.test", "D<<", {"pid": {"n": "ERIKSSON ANNA", "dob": "1974-08-12"}}, key,
                      short.public_bytes(serialization.Encoding.DER))
    (tmp_path / "seal.json").write_text(seal.text, "utf-8")
    (tmp_path / "csca.pem").write_bytes(p.csca_pem)
    args = ["seal", "verify", str(tmp_path / "seal.json"), "--trust", str(tmp_path / "csca.pem")]
    later = CliRunner().invoke(main, [*args, "--at", (NOW + dt.timedelta(days=30)).date().isoformat()])
    assert later.exit_code == 1 and "[FAIL] signer-validity" in later.output
    then = CliRunner().invoke(main, [*args, "--at", NOW.date().isoformat()])
    assert then.exit_code == 0, then.output
    assert "  holder: ERIKSSON ANNA" in then.output and "warning(s)" in then.output  # no CRL at hand: said
    strict = CliRunner().invoke(main, [*args, "--at", NOW.date().isoformat(), "--require-crl"])
    assert strict.exit_code == 1 and "no CRL" in strict.output
