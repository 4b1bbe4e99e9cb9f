"""Make -> 300-dpi image -> zxing-cpp decode -> verify, for VDS, IDB and VDS-NC in QR and DataMatrix,
with the signer chaining to a CSCA through mrtd.pki.trust."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from sealkit import NOW, TODAY, make_pki, pki

from mrtd.errors import ChainError, EncodingError, InputError, ProfileError, SignatureError
from mrtd.pki.signer import MemorySigner
from mrtd.seals import barcode, idb, vds, vdsnc
from mrtd.seals.issue import (
    DocumentKind,
    SealFormat,
    SealRequest,
    make_idb,
    make_vds,
    make_vdsnc,
    parse_duration,
)
from mrtd.seals.verify import Trust, Verdict, check_seal, verify_seal

VISA_MRZ = (
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
)
ETD_MRZ = ("I<UTOONEILL<<SIOBHAN<<<<<<<<<<<<<<<<", "E12345670UTO8001014F2701012<<<<<<<<6")


def _request(kind: DocumentKind) -> SealRequest:
    if kind is DocumentKind.VISA:
        return SealRequest(kind, "D<<", VISA_MRZ, dt.date(2026, 5, 30), passport_number="L898902C",
                           duration_of_stay=parse_duration("90"), number_of_entries=2)
    return SealRequest(kind, "D<<", ETD_MRZ, dt.date(2026, 5, 30))


def _make(fmt: SealFormat, kind: DocumentKind) -> bytes:
    p = pki()
    req = _request(kind)
    if fmt is SealFormat.VDS:
        return make_vds(req, p.seal_signer, p.seal_cert, TODAY).raw
    if fmt is SealFormat.IDB:
        return make_idb(req, p.seal_signer, p.seal_der, TODAY).text.encode("ascii")
    return make_vdsnc(req, p.vdsnc_signer, p.vdsnc_der).text.encode("utf-8")


def _csca_trust() -> Trust:
    """Trust the CSCA only; the barcode signer certificate is there to be looked up, not trusted."""
    return Trust.of([pki().csca_pem], lookup=[pki().seal_der])


@pytest.mark.parametrize("symbology", list(barcode.Symbology))
@pytest.mark.parametrize("fmt", list(SealFormat))
# The MRZ kind is an IDB message only: tests/seals/test_seal_mrz_idb.py covers it.
@pytest.mark.parametrize("kind", [DocumentKind.VISA, DocumentKind.ETD])
def test_make_image_decode_verify(fmt: SealFormat, kind: DocumentKind, symbology: barcode.Symbology) -> None:
    payload = _make(fmt, kind)
    png = barcode.to_png(barcode.render(payload, symbology))
    with Image.open(io.BytesIO(png)) as img:
        assert img.info["dpi"] == pytest.approx((300, 300), abs=0.01)  # PNG stores pixels per metre
    decoded = barcode.decode_one(barcode.open_image(png))
    assert decoded.data == payload and not decoded.has_eci  # byte-exact, no ECI designator
    if fmt is SealFormat.VDS:
        assert decoded.data[0] == 0xDC
    report = verify_seal(png, _csca_trust(), NOW, strict=True)
    assert report.verdict is Verdict.VALID
    assert report.barcode == {"symbology": symbology.value, "eci": False}
    chain = {c.name: c for c in report.checks}["chain"]
    assert chain.passed and "CSCA Test" in chain.reason
    content = report.content
    if kind is DocumentKind.ETD:
        mrz = content.get("MRZ") or content.get("EMERGENCY_TRAVEL_DOCUMENT", {}).get("MRZ") or content.get("mrz")
        assert mrz in ("\n".join(ETD_MRZ), list(ETD_MRZ))
    else:
        assert report.document_type in ("VISA", "IDB VISA", "mrtd.visa")


def test_vds_visa_content_is_truncated_mrz_and_profile_tags() -> None:
    raw = _make(SealFormat.VDS, DocumentKind.VISA)
    seal = vds.decode(raw, strict=True)
    assert (seal.header.version, seal.header.feature_ref, seal.header.category) == (4, 0x5D, 0x01)
    assert [m.tag for m in seal.messages] == [1, 3, 4, 5]
    assert len(seal.message(1) or b"") == 48
    assert seal.encode() == raw
    report = check_seal(raw, _csca_trust(), NOW)
    assert report.content["MRZ_MRVA"] == VISA_MRZ[0] + "\n" + VISA_MRZ[1][:28]
    assert report.content["PASSPORT_NUMBER"] == "L898902C "


def _independent_idb_header(text: str) -> dict[str, object]:
    """The IDB header read by hand from the ICAO TR layout as every real IDB and both independent readers
    (vdstools, li0ard/vds) have it: country (C40, 2 bytes), algorithm (1), certificate reference (5),
    signature date as mask byte + MMDDYYYY in 3 bytes, then the message group tag 0x61. No mrtd parser."""
    import base64

    assert text[:4] == "RDB1" and text[4] == "B"  # signed, not compressed
    body = text[5:]
    payload = base64.b32decode(body + "=" * (-len(body) % 8))
    value = payload[0] * 256 + payload[1] - 1
    c40 = "\x00\x01\x02 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 0-2 shifts, 3 space, 4-13 digits, 14-39 A-Z
    country = "".join(c40[x] for x in (value // 1600, (value // 40) % 40, value % 40)).strip()
    digits = f"{int.from_bytes(payload[9:12], 'big'):08d}"
    return {"country": country, "algorithm": payload[2], "reference": payload[3:8], "mask": payload[8],
            "date": f"{digits[4:]}-{digits[:2]}-{digits[2:4]}", "group_tag": payload[12]}


def test_idb_is_issued_with_the_four_byte_date_other_readers_read() -> None:
    import hashlib

    p = pki()
    seal = make_idb(_request(DocumentKind.ETD), p.seal_signer, p.seal_der, TODAY)
    assert seal.text.startswith("RDB1B") and "=" not in seal.text
    header = _independent_idb_header(seal.text)
    assert header == {"country": "D", "algorithm": 1, "reference": hashlib.sha1(p.seal_der).digest()[-5:], "mask": 0,
                      "date": TODAY.isoformat(), "group_tag": 0x61}
    again = idb.decode(seal.text, strict=True)
    assert again.header.date_width == 4 and again.header.signature_date == TODAY.isoformat()
    assert again.encode() == seal.text
    embedded = make_idb(_request(DocumentKind.ETD), p.seal_signer, p.seal_der, TODAY, embed_certificate=True)
    report = check_seal(embedded.text.encode(), _csca_trust(), NOW)
    assert report.verdict is Verdict.VALID and report.header["embedded_certificate"]


def test_idb_three_byte_date_is_a_site_choice_and_still_read() -> None:
    p = pki()
    seal = make_idb(_request(DocumentKind.ETD), p.seal_signer, p.seal_der, TODAY, date_bytes=3)
    again = idb.decode(seal.text, strict=True)
    assert again.header.date_width == 3 and again.header.signature_date == TODAY.isoformat()
    assert check_seal(seal.text.encode(), _csca_trust(), NOW).verdict is Verdict.VALID
    with pytest.raises(EncodingError, match="3 or 4"):
        make_idb(_request(DocumentKind.ETD), p.seal_signer, p.seal_der, TODAY, date_bytes=5)


def test_idb_compressed_round_trip() -> None:
    p = pki()
    msgs = make_idb(_request(DocumentKind.ETD), p.seal_signer, p.seal_der, TODAY).messages
    seal = idb.make("UTO", msgs, p.seal_signer, TODAY, certificate_der=p.seal_der, compress=True)
    assert seal.text.startswith("RDB1D")
    assert check_seal(seal.text.encode(), _csca_trust(), NOW).verdict is Verdict.VALID
    plain = idb.make("UTO", msgs, None, TODAY)
    assert plain.text.startswith("RDB1A")
    assert check_seal(plain.text.encode(), _csca_trust(), NOW).verdict is Verdict.UNSIGNED


def test_signature_with_leading_zero_r_keeps_its_width() -> None:
    p = pki()
    req = _request(DocumentKind.ETD)
    for _ in range(4000):  # ECDSA signatures are randomised: about 1 in 256 has r < 2**248
        seal = make_vds(req, p.seal_signer, p.seal_cert, TODAY)
        assert seal.signature is not None and len(seal.signature) == 64
        if seal.signature[0] == 0:
            break
    else:
        pytest.fail("no signature with a leading zero in r after 4000 tries")
    assert seal.raw[seal.signed_length : seal.signed_length + 2] == b"\xff\x40"
    assert verify_seal(seal.raw, _csca_trust(), NOW).verdict is Verdict.VALID


@pytest.mark.parametrize(("curve", "sig_len", "length_bytes"),
                         [(ec.SECP384R1(), 96, b"\x60"), (ec.BrainpoolP512R1(), 128, b"\x81\x80"),
                          (ec.SECP521R1(), 132, b"\x81\x84")])
def test_signature_zone_size_follows_the_curve(curve: ec.EllipticCurve, sig_len: int, length_bytes: bytes) -> None:
    other = make_pki(curve=curve)
    seal = make_vds(_request(DocumentKind.ETD), other.seal_signer, other.seal_cert, TODAY)
    assert seal.signature is not None and len(seal.signature) == sig_len
    assert seal.raw[seal.signed_length + 1 : seal.signed_length + 1 + len(length_bytes)] == length_bytes
    assert verify_seal(seal.raw, Trust.of([other.csca_pem], lookup=[other.seal_der]), NOW).verdict is Verdict.VALID


def test_untrusted_and_tampered_seals_raise() -> None:
    raw = _make(SealFormat.VDS, DocumentKind.ETD)
    stranger = make_pki()
    with pytest.raises(ChainError):
        verify_seal(raw, Trust.of([stranger.csca_pem], lookup=[pki().seal_der]), NOW)
    assert check_seal(raw, Trust.of([stranger.csca_pem]), NOW).verdict is Verdict.UNKNOWN_SIGNER
    # the signer certificate alone (no CSCA) is trusted as itself
    assert verify_seal(raw, Trust.of([pki().seal_der]), NOW).verdict is Verdict.VALID
    flipped = bytearray(raw)
    flipped[-5] ^= 0x10
    with pytest.raises(SignatureError):
        verify_seal(bytes(flipped), _csca_trust(), NOW)
    # signed outside the signer's validity
    late = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    late_seal = make_vds(_request(DocumentKind.ETD), pki().seal_signer, pki().seal_cert, late.date()).raw
    assert check_seal(late_seal, _csca_trust(), late).verdict is Verdict.UNTRUSTED


def test_vdsnc_make_is_canonical_and_checked() -> None:
    raw = _make(SealFormat.VDSNC, DocumentKind.VISA)
    seal = vdsnc.decode(raw, strict=True)
    assert seal.alg == "ES256" and seal.use_case == "mrtd.visa"
    assert seal.data["msg"]["mrz"] == list(VISA_MRZ)
    report = verify_seal(raw, _csca_trust(), NOW)
    assert {c.name: c.passed for c in report.checks}["chain"]
    with pytest.raises(EncodingError):  # VDS-NC is ES256/384/512 on NIST curves only
        make_vdsnc(_request(DocumentKind.ETD), pki().seal_signer, pki().seal_der)


def test_writer_refuses_what_the_profile_does_not_allow() -> None:
    p = pki()
    with pytest.raises(InputError, match="2 x 36"):
        make_vds(SealRequest(DocumentKind.ETD, "UTO", VISA_MRZ, TODAY), p.seal_signer, p.seal_cert, TODAY)
    with pytest.raises(InputError, match="duration_of_stay"):
        make_vds(SealRequest(DocumentKind.VISA, "UTO", VISA_MRZ, TODAY, passport_number="L898902C"),
                 p.seal_signer, p.seal_cert, TODAY)
    rsa_like = MemorySigner(ec.generate_private_key(ec.SECP256R1()))
    header = vds.VdsHeader("UTO", "UTTS", "1", TODAY, TODAY, 0x5E, 0x03, version=3,
                           layout=vds.RefLayout.FIXED, version_byte=0x02)
    with pytest.raises(EncodingError, match="version 4"):
        vds.make(header, (), rsa_like)
    from mrtd.seals.profiles import encode_features, vds_profile

    with pytest.raises(ProfileError):
        encode_features(vds_profile("icao-visa"), {"MRZ_MRVA": "A" * 72, "MRZ_MRVB": "B" * 64}, "message")


def test_inverted_and_rotated_symbols_on_a_page_decode() -> None:
    from PIL import ImageOps

    payload = _make(SealFormat.VDS, DocumentKind.ETD)
    for symbology in barcode.Symbology:
        symbol = barcode.render(payload, symbology)
        page = Image.new("L", (1240, 874), 255)  # an A7 sticker at 300 dpi
        page.paste(symbol.rotate(90, expand=True), (700, 200))
        assert barcode.decode_one(page).data == payload
        for angle in (180, 270, 33):
            turned = Image.new("L", (1240, 874), 255)
            turned.paste(symbol.rotate(angle, expand=True, fillcolor=255), (500, 100))
            assert barcode.decode_one(turned).data == payload, (symbology, angle)
        assert barcode.decode_one(ImageOps.invert(symbol)).data == payload
        out = io.BytesIO()
        page.convert("RGB").save(out, format="JPEG", quality=85, dpi=(300, 300))
        assert check_seal(out.getvalue(), _csca_trust(), NOW).verdict is Verdict.VALID


def test_idb_refuses_curves_below_256_bits() -> None:
    small = MemorySigner(ec.generate_private_key(ec.SECP224R1()))
    with pytest.raises(EncodingError, match="too small"):
        idb.make("UTO", (), small, TODAY, cert_ref=b"12345")
