"""Application intake: every example validates; broken applications give exactly the findings expected."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, VECTORS

from mrtd.errors import ValidationError
from mrtd.issuance.application import (
    application_from_dict,
    check_application,
    read_application,
    schema,
)
from mrtd.model import DocumentFormat, PartialDate, Sex
from mrtd.mrz import mrz_lines

TODAY = dt.date(2026, 11, 23)
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
NAMES = json.loads((VECTORS / "issuance" / "example-names.json").read_text("utf-8"))


def anna() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    return data


def findings_of(data: Any, base_dir: Path = EXAMPLES, today: dt.date | None = TODAY) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        application_from_dict(data, base_dir, "test", today=today)
    return [(f.field, f.rule) for f in info.value.findings]


def test_there_are_examples_of_every_kind_asked_for() -> None:
    names = {p.stem for p in EXAMPLE_FILES}
    assert len(names) >= 11
    apps = [read_application(p, today=TODAY) for p in EXAMPLE_FILES]
    formats = {a.document.format for a in apps}
    assert {DocumentFormat.TD1, DocumentFormat.TD2, DocumentFormat.TD3} <= formats
    codes = {(a.document.code.value, a.document.holder.nationality) for a in apps}
    assert ("PS", "XXA") in codes and ("PR", "XXB") in codes
    assert any(a.document.code.value == "PE" for a in apps)
    assert any(not a.document.holder.date_of_birth.is_complete for a in apps)
    assert any(any("\u0400" <= c <= "\u04ff" for c in a.document.holder.primary_identifier) for a in apps)
    assert any(any("\u0600" <= c <= "\u06ff" for c in a.document.holder.primary_identifier) for a in apps)
    for a in apps:
        assert a.document.date_of_expiry > TODAY
        # No stale date of issue: a document is dated the day it is issued (mrtd refuses any other date).
        assert a.document.date_of_issue is None


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_validates(path: Path) -> None:
    application = read_application(path, today=TODAY)
    assert application.source == str(path)
    assert application.portrait == path.parent / json.loads(path.read_text("utf-8"))["portrait"]
    assert application.portrait is not None and application.portrait.is_file()
    assert application.signature is not None and application.signature.is_file()
    assert check_application(json.loads(path.read_text("utf-8")), path.parent, today=TODAY).findings == ()


@pytest.mark.parametrize("case", NAMES["exact"], ids=lambda c: c["example"])
def test_examples_give_the_icao_name_fields(case: dict[str, Any]) -> None:
    lines = mrz_lines(read_application(EXAMPLES / case["example"]).document)
    field = lines[case["line"]][case["start"] :]
    assert field == case["expected"]


@pytest.mark.parametrize("case", NAMES["truncated"], ids=lambda c: c["example"])
def test_long_names_are_truncated_as_the_standard_requires(case: dict[str, Any]) -> None:
    lines = mrz_lines(read_application(EXAMPLES / case["example"]).document)
    field = lines[case["line"]][case["start"] : case["start"] + case["width"]]
    assert len(field) == case["width"]
    assert field[-1].isalpha(), "the last position of a truncated name is a letter"
    primary, _, secondary = field.partition("<<")
    assert primary and secondary
    for got, full in ((primary.split("<"), case["primary"]), (secondary.split("<"), case["secondary"])):
        assert len(got) <= len(full)
        for part, original in zip(got, full, strict=False):
            assert original.startswith(part) and part


def test_the_specimen_reads_into_the_model() -> None:
    doc = read_application(EXAMPLES / "anna-eriksson-td3.json").document
    assert doc.code.value == "PP" and doc.format is DocumentFormat.TD3 and doc.number == "L898902C3"
    assert doc.date_of_issue is None and doc.date_of_expiry == dt.date(2034, 4, 30)
    h = doc.holder
    assert (h.primary_identifier, h.secondary_identifier, h.nationality) == ("ERIKSSON", "ANNA MARIA", "UTO")
    assert h.date_of_birth == PartialDate(1974, 8, 12) and h.sex is Sex.FEMALE
    assert h.personal_number == "ZE184226B" and h.place_of_birth == "ZENITH"


def test_unknown_birth_parts_are_kept() -> None:
    doc = read_application(EXAMPLES / "fatmata-kamara-unknown-birth-date.json").document
    assert doc.holder.date_of_birth == PartialDate(1961, None, None)


def test_number_is_optional() -> None:
    data = anna()
    del data["document"]["number"]
    application = application_from_dict(data, EXAMPLES, "no-number")
    assert application.document.number is None


def test_image_paths_resolve_against_the_application_folder(tmp_path: Path) -> None:
    data = anna()
    data["portrait"] = str(EXAMPLES / "portraits" / "anna.jpg")  # absolute stays absolute
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sig.png").write_bytes((EXAMPLES / "signatures" / "anna.png").read_bytes())
    data["signature"] = "sub/sig.png"
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data), "utf-8")
    application = read_application(path)
    assert application.portrait == EXAMPLES / "portraits" / "anna.jpg"
    assert application.signature == tmp_path / "sub" / "sig.png"


def test_the_date_message_names_field_value_and_rule() -> None:
    data = anna()
    data["holder"]["date_of_birth"] = "1974-13-01"
    with pytest.raises(ValidationError) as info:
        application_from_dict(data, EXAMPLES, "anna.json")
    (finding,) = info.value.findings
    assert str(finding) == 'holder.date_of_birth: "1974-13-01" is not a date'
    assert finding.rule == "not-a-date"
    assert info.value.source == "anna.json"
    assert str(info.value).startswith('anna.json: holder.date_of_birth: "1974-13-01" is not a date')


def test_several_problems_are_reported_at_once() -> None:
    data = anna()
    data["holder"]["date_of_birth"] = "1974-02-30"
    data["holder"]["sex"] = "Q"
    data["holder"]["nationality"] = "ZZZ"
    data["document"]["date_of_issue"] = "2024-13-01"
    del data["document"]["format"]
    data["document"]["colour"] = "blue"
    data["portrait"] = "portraits/nobody.jpg"
    assert findings_of(data) == [
        ("document.format", "required"),
        ("document.date_of_issue", "not-a-date"),
        ("document.colour", "unknown-field"),
        ("holder.nationality", "unknown-state"),
        ("holder.date_of_birth", "not-a-date"),
        ("holder.sex", "enum"),
        ("portrait", "image-missing"),
    ]


def test_impossible_combinations() -> None:
    data = anna()
    data["document"]["date_of_issue"] = "2026-01-10"
    data["document"]["date_of_expiry"] = "2025-01-10"
    data["holder"]["date_of_birth"] = "2026-02-01"
    assert findings_of(data, today=None) == [
        ("document.date_of_expiry", "expiry-not-after-issue"),
        ("holder.date_of_birth", "birth-after-issue"),
    ]


def test_rules_still_run_when_other_fields_are_refused() -> None:
    data = json.loads((EXAMPLES / "anna-eriksson-td1.json").read_text("utf-8"))
    data["document"]["code"] = "PP"
    data["document"]["date_of_issue"] = "2025-03-14"
    data["document"]["date_of_expiry"] = "2024-01-01"
    data["holder"]["primary_identifier"] = "ERIKSSON \u4e2d"
    data["holder"]["nationality"] = "ZZZ"
    data["signature"] = "anna-eriksson-td1.json"
    assert findings_of(data) == [
        ("document.code", "document-code"),
        ("document.date_of_expiry", "expiry-not-after-issue"),
        ("document.date_of_expiry", "expired"),
        ("holder.primary_identifier", "transliteration"),
        ("holder.nationality", "unknown-state"),
        ("signature", "image-format"),
    ]


def test_expired_is_refused_only_when_today_is_given() -> None:
    data = anna()
    data["document"]["date_of_issue"] = "2016-01-10"
    data["document"]["date_of_expiry"] = "2026-01-09"
    assert findings_of(data) == [("document.date_of_expiry", "expired")]
    application_from_dict(data, EXAMPLES, "old", today=None)


def test_a_td1_with_a_passport_code_is_refused() -> None:
    data = json.loads((EXAMPLES / "anna-eriksson-td1.json").read_text("utf-8"))
    data["document"]["code"] = "PP"
    found = findings_of(data)
    assert ("document.code", "document-code") in found
    assert all(field == "document.code" for field, _ in found)


def test_passport_codes_follow_amendment_2() -> None:
    data = anna()
    data["document"]["code"] = "PX"
    data["document"]["date_of_issue"] = "2026-03-01"
    assert ("document.code", "document-code") in findings_of(data)


def test_names_that_cannot_be_transliterated_are_refused() -> None:
    data = anna()
    data["holder"]["primary_identifier"] = "ERIKSSON \u4e2d"
    found = findings_of(data)
    assert found and all(field == "holder.primary_identifier" for field, _ in found)


def test_a_number_too_long_for_the_format_is_refused() -> None:
    data = anna()
    data["document"]["number"] = "L898902C3XYZ"  # TD3 has no long-number provision
    found = findings_of(data)
    assert found and all(field == "document.number" for field, _ in found)


def test_schema_shapes_become_field_findings() -> None:
    data = anna()
    data["document"] = "PP"
    data["holder"]["other_names"] = ["ANNA LINDQVIST", 7]
    data["holder"]["personal_number"] = "ze-184"
    data["holder"]["primary_identifier"] = "   "
    data["extra"] = {"reference": 12}
    assert findings_of(data) == [
        ("document", "type"),
        ("holder.primary_identifier", "empty"),
        ("holder.personal_number", "mrz-characters"),
        ("holder.other_names[1]", "type"),
        ("extra.reference", "type"),
    ]


def test_required_fields_and_root() -> None:
    assert findings_of({}) == [("document", "required"), ("holder", "required"), ("portrait", "required")]
    assert findings_of([1, 2]) == [("application", "type")]  # type: ignore[arg-type]
    data = anna()
    data["holder"] = {}
    assert findings_of(data) == [
        ("holder.primary_identifier", "required"),
        ("holder.nationality", "required"),
        ("holder.date_of_birth", "required"),
        ("holder.sex", "required"),
    ]


def test_control_characters_are_refused() -> None:
    data = anna()
    data["holder"]["place_of_birth"] = "ZENITH\x07"
    assert findings_of(data) == [("holder.place_of_birth", "control-character")]


def test_a_day_without_a_month_is_not_a_date() -> None:
    data = anna()
    data["holder"]["date_of_birth"] = "1974-XX-12"
    with pytest.raises(ValidationError) as info:
        application_from_dict(data, EXAMPLES, "t")
    assert [str(f) for f in info.value.findings] == [
        'holder.date_of_birth: "1974-XX-12" is not a date (a day is given with an unknown month)'
    ]


def test_file_level_problems(tmp_path: Path) -> None:
    cases = {
        "dup.json": (b'{"document": {}, "document": {}}', "duplicate-key"),
        "broken.json": (b'{"document": ', "not-json"),
        "latin1.json": ('{"holder": "Jos\u00e9"}'.encode("latin-1"), "not-utf8"),
        "nan.json": (b'{"document": NaN}', "not-json"),
        "deep.json": (b"[" * 100_000 + b"]" * 100_000, "too-deep"),
    }
    for name, (content, rule) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValidationError) as info:
            read_application(path)
        assert [(f.field, f.rule) for f in info.value.findings] == [("application", rule)], name
    with pytest.raises(ValidationError) as info:
        read_application(tmp_path / "missing.json")
    assert info.value.findings[0].rule == "unreadable"


def test_a_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    data = anna()
    data["portrait"] = str(EXAMPLES / data["portrait"])
    data["signature"] = str(EXAMPLES / data["signature"])
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())
    assert read_application(path).document.number == "L898902C3"


def test_names_are_normalised_to_nfc() -> None:
    data = anna()
    data["holder"]["secondary_identifier"] = "Anne\u0301  Marie"  # decomposed acute, doubled space
    holder = application_from_dict(data, EXAMPLES, "t").document.holder
    assert holder.secondary_identifier == "Ann\u00e9 Marie"


def test_the_schema_documents_the_required_fields() -> None:
    s = schema()
    assert s["required"] == ["document", "holder", "portrait"]
    doc = s["$defs"]["document"]["properties"]
    holder = s["$defs"]["holder"]["properties"]
    for name in (
        "code",
        "format",
        "issuing_state",
        "number",
        "date_of_issue",
        "date_of_expiry",
        "authority",
        "optional_data",
    ):
        assert name in doc
    for name in (
        "primary_identifier",
        "secondary_identifier",
        "nationality",
        "date_of_birth",
        "sex",
        "place_of_birth",
        "personal_number",
        "name_in_national_characters",
    ):
        assert name in holder


def test_a_warning_does_not_stop_the_application(tmp_path: Path) -> None:
    """Anna's portrait on a wider canvas: a landscape photo with a face is warned about, not refused."""
    from PIL import Image

    data = anna()
    wide = tmp_path / "wide.jpg"
    face = Image.open(EXAMPLES / "portraits" / "anna.jpg")
    canvas = Image.new("RGB", (900, 750), face.getpixel((5, 5)))  # type: ignore[arg-type]
    canvas.paste(face, (150, 0))
    canvas.save(wide, "JPEG", quality=92)
    data["portrait"] = str(wide)
    data["signature"] = str(EXAMPLES / "signatures" / "anna.png")
    checked = check_application(copy.deepcopy(data), tmp_path, "t")
    assert checked.application is not None
    rules = [(f.field, f.rule) for f in checked.warnings]
    assert rules[0] == ("portrait", "portrait-orientation")
    assert ("portrait", "photo-head-width") in rules  # the head is now a smaller part of the width


def test_a_photo_without_a_face_is_refused(tmp_path: Path) -> None:
    """The issue's "NOT A FACE" red rectangle: refused by intake, naming the field and the rule."""
    from PIL import Image, ImageDraw

    data = anna()
    red = tmp_path / "red.jpg"
    img = Image.new("RGB", (600, 800), (200, 20, 20))
    ImageDraw.Draw(img).text((200, 380), "NOT A FACE", fill=(255, 255, 255))
    img.save(red, "JPEG")
    data["portrait"] = str(red)
    data["signature"] = str(EXAMPLES / "signatures" / "anna.png")
    checked = check_application(copy.deepcopy(data), tmp_path, "t")
    assert checked.application is None
    assert [(f.field, f.rule) for f in checked.errors] == [("portrait", "photo-face")]
    assert "faces found: 0, needs exactly 1" in checked.errors[0].message


def test_the_schema_is_valid_draft_2020_12_and_every_example_conforms() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    validator = Draft202012Validator(schema())
    for path in EXAMPLE_FILES:
        assert list(validator.iter_errors(json.loads(path.read_text("utf-8")))) == [], path.name
