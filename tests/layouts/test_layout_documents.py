"""Every document type as data: titles, number captions and endorsements by document code; the TD2,
MRV-A and MRV-B templates; observations pages; names as people write them; right-to-left pages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from layout_fixtures import portrait_bytes, seal_bytes, signature_bytes

import mrtd.layouts.compose as compose
from mrtd.layouts import load_template, page_from_document, render
from mrtd.layouts.compose import Modules, Text
from mrtd.layouts.labels import endorsement, number_caption, title
from mrtd.model import Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.seals import barcode

FORMATS = {"td3": ("TD3", ["PP", "PE", "PS", "PR", "PT", "PD", "PO"]), "td1": ("TD1", ["ID", "I<", "AC"]),
           "td2": ("TD2", ["ID", "A<"]), "mrv-a": ("MRV-A", ["V<"]), "mrv-b": ("MRV-B", ["V<"])}
CASES = [(name, code) for name, (_, codes) in FORMATS.items() for code in codes]


def holder(**changes: object) -> Holder:
    base = dict(primary_identifier="ERIKSSON", secondary_identifier="ANNA MARIA", nationality="UTO",
                date_of_birth=PartialDate(1974, 8, 12), sex=Sex.FEMALE, place_of_birth="ZENITH")
    base.update(changes)
    return Holder(**base)  # type: ignore[arg-type]


def document(name: str, code: str, state: str = "UTO", **changes: object) -> Document:
    base = dict(code=DocumentCode(code), format=DocumentFormat(FORMATS[name][0]), issuing_state=state,
                holder=holder(), date_of_expiry=dt.date(2034, 4, 30), date_of_issue=dt.date(2024, 5, 1),
                number="L898902C3", authority="Passport Office", observations="")
    base.update(changes)
    return Document(**base)  # type: ignore[arg-type]


def texts(layouts: list[compose.SideLayout], side: str | None = None) -> list[str]:
    return [op.text for lay in layouts if side in (None, lay.name) for op in (*lay.background, *lay.ops)
            if isinstance(op, Text)]


def test_titles_and_number_captions_follow_the_document_code() -> None:
    assert title("PP", "en").ltr.startswith("PASSPORT /")
    assert title("PE", "en").ltr.startswith("EMERGENCY PASSPORT /")
    assert "1954" in title("PS", "en").ltr and "1951" in title("PR", "en").ltr
    assert title("V<", "en").ltr.startswith("VISA /") and title("I<", "fr").ltr.startswith("CARTE D'IDENTITÉ")
    assert number_caption("PP") == "passport_number" and number_caption("PS") == "document_number"
    assert number_caption("V<") == "visa_number"
    assert endorsement("PP", "en") == () and "1954" in endorsement("PS", "en")[0]


@pytest.mark.parametrize("name, code", CASES)
@pytest.mark.parametrize("state", ["UTO", "JOR"])
def test_every_document_type_lays_out_in_english_and_arabic(name: str, code: str, state: str) -> None:
    """Every template with every code it takes, on an English and an Arabic (right-to-left) page: every
    caption and value fits its zone (LayoutError otherwise) and the MRZ is printed."""
    t = load_template(name)
    doc = document(name, code, state, observations="Valid for travel to Utopia City.")
    page = page_from_document(doc, t, portrait=portrait_bytes(), signature=signature_bytes(), seal=seal_bytes(),
                              extra={"seal.passport_number": "C01X00T47", "seal.duration_of_stay": "90",
                                     "seal.number_of_entries": "1"})
    layouts = compose.compose(t, page)
    words = " ".join(texts(layouts))
    assert ("جواز" in words or "وثيقة" in words or "بطاقة" in words or "تأشيرة" in words) == (state == "JOR")
    if any(z.field == "observations" for side in t.sides for z in side.zones):  # all but TD1
        assert "Valid for travel to Utopia City." in words
    assert page.mrz[0] in {op.text for lay in layouts for op in lay.ops if hasattr(op, "pitch")}


def test_observations_page_only_for_documents_that_have_observations() -> None:
    t = load_template("td3")
    plain = compose.compose(t, page_from_document(document("td3", "PP"), t))
    stateless = compose.compose(t, page_from_document(document("td3", "PS"), t))
    assert [s.name for s in plain] == ["front"]
    assert [s.name for s in stateless] == ["front", "observations"]
    assert any("Stateless Persons of 28 September 1954" in x for x in texts(stateless, "observations"))
    assert any(x.startswith("Document No. / N° du document") for x in texts(stateless, "front"))
    assert any(x.startswith("Passport No. / N° du passeport") for x in texts(plain, "front"))


def test_latin_forms_replace_the_transliteration_and_national_name_is_not_repeated() -> None:
    t = load_template("td3")
    h = holder(primary_identifier="الرازي", secondary_identifier="ابو بكر", primary_identifier_latin="AL-RAZI",
               name_in_national_characters="ابو بكر الرازي", place_of_birth="الري", place_of_birth_latin="RAY")
    page = page_from_document(document("td3", "PP", holder=h), t)
    assert page.values("surname") == ("الرازي", "AL-RAZI")
    assert page.values("given_names") == ("ابو بكر", "ABW BKR")  # no Latin form given: the transliteration
    assert page.values("place_of_birth") == ("الري", "RAY")
    assert page.values("name_national") == ()  # it only repeats the names above
    assert page.mrz[0].startswith("PPUTOALRAZY<<ABW<BKR<")  # the MRZ keeps the strict transliteration


def test_right_to_left_page_mirrors_where_the_template_says_so() -> None:
    t = load_template("td1")
    doc = document("td1", "ID", "JOR", holder=holder(address="1 MAIN STREET"))
    ar, en = (compose.compose(t, page_from_document(doc, t, language=lang)) for lang in ("ar", "en"))
    back = t.side("back")
    assert back.mirror_rtl and not t.side("front").mirror_rtl

    def value_x(layouts: list[compose.SideLayout], side: str, text: str) -> Text:
        return next(op for lay in layouts if lay.name == side for op in lay.ops
                    if isinstance(op, Text) and op.text == text)

    zone = next(z for z in back.zones if z.field == "address")
    en_op, ar_op = value_x(en, "back", "1 MAIN STREET"), value_x(ar, "back", "1 MAIN STREET")
    assert en_op.anchor == "l" and en_op.x == pytest.approx(zone.box.x)
    assert ar_op.anchor == "r" and ar_op.x == pytest.approx(t.width - zone.box.x)  # reflected, right-aligned
    # The front is not mirrored (the portrait stays along the left edge) but its values align right.
    assert value_x(ar, "front", "ERIKSSON").anchor == "r"


def test_seal_modules_are_drawn_as_modules_and_read_back_from_the_png() -> None:
    import zxingcpp

    payload = b"DC03UTODS01" * 8
    img = barcode.render(payload, barcode.Symbology.DATAMATRIX)
    rows = barcode.modules(img)
    t = load_template("td2")
    page = dataclasses.replace(page_from_document(document("td2", "ID"), t), seal_modules=rows)
    lay = compose.compose(t, page)
    assert [op.rows for s in lay for op in s.ops if isinstance(op, Modules)] == [rows]
    front = render(t, page, 600)[0].image
    zone = next(z for z in t.side("front").zones if z.kind == "seal").box
    crop = front.crop(tuple(round(v / 25.4 * 600) for v in (zone.x - 1, zone.y - 1, zone.right + 1, zone.bottom + 1)))
    found = zxingcpp.read_barcodes(crop, formats=zxingcpp.BarcodeFormat.DataMatrix)
    assert [bytes(b.bytes) for b in found] == [payload]
