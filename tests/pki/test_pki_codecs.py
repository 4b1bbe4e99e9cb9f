"""Round trips and properties of the small PKI codecs: DER framing, OIDs, times, document type lists,
master list content, serial numbers and certificate time encodings."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pkikit import der
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from mrtd.asn1 import der as D
from mrtd.asn1.der import integer as der_int
from mrtd.asn1.der import oid as der_oid
from mrtd.asn1.der import sequence_items
from mrtd.asn1.tlv import DER, Tlv, tlv
from mrtd.errors import MrtdError
from mrtd.pki import certificates as C
from mrtd.pki import masterlist
from mrtd.pki.keys import generate_key
from mrtd.pki.lint import _doc_types
from mrtd.pki.signer import MemorySigner

arcs = st.tuples(st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, 2**40), max_size=8))


@given(arcs)
def test_oid_round_trip(a: tuple[int, int, list[int]]) -> None:
    dotted = ".".join(str(x) for x in (a[0], a[1], *a[2]))
    enc = der_oid(dotted)
    obj = Tlv.decode(enc, rules=DER)
    assert obj.tag == 0x06
    assert D.read_oid(obj, "oid") == dotted


@given(st.integers(0, 255).filter(lambda t: t & 0x1F != 0x1F), st.binary(max_size=70000))
@settings(max_examples=50)
def test_tlv_round_trip(tag: int, value: bytes) -> None:
    enc = tlv(tag, value)
    obj = Tlv.decode(enc, rules=DER)
    assert (obj.tag, obj.value_offset, len(obj.raw)) == (tag, len(enc) - len(value), len(enc))
    assert obj.value == value


@given(st.integers(-(2**200), 2**200))
def test_der_int_is_minimal_twos_complement(n: int) -> None:
    enc = der_int(n)
    body = Tlv.decode(enc, rules=DER).value
    assert int.from_bytes(body, "big", signed=True) == n
    if len(body) > 1:  # minimal: the first 9 bits are not all equal
        assert not (body[0] == 0 and body[1] < 0x80) and not (body[0] == 0xFF and body[1] >= 0x80)


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_time_round_trip_and_encoding_choice(t: datetime) -> None:
    enc = D.time(t)
    obj = Tlv.decode(enc, rules=DER)
    assert obj.tag == (0x17 if t.year < 2050 else 0x18)
    assert D.read_time(obj, "time") == t.replace(microsecond=0)


@given(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=2), min_size=1, max_size=6))
def test_document_type_list_round_trip(types: list[str]) -> None:
    enc = C.encode_document_type_list(types)
    assert sorted(_doc_types(enc)) == sorted(set(types))
    assert C.encode_document_type_list(_doc_types(enc)) == enc  # DER SET OF order is canonical


@given(st.binary(min_size=1, max_size=40))
def test_document_type_list_rejects_bad_entries(raw: bytes) -> None:
    text = raw.decode("latin-1")
    ok = 1 <= len(text) <= 2 and text.isascii() and text.isalpha() and text == text.upper()
    try:
        C.encode_document_type_list([text])
    except MrtdError:
        assert not ok
    else:
        assert ok


def test_serials_positive_short_unique_and_from_the_source() -> None:
    serials = [C.new_serial(os.urandom) for _ in range(2000)]
    assert len(set(serials)) == len(serials)
    assert all(s > 0 and len(der_int(s)) - 2 <= 20 for s in serials)
    fixed = iter([b"\x00" * 16, b"\xff" * 16])
    assert C.new_serial(lambda n: next(fixed)) == int.from_bytes(b"\x7f" + b"\xff" * 15, "big")  # zero is skipped


def test_certificate_times_utc_until_2049_generalized_from_2050() -> None:
    signer = MemorySigner(generate_key("ecdsa-p256"))
    nb = datetime(2049, 12, 31, 23, 59, 59, 987654, tzinfo=UTC)
    cert = C.build_csca(signer, C.make_name("NL", "CSCA"), not_before=nb, not_after=nb + timedelta(days=3),
                        key_usage_end=nb + timedelta(days=1), rng=os.urandom)
    raw, _ = decoder.decode(der(cert), asn1Spec=rfc5280.Certificate())
    validity = raw["tbsCertificate"]["validity"]
    assert validity["notBefore"].getName() == "utcTime" and str(validity["notBefore"]["utcTime"]) == "491231235959Z"
    assert validity["notAfter"].getName() == "generalTime"
    assert str(validity["notAfter"]["generalTime"]) == "20500103235959Z"


def test_masterlist_content_round_trip() -> None:
    signer = MemorySigner(generate_key("ecdsa-p256"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cscas = [C.build_csca(signer, C.make_name(c, "CSCA"), not_before=now, not_after=now + timedelta(days=9),
                          key_usage_end=now + timedelta(days=1), rng=os.urandom) for c in ("NL", "DE", "FR")]
    content = masterlist.encode_content(cscas)
    items = sequence_items(content)
    assert items[0] == b"\x02\x01\x00"
    assert sorted(sequence_items(items[1])) == sorted(der(c) for c in cscas)
    assert sequence_items(items[1]) == sorted(sequence_items(items[1]))  # DER SET OF order


def test_country_codes_come_from_the_mrz_table() -> None:
    from mrtd.errors import InputError
    from mrtd.pki.profiles import alpha2_for, mrz_code_for

    assert (mrz_code_for("DE"), mrz_code_for("nl"), mrz_code_for("GB")) == ("D", "NLD", "GBR")
    for not_iso in ("UT", "XK", "ZZ"):
        with pytest.raises(InputError, match="alpha-2"):
            mrz_code_for(not_iso)
    assert (alpha2_for("D"), alpha2_for("NLD")) == ("DE", "NL")
    assert alpha2_for("DEU") is None and alpha2_for("UTO") is None and alpha2_for("XXA") is None
