"""The one TLV codec: DER, BER (indefinite lengths, constructed strings), the LDS and seal rules; exact
bytes and absolute offsets kept; BER -> DER checked against pyasn1, an implementation we did not write."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import namedtype, univ

from mrtd.asn1 import der
from mrtd.asn1.tlv import BER, DER, LDS, SEAL, SEAL_STRICT, Tlv, TlvError, parse_all, read_tlv, tlv, to_der
from mrtd.errors import Finding, MrtdError

# SEQUENCE (indefinite) { INTEGER 5, OCTET STRING (constructed, indefinite) { "ab", "cd" }, NULL }
BER_SAMPLE = bytes.fromhex("3080" "020105" "2480" "04026162" "04026364" "0000" "0500" "0000")


def test_indefinite_lengths_are_read_keeping_bytes_and_reported() -> None:
    findings: list[Finding] = []
    top = Tlv.decode(BER_SAMPLE, rules=BER, findings=findings)
    assert top.indefinite and top.raw == BER_SAMPLE and top.value == BER_SAMPLE[2:-2]
    kids = top.children()
    assert [k.tag for k in kids] == [0x02, 0x24, 0x05]
    assert kids[1].offset == 5 and kids[1].value_offset == 7  # absolute offsets in the outer input
    assert der.read_octets(kids[1], "x") == b"abcd"
    assert [f.rule for f in findings] == ["ber-indefinite-length"]
    with pytest.raises(TlvError, match="0x80"):
        Tlv.decode(BER_SAMPLE, rules=DER)


def test_ber_to_der_agrees_with_pyasn1() -> None:
    spec = univ.Sequence(componentType=namedtype.NamedTypes(
        namedtype.NamedType("n", univ.Integer()), namedtype.NamedType("s", univ.OctetString()),
        namedtype.NamedType("z", univ.Null())))
    decoded, rest = ber_decoder.decode(BER_SAMPLE, asn1Spec=spec)
    assert rest == b""
    assert to_der(Tlv.decode(BER_SAMPLE, rules=BER)) == der_encoder.encode(decoded)


def test_nested_errors_name_the_absolute_offset() -> None:
    # SEQUENCE { SEQUENCE { OCTET STRING claiming 9 bytes with 1 present } }
    data = bytes.fromhex("3005" "3003" "040941")
    top = Tlv.decode(data, rules=LDS)
    with pytest.raises(TlvError, match="offset 4"):
        top.children()[0].children()


def test_missing_end_of_contents_and_primitive_indefinite_are_refused() -> None:
    with pytest.raises(TlvError, match="end-of-contents"):
        Tlv.decode(bytes.fromhex("3080020105"), rules=BER)
    with pytest.raises(TlvError, match="primitive"):
        Tlv.decode(bytes.fromhex("0480410000"), rules=BER)


def test_seal_rules_bare_0x80_and_offsets() -> None:
    findings: list[Finding] = []
    obj, end = read_tlv(bytes.fromhex("4180"), 0, what="m", rules=SEAL, findings=findings, base=20)
    assert (obj.tag, obj.value, end) == (0x41, b"", 2)
    assert findings[0].rule == "length-0x80" and "offset 21" in findings[0].message
    with pytest.raises(TlvError, match="offset 21"):
        read_tlv(bytes.fromhex("4180"), 0, what="m", rules=SEAL_STRICT, base=20)
    assert tlv(0x1F, b"x", SEAL) == b"\x1f\x01x"  # seal tags are one byte, whatever their bits


def test_deep_nesting_is_refused_not_recursed() -> None:
    data = b"\x30\x80" * 200 + b"\x00\x00" * 200
    with pytest.raises(TlvError, match="nested"):
        Tlv.decode(data, rules=BER)


@settings(max_examples=300)
@given(st.binary(max_size=80), st.sampled_from([DER, BER, LDS, SEAL, SEAL_STRICT]))
def test_random_bytes_only_raise_tlv_errors(data: bytes, rules: object) -> None:
    try:
        for obj in parse_all(data, rules=rules):  # type: ignore[arg-type]
            if obj.constructed and rules in (DER, BER, LDS):
                obj.children()
                to_der(obj)
    except MrtdError:
        pass


@given(st.integers(0, 0x1E), st.binary(max_size=300))
def test_der_round_trip(tag: int, value: bytes) -> None:
    raw = tlv(tag, value)
    obj = Tlv.decode(raw, rules=DER)
    assert (obj.tag, obj.value, obj.raw) == (tag, value, raw)
    assert Tlv(tag, value) == obj


@pytest.mark.parametrize("size", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0xFFFF, 0x10000])
def test_every_length_form_reads_as_pyasn1_encodes_it(size: int) -> None:
    value = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    encoded = der_encoder.encode(univ.OctetString(value))
    inner = der_encoder.encode(univ.Null())  # a neighbour after it
    for rules in (DER, BER, LDS):
        obj, end = read_tlv(b"\xAA" + encoded + inner, 1, rules=rules, base=10)
        assert (obj.tag, obj.value, obj.raw, end) == (0x04, value, encoded, 1 + len(encoded))
        assert (obj.offset, obj.value_offset) == (11, 11 + len(encoded) - size)


@pytest.mark.parametrize("encoded", [b"\x04\x81\x05" + bytes(5), b"\x04\x82\x00\x05" + bytes(5),
                                     b"\x04\x82\x00\x80" + bytes(0x80)])
def test_a_length_not_in_its_shortest_form_is_refused_by_der_and_noted_by_lds(encoded: bytes) -> None:
    with pytest.raises(TlvError, match="non-minimal length"):
        read_tlv(encoded, rules=DER)
    findings: list[Finding] = []
    obj, _ = read_tlv(encoded, rules=LDS, findings=findings)
    assert obj.value == encoded[-len(obj.value):] and [f.rule for f in findings] == ["length-not-minimal"]
