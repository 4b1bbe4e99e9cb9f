"""Hypothesis round trips of the seal codecs: encode -> decode -> encode is byte-exact."""

from __future__ import annotations

import datetime as dt

import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sealkit import NOW, pki

from mrtd.asn1.tlv import Tlv
from mrtd.errors import EncodingError
from mrtd.seals import barcode, idb, vds, vdsnc
from mrtd.seals.verify import Trust, check_seal

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DATES = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
MESSAGES = st.lists(
    st.builds(Tlv, st.integers(0, 0xFE), st.binary(max_size=300)), max_size=5
).map(tuple)


@st.composite
def headers(draw: st.DrawFn) -> vds.VdsHeader:
    layout = draw(st.sampled_from([vds.RefLayout.HEX, vds.RefLayout.FIXED]))
    ref = draw(st.text(ALNUM, min_size=5, max_size=5)) if layout is vds.RefLayout.FIXED else draw(
        st.text(ALNUM, min_size=1, max_size=40))
    return vds.VdsHeader(
        issuing_country=draw(st.sampled_from(["UTO", "D  ", "D", "NLD"])),
        signer_id=draw(st.text(ALNUM, min_size=4, max_size=4)).replace("DEZV", "DEZW"),
        cert_ref=ref, issue_date=draw(DATES), signature_date=draw(DATES),
        feature_ref=draw(st.integers(0, 255)), category=draw(st.integers(0, 255)),
        version=3 if layout is vds.RefLayout.FIXED else 4, layout=layout,
        version_byte=0x02 if layout is vds.RefLayout.FIXED else 0x03,
    )


@given(headers(), MESSAGES, st.one_of(st.none(), st.binary(min_size=1, max_size=70).map(lambda b: b + b)))
def test_vds_round_trip(header: vds.VdsHeader, messages: tuple[Tlv, ...], signature: bytes | None) -> None:
    raw = vds.VdsSeal(header, messages, signature, b"", 0).encode()
    seal = vds.decode(raw, strict=True)
    assert seal.header == header
    assert seal.messages == messages
    assert seal.signature == signature
    assert seal.encode() == raw


@given(MESSAGES, st.booleans(), st.sampled_from(["UTO", "D  ", "D"]))
def test_idb_unsigned_round_trip(messages: tuple[Tlv, ...], compress: bool, country: str) -> None:
    seal = idb.make(country, messages, None, dt.date(2026, 1, 1), compress=compress)
    again = idb.decode(seal.text, strict=True)
    assert (again.messages, again.header.country, again.compressed) == (messages, country, compress)
    assert again.encode() == seal.text


@settings(max_examples=50)
@given(MESSAGES, DATES, st.booleans())
def test_idb_signed_round_trip(messages: tuple[Tlv, ...], day: dt.date, embed: bool) -> None:
    p = pki()
    seal = idb.make("UTO", messages, p.seal_signer, day, certificate_der=p.seal_der, embed_certificate=embed)
    again = idb.decode(seal.text, strict=True)
    assert again.header.signature_date == day.isoformat() and again.messages == messages
    assert again.certificate == (p.seal_der if embed else None)
    assert again.encode() == seal.text


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20),
                                                       st.booleans(), st.none()), max_size=6))
def test_vdsnc_round_trip(msg: dict[str, object]) -> None:
    p = pki()
    seal = vdsnc.make("icao.test", "UTO", msg, p.vdsnc_signer, p.vdsnc_der)
    again = vdsnc.decode(seal.text, strict=True)
    assert again.data == seal.data and again.signature == seal.signature and again.encode() == seal.text
    report = check_seal(seal.text.encode(), Trust.of([p.csca_pem]), NOW)
    assert report.ok


@settings(max_examples=25)
@given(st.binary(min_size=1, max_size=400), st.sampled_from(list(barcode.Symbology)))
def test_barcode_round_trip_is_byte_exact(data: bytes, symbology: barcode.Symbology) -> None:
    found = barcode.decode_one(barcode.render(data, symbology))
    assert found.data == data and not found.has_eci


def test_eci_symbol_is_reported_lenient_refused_strict() -> None:
    raw = _vds_sample()
    symbol = zxingcpp.create_barcode(raw, zxingcpp.BarcodeFormat.DataMatrix)  # the writer's default adds ECI 899
    bitmap = symbol.to_image(scale=4)
    h, w = bitmap.shape
    img = Image.frombytes("L", (w, h), memoryview(bitmap).tobytes())  # type: ignore[arg-type]
    png = barcode.to_png(img)
    trust = Trust.of([], lookup=[pki().seal_der])
    report = check_seal(png, trust, NOW)
    assert report.barcode == {"symbology": "datamatrix", "eci": True}
    assert "eci-present" in {f.rule for f in report.findings}
    try:
        check_seal(png, trust, NOW, strict=True)
    except EncodingError as exc:
        assert "ECI" in str(exc)
    else:
        raise AssertionError("strict mode accepted an ECI designator")


def _vds_sample() -> bytes:
    p = pki()
    header = vds.VdsHeader("UTO", "DETS", f"{p.seal_cert.serial_number:X}", NOW.date(), NOW.date(), 0x5E, 0x03)
    return vds.make(header, (Tlv(2, b"\x13\x3c" * 24),), p.seal_signer).raw
