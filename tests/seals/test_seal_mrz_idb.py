"""The travel document's own MRZ as an ICAO IDB (message 0x07 MRZ TD1 / 0x08 MRZ TD3, plus 0x09 CAN):
make -> 300-dpi PNG -> zxing-cpp decode -> verify, in QR and DataMatrix; VDS and VDS-NC refuse the kind.

The MRZs are the Doc 9303-4 / -5 specimens as transcribed in tests/vectors/mrz/specimens.json.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
import zxingcpp
from conftest import SEAL_SYMBOLOGIES, VECTORS
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sealkit import NOW, TODAY, pki

from mrtd.asn1.tlv import Tlv
from mrtd.errors import InputError
from mrtd.seals import barcode, c40, idb
from mrtd.seals.issue import (
    DocumentKind,
    SealFormat,
    SealRequest,
    check_format,
    make_idb,
    make_vds,
    make_vdsnc,
    mrz_message_name,
    mrz_messages,
)
from mrtd.seals.profiles import idb_messages
from mrtd.seals.verify import Trust, Verdict, check_seal, verify_seal


def _specimen(vector_id: str) -> tuple[str, ...]:
    data: dict[str, Any] = json.loads((VECTORS / "mrz" / "specimens.json").read_text("utf-8"))
    (v,) = [v for v in data["vectors"] if v["id"] == vector_id]
    return tuple(v["expected"][k] for k in ("line1", "line2", "line3") if k in v["expected"])


TD3 = _specimen("p4-td3-specimen")  # Doc 9303-4 Appendix A/B
TD1 = _specimen("p5-td1-specimen")  # Doc 9303-5 Appendix A/B
TD2 = _specimen("p6-td2-specimen")
MRVA = _specimen("p7-mrva-appB")
# Message types of the ICAO TR Datastructure for Barcode (seals.md §4).
TAGS = {"MRZ_TD1": 0x07, "MRZ_TD3": 0x08, "CAN": 0x09}


def _trust() -> Trust:
    """The CSCA only; the barcode signer certificate is looked up by its SHA-1 reference."""
    return Trust.of([pki().csca_pem], lookup=[pki().seal_der])


def _request(lines: tuple[str, ...], can: str = "") -> SealRequest:
    return SealRequest(DocumentKind.MRZ, "UTO", lines, dt.date(2026, 5, 30), can=can)


def test_specimens_have_the_shapes_of_td1_and_td3() -> None:
    assert [len(line) for line in TD1] == [30, 30, 30] and [len(line) for line in TD3] == [44, 44]


@pytest.mark.parametrize("symbology", list(barcode.Symbology))
@pytest.mark.parametrize(("lines", "message", "can"), [(TD1, "MRZ_TD1", ""), (TD1, "MRZ_TD1", "540238"),
                                                       (TD3, "MRZ_TD3", ""), (TD3, "MRZ_TD3", "123456")])
def test_make_png_zxing_verify(lines: tuple[str, ...], message: str, can: str, symbology: barcode.Symbology) -> None:
    p = pki()
    seal = make_idb(_request(lines, can), p.seal_signer, p.seal_der, TODAY)
    assert seal.text.startswith("RDB1B")  # signed, not compressed
    assert [m.tag for m in seal.messages] == [TAGS[message]] + ([TAGS["CAN"]] if can else [])
    payload = seal.text.encode("ascii")
    png = barcode.to_png(barcode.render(payload, symbology))
    with Image.open(io.BytesIO(png)) as img:
        assert img.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        found = zxingcpp.read_barcodes(img, formats=SEAL_SYMBOLOGIES)
    assert len(found) == 1 and found[0].bytes == payload  # zxing-cpp reads back the very string we made
    report = verify_seal(png, _trust(), NOW, strict=True)
    assert report.verdict is Verdict.VALID and report.format == "idb"
    assert [f.rule for f in report.findings] == ["crl-missing"]  # no CRL in this trust: said, not silent
    assert report.document_type == f"IDB {message}"
    assert report.content[message] == "\n".join(lines)  # the MRZ lines, fillers and all
    assert report.content.get("CAN") == (can or None)
    assert set(report.content) == {message} | ({"CAN"} if can else set())
    chain = {c.name: c for c in report.checks}["chain"]
    assert chain.passed and "CSCA Test" in chain.reason
    assert report.header["country"] == "UTO" and report.header["signature_date"] == TODAY.isoformat()


def test_idb_mrz_string_round_trips_byte_exactly() -> None:
    p = pki()
    seal = make_idb(_request(TD1, "540238"), p.seal_signer, p.seal_der, TODAY, embed_certificate=True)
    decoded = idb.decode(seal.text, strict=True)
    assert decoded.encode() == seal.text and decoded.messages == seal.messages
    assert decoded.certificate == p.seal_der
    # TD3: 88 characters -> 29 C40 triplets + the 0xFE one-character tail = 60 bytes
    (td3,) = mrz_messages(_request(TD3))
    assert td3.tag == TAGS["MRZ_TD3"] and len(td3.value) == 60 and td3.value[-2] == c40.UNLATCH


def test_the_message_comes_from_the_profile_data() -> None:
    names = {f.name: f for f in idb_messages().features}
    assert (names["MRZ_TD1"].tag, names["MRZ_TD1"].lines, names["MRZ_TD1"].line_width) == (0x07, 3, 30)
    assert (names["MRZ_TD3"].tag, names["MRZ_TD3"].lines, names["MRZ_TD3"].line_width) == (0x08, 2, 44)
    assert mrz_message_name(TD1) == "MRZ_TD1" and mrz_message_name(TD3) == "MRZ_TD3"


@pytest.mark.parametrize("fmt", [SealFormat.VDS, SealFormat.VDSNC])
def test_vds_and_vdsnc_refuse_the_mrz_kind(fmt: SealFormat) -> None:
    p = pki()
    with pytest.raises(InputError, match=r"^type: .*no document profile.*IDB.*0x07/0x08"):
        check_format(fmt, DocumentKind.MRZ)
    with pytest.raises(InputError, match=r"Datastructure for Barcode") as err:
        if fmt is SealFormat.VDS:
            make_vds(_request(TD3), p.seal_signer, p.seal_cert, TODAY)
        else:
            make_vdsnc(_request(TD3), p.vdsnc_signer, p.vdsnc_der)
    assert ("VDS-NC" if fmt is SealFormat.VDSNC else "Doc 9303-13 VDS") in str(err.value)
    check_format(SealFormat.IDB, DocumentKind.MRZ)  # the IDB has the message types
    check_format(fmt, DocumentKind.VISA)


@pytest.mark.parametrize(("lines", "why"), [
    (TD2, "2 line(s) of 36/36"), (MRVA[:1], "1 line(s) of 44"), (TD1[:2], "2 line(s) of 30/30"),
    ((TD3[0], TD3[1][:43]), "44/43"), ((), "0 line(s)"),
])
def test_other_shapes_are_refused_naming_the_rule(lines: tuple[str, ...], why: str) -> None:
    p = pki()
    with pytest.raises(InputError, match=r"^mrz: .*MRZ_TD1 \(3 x 30\), MRZ_TD3 \(2 x 44\) \[ICAO TR Datastructure") as err:
        make_idb(_request(lines), p.seal_signer, p.seal_der, TODAY)
    assert why in str(err.value)


@pytest.mark.parametrize("can", ["12345", "1234567", "12345A"])
def test_a_can_is_six_digits(can: str) -> None:
    with pytest.raises(InputError, match=r"^can: "):
        mrz_messages(_request(TD1, can))


def test_a_foreign_idb_with_a_short_mrz_is_reported() -> None:
    """A reader reports an MRZ message that is not whole lines instead of passing it off as an MRZ."""
    short = idb.make("UTO", (Tlv(TAGS["MRZ_TD3"], c40.encode("P UTOERIKSSON")),), None, TODAY)
    report = check_seal(short.text.encode("ascii"), _trust(), NOW)
    assert report.verdict is Verdict.UNSIGNED
    assert [(f.field, f.rule) for f in report.findings] == [("message.MRZ_TD3", "mrz-shape")]
    good = idb.make("UTO", mrz_messages(_request(TD3)), None, TODAY)
    assert not check_seal(good.text.encode("ascii"), _trust(), NOW).findings


_MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(3, 30), (2, 44)]), st.data(), st.one_of(st.just(""), st.from_regex(r"\A[0-9]{6}\Z")))
def test_any_mrz_text_round_trips_through_the_idb(shape: tuple[int, int], data: st.DataObject, can: str) -> None:
    count, width = shape
    lines = tuple(data.draw(st.text(_MRZ_CHARS, min_size=width, max_size=width)) for _ in range(count))
    seal = idb.make("UTO", mrz_messages(_request(lines, can)), None, TODAY)
    report = check_seal(seal.text.encode("ascii"), _trust(), NOW, strict=True)
    assert report.content[f"MRZ_TD{1 if count == 3 else 3}"] == "\n".join(lines)
    assert report.content.get("CAN") == (can or None) and not report.findings
    assert idb.decode(seal.text, strict=True).encode() == seal.text
