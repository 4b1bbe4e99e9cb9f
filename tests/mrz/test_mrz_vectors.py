"""The ICAO worked examples (check digits, composites, specimens, errata) as the project's own vectors."""

from __future__ import annotations

from typing import Any

import pytest
from mrz_helpers import REFERENCE, vectors

from mrtd.errors import ValidationError
from mrtd.model import DocumentFormat, Sex
from mrtd.mrz import MrzRecord, build, check, check_digit, mrz_information, name_field, parse
from mrtd.mrz.checkdigit import weighted_sum
from mrtd.mrz.dates import birth_date, expiry_date
from mrtd.mrz.names import split_name_field

CHECK_DIGITS = {v["id"]: v for v in vectors("check_digits.json")}
SPECIMENS = {v["id"]: v for v in vectors("specimens.json")}


@pytest.mark.parametrize("vid", ["p3-appA-ex1", "p3-appA-ex2"])
def test_check_digit_examples(vid: str) -> None:
    v = CHECK_DIGITS[vid]
    data = v["inputs"]["data"]
    assert weighted_sum(data) == v["expected"]["weighted_sum"]
    assert check_digit(data) == v["expected"]["check_digit"]
    if "field_with_check_digit" in v["expected"]:
        assert data + str(check_digit(data)) == v["expected"]["field_with_check_digit"]


@pytest.mark.parametrize("vid", ["p3-appA-ex3", "p3-appA-ex4", "p3-appA-ex5"])
def test_composite_examples(vid: str) -> None:
    v = CHECK_DIGITS[vid]
    key = next(k for k in v["inputs"] if k.startswith("composite_input"))
    data = v["inputs"][key]
    assert weighted_sum(data) == v["expected"]["weighted_sum"]
    assert check_digit(data) == v["expected"]["composite_check_digit"]


def test_composite_example_lines_check_clean() -> None:
    # App. A examples 3-5 print YTO (not a real code): everything else about the lines is sound.
    ex5 = CHECK_DIGITS["p3-appA-ex5"]["expected"]["lower_line"]
    findings = check(["I<YTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", ex5], REFERENCE)
    assert {f.rule for f in findings} == {"unknown-state"}
    ex3 = CHECK_DIGITS["p3-appA-ex3"]["expected"]["lower_line"]
    findings = check(["P<YTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", ex3], REFERENCE)
    assert {f.rule for f in findings} == {"unknown-state"}
    assert ex3[42] == "0"  # App. A prints 0 for an unused personal number: accepted


def _expected_lines(v: dict[str, Any]) -> list[str]:
    e = v["expected"]
    return [e[k] for k in ("line1", "line2", "line3") if k in e]


def _record_from_inputs(v: dict[str, Any], fmt: DocumentFormat) -> MrzRecord:
    i = v["inputs"]
    primary, secondary = split_name_field(
        name_field(
            i["primary_identifier"], i["secondary_identifier"], 30 if fmt is DocumentFormat.TD1 else 39
        )
    )
    expiry = i.get("date_of_expiry", i.get("valid_until"))
    return MrzRecord(
        format=fmt,
        document_code=i["document_code"].ljust(2, "<"),
        issuing_state=i["issuing_state"],
        primary_identifier=primary,
        secondary_identifier=secondary,
        document_number=i["document_number"],
        nationality=i["nationality"],
        date_of_birth=birth_date(i["date_of_birth"], REFERENCE),
        sex=Sex(i["sex"]),
        date_of_expiry=expiry_date(expiry, REFERENCE),
        optional_data=i.get("personal_number", i.get("optional_data", "")),
    )


BUILDABLE = {
    "p4-td3-specimen": DocumentFormat.TD3,
    "p5-td1-specimen": DocumentFormat.TD1,
    "p6-td2-specimen": DocumentFormat.TD2,
    "p7-mrva-appB": DocumentFormat.MRVA,
}


@pytest.mark.parametrize("vid", sorted(BUILDABLE))
def test_specimen_built_from_its_fields(vid: str) -> None:
    v = SPECIMENS[vid]
    fmt = BUILDABLE[vid]
    record = _record_from_inputs(v, fmt)
    if fmt is DocumentFormat.TD2:
        record = _replace(record, primary_identifier="ERIKSSON")  # TD2 name width is 31: same text
    assert list(build(record)) == _expected_lines(v)
    digits = v["expected"].get("check_digits", {})
    got = record.check_digits
    for name, value in digits.items():
        key = {"personal_number": "optional_data", "valid_until": "date_of_expiry"}.get(name, name)
        assert got[key] == str(value), name


def _replace(r: MrzRecord, **kw: Any) -> MrzRecord:
    import dataclasses

    return dataclasses.replace(r, **kw)


def test_mrvb_specimen_built() -> None:
    v = SPECIMENS["p7-mrvb-appB"]
    i = v["inputs"]
    record = MrzRecord(
        DocumentFormat.MRVB,
        "V<",
        i["issuing_state"],
        "ERIKSSON",
        "ANNA<MARIA",
        i["document_number"],
        i["nationality"],
        birth_date(i["date_of_birth"], REFERENCE),
        Sex.FEMALE,
        expiry_date(i["valid_until"], REFERENCE),
        i["optional_data"],
    )
    assert list(build(record)) == _expected_lines(v)


CLEAN = [vid for vid in SPECIMENS if "ERRATUM" not in vid and "line1" in SPECIMENS[vid]["expected"]]


@pytest.mark.parametrize("vid", sorted(CLEAN))
def test_specimen_checks_clean_and_round_trips(vid: str) -> None:
    lines = _expected_lines(SPECIMENS[vid])
    assert check(lines, REFERENCE) == []
    record = parse(lines, REFERENCE)
    assert list(build(record)) == lines


@pytest.mark.parametrize("vid", ["p11-D2-td2-long-docno", "p11-D2-td1-long-docno"])
def test_long_document_numbers(vid: str) -> None:
    v = SPECIMENS[vid]
    lines = [v["inputs"][k] for k in ("line1", "line2", "line3") if k in v["inputs"]]
    assert check(lines, REFERENCE) == []
    record = parse(lines, REFERENCE)
    assert record.document_number == v["expected"]["document_number"]
    assert mrz_information(record) == v["expected"]["MRZ_information"]
    if "document_number_check_digit" in v["expected"]:
        assert record.document_number_check_digit == str(v["expected"]["document_number_check_digit"])
        assert record.date_of_birth_check_digit == str(v["expected"]["dob_check_digit"])
        assert record.date_of_expiry_check_digit == str(v["expected"]["doe_check_digit"])
    assert list(build(record)) == lines


def test_old_specimen_mrz_information() -> None:
    record = parse(_expected_lines(SPECIMENS["old-td3-specimen"]), REFERENCE)
    assert record.document_number == "L898902C"
    assert mrz_information(record) == "L898902C<369080619406236"


@pytest.mark.parametrize("vid", ["p11-D2-td2-9char-ERRATUM", "p11-D2-td1-9char-ERRATUM"])
def test_errata_printed_composite_is_wrong_and_ours_is_corrected(vid: str) -> None:
    v = SPECIMENS[vid]
    i, e = v["inputs"], v["expected"]
    lines = [i["line1"], i["line2_as_printed"]] + ([i["line3"]] if "line3" in i else [])
    printed, correct = str(e["composite_check_digit_as_printed"]), str(e["composite_check_digit_correct"])
    assert lines[1][-1] == printed
    findings = check(lines, REFERENCE)
    assert len(findings) == 1
    (f,) = findings
    pos = len(lines[1])
    assert (f.rule, f.field) == ("check-digit", f"line2[{pos}]")
    assert f"computed {correct}" in f.message and "composite" in f.message
    with pytest.raises(ValidationError):
        parse(lines, REFERENCE)
    corrected = [*lines]
    corrected[1] = lines[1][:-1] + correct
    assert check(corrected, REFERENCE) == []
    record = parse(corrected, REFERENCE)
    assert list(build(record)) == corrected  # we write the corrected digit
    assert mrz_information(record) == e["MRZ_information"]
