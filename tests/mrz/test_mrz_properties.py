"""Hypothesis: parse(build(r)) == r in every format; junk and mutations never raise anything but MrtdError."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mrtd.errors import MrtdError, ValidationError
from mrtd.model import DocumentFormat, PartialDate, Sex
from mrtd.mrz import MrzRecord, build, check, parse
from mrtd.mrz._data import load
from mrtd.mrz.codes import harmonised_passport_codes, state_kind
from mrtd.mrz.formats import NAME_WIDTH, OPTIONAL_WIDTH

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = LETTERS + "0123456789"
STATES = sorted(c.ljust(3, "<") for c in load("states")["codes"] if state_kind(c) != "deprecated")
REF = dt.date(2026, 6, 15)


def _code(fmt: DocumentFormat) -> st.SearchStrategy[str]:
    if fmt is DocumentFormat.TD3:
        return st.sampled_from([*sorted(harmonised_passport_codes()), "PU"])
    if fmt.is_visa:
        return st.sampled_from(["V<", *("V" + c for c in LETTERS)])
    codes = [a + b for a in "ACI" for b in LETTERS + "<" if b != "V" and a + b not in ("AI", "AC")]
    return st.sampled_from(codes)


_component = st.text(alphabet=LETTERS, min_size=1, max_size=9)


def _optional(width: int) -> st.SearchStrategy[str]:
    if width <= 0:
        return st.just("")
    return st.text(alphabet=ALNUM + "<", max_size=width).map(lambda s: s.rstrip("<"))


@st.composite
def _dob(draw: st.DrawFn) -> PartialDate:
    kind = draw(st.sampled_from(["full", "ym", "y", "md", "m", "none"]))
    if kind == "full":
        return PartialDate.of(draw(st.dates(dt.date(REF.year - 98, 1, 1), REF)))
    year = draw(st.integers(REF.year - 98, REF.year - 1))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    return {
        "ym": PartialDate(year, month),
        "y": PartialDate(year),
        "md": PartialDate(None, month, day),
        "m": PartialDate(None, month),
        "none": PartialDate(None),
    }[kind]


@st.composite
def records(draw: st.DrawFn) -> MrzRecord:
    fmt = draw(st.sampled_from(list(DocumentFormat)))
    width = NAME_WIDTH[fmt]
    primary = draw(st.lists(_component, min_size=1, max_size=3))
    secondary = draw(st.lists(_component, max_size=3))
    full = "<".join(primary) + ("<<" + "<".join(secondary) if secondary else "")
    assume(len(full) <= width)  # names that fit come back unchanged
    max_number = 9 + (OPTIONAL_WIDTH[fmt] - 1 if fmt in (DocumentFormat.TD1, DocumentFormat.TD2) else 0)
    number = draw(st.text(alphabet=ALNUM, min_size=1, max_size=max_number))
    room = OPTIONAL_WIDTH[fmt]
    if len(number) > 9:
        room -= len(number) - 9 + 2
    optional = draw(_optional(room))
    return MrzRecord(
        format=fmt,
        document_code=draw(_code(fmt)),
        issuing_state=draw(st.sampled_from(STATES)),
        primary_identifier="<".join(primary),
        secondary_identifier="<".join(secondary),
        document_number=number,
        nationality=draw(st.sampled_from(STATES)),
        date_of_birth=draw(_dob()),
        sex=draw(st.sampled_from(list(Sex))),
        date_of_expiry=PartialDate.of(
            draw(st.dates(dt.date(REF.year - 49, 1, 1), dt.date(REF.year + 48, 12, 31)))
        ),
        optional_data=optional,
        optional_data_2=draw(_optional(11)) if fmt is DocumentFormat.TD1 else "",
    )


@settings(max_examples=300)
@given(records())
def test_parse_build_round_trip(record: MrzRecord) -> None:
    lines = build(record)
    assert len(lines) == record.format.line_count
    assert all(len(line) == record.format.line_length for line in lines)
    assert check(lines, REF) == []
    assert parse(lines, REF) == record


def _only_mrtd_errors(lines: list[str]) -> None:
    findings = check(lines, REF)
    assert isinstance(findings, list)
    check(lines)
    try:
        parse(lines, REF)
    except ValidationError as exc:
        assert exc.findings
    except MrtdError:
        pass


@settings(max_examples=200)
@given(st.lists(st.text(max_size=50), max_size=4))
def test_random_strings_raise_only_mrtd_errors(lines: list[str]) -> None:
    _only_mrtd_errors(lines)


@settings(max_examples=200)
@given(st.lists(st.text(alphabet=ALNUM + "<", min_size=28, max_size=46), min_size=2, max_size=3))
def test_random_mrz_like_lines_raise_only_mrtd_errors(lines: list[str]) -> None:
    _only_mrtd_errors(lines)


@settings(max_examples=200)
@given(records(), st.data())
def test_mutated_lines_raise_only_mrtd_errors(record: MrzRecord, data: st.DataObject) -> None:
    lines = list(build(record))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        pos = data.draw(st.integers(0, len(line)))
        op = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        ch = data.draw(st.one_of(st.sampled_from(ALNUM + "<"), st.characters()))
        if op == "replace" and pos < len(line):
            line = line[:pos] + ch + line[pos + 1 :]
        elif op == "insert":
            line = line[:pos] + ch + line[pos:]
        else:
            line = line[:pos] + line[pos + 1 :]
        lines[i] = line
    _only_mrtd_errors(lines)
