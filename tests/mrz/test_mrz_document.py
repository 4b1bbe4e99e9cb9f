"""From a `Document` to its MRZ: names in national characters, codes, numbers, and every problem at once."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from mrz_helpers import REFERENCE

from mrtd.errors import ValidationError
from mrtd.model import Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.mrz import NameOptions, check, mrz_lines, parse, record_from_document


def _doc(fmt: DocumentFormat = DocumentFormat.TD3, code: str = "PP", **holder: object) -> Document:
    h = Holder(
        primary_identifier="Eriksson",
        secondary_identifier="Anna Maria",
        nationality="UTO",
        date_of_birth=PartialDate(1974, 8, 12),
        sex=Sex.FEMALE,
        personal_number="ZE184226B",
    )
    h = dataclasses.replace(h, **holder)  # type: ignore[arg-type]
    return Document(
        code=DocumentCode(code),
        format=fmt,
        issuing_state="UTO",
        holder=h,
        date_of_expiry=dt.date(2012, 4, 15),
        date_of_issue=dt.date(2002, 4, 16),
        number="L898902C3",
    )


def test_specimen_from_document() -> None:
    assert mrz_lines(_doc()) == (
        "PPUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )


def test_td1_specimen_from_document() -> None:
    doc = dataclasses.replace(_doc(DocumentFormat.TD1, "I"), number="D23145890")
    doc = dataclasses.replace(doc, holder=dataclasses.replace(doc.holder, personal_number=""))
    assert mrz_lines(doc) == (
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    )


def test_national_characters_and_options() -> None:
    doc = _doc(primary_identifier="Шевченко", secondary_identifier="Олена Іванівна", nationality="D")
    record = record_from_document(doc, NameOptions(cyrillic_language="uk"))
    assert (record.primary_identifier, record.secondary_identifier) == ("SHEVCHENKO", "OLENA<IVANIVNA")
    assert record.nationality == "D<<"
    arabic = record_from_document(
        _doc(primary_identifier="الرازي", secondary_identifier="ابو بكر محمد بن زكريا")
    )
    assert arabic.lines[0][5:] == "ALRAZY<<ABW<BKR<MXHMD<BN<ZKRYA<<<<<<<<<"


def test_long_name_is_truncated_in_the_record() -> None:
    doc = _doc(primary_identifier="Nilavadhanananda", secondary_identifier="Chayapa Dejthamrong Krasuang")
    record = record_from_document(doc)
    assert record.secondary_identifier == "CHAYAPA<DEJTHAMRONG<K"
    assert parse(record.lines, REFERENCE) == record


def test_unknown_birth_date_parts() -> None:
    doc = _doc(date_of_birth=PartialDate(1961, None, None))
    lines = mrz_lines(doc)
    assert lines[1][13:19] == "61<<<<"
    assert check(lines, REFERENCE) == []


def test_every_problem_with_its_field_path() -> None:
    doc = _doc(primary_identifier="Ћирић", secondary_identifier="Anna 2", nationality="ZZZ")
    doc = dataclasses.replace(doc, issuing_state="QQQ", number="D23145890734", optional_data_2="X")
    with pytest.raises(ValidationError) as exc:
        record_from_document(doc)
    fields = {f.field for f in exc.value.findings}
    assert {
        "holder.primary_identifier",
        "holder.secondary_identifier",
        "holder.nationality",
        "document.issuing_state",
        "document.number",
        "document.optional_data_2",
    } <= fields
    number = next(f for f in exc.value.findings if f.field == "document.number")
    assert "Part 4" in number.message and "no provision" in number.message


def test_passport_code_on_td1_and_dates() -> None:
    doc = dataclasses.replace(_doc(DocumentFormat.TD1, "PP"), number="D23145890")
    with pytest.raises(ValidationError) as exc:
        record_from_document(doc)
    assert [f.field for f in exc.value.findings] == ["document.code"]
    late = dataclasses.replace(
        _doc(code="P"), date_of_issue=dt.date(2028, 1, 1), date_of_expiry=dt.date(2033, 1, 1)
    )
    with pytest.raises(ValidationError, match="2028"):
        record_from_document(late)


def test_missing_number_and_vizzy_values() -> None:
    with pytest.raises(ValidationError) as exc:
        record_from_document(dataclasses.replace(_doc(), number=None))
    assert [f.field for f in exc.value.findings] == ["document.number"]
    record = record_from_document(dataclasses.replace(_doc(), number="ab 12-34", optional_data="12 34"))
    assert record.document_number == "AB<12<34" and record.optional_data == "12<34"
