"""The five formats: long document numbers, unknown dates, sex, check digits, and `check` reporting everything."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from mrz_helpers import REFERENCE

from mrtd.errors import Severity, ValidationError
from mrtd.model import DocumentFormat, PartialDate, Sex
from mrtd.mrz import MrzRecord, build, check, check_digit, parse

TD3_SPECIMEN = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]


def _record(fmt: DocumentFormat, **kw: object) -> MrzRecord:
    code = {"TD3": "PP", "TD1": "ID", "TD2": "ID", "MRV-A": "V<", "MRV-B": "V<"}[fmt.value]
    base = MrzRecord(
        fmt,
        code,
        "UTO",
        "ERIKSSON",
        "ANNA<MARIA",
        "L898902C3",
        "UTO",
        PartialDate(1974, 8, 12),
        Sex.FEMALE,
        PartialDate(2030, 4, 15),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_td1_long_number_layout() -> None:
    r = _record(DocumentFormat.TD1, document_number="D23145890734", optional_data="AB12")
    l1, l2, l3 = build(r)
    assert l1 == "IDUTOD23145890<7349<AB12<<<<<<"
    assert l1[14] == "<" and l1[18] == str(check_digit("D23145890734"))
    assert parse((l1, l2, l3), REFERENCE) == r


def test_td2_long_number_layout_and_limits() -> None:
    r = _record(DocumentFormat.TD2, document_number="D23145890734")
    l1, l2 = build(r)
    assert l2.startswith("D23145890<UTO") and l2[28:33] == "7349<"
    assert parse((l1, l2), REFERENCE) == r
    longest = build(dataclasses.replace(r, document_number="D23145890734567"))[1]
    assert longest[28:35] == "734567" + str(check_digit("D23145890734567"))  # fills all 7, no terminator
    with pytest.raises(ValidationError) as exc:
        build(dataclasses.replace(r, document_number="D231458907345678"))
    assert exc.value.findings[0].field == "document_number"
    with pytest.raises(ValidationError, match="optional-data positions"):
        build(dataclasses.replace(r, optional_data="ABCD"))


@pytest.mark.parametrize("fmt", [DocumentFormat.TD3, DocumentFormat.MRVA, DocumentFormat.MRVB])
def test_long_numbers_refused_where_there_is_no_provision(fmt: DocumentFormat) -> None:
    with pytest.raises(ValidationError, match="no provision") as exc:
        build(_record(fmt, document_number="D23145890734"))
    part = "Part 7" if fmt.is_visa else "Part 4"
    assert part in str(exc.value)
    assert exc.value.findings[0].field == "document_number"


def test_td3_reader_reports_filler_in_number_check_digit() -> None:
    lines = [TD3_SPECIMEN[0], "D23145890<UTO7408122F1204159ZE184226B<<<<<10"]
    findings = check(lines, REFERENCE)
    assert any(f.field == "line2[10]" and "no provision" in f.message for f in findings)


def test_unknown_date_parts_round_trip() -> None:
    for dob in (
        PartialDate(1974, None, None),
        PartialDate(1974, 8, None),
        PartialDate(None, None, None),
        PartialDate(None, 8, 12),
    ):
        r = _record(DocumentFormat.TD3, date_of_birth=dob)
        lines = build(r)
        assert check(lines, REFERENCE) == []
        assert parse(lines, REFERENCE) == r
    assert build(_record(DocumentFormat.TD3, date_of_birth=PartialDate(1974)))[1][13:20] == "74<<<<" + str(
        check_digit("74<<<<")
    )


def test_expiry_must_be_complete() -> None:
    with pytest.raises(ValidationError, match="complete"):
        build(_record(DocumentFormat.TD3, date_of_expiry=PartialDate(2030)))
    lines = [TD3_SPECIMEN[0], "L898902C36UTO7408122F12<<<<4ZE184226B<<<<<10"]
    assert any(f.rule == "not-a-date" and f.field == "line2[22-27]" for f in check(lines, REFERENCE))


@pytest.mark.parametrize("sex,char", [(Sex.FEMALE, "F"), (Sex.MALE, "M"), (Sex.UNSPECIFIED, "<")])
def test_sex(sex: Sex, char: str) -> None:
    r = _record(DocumentFormat.TD3, sex=sex)
    lines = build(r)
    assert lines[1][20] == char
    assert parse(lines, REFERENCE).sex is sex


def test_sex_x_in_mrz_is_a_warning_and_other_letters_an_error() -> None:
    line2 = TD3_SPECIMEN[1]
    x = check([TD3_SPECIMEN[0], line2[:20] + "X" + line2[21:]], REFERENCE)
    assert [(f.field, f.severity) for f in x] == [("line2[21]", Severity.WARNING)]
    assert parse([TD3_SPECIMEN[0], line2[:20] + "X" + line2[21:]], REFERENCE).sex is Sex.UNSPECIFIED
    q = check([TD3_SPECIMEN[0], line2[:20] + "Q" + line2[21:]], REFERENCE)
    assert [(f.field, f.rule) for f in q] == [("line2[21]", "sex")]


def test_td3_empty_personal_number_check_digit() -> None:
    r = _record(DocumentFormat.TD3, optional_data="")
    l1, l2 = build(r)
    assert l2[28:43] == "<" * 15  # we write '<' (see mrtd/mrz/formats.py for why)
    zero = l2[:42] + "0" + l2[43:]
    assert check((l1, zero), REFERENCE) == []  # and accept '0': the composite is the same
    assert parse((l1, zero), REFERENCE) == r
    bad = l2[:42] + "5" + l2[43:]
    assert [f.field for f in check((l1, bad), REFERENCE)] == ["line2[43]", "line2[44]"]  # composite too
    filled = build(_record(DocumentFormat.TD3, optional_data="ZE184226B"))[1]
    assert [f.field for f in check((l1, filled[:42] + "<" + filled[43:]), REFERENCE)] == [
        "line2[43]",
        "line2[44]",
    ]


def test_check_reports_every_finding() -> None:
    line1 = "P<UTOERIKSSON<<ANNA<MARIa<<<<<<<<<<<<<<<<<<<<"  # 45 chars, a lower-case letter
    line2 = "L898902C35ZZZ7413322F1204158ZE184226B<<<<<20"  # number cd, state, date+cd, expiry cd, pn cd
    findings = check([line1, line2], REFERENCE)
    got = {(f.field, f.rule) for f in findings}
    assert ("line1", "line-length") in got
    assert ("line1[25]", "bad-character") in got
    assert ("line2[10]", "check-digit") in got
    assert ("line2[11-13]", "unknown-state") in got
    assert ("line2[14-19]", "not-a-date") in got
    assert ("line2[28]", "check-digit") in got
    assert ("line2[43]", "check-digit") in got
    assert ("line2[44]", "check-digit") in got
    messages = " ".join(f.message for f in findings)
    for name in ("document number", "date of expiry", "optional data", "composite"):
        assert name in messages
    with pytest.raises(ValidationError) as exc:
        parse([line1, line2], REFERENCE)
    assert len(exc.value.findings) == len(findings)


def test_check_reports_document_code_problems() -> None:
    td1 = [
        "AVUTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ]
    assert any(f.field == "line1[1-2]" and f.rule == "document-code" for f in check(td1, REFERENCE))
    ai = ["AI" + td1[0][2:], *td1[1:]]
    assert any(f.rule == "document-code" for f in check(ai, REFERENCE))
    p = ["P<" + td1[0][2:], *td1[1:]]
    assert any("starts with A, C, I" in f.message for f in check(p, REFERENCE))


def test_passport_without_harmonised_code_must_expire_before_2038() -> None:
    r = _record(DocumentFormat.TD3, document_code="P<", date_of_expiry=PartialDate(2038, 1, 1))
    with pytest.raises(ValidationError, match="2038"):
        build(r)
    ok = dataclasses.replace(r, date_of_expiry=PartialDate(2037, 12, 31))
    assert parse(build(ok), dt.date(2026, 1, 1)) == ok


def test_wrong_line_count_and_junk_never_raise() -> None:
    assert [f.rule for f in check(["P<UTO"])] == ["line-count"]
    assert check([]) and check(["", "", "", ""])
    assert check(["", ""])  # lengths
    assert check("not an mrz")
    assert check([None, None]) == check([None, None])  # type: ignore[list-item]


def test_check_without_reference_accepts_29_february_in_a_leap_yy() -> None:
    r = _record(DocumentFormat.TD3, date_of_birth=PartialDate(2000, 2, 29))
    assert check(build(r)) == []
    line2 = build(r)[1]
    bad = line2[:13] + "010229" + str(check_digit("010229")) + line2[20:]
    assert any(f.rule == "not-a-date" for f in check([build(r)[0], bad]))


def test_record_check_digit_properties() -> None:
    r = parse(TD3_SPECIMEN, REFERENCE)
    assert r.check_digits == {
        "document_number": "6",
        "date_of_birth": "2",
        "date_of_expiry": "9",
        "optional_data": "1",
        "composite": "0",
    }
    assert r.lines == tuple(TD3_SPECIMEN)
    visa = _record(DocumentFormat.MRVB, document_number="L898902C", optional_data="ZE184226")
    assert visa.composite_check_digit is None


def test_build_lists_every_record_problem() -> None:
    r = _record(
        DocumentFormat.TD3,
        document_code="IX",
        issuing_state="ZZZ",
        nationality="UT",
        document_number="",
        optional_data="ÄÖ",
        primary_identifier="",
    )
    with pytest.raises(ValidationError) as exc:
        build(r)
    fields = {f.field for f in exc.value.findings}
    assert {
        "document_code",
        "issuing_state",
        "nationality",
        "document_number",
        "optional_data",
        "primary_identifier",
    } <= fields


def test_bad_names_in_a_record_name_their_field() -> None:
    with pytest.raises(ValidationError) as exc:
        build(_record(DocumentFormat.TD1, secondary_identifier="ANNA<<MARIA"))
    assert [f.field for f in exc.value.findings] == ["secondary_identifier"]
    with pytest.raises(ValidationError) as exc:
        build(_record(DocumentFormat.TD1, primary_identifier="ERIK5SON"))
    assert [f.field for f in exc.value.findings] == ["primary_identifier"]
