"""C40, dates and TLV lengths: the worked values of seals.md, byte-exact, and hypothesis round trips."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import VECTORS
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.asn1.tlv import SEAL, encode_length, read_length, read_tlv, seal_rules, tlv
from mrtd.errors import EncodingError, Finding
from mrtd.seals import c40
from mrtd.seals.dates import decode_date, decode_date_time, decode_masked_date, encode_date, encode_date_time

WORKED = json.loads((VECTORS / "seals" / "c40-dates.json").read_text(encoding="utf-8"))
C40_TEXT = st.text(alphabet=" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=120)


@pytest.mark.parametrize("case", WORKED["c40"], ids=lambda c: repr(c["text"]))
def test_c40_worked_values(case: dict[str, str]) -> None:
    assert c40.encode(case["text"]).hex() == case["hex"]
    assert c40.decode(bytes.fromhex(case["hex"])) == case["text"]


@pytest.mark.parametrize("case", WORKED["dates"], ids=lambda c: c["date"])
def test_date_worked_values(case: dict[str, str]) -> None:
    d = dt.date.fromisoformat(case["date"])
    assert encode_date(d).hex() == case["hex"]
    assert decode_date(bytes.fromhex(case["hex"])) == d


@pytest.mark.parametrize("case", WORKED["lengths"], ids=lambda c: str(c["length"]))
def test_length_worked_values_are_shortest_form(case: dict[str, object]) -> None:
    n = int(str(case["length"]))
    assert encode_length(n, SEAL).hex() == case["hex"]
    assert read_length(encode_length(n, SEAL), 0, what="x", rules=seal_rules(True)) == (n, len(encode_length(n, SEAL)))


def test_c40_three_lengths_of_tail() -> None:
    # 3n characters: pairs only; 3n+2: Shift 1 padding; 3n+1: 0xFE tail. Always 2*ceil(n/3) bytes.
    for text in ("ABC", "ABCDE", "ABCD"):
        assert len(c40.encode(text)) == c40.encoded_length(len(text))
    assert c40.encode("ABCD")[-2] == 0xFE


def test_c40_refuses_foreign_characters_and_bad_bytes() -> None:
    with pytest.raises(EncodingError, match=r"mrz\[2\]"):
        c40.encode("AB<", "mrz")
    with pytest.raises(EncodingError, match="odd length"):
        c40.decode(b"\x13")
    with pytest.raises(EncodingError, match="unlatch"):
        c40.decode(b"\xfe\x45\x13\x3c")
    with pytest.raises(EncodingError, match="shift"):
        c40.decode((1 * 1600 + 40 * 14 + 14 + 1).to_bytes(2, "big"))  # Shift 2 is not in the VDS set


@given(C40_TEXT)
def test_c40_round_trip(text: str) -> None:
    encoded = c40.encode(text)
    assert len(encoded) == c40.encoded_length(len(text))
    assert c40.decode(encoded) == text
    assert c40.encode(c40.decode(encoded)) == encoded


@given(st.binary(max_size=40))
def test_c40_decoder_raises_only_encoding_error(data: bytes) -> None:
    try:
        text = c40.decode(data)
    except EncodingError:
        return
    assert c40.is_c40_text(text)


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_date_round_trip(d: dt.date) -> None:
    assert decode_date(encode_date(d)) == d


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1)).map(lambda t: t.replace(microsecond=0)))
def test_date_time_round_trip(t: dt.datetime) -> None:
    assert decode_date_time(encode_date_time(t)) == t


def test_masked_date_marks_unknown_digits() -> None:
    # mask 0b00110000: digits 3 and 4 of MMDDYYYY (the day) unknown, stored as 0
    assert decode_masked_date(bytes((0x30,)) + int("12001990").to_bytes(3, "big")) == "1990-12-xx"
    with pytest.raises(EncodingError):
        decode_date(bytes.fromhex("000000"))


@given(st.integers(0, 255), st.binary(max_size=600))
def test_tlv_round_trip_shortest_length(tag: int, value: bytes) -> None:
    raw = tlv(tag, value, SEAL)
    obj, end = read_tlv(raw, 0, what="m", rules=seal_rules(True))
    assert (obj.tag, obj.value, end) == (tag, value, len(raw))
    assert len(raw) - len(value) - 1 == (1 if len(value) < 128 else 2 if len(value) < 256 else 3)


def test_non_der_lengths_lenient_reports_strict_refuses() -> None:
    for raw in (bytes.fromhex("0380"), bytes.fromhex("03810141")):
        findings: list[Finding] = []
        read_tlv(raw, 0, what="m", rules=seal_rules(False), findings=findings)
        assert [f.rule for f in findings] in (["length-0x80"], ["length-not-minimal"])
        with pytest.raises(EncodingError):
            read_tlv(raw, 0, what="m", rules=seal_rules(True))


@settings(max_examples=100)
@given(st.binary(max_size=64), st.booleans())
def test_tlv_reader_raises_only_encoding_error(data: bytes, strict: bool) -> None:
    pos = 0
    try:
        while pos < len(data):
            _, pos = read_tlv(data, pos, what="m", rules=seal_rules(strict), findings=[])
    except EncodingError:
        pass


def test_bare_0x80_in_an_idb_message_names_its_offset_in_the_payload() -> None:
    import base64

    from mrtd.seals import c40, idb

    payload = c40.encode("UTO") + bytes([0x61, 0x02, 0x08, 0x80])  # message 0x08 with a bare 0x80 length
    text = "RDB1A" + base64.b32encode(payload).decode().rstrip("=")
    with pytest.raises(EncodingError, match="offset 5"):
        idb.decode(text, strict=True)
    assert [(f.rule, "offset 5" in f.message) for f in idb.decode(text).findings] == [("length-0x80", True)]
