"""Doc 9303-11 worked examples (App. D, F, G, H, I) from tests/vectors/chip/p11.json."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

import pytest
from conftest import VECTORS

from mrtd.chip.protocol import aa, ciphers
from mrtd.chip.protocol.apdu import Command, Response
from mrtd.chip.protocol.bac import BacTerminal, MrzInfo, bac_chip_answer, bac_keys
from mrtd.chip.protocol.curves import domain
from mrtd.chip.protocol.kdf import ENC, MAC, PI, Cipher, bac_seed, kdf, mrz_password
from mrtd.chip.protocol.pace import (
    Mapping,
    PaceChip,
    PaceParams,
    PaceTerminal,
    card_access,
    im_prf,
    parse_card_access,
)
from mrtd.chip.protocol.sm import SecureChannel

P11 = json.loads((VECTORS / "chip" / "p11.json").read_text())
H = bytes.fromhex


def v(name: str) -> tuple[dict[str, str], dict[str, object]]:
    return P11[name]["inputs"], P11[name]["expected"]


def feeder(*chunks: bytes) -> Callable[[int], bytes]:
    """A `random` that hands out the given byte strings in order (checking the length asked for)."""
    it: Iterator[bytes] = iter(chunks)

    def random(n: int) -> bytes:
        chunk = next(it)
        assert len(chunk) == n
        return chunk

    return random


def key_bytes(param_id: int, sk_hex: str) -> bytes:
    """Raw random bytes that `Domain.scalar` turns into this private key (mod n: App. I uses one > n)."""
    d = domain(param_id)
    return (int(sk_hex, 16) % d.order - 1).to_bytes(d.scalar_bytes(), "big")


# -- App. D: BAC ---------------------------------------------------------------------------------------


def test_d1_kdf_with_parity() -> None:
    i, e = v("p11-D1-kdf-3des")
    seed = H(i["Kseed"])
    assert kdf(seed, ENC, Cipher.DES3) == H(str(e["KEnc"]))
    assert kdf(seed, MAC, Cipher.DES3) == H(str(e["KMAC"]))


@pytest.mark.parametrize(
    "name", ["p11-D2-td2-long-docno", "p11-D2-td1-long-docno", "p11-D2-td2-9char-ERRATUM"]
)
def test_d2_mrz_information(name: str) -> None:
    _, e = v(name)
    info = str(e["MRZ_information"])
    # the document number is everything before the first check digit that follows it
    if name == "p11-D2-td2-9char-ERRATUM":
        m = MrzInfo("L898902C", "690806", "940623")
    else:
        m = MrzInfo("D23145890734", "340712", "950712")
    assert m.information == info


def test_d2_keyseed_and_keys() -> None:
    i, e = v("p11-D2-keyseed")
    assert bac_seed(i["MRZ_information"]) == H(str(e["Kseed"]))
    assert bac_keys(i["MRZ_information"]) == (H(str(e["KEnc"])), H(str(e["KMAC"])))
    _, e2 = v("p11-D2-keyseed-longdocno")
    assert bac_seed("D23145890734934071279507122") == H(str(e2["Kseed"]))


def test_d3_mutual_authentication_both_sides() -> None:
    i, e = v("p11-D3-bac")
    term = BacTerminal("L898902C<369080619406236", feeder(H(i["RND.IFD"]), H(i["K.IFD"])))
    cmd = term.external_authenticate(H(i["RND.IC"]))
    assert cmd.data == H(str(e["cmd_data"]))
    assert cmd.encode() == H("0082000028") + H(str(e["cmd_data"])) + b"\x28"
    answer = bac_chip_answer(
        H(i["KEnc"]), H(i["KMAC"]), H(i["RND.IC"]), cmd.data, feeder(H(i["K.IC"]))
    )
    assert answer is not None
    data, chip_sm = answer
    assert data == H(str(e["resp_data"]))
    sm = term.finish(data)
    assert sm.ks_enc == H(str(e["KSEnc"])) and sm.ks_mac == H(str(e["KSMAC"]))
    assert sm.ssc == int(str(e["SSC"]), 16) == chip_sm.ssc
    assert chip_sm.ks_enc == sm.ks_enc


def test_d3_wrong_mac_refused() -> None:
    i, e = v("p11-D3-bac")
    term = BacTerminal("L898902C<369080619406236", feeder(H(i["RND.IFD"]), H(i["K.IFD"])))
    term.external_authenticate(H(i["RND.IC"]))
    bad = bytearray(H(str(e["resp_data"])))
    bad[-1] ^= 1
    with pytest.raises(Exception, match="MAC"):
        term.finish(bytes(bad))


@pytest.mark.parametrize("name", ["p11-D4-1-select-efcom", "p11-D4-2-read4", "p11-D4-3-read18"])
def test_d4_secure_messaging(name: str) -> None:
    i, e = v(name)
    ssc = int(i["SSC_before"], 16)
    term = SecureChannel(H(i["KSEnc"]), H(i["KSMAC"]), ssc, Cipher.DES3)
    protected = term.wrap(Command.decode(H(i["unprotected_apdu"])))
    assert protected.encode() == H(str(e["protected_apdu"]))
    rsp = term.unwrap(H(str(e["RAPDU"])), step="D.4")
    assert rsp.sw == 0x9000
    assert rsp.data == H(str(e.get("DecryptedData", "")))
    assert term.ssc == int(str(e["SSC_rsp"]), 16)
    # the chip side: unwraps the command and produces exactly the printed response
    chip = SecureChannel(H(i["KSEnc"]), H(i["KSMAC"]), ssc, Cipher.DES3)
    plain = chip.unwrap_command(Command.decode(H(str(e["protected_apdu"]))))
    assert plain.ins == protected.ins and plain.data == Command.decode(H(i["unprotected_apdu"])).data
    assert chip.wrap_response(Response(rsp.data, 0x9000)).encode() == H(str(e["RAPDU"]))


def test_d4_tampered_response_is_refused() -> None:
    i, e = v("p11-D4-2-read4")
    term = SecureChannel(H(i["KSEnc"]), H(i["KSMAC"]), int(i["SSC_before"], 16), Cipher.DES3)
    term.wrap(Command.decode(H(i["unprotected_apdu"])))
    bad = bytearray(H(str(e["RAPDU"])))
    bad[4] ^= 0x40
    with pytest.raises(Exception, match="MAC"):
        term.unwrap(bytes(bad), step="READ BINARY")


# -- App. F: Active Authentication (hash part) --------------------------------------------------------


def test_f_aa_message_representative() -> None:
    i, e = v("p11-F-aa-rsa")
    m1, m2 = H(i["M1"]), H(i["M2"])
    f = aa.iso9796_2_representative(m1, m2, "sha1", 1024)
    assert f == H(str(e["F"]))
    assert hashlib.sha1(m1 + m2).digest() == H(str(e["H"]))
    assert aa.iso9796_2_recover(f, m2) == m1
    assert aa.message_capacity_bits(1024, "sha1") == e["c_bits"]


# -- App. G/H/I: PACE -----------------------------------------------------------------------------------


def test_g_password() -> None:
    i, e = v("p11-G-password")
    assert mrz_password(i["MRZ_information"]) == H(str(e["K=SHA1(MRZ_information)"]))
    assert kdf(mrz_password(i["MRZ_information"]), PI, Cipher.AES128) == H(str(e["Kpi=KDF(K,3) AES-128"]))
    m = MrzInfo("T22000129", "640812", "101031")
    assert m.information == i["MRZ_information"]


def _pt(d: dict[str, str]) -> bytes:
    return H("04" + d["x"] + d["y"])


def test_g1_pace_ecdh_gm_terminal_and_chip() -> None:
    i, e = v("p11-G1-pace-ecdh-gm")
    apdus = e["apdus"]
    assert isinstance(apdus, list)
    params = PaceParams.from_oid(H("04007F00070202040202"), 13)
    assert params.mapping is Mapping.GM and params.cipher is Cipher.AES128
    assert params.pace_info() == H(i["PACEInfo"])
    assert parse_card_access(card_access(params)) == [params]
    pw = mrz_password("T22000129364081251010318")
    term = PaceTerminal(params, pw, 1, feeder(key_bytes(13, i["map_SK_IFD"]), key_bytes(13, i["ka_SK_IFD"])))
    chip = PaceChip(params, pw, feeder(H(i["nonce_s"]), key_bytes(13, i["map_SK_IC"]), key_bytes(13, i["ka_SK_IC"])))
    assert term.mse_set_at().encode() == H(apdus[0]["c"])
    cmd = term.get_nonce()
    step_answers = []
    for k, apdu in enumerate(apdus[1:]):
        assert cmd.encode() == H(apdu["c"]), f"command {k + 1}"
        answer = chip.step(cmd.data)
        assert answer is not None
        assert answer + b"\x90\x00" == H(apdu["r"]), f"answer {k + 1}"
        step_answers.append(answer)
        if k == 0:
            cmd = term.map_command(answer)
        elif k == 1:
            cmd = term.key_agreement_command(answer)
        elif k == 2:
            cmd = term.token_command(answer)
    sm = term.finish(step_answers[-1])
    assert sm.ks_enc == H(str(e["KSEnc"])) and sm.ks_mac == H(str(e["KSMAC"]))
    assert sm.ssc == 0 and chip.channel is not None and chip.channel.ks_mac == sm.ks_mac
    # G' = s*G + sk_map*PK_map as §4.4.3.3.1 writes it (the protocol itself does without it)
    d = params.domain
    g_mapped = d.add(d.mul(int.from_bytes(term.s, "big"), d.generator), d.mul(term.sk_map, term.pk_map_ic))
    assert g_mapped.x == int(e["G_mapped"]["x"], 16)  # type: ignore[union-attr]


def test_h1_pace_ecdh_im() -> None:
    i, e = v("p11-H1-pace-ecdh-im")
    d = domain(13)
    s, t = H(i["nonce_s"]), H(i["nonce_t"])
    assert ciphers.aes_cbc_encrypt(H(i["Kpi"]), s) == H(str(e["encrypted_nonce_z"]))
    assert im_prf(s, t, d.p) == int(str(e["Rp(s,t)"]), 16)
    g = d.integrated_mapping(im_prf(s, t, d.p))
    assert (g.x, g.y) == (int(e["G_mapped"]["x"], 16), int(e["G_mapped"]["y"], 16))  # type: ignore[index]
    params = PaceParams(Mapping.IM, Cipher.AES128, 13)
    assert params.oid == H("04007F00070202040402")
    # Kpi is given directly (erratum 6: it is not G's), so drive both sides from it
    term = PaceTerminal(params, b"", 1, feeder(t, key_bytes(13, i["SK_IFD"])))
    term.k_pi = H(i["Kpi"])
    chip = PaceChip(params, b"", feeder(s, key_bytes(13, i["SK_IC"])))
    chip.k_pi = H(i["Kpi"])
    a1 = chip.step(term.get_nonce().data)
    assert a1 is not None and a1 == H("7C128010") + H(str(e["encrypted_nonce_z"]))
    a2 = chip.step(term.map_command(a1).data)
    assert a2 is not None
    c3 = term.key_agreement_command(a2)
    assert c3.data[4 + 1 :] == H(str(e["PK_IFD"]))
    a3 = chip.step(c3.data)
    assert a3 is not None and a3[5:] == H(str(e["PK_IC"]))
    c4 = term.token_command(a3)
    assert c4.data[-8:] == H(str(e["T_IFD"]))
    a4 = chip.step(c4.data)
    assert a4 is not None and a4[-8:] == H(str(e["T_IC"]))
    sm = term.finish(a4)
    assert (sm.ks_enc, sm.ks_mac) == (H(str(e["KEnc"])), H(str(e["KMAC"])))


def test_i1_pace_ecdh_cam() -> None:
    i, e = v("p11-I1-pace-ecdh-cam")
    params = PaceParams.from_oid(H("04007F00070202040602"), 13)
    assert params.pace_info() == H(i["PACEInfo"])
    pw = mrz_password("C11T002JM49608122231031" + "4")
    assert pw == H(str(e["K=SHA1(MRZ_information)"]))
    n = domain(13).order
    ca_ic = int(str(e["CA_IC_decrypted"]), 16)
    sk_ic_static = int(i["map_SK_IC"], 16) * pow(ca_ic, -1, n) % n
    term = PaceTerminal(params, pw, 1, feeder(key_bytes(13, i["map_SK_IFD"]), key_bytes(13, i["ka_SK_IFD"])))
    chip = PaceChip(
        params, pw,
        feeder(H(i["nonce_s"]), key_bytes(13, i["map_SK_IC"]), key_bytes(13, i["ka_SK_IC"])),
        ca_private=sk_ic_static,
    )
    assert term.mse_set_at().encode() == H("0022C1A40F800A04007F00070202040602830101")
    a = chip.step(term.get_nonce().data)
    assert a is not None and a[4:] == H(str(e["encrypted_nonce_z"]))
    a = chip.step(term.map_command(a).data)
    assert a is not None and a[5:] == H(str(e["map_PK_IC"]))
    a = chip.step(term.key_agreement_command(a).data)
    assert a is not None and a[5:] == H(str(e["ka_PK_IC"]))
    last = term.token_command(a)
    assert last.encode() == H(str(e["last_cmd"]))
    a = chip.step(last.data)
    assert a is not None and a + b"\x90\x00" == H(str(e["last_rsp"]))
    sm = term.finish(a)
    assert (sm.ks_enc, sm.ks_mac) == (H(str(e["KSEnc"])), H(str(e["KSMAC"])))
    assert term.ca_ic == ca_ic
    assert term.verify_cam(H("04" + str(e["PK_IC_static"])))
    assert not term.verify_cam(domain(13).encode(domain(13).generator))
