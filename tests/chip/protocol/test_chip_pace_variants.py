"""Every PACE variant (Doc 9303-11 §4.4): the DH worked examples App. G.2 (GM) and H.2 (IM) from
tests/vectors/chip/p11.json, the RFC 5114 groups, and a full terminal <-> chip run of every mapping with
every cipher on every standardised domain the mapping allows (§9.5.1)."""

from __future__ import annotations

import json
import os

import gmpy2
import pytest
from conftest import VECTORS

from mrtd.asn1.tlv import parse_all
from mrtd.chip.protocol import ciphers
from mrtd.chip.protocol.curves import DH_IDS, DhGroup, group
from mrtd.chip.protocol.kdf import Cipher, mrz_password
from mrtd.chip.protocol.pace import (
    Mapping,
    PaceChip,
    PaceParams,
    PaceTerminal,
    card_access,
    ephemeral_key,
    im_prf,
    parse_card_access,
)
from mrtd.errors import ProfileError

P11 = json.loads((VECTORS / "chip" / "p11.json").read_text())
H = bytes.fromhex
EC_IDS = range(8, 19)


def generic_mapping(d, s: bytes, sk_map: int, pk_map):  # type: ignore[no-untyped-def]
    """G' = s*G + H, H = sk_map * PK_map (ECDH); g' = g^s * h (DH) [Doc 9303-11 §4.4.3.3.1], as written."""
    return d.add(d.mul(int.from_bytes(s, "big"), d.generator), d.mul(sk_map, pk_map))


@pytest.mark.parametrize("param_id", [*DH_IDS, *EC_IDS])
def test_generic_mapping_ephemeral_key_is_the_multiple_of_the_mapped_generator(param_id: int) -> None:
    # the protocol never forms G' (ephemeral_key says why): its key must still be sk_eph * G' exactly
    d = group(param_id)
    for _ in range(4):
        s = os.urandom(16)
        sk_map, sk_other, sk_eph = (d.scalar(os.urandom(d.scalar_bytes())) for _ in range(3))
        pk_map = d.mul(sk_other, d.generator)
        g_mapped = generic_mapping(d, s, sk_map, pk_map)
        assert ephemeral_key(d, sk_eph, None, s, sk_map, pk_map) == d.mul(sk_eph, g_mapped)
    g_im = d.mul(sk_map, d.generator)
    assert ephemeral_key(d, sk_eph, g_im, s, 0, None) == d.mul(sk_eph, g_im)


def feeder(*chunks: bytes):  # type: ignore[no-untyped-def]
    it = iter(chunks)

    def random(n: int) -> bytes:
        chunk = next(it)
        assert len(chunk) == n, (len(chunk), n)
        return chunk

    return random


def inner(dyn: bytes) -> bytes:
    """The value of the one object inside 7C (dynamic authentication data)."""
    (outer,) = parse_all(dyn)
    (obj,) = outer.children()
    return obj.value


def key_bytes(param_id: int, sk_hex: str) -> bytes:
    """Random bytes that `scalar` turns into this private key (mod the group order)."""
    d = group(param_id)
    return (int(sk_hex, 16) % d.order - 1).to_bytes(d.scalar_bytes(), "big")


def test_rfc5114_groups() -> None:
    for pid in DH_IDS:
        d = group(pid)
        assert isinstance(d, DhGroup)
        assert gmpy2.powmod(d.g, d.q, d.p) == 1 and gmpy2.is_prime(d.p) and gmpy2.is_prime(d.q)
        assert (d.p - 1) % d.q == 0
    i = P11["p11-G2-pace-dh-gm"]["inputs"]
    g0 = group(0)
    assert isinstance(g0, DhGroup)
    assert (g0.p, g0.g, g0.q) == (int(i["p"], 16), int(i["g"], 16), int(i["q"], 16))


def test_g2_pace_dh_gm_terminal_and_chip() -> None:
    v = P11["p11-G2-pace-dh-gm"]
    i, e = v["inputs"], v["expected"]
    params = PaceParams.from_oid(H("04007F00070202040102"), 0)
    assert params.mapping is Mapping.GM and not params.is_ec and params.cipher is Cipher.AES128
    assert params.pace_info() == H(i["PACEInfo"])
    assert parse_card_access(card_access(params)) == [params]
    pw = mrz_password("T22000129364081251010318")
    term = PaceTerminal(params, pw, 1, feeder(key_bytes(0, i["map_SK_IFD"]), key_bytes(0, i["ka_SK_IFD"])))
    chip = PaceChip(params, pw, feeder(H(i["nonce_s"]), key_bytes(0, i["map_SK_IC"]), key_bytes(0, i["ka_SK_IC"])))
    assert term.k_pi == H(i["Kpi"])
    assert term.mse_set_at().encode() == H(e["apdu_mse_set_at"])
    a1 = chip.step(term.get_nonce().data)
    assert a1 is not None and inner(a1) == H(e["encrypted_nonce_z"])
    c2 = term.map_command(a1)
    assert inner(c2.data) == H(e["map_PK_IFD"])
    a2 = chip.step(c2.data)
    assert a2 is not None and inner(a2) == H(e["map_PK_IC"])
    c3 = term.key_agreement_command(a2)
    assert generic_mapping(term.params.domain, term.s, term.sk_map, term.pk_map_ic) == int(e["g_mapped"], 16)
    assert inner(c3.data) == H(e["ka_PK_IFD"])  # 128 bytes: erratum 5's printed leading 00 is not sent
    a3 = chip.step(c3.data)
    assert a3 is not None and inner(a3) == H(e["ka_PK_IC"])
    c4 = term.token_command(a3)
    assert c4.encode() == H(e["apdu_last_cmd"])
    a4 = chip.step(c4.data)
    assert a4 is not None and a4 == H("7C0A8608") + H(e["T_IC"])  # the decode table's answer (no CAR)
    sm = term.finish(a4)
    assert (sm.ks_enc, sm.ks_mac) == (H(e["KSEnc"]), H(e["KSMAC"]))
    d = group(0)
    assert d.shared_secret(term.sk_eph, d.decode(term.pk_ic)) == H(e["shared_secret_K"])


def test_h2_pace_dh_im() -> None:
    v = P11["p11-H2-pace-dh-im"]
    i, e = v["inputs"], v["expected"]
    d = group(0)
    s, t = H(i["nonce_s"]), H(i["nonce_t"])
    assert ciphers.aes_cbc_encrypt(H(i["Kpi"]), s) == H(e["encrypted_nonce_z"])
    rp = im_prf(s, t, d.p, Cipher.AES128)
    assert rp == int(e["Rp(s,t)"], 16)
    assert d.integrated_mapping(rp) == int(e["g_mapped"], 16)
    params = PaceParams(Mapping.IM, Cipher.AES128, 0)
    assert params.oid == H("04007F00070202040302")
    term = PaceTerminal(params, b"", 1, feeder(t, key_bytes(0, i["SK_IFD"])))
    term.k_pi = H(i["Kpi"])
    chip = PaceChip(params, b"", feeder(s, key_bytes(0, i["SK_IC"])))
    chip.k_pi = H(i["Kpi"])
    a1 = chip.step(term.get_nonce().data)
    assert a1 is not None
    a2 = chip.step(term.map_command(a1).data)
    assert a2 is not None
    c3 = term.key_agreement_command(a2)
    assert inner(c3.data) == H(e["PK_IFD"])
    a3 = chip.step(c3.data)
    assert a3 is not None and inner(a3) == H(e["PK_IC"])
    c4 = term.token_command(a3)
    assert c4.data[-8:] == H(e["T_IFD"])
    a4 = chip.step(c4.data)
    assert a4 is not None and a4[-8:] == H(e["T_IC"])
    sm = term.finish(a4)
    assert (sm.ks_enc, sm.ks_mac) == (H(e["KEnc"]), H(e["KMAC"]))


def _variants() -> list[tuple[Mapping, Cipher, int]]:
    out = []
    for pid in (0, 1, 2, *range(8, 19)):
        for mapping in Mapping:
            for cipher in Cipher:
                try:
                    out.append((PaceParams(mapping, cipher, pid).mapping, cipher, pid))
                except ProfileError:
                    continue
    return out


VARIANTS = _variants()


def test_the_variants_are_all_there() -> None:
    # DH: GM, IM x 4 ciphers x 3 groups; ECDH: GM x 4 x 11, IM x 4 x 10 (no P-224), CAM x 3 AES x 11
    assert len(VARIANTS) == 2 * 4 * 3 + 4 * 11 + 4 * 10 + 3 * 11
    with pytest.raises(ProfileError):
        PaceParams(Mapping.CAM, Cipher.AES128, 2)  # CAM is ECDH only
    with pytest.raises(ProfileError):
        PaceParams(Mapping.CAM, Cipher.DES3, 13)  # and AES only
    with pytest.raises(ProfileError):
        PaceParams.from_oid(H("04007F00070202040102"), 13)  # a DH OID on a curve


@pytest.mark.parametrize("mapping,cipher,pid", VARIANTS, ids=[f"{m.name}-{c.name}-{p}" for m, c, p in VARIANTS])
def test_every_variant_runs_both_sides(mapping: Mapping, cipher: Cipher, pid: int) -> None:
    params = PaceParams(mapping, cipher, pid)
    assert parse_card_access(card_access(params)) == [params]
    pw = mrz_password("T22000129364081251010318")
    d = group(pid)
    ca_private = d.scalar(os.urandom(d.scalar_bytes())) if mapping is Mapping.CAM else None
    term = PaceTerminal(params, pw, 1, os.urandom)
    chip = PaceChip(params, pw, os.urandom, ca_private=ca_private)
    a = chip.step(term.get_nonce().data)
    assert a is not None and len(chip.s) == params.nonce_length
    a = chip.step(term.map_command(a).data)
    assert a is not None
    a = chip.step(term.key_agreement_command(a).data)
    assert a is not None
    a = chip.step(term.token_command(a).data)
    assert a is not None
    sm = term.finish(a)
    assert chip.channel is not None and (sm.ks_enc, sm.ks_mac) == (chip.channel.ks_enc, chip.channel.ks_mac)
    assert len(sm.ks_enc) == cipher.key_length
    if ca_private is not None:
        assert term.verify_cam(d.encode(d.mul(ca_private, d.generator)))


def test_a_wrong_password_fails_on_every_group() -> None:
    for pid in (0, 13):
        params = PaceParams(Mapping.GM, Cipher.AES256, pid)
        term = PaceTerminal(params, mrz_password("A"), 1, os.urandom)
        chip = PaceChip(params, mrz_password("B"), os.urandom)
        a = chip.step(term.get_nonce().data)
        assert a is not None
        a = chip.step(term.map_command(a).data)
        assert a is not None
        a = chip.step(term.key_agreement_command(a).data)
        assert a is not None
        assert chip.step(term.token_command(a).data) is None  # the tokens do not verify


def test_dh_public_values_outside_the_subgroup_are_refused() -> None:
    from mrtd.errors import EncodingError

    d = group(0)
    for bad in (1, d.p - 1, 2):  # 2 is not of order q in the 1024/160 group
        with pytest.raises(EncodingError):
            d.decode(bad.to_bytes(d.size, "big"))


@pytest.mark.parametrize("param_id", range(8, 19))
def test_an_ec_public_value_is_validated_before_use(param_id: int) -> None:
    """TR-03111 §3.2.2.1: coordinates below p, on the curve; no result is the point at infinity."""
    from mrtd.errors import EncodingError

    d = group(param_id)
    g = d.generator
    assert d.decode(d.encode(g)) == g
    n = d.size
    with pytest.raises(EncodingError, match="not on"):
        d.decode(b"\x04" + g.x.to_bytes(n, "big") + ((g.y + 1) % d.p).to_bytes(n, "big"))
    if g.x + d.p < 256**n:  # x + p still fits: congruent to a curve point, but not a coordinate
        with pytest.raises(EncodingError, match="below p"):
            d.decode(b"\x04" + (g.x + d.p).to_bytes(n, "big") + g.y.to_bytes(n, "big"))
    minus_g = d.mul(d.order - 1, g)
    with pytest.raises(EncodingError, match="infinity"):
        d.add(g, minus_g)
    assert d.add(g, g) == d.mul(2, g)


@pytest.mark.parametrize("z", [b"", bytes(8), bytes(17), bytes(32)], ids=["empty", "8", "17", "32"])
def test_an_encrypted_nonce_of_the_wrong_length_is_the_chips_error(z: bytes) -> None:
    from mrtd.asn1.tlv import tlv
    from mrtd.errors import ChipError

    term = PaceTerminal(PaceParams(Mapping.GM, Cipher.AES128, 12), mrz_password("T22000129364081251010318"), 1,
                        os.urandom)
    with pytest.raises(ChipError, match=rf"PACE encrypted nonce.*{len(z)} bytes; the nonce has 16"):
        term.map_command(tlv(0x7C, tlv(0x80, z)))
