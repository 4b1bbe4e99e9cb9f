"""Hypothesis round trips for every LDS codec: create -> decode gives the same values, and
decode(b).encode() == b for any well-formed input, including non-minimal length encodings."""

from __future__ import annotations

import datetime as dt
import hashlib

import ldskit
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.asn1.keys import load_spki, spki
from mrtd.asn1.tlv import Tlv, encode_tag, parse_all, tlv
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.cardaccess import CardAccess
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceImage, FaceImageType, FaceRecord, ImageDataType, face_header
from mrtd.chip.lds.dg7 import Dg7
from mrtd.chip.lds.dg11 import Dg11, Dg11Fields
from mrtd.chip.lds.dg12 import Dg12, Dg12Fields
from mrtd.chip.lds.dg13 import Dg13
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.dg16 import Dg16, PersonToNotify
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.files import dg_tag
from mrtd.chip.lds.sod import LdsSecurityObject, Sod
from mrtd.model import PartialDate
from mrtd.pki.signer import HashName

MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
partial_dates = st.builds(
    lambda y, m, d: PartialDate(y, m if m else None, d if (m and d) else None),
    st.integers(1900, 2099) | st.none(), st.integers(0, 12), st.integers(0, 28),
)  # fmt: skip
blobs = st.binary(min_size=1, max_size=300)
DG_TAGS = [0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70]


def long_form(obj: Tlv, extra: int) -> bytes:
    """The same data object with its length in a longer (BER, not DER) form: still must be kept exactly."""
    n = len(obj.value)
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8) + extra, "big")
    return encode_tag(obj.tag) + bytes((0x80 | len(body),)) + body + obj.value


TAGS = st.one_of(
    st.integers(0, 0xFF).filter(lambda t: t & 0x1F != 0x1F),
    st.tuples(st.sampled_from([0x5F, 0x7F, 0x9F, 0xBF, 0xDF, 0xFF]), st.integers(0x1F, 0x7F)).map(lambda p: p[0] << 8 | p[1]),
)


@given(TAGS, st.binary(max_size=600))
def test_tlv(tag: int, value: bytes) -> None:
    raw = tlv(tag, value)
    obj = Tlv.decode(raw)
    assert (obj.tag, obj.value, obj.encode()) == (tag, value, raw)
    wide = long_form(obj, 1)
    assert Tlv.decode(wide).encode() == wide and Tlv.decode(wide).value == value
    assert parse_all(raw + raw) == (obj, obj)


@given(st.text("0123456789", min_size=4, max_size=4), st.text("0123456789", min_size=6, max_size=6),
       st.lists(st.sampled_from(DG_TAGS), max_size=16))  # fmt: skip
def test_efcom(lds: str, uni: str, tags: list[int]) -> None:
    made = EfCom.create(lds, uni, tags)
    back = EfCom.decode(made.raw)
    assert (back.lds_version, back.unicode_version, back.tags, back.encode()) == (lds, uni, tuple(tags), made.raw)
    wide = long_form(Tlv.decode(made.raw), 2)
    assert EfCom.decode(wide).encode() == wide


@given(st.sampled_from([(3, 30), (2, 36), (2, 44)]).flatmap(
    lambda f: st.lists(st.text(MRZ_CHARS, min_size=f[1], max_size=f[1]), min_size=f[0], max_size=f[0])))  # fmt: skip
def test_dg1(lines: list[str]) -> None:
    made = Dg1.create(lines)
    back = Dg1.decode(made.raw)
    assert back.lines == tuple(lines) and back.encode() == made.raw
    wide = long_form(Tlv.decode(made.raw), 1)
    assert Dg1.decode(wide).encode() == wide


faces = st.builds(
    FaceImage,
    image=st.binary(min_size=1, max_size=400), width=st.integers(1, 0xFFFF), height=st.integers(1, 0xFFFF),
    data_type=st.sampled_from(ImageDataType), face_type=st.sampled_from(FaceImageType),
    gender=st.integers(0, 255), eye_colour=st.integers(0, 255), hair_colour=st.integers(0, 255),
    feature_mask=st.binary(min_size=3, max_size=3), expression=st.integers(0, 0xFFFF),
    pose=st.binary(min_size=3, max_size=3), pose_uncertainty=st.binary(min_size=3, max_size=3),
    feature_points=st.lists(st.binary(min_size=8, max_size=8), max_size=4).map(tuple),
    colour_space=st.integers(0, 255), source_type=st.integers(0, 255), device_type=st.integers(0, 0xFFFF),
    quality=st.integers(0, 0xFFFF),
)  # fmt: skip


@settings(max_examples=60)
@given(st.lists(faces, min_size=1, max_size=3), st.integers(1, 3))
def test_dg2_and_face_record(face_list: list[FaceImage], copies: int) -> None:
    record = FaceRecord.create(face_list)
    assert FaceRecord.decode(record.raw).faces == tuple(face_list)
    made = Dg2.create([(face_header(dt.datetime(2026, 1, 5, tzinfo=dt.UTC)), record.raw)] * copies)
    back = Dg2.decode(made.raw)
    assert back.encode() == made.raw and len(back.instances) == copies
    assert back.instances[0].face().faces == tuple(face_list)
    assert back.instances[0].header_value(0x83) == bytes.fromhex("20260105000000")


@given(st.lists(blobs, min_size=1, max_size=4))
def test_dg7(images: list[bytes]) -> None:
    made = Dg7.create(images)
    assert Dg7.decode(made.raw).images == tuple(images) and Dg7.decode(made.raw).encode() == made.raw


dg11_fields = st.builds(
    Dg11Fields,
    full_name=text | st.none(), other_names=st.lists(text, max_size=3).map(tuple), personal_number=text | st.none(),
    date_of_birth=partial_dates | st.none(), place_of_birth=text | st.none(), address=text | st.none(),
    telephone=text | st.none(), profession=text | st.none(), title=text | st.none(),
    personal_summary=text | st.none(), proof_of_citizenship=blobs | st.none(), other_td_numbers=text | st.none(),
    custody_information=text | st.none(),
).filter(lambda f: any(v not in (None, ()) for v in (f.full_name, f.other_names, f.personal_number, f.date_of_birth, f.place_of_birth, f.address, f.telephone, f.profession, f.title, f.personal_summary, f.proof_of_citizenship, f.other_td_numbers, f.custody_information)))  # fmt: skip


@settings(max_examples=80)
@given(dg11_fields)
def test_dg11(fields: Dg11Fields) -> None:
    made = Dg11.create(fields)
    back = Dg11.decode(made.raw)
    assert back.fields == fields and back.encode() == made.raw


times = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 1, 1)).map(lambda t: t.replace(microsecond=0, tzinfo=dt.UTC))
dg12_fields = st.builds(
    Dg12Fields,
    issuing_authority=text | st.none(), date_of_issue=partial_dates | st.none(),
    other_persons=st.lists(text, max_size=3).map(tuple), endorsements=text | st.none(),
    tax_exit_requirements=text | st.none(), front_image=blobs | st.none(), rear_image=blobs | st.none(),
    personalisation_time=times | st.none(), personalisation_system_serial=text | st.none(),
).filter(lambda f: f.issuing_authority is not None or f.personalisation_time is not None)  # fmt: skip


@settings(max_examples=80)
@given(dg12_fields)
def test_dg12(fields: Dg12Fields) -> None:
    made = Dg12.create(fields)
    back = Dg12.decode(made.raw)
    assert back.fields == fields and back.encode() == made.raw


@given(st.binary(max_size=300))
def test_dg13(content: bytes) -> None:
    made = Dg13.create(content)
    assert Dg13.decode(made.raw).content == content and Dg13.decode(made.raw).encode() == made.raw


persons = st.builds(PersonToNotify, name=text, date_recorded=partial_dates | st.none(), telephone=text | st.none(), address=text | st.none())


@given(st.lists(persons, min_size=1, max_size=5))
def test_dg16(people: list[PersonToNotify]) -> None:
    made = Dg16.create(people)
    assert Dg16.decode(made.raw).persons == tuple(people) and Dg16.decode(made.raw).encode() == made.raw


CURVES = [ec.SECP256R1, ec.SECP384R1, ec.BrainpoolP256R1, ec.BrainpoolP384R1, ec.SECP521R1]


@settings(max_examples=20)
@given(st.sampled_from(CURVES), st.integers(1, 13), st.sampled_from([12, 13, None]), st.integers(0, 5) | st.none())
def test_security_infos_dg14_cardaccess(curve: type[ec.EllipticCurve], suite: int, param: int | None, key_id: int | None) -> None:
    key = ec.generate_private_key(curve()).public_key()
    infos: list[si.SecurityInfo] = [
        si.PaceInfo.create(f"{si.ID_PACE}.2.{1 + suite % 4}", param),
        si.ChipAuthenticationInfo.create(f"{si.ID_CA}.2.{1 + suite % 4}", key_id),
        si.ChipAuthenticationPublicKeyInfo.create(key, key_id),
        si.ActiveAuthenticationInfo.create(),
    ]
    dg14 = Dg14.create(infos)
    back = Dg14.decode(dg14.raw)
    assert back.encode() == dg14.raw
    assert sorted(i.raw for i in back.security_infos.infos) == sorted(i.raw for i in infos)
    assert back.security_infos.of_type(si.ChipAuthenticationPublicKeyInfo)[0].public_key().public_numbers() == key.public_numbers()
    assert back.security_infos.of_type(si.PaceInfo)[0].parameter_id == param
    ca = CardAccess.create(infos[:1])
    assert CardAccess.decode(ca.raw).encode() == ca.raw and CardAccess.decode(ca.raw).pace_infos == (infos[0],)


@settings(max_examples=10)
@given(st.sampled_from(CURVES), st.booleans())
def test_dg15_and_spki(curve: type[ec.EllipticCurve], explicit: bool) -> None:
    key = ec.generate_private_key(curve()).public_key()
    assert load_spki(spki(key, explicit=explicit)).public_numbers() == key.public_numbers()
    dg15 = Dg15.create(key)
    assert Dg15.decode(dg15.raw).public_key().public_numbers() == key.public_numbers()
    assert Dg15.decode(dg15.raw).encode() == dg15.raw


def test_dg15_rsa() -> None:
    pki = ldskit.make_pki("rsa")
    key = pki.ds_signer.public_key()
    dg15 = Dg15.create(key)
    assert Dg15.decode(dg15.raw).public_key().public_numbers() == key.public_numbers()


@settings(max_examples=25)
@given(st.dictionaries(st.integers(1, 16), st.binary(min_size=1, max_size=200), min_size=2, max_size=16),
       st.sampled_from([HashName.SHA256, HashName.SHA384, HashName.SHA512]), st.booleans())  # fmt: skip
def test_sod(contents: dict[int, bytes], hash_name: HashName, v1: bool) -> None:
    pki = ldskit.make_pki()
    dgs = {n: tlv(dg_tag(n), body) for n, body in contents.items()}
    version = {"lds_version": "0108", "unicode_version": "040000"} if v1 else {"lds_version": None, "unicode_version": None}
    sod = Sod.create(dgs, pki.ds_signer, pki.ds, hash_name=hash_name, **version)
    back = Sod.decode(sod.raw)
    assert back.encode() == sod.raw
    assert dict(back.security_object.hashes) == {n: hashlib.new(hash_name.value, b).digest() for n, b in dgs.items()}
    lso = LdsSecurityObject.decode(back.security_object.raw)
    assert lso.version == (1 if v1 else 0) and lso.raw == back.security_object.raw
    back.verify()



def test_a_negative_key_id_is_refused() -> None:
    """A keyId names the chip's private key in MSE:Set AT (DO'84, unsigned): DER INTEGER 86 is -122, which a
    reader could not send (Chip Authentication raised OverflowError instead of an error naming DG14)."""
    import pytest

    from mrtd.asn1 import der
    from mrtd.errors import MrtdError

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    for info in (si.ChipAuthenticationInfo.create(f"{si.ID_CA}.2.2", 1).raw,
                 si.ChipAuthenticationPublicKeyInfo.create(key, 1).raw):
        body = parse_all(info)[0].value
        assert body.endswith(b"\x02\x01\x01")  # keyId 1, last
        Dg14.decode(tlv(0x6E, tlv(0x31, info)))  # as made: fine
        bad = der.seq(body[:-3] + b"\x02\x01\x86")
        with pytest.raises(MrtdError, match="keyId"):
            Dg14.decode(tlv(0x6E, tlv(0x31, bad)))
    with pytest.raises(MrtdError, match="keyId"):
        si.ChipAuthenticationInfo.create(f"{si.ID_CA}.2.2", -1)
    with pytest.raises(MrtdError, match="keyId"):
        si.ChipAuthenticationPublicKeyInfo.create(key, -1)
