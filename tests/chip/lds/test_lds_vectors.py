"""The Doc 9303-10 Appendix A encodings and the BSI reference data, as the project's vectors hold them."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import VECTORS

from mrtd.asn1.cms import SignedData
from mrtd.asn1.tlv import Tlv, parse_all, tlv
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2
from mrtd.chip.lds.dg11 import Dg11, Dg11Fields
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg16 import Dg16, PersonToNotify
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.securityinfos import (
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PaceInfo,
    TerminalAuthenticationInfo,
)
from mrtd.chip.lds.sod import LdsSecurityObject, Sod
from mrtd.errors import EncodingError, MrtdError, SignatureError
from mrtd.model import PartialDate

V = json.loads((VECTORS / "lds" / "lds-examples.json").read_text("utf-8"))


@pytest.mark.parametrize("case", V["efcom"], ids=lambda c: c["id"])
def test_efcom_examples(case: dict[str, object]) -> None:
    raw = bytes.fromhex(str(case["EF.COM"]))
    tags = tuple(int(t, 16) for t in case["tags"])  # type: ignore[attr-defined]
    made = EfCom.create(str(case["lds_version"]), str(case["unicode_version"]), tags)
    assert made.raw == raw
    back = EfCom.decode(raw)
    assert (back.lds_version, back.unicode_version, back.tags) == (case["lds_version"], case["unicode_version"], tags)
    assert back.encode() == raw


def test_efcom_data_groups() -> None:
    assert EfCom.decode(bytes.fromhex(V["efcom"][0]["EF.COM"])).data_groups == (1, 2, 4, 12)


def test_dg1_td1_example_and_erratum_2() -> None:
    case = V["dg1"]["p10-A21-dg1-td1"]
    raw = bytes.fromhex(case["DG1"])
    dg1 = Dg1.decode(raw)
    assert dg1.mrz == case["mrz_as_printed"]
    assert dg1.lines[1][-1] == "4"  # as printed in A.2.1
    assert Dg1.create(dg1.lines).raw == raw
    assert raw[:5].hex().upper() == "615D5F1F5A"
    # The printed composite check digit is wrong (erratum 2): recompute it with the 7-3-1 rule.
    from mrtd.mrz import check_digit

    lines = dg1.lines
    composite = lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29]
    assert check_digit(composite) == case["composite_check_digit_correct"] != case["composite_check_digit_as_printed"]
    fixed = Dg1.create([lines[0], lines[1][:29] + "8", lines[2]])
    assert len(fixed.raw) == len(raw) and fixed.raw != raw


def test_dg1_td2_example_is_malformed() -> None:
    """A.2.2 prints 81 MRZ characters under a 72-character header: a reader must refuse it."""
    case = V["dg1"]["p10-A22-dg1-td2-MALFORMED"]
    mrz = case["mrz_as_printed"].encode("ascii")
    assert len(mrz) == 81
    with pytest.raises(EncodingError, match="81 characters"):
        Dg1.decode(tlv(0x61, tlv(0x5F1F, mrz)))
    with pytest.raises(EncodingError):
        Dg1.decode(bytes.fromhex(case["header_as_printed"]) + mrz)


def test_bsi_dg1_hash_covers_tag_and_length() -> None:
    case = V["dg1"]["bsi-dg1"]
    raw = bytes.fromhex(case["DG1"])
    dg1 = Dg1.decode(raw)
    assert dg1.document_code == "P<" and dg1.issuing_state == "D<<"
    assert hashlib.sha256(dg1.encode()).hexdigest().upper() == case["SHA256"]


def test_dg2_header_example_with_erratum_3() -> None:
    case = V["dg2"]
    bht = parse_all(bytes.fromhex(case["BHT_content"]))
    assert len(bytes.fromhex(case["BHT_content"])) == int(case["A1_length_correct"], 16) != int(case["A1_length_as_printed"], 16)
    bdb = bytes(case["bdb_length"])
    dg2 = Dg2.create([(bht, bdb)])
    header = bytes.fromhex(case["header_corrected"])
    assert dg2.raw.startswith(header)
    assert len(dg2.raw) == len(header) + case["bdb_length"]
    back = Dg2.decode(dg2.raw)
    assert back.instances[0].bdb == bdb
    assert back.instances[0].header_value(0x87) == b"\x01\x01"
    assert back.instances[0].header_value(0x88) == b"\x00\x08"
    assert back.instances[0].header_value(0x81) == b"\x02"
    # The BHT as printed (A1 26) does not parse: the 40 bytes do not fit 0x26.
    printed = header.replace(bytes.fromhex("A128"), bytes.fromhex("A126"), 1) + bdb
    with pytest.raises(MrtdError):
        Dg2.decode(printed)


def test_dg11_example_with_erratum_4() -> None:
    case = V["dg11"]
    raw = bytes.fromhex(case["DG11"])
    f = case["fields"]
    made = Dg11.create(
        Dg11Fields(full_name=f["full_name"], place_of_birth=f["place_of_birth"], address=f["address"],
                   telephone=f["telephone"], profession=f["profession"])
    )  # fmt: skip
    assert made.raw == raw
    back = Dg11.decode(raw)
    assert back.fields.telephone == "1-612-555-1212" != case["telephone_as_printed"]
    assert back.tag_list == (0x5F0E, 0x5F11, 0x5F42, 0x5F12, 0x5F13)
    assert back.fields.full_name == "SMITH<<JOHN<J"


def test_dg16_example() -> None:
    case = V["dg16"]
    raw = bytes.fromhex(case["DG16"])
    persons = [
        PersonToNotify(p["name"], PartialDate.parse(f"{p['date'][:4]}-{p['date'][4:6]}-{p['date'][6:]}"), p["phone"], p["address"])
        for p in case["persons"]
    ]
    assert Dg16.create(persons).raw == raw
    back = Dg16.decode(raw)
    assert back.persons == tuple(persons)


def test_tlv_example() -> None:
    case = V["tlv"]
    for value, enc in zip(case["values"], case["encodings"], strict=True):
        body = value.to_bytes((value.bit_length() + 7) // 8, "big")
        assert tlv(int(case["tag"], 16), body).hex().upper() == enc
        assert int.from_bytes(Tlv.decode(bytes.fromhex(enc)).value, "big") == value


def test_pace_info_example() -> None:
    case = V["pace_info"]
    made = PaceInfo.create(case["protocol"], case["parameterId"])
    assert made.raw.hex().upper() == case["PACEInfo"]
    assert made.version == case["version"]


def test_bsi_sod_parses_and_verifies() -> None:
    case = V["bsi_sod"]
    raw = bytes.fromhex(case["EF.SOD"])
    sod = Sod.decode(raw)
    assert sod.encode() == raw
    lso = sod.security_object
    assert lso.raw.hex().upper() == case["LDSSecurityObject"]
    assert lso.version == case["version"] and lso.hash_algorithm.oid == case["hashAlgorithm"]
    assert lso.hash_algorithm.parameters == b"\x05\x00"  # NULL parameters, accepted on reading
    assert [(n, h.hex().upper()) for n, h in lso.hashes] == [
        (h["dataGroupNumber"], h["hash"]) for h in case["dataGroupHashValues"]
    ]
    signer = sod.signer_info
    assert signer.signed_attrs is not None and signer.signed_attrs.hex().upper() == case["signedAttrs"]
    assert signer.signature.hex().upper() == case["signature"]
    assert signer.serial == int(case["sid_serial"], 16)
    ds = sod.ds_certificate()
    assert ds is not None and ds.der.hex().upper() == case["DS_certificate"]
    assert sod.verify() == "RSASSA-PSS SHA256 salt 32"
    assert hashlib.sha256(bytes.fromhex(case["DG1"])).digest() == lso.hash_of(1)
    assert hashlib.sha256(bytes.fromhex(case["DG14"])).digest() == lso.hash_of(14)
    assert LdsSecurityObject.decode(lso.raw).raw == lso.raw


def test_bsi_sod_signature_fails_when_a_signed_byte_changes() -> None:
    raw = bytearray(bytes.fromhex(V["bsi_sod"]["EF.SOD"]))
    sig_at = raw.rindex(bytes.fromhex(V["bsi_sod"]["signature"][:16]))
    raw[sig_at + 10] ^= 0x01
    with pytest.raises(SignatureError, match="does not verify"):
        Sod.decode(bytes(raw)).verify()
    raw = bytearray(bytes.fromhex(V["bsi_sod"]["EF.SOD"]))
    lso_at = raw.index(bytes.fromhex(V["bsi_sod"]["LDSSecurityObject"]))
    raw[lso_at + 40] ^= 0x01  # inside a data group hash
    with pytest.raises(SignatureError, match="messageDigest"):
        Sod.decode(bytes(raw)).verify()


def test_bsi_dg14() -> None:
    raw = bytes.fromhex(V["bsi_sod"]["DG14"])
    dg14 = Dg14.decode(raw)
    kinds = [type(i) for i in dg14.security_infos.infos]
    assert kinds == [ChipAuthenticationPublicKeyInfo, ChipAuthenticationInfo, TerminalAuthenticationInfo]
    ta = dg14.security_infos.of_type(TerminalAuthenticationInfo)[0]
    assert ta.protocol == "0.4.0.127.0.7.2.2.2" and ta.version == 1  # the BSI chip offers EAC
    assert TerminalAuthenticationInfo.create().raw == ta.raw
    ca = dg14.security_infos.of_type(ChipAuthenticationInfo)[0]
    assert ca.protocol == "0.4.0.127.0.7.2.2.3.2.1" and ca.version == 1
    # brainpoolP224r1 explicit parameters: recognised, but the crypto library has no such curve
    with pytest.raises(EncodingError, match="brainpoolP224r1"):
        dg14.security_infos.of_type(ChipAuthenticationPublicKeyInfo)[0].public_key()
    assert dg14.encode() == raw


def test_signed_data_keeps_certificate_bytes() -> None:
    sod_raw = bytes.fromhex(V["bsi_sod"]["EF.SOD"])
    sd = SignedData.decode(Tlv.decode(sod_raw).value)
    assert sd.version == 3 and len(sd.certificates) == 1
    assert sd.certificate_objects()[0].der == sd.certificates[0]


def test_file_table() -> None:
    """Doc 9303-10 §4.6 Table 28: file identifiers, short EF identifiers and tags."""
    from mrtd.chip.lds.files import by_name, dg_for_tag, dg_tag

    assert (by_name("EF.COM").fid, by_name("EF.COM").sfi, by_name("EF.COM").tag) == (0x011E, 0x1E, 0x60)
    assert (by_name("EF.SOD").fid, by_name("EF.SOD").sfi, by_name("EF.SOD").tag) == (0x011D, 0x1D, 0x77)
    assert (by_name("EF.CardAccess").fid, by_name("EF.CardAccess").in_mf) == (0x011C, True)
    assert [dg_tag(n) for n in range(1, 17)] == [0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A,
                                                  0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70]  # fmt: skip
    assert [by_name(f"DG{n}").fid for n in (1, 16)] == [0x0101, 0x0110]
    assert dg_for_tag(0x6E) == 14 and dg_for_tag(0x77) is None


def test_dg11_refuses_inconsistent_tag_list_and_counts() -> None:
    raw = bytes.fromhex(V["dg11"]["DG11"])
    top = Tlv.decode(raw)
    parts = top.children()
    short_list = tlv(0x5C, bytes.fromhex("5F0E5F115F425F12"))  # 5F13 present but not listed
    with pytest.raises(EncodingError, match="tag list"):
        Dg11.decode(tlv(0x6B, short_list + b"".join(p.raw for p in parts[1:])))
    names = tlv(0xA0, tlv(0x02, b"\x02") + tlv(0x5F0F, b"ONE"))  # says 2, holds 1
    body = tlv(0x5C, bytes.fromhex("5F0EA0")) + parts[1].raw + names
    with pytest.raises(EncodingError, match="announces 2"):
        Dg11.decode(tlv(0x6B, body))
    ok = tlv(0x5C, bytes.fromhex("5F0EA0")) + parts[1].raw + tlv(0xA0, tlv(0x02, b"\x01") + tlv(0x5F0F, b"ONE"))
    assert Dg11.decode(tlv(0x6B, ok)).fields.other_names == ("ONE",)
