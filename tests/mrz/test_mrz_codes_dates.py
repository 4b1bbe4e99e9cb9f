"""Three-letter codes, document codes (Amendment 2) and dates (MRZ centuries, VIZ form)."""

from __future__ import annotations

import datetime as dt

import pytest

from mrtd.errors import InputError, Severity
from mrtd.model import DocumentFormat, PartialDate
from mrtd.mrz.codes import (
    alpha2_of,
    check_document_code,
    check_state,
    code_for_alpha2,
    harmonised_passport_codes,
    is_known_state,
    normalise_state,
    state_name,
)
from mrtd.mrz.dates import birth_date, encode_date, expiry_date, viz_date

ICAO_CODES = [
    "D",
    "D<<",
    "EUE",
    "GBD",
    "GBN",
    "GBO",
    "GBS",
    "GBP",
    "RKS",
    "UNO",
    "UNA",
    "UNK",
    "XBA",
    "XIM",
    "XCC",
    "XCE",
    "XCO",
    "XEC",
    "XPO",
    "XES",
    "XMP",
    "XOM",
    "XDC",
    "XXA",
    "XXB",
    "XXC",
    "XXX",
    "UTO",
    "IAO",
    "ANT",
    "NTZ",
]


@pytest.mark.parametrize("code", ICAO_CODES)
def test_every_icao_code_is_known(code: str) -> None:
    assert is_known_state(code)
    assert state_name(code)


def test_iso_codes_and_unknowns() -> None:
    assert state_name("DEU") == "Germany" and state_name("D<<") == "Germany"
    assert is_known_state("fra") and not is_known_state("ZZZ") and not is_known_state("")
    assert normalise_state("d") == "D<<"
    assert [f.rule for f in check_state("ZZZ", "x")] == ["unknown-state"]
    assert [f.severity for f in check_state("ANT", "x")] == [Severity.WARNING]
    assert [f.rule for f in check_state("<AB", "x")] == ["state-code"]


def test_alpha2_codes() -> None:
    """ISO 3166-1 alpha-2 from iso-codes; Germany's MRZ code D stands for DE; Doc 9303-3 §5's 2-letter codes."""
    assert [alpha2_of(c) for c in ("NLD", "D", "D<<", "DEU", "UTO", "RKS", "IAO")] == [
        "NL", "DE", "DE", "DE", "UT", "KS", "IA"
    ]  # fmt: skip
    assert alpha2_of("XXA") is None and alpha2_of("GBD") is None and alpha2_of("ZZZ") is None
    assert [code_for_alpha2(a) for a in ("nl", "DE", "GB", "UT", "KS", "IA", "ZZ")] == [
        "NLD", "D", "GBR", "UTO", "RKS", "IAO", None
    ]  # fmt: skip
    assert code_for_alpha2("DE", iso_only=True) == "D" and code_for_alpha2("UT", iso_only=True) is None


def test_harmonised_passport_codes() -> None:
    assert set(harmonised_passport_codes()) == {"PP", "PE", "PD", "PO", "PR", "PT", "PS", "PL", "PM"}


def test_amendment_2_dates() -> None:
    td3 = DocumentFormat.TD3
    d = dt.date
    for code in harmonised_passport_codes():
        assert check_document_code(code, td3, d(2030, 1, 1), d(2040, 1, 1)) == []
    assert check_document_code("PU", td3, d(2030, 1, 1), d(2031, 1, 1)) == []
    assert check_document_code("PX", td3, d(2025, 12, 31), d(2035, 1, 1)) == []
    assert check_document_code("PX", td3, d(2026, 1, 1), d(2035, 1, 1))  # secondary code must be harmonised
    assert check_document_code("P<", td3, d(2027, 12, 31), d(2037, 12, 31)) == []
    assert check_document_code("P<", td3, d(2028, 1, 1), d(2037, 12, 31))  # a code is mandatory
    assert check_document_code("P<", td3, None, d(2038, 1, 1))  # must expire before 2038
    assert check_document_code("I<", td3, None, None)


def test_td1_td2_mrv_code_rules() -> None:
    td1, td2 = DocumentFormat.TD1, DocumentFormat.TD2
    assert check_document_code("I<", td1, None, None) == []
    assert check_document_code("ID", td2, None, None) == []
    assert check_document_code("AI", td1, None, None)
    assert [f.severity for f in check_document_code("AC", td1, None, None)] == [Severity.WARNING]
    assert check_document_code("AC", td2, None, None)[0].severity is Severity.ERROR
    assert check_document_code("IV", td1, None, None) and check_document_code("CV", td2, None, None)
    assert check_document_code("PP", td1, None, None)
    assert check_document_code("V<", DocumentFormat.MRVA, None, None) == []
    assert check_document_code("VB", DocumentFormat.MRVB, None, None) == []
    assert check_document_code("P<", DocumentFormat.MRVA, None, None)
    assert check_document_code("1<", td1, None, None)[0].rule == "document-code"


def test_mrz_dates_and_centuries() -> None:
    ref = dt.date(2026, 6, 15)
    assert encode_date(PartialDate(1974, 8, 12)) == "740812"
    assert encode_date(PartialDate(1942)) == "42<<<<"
    assert birth_date("260615", ref) == PartialDate(2026, 6, 15)
    assert birth_date("260616", ref) == PartialDate(1926, 6, 16)  # not after the reference
    assert birth_date("26<<<<", ref) == PartialDate(2026)
    assert birth_date("27<<<<", ref) == PartialDate(1927)
    assert birth_date("<<<<<<", ref) == PartialDate(None)
    assert expiry_date("750101", ref) == PartialDate(2075, 1, 1)
    assert expiry_date("760101", ref) == PartialDate(1976, 1, 1)
    for bad in ("741301", "740230", "74<<12", "7408", "74AB12"):
        with pytest.raises(InputError):
            birth_date(bad, ref)


def test_viz_dates() -> None:
    assert viz_date(dt.date(1974, 8, 12)) == "12 AUG 1974"
    assert viz_date(PartialDate(1974, 8, 12), "en/fr") == "12 AUG/AOÛT 1974"
    assert viz_date(PartialDate(1942), "en") == "XX XX 1942"
    assert viz_date(PartialDate(1990, 5, None), "es/en") == "XX MAYO/MAY 1990"
    assert viz_date(PartialDate(1990, 1, 2), "en/fr") == "02 JAN 1990"  # same abbreviation once
    with pytest.raises(InputError, match="language"):
        viz_date(dt.date(1990, 1, 2), "it")
