"""Protocol units beyond the worked examples: APDU codec, AES secure messaging, PACE on other curves and
mappings, Active Authentication both ways, Chip Authentication keys; bad input raises MrtdError only."""

from __future__ import annotations

import contextlib
import copy
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.asn1.tlv import parse_all, tlv
from mrtd.chip.protocol import aa
from mrtd.chip.protocol.apdu import ApduError, Command, Response, chained, transceive
from mrtd.chip.protocol.ca import ChipAuthTerminal, chip_channel
from mrtd.chip.protocol.curves import domain
from mrtd.chip.protocol.kdf import Cipher, can_password, mrz_password
from mrtd.chip.protocol.pace import (
    Mapping,
    PaceChip,
    PaceParams,
    PaceTerminal,
    card_access,
    parse_card_access,
)
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.errors import ChipError, MrtdError, ProfileError, SignatureError

commands = st.builds(
    Command,
    st.integers(0, 0x7F), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
    st.binary(max_size=600), st.one_of(st.none(), st.integers(1, 65536)), st.booleans(),
)


@settings(max_examples=150)
@given(commands)
def test_apdu_round_trip(cmd: Command) -> None:
    raw = cmd.encode()
    back = Command.decode(raw)
    assert (back.cla, back.ins, back.p1, back.p2, back.data) == (cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data)
    assert back.le == cmd.le
    assert back.encode() == raw


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_apdu_decode_random_bytes_only_raises_mrtd_errors(raw: bytes) -> None:
    with contextlib.suppress(MrtdError):
        Command.decode(raw)


def test_short_and_extended_forms() -> None:
    assert Command(0, 0xB0, 0, 0, b"", 256).encode() == bytes.fromhex("00B0000000")
    assert Command(0, 0xB0, 0, 0, b"", 65536).encode() == bytes.fromhex("00B00000000000")
    assert Command(0, 0xD6, 0, 0, bytes(300)).encode()[:7] == bytes.fromhex("00D60000 00012C".replace(" ", ""))
    with pytest.raises(ApduError):
        Command(0, 0xD6, 0, 0, bytes(70000)).encode()
    parts = list(chained(0, 0x86, 0, 0, bytes(600), 255))
    assert [p.cla for p in parts] == [0x10, 0x10, 0x00] and b"".join(p.data for p in parts) == bytes(600)


def test_transceive_get_response_and_wrong_le() -> None:
    sent: list[bytes] = []
    answers = [bytes.fromhex("6C04"), bytes.fromhex("AABB6102"), bytes.fromhex("CCDD9000")]

    def send(raw: bytes) -> bytes:
        sent.append(raw)
        return answers[len(sent) - 1]

    rsp = transceive(send, Command(0, 0xB0, 0, 0, b"", 256), step="read")
    assert rsp == Response(bytes.fromhex("AABBCCDD"), 0x9000)
    assert sent == [bytes.fromhex("00B0000000"), bytes.fromhex("00B0000004"), bytes.fromhex("00C0000002")]
    with pytest.raises(ChipError) as err:
        transceive(lambda raw: b"\x90", Command(0, 0xB0, 0, 0), step="read DG1")
    assert err.value.step == "read DG1"


@pytest.mark.parametrize("cipher", [Cipher.DES3, Cipher.AES128, Cipher.AES192, Cipher.AES256])
@settings(max_examples=20)
@given(data=st.binary(max_size=1000), reply=st.binary(max_size=1000), le=st.one_of(st.none(), st.integers(1, 65536)))
def test_secure_messaging_both_sides(cipher: Cipher, data: bytes, reply: bytes, le: int | None) -> None:
    k = bytes(range(cipher.key_length))
    term = SecureChannel(k, k[::-1], 5, cipher)
    chip = SecureChannel(k, k[::-1], 5, cipher)
    cmd = Command(0x00, 0xD6, 0x01, 0x02, data, le)
    inner = chip.unwrap_command(Command.decode(term.wrap(cmd).encode()))
    assert (inner.ins, inner.p1, inner.p2, inner.data, inner.le) == (0xD6, 1, 2, data, le)
    rsp = term.unwrap(chip.wrap_response(Response(reply, 0x9000)).encode(), step="x")
    assert rsp == Response(reply, 0x9000)
    assert term.ssc == chip.ssc == 7


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_sm_unwrap_random_bytes_raises_chip_error(raw: bytes) -> None:
    term = SecureChannel(bytes(16), bytes(16), 0, Cipher.AES128)
    with pytest.raises(ChipError):
        term.unwrap(raw + b"\x90\x00", step="read")


def _run_pace(params: PaceParams, term_pw: bytes, chip_pw: bytes, ca_private: int | None = None) -> tuple[PaceTerminal, PaceChip]:
    term = PaceTerminal(params, term_pw, 2, os.urandom)
    chip = PaceChip(params, chip_pw, os.urandom, ca_private)
    a = chip.step(term.get_nonce().data)
    assert a is not None
    a = chip.step(term.map_command(a).data)
    assert a is not None
    a = chip.step(term.key_agreement_command(a).data)
    assert a is not None
    a = chip.step(term.token_command(a).data)
    if a is None:
        raise ChipError("PACE mutual authentication", "refused", 0x6300)
    term.finish(a)
    return term, chip


@pytest.mark.parametrize(
    "mapping,cipher,param_id",
    [
        (Mapping.GM, Cipher.AES128, 12), (Mapping.GM, Cipher.AES256, 16), (Mapping.GM, Cipher.DES3, 13),
        (Mapping.GM, Cipher.AES192, 15), (Mapping.IM, Cipher.AES128, 12), (Mapping.IM, Cipher.AES128, 16),
        (Mapping.CAM, Cipher.AES128, 12), (Mapping.CAM, Cipher.AES256, 13),
    ],
)
def test_pace_both_sides_on_curves(mapping: Mapping, cipher: Cipher, param_id: int) -> None:
    params = PaceParams(mapping, cipher, param_id)
    assert parse_card_access(card_access(params)) == [params]
    d = domain(param_id)
    sk = d.scalar(os.urandom(d.scalar_bytes()))
    term, chip = _run_pace(params, can_password("123456"), can_password("123456"), sk)
    assert chip.channel is not None and term.ks_mac == chip.channel.ks_mac
    if mapping is Mapping.CAM:
        assert term.verify_cam(d.encode(d.mul(sk, d.generator)))


def test_pace_wrong_password_fails() -> None:
    params = PaceParams(Mapping.GM, Cipher.AES128, 12)
    with pytest.raises(ChipError):
        _run_pace(params, mrz_password("L898902C<369080619406236"), mrz_password("L898902C<369080619406237"))


def test_pace_profiles_refused() -> None:
    with pytest.raises(ProfileError):
        PaceParams(Mapping.CAM, Cipher.DES3, 13)
    with pytest.raises(ProfileError):
        PaceParams(Mapping.GM, Cipher.AES128, 99)


@settings(max_examples=100)
@given(st.binary(max_size=120))
def test_card_access_parser_only_raises_mrtd_errors(raw: bytes) -> None:
    with contextlib.suppress(MrtdError):
        parse_card_access(raw)


@pytest.mark.parametrize("key", [rsa.generate_private_key(65537, 1024), rsa.generate_private_key(65537, 2048),
                                 ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.BrainpoolP384R1())])
def test_active_authentication_both_sides(key: aa.AaKey) -> None:
    rnd = os.urandom(8)
    sig = aa.sign(key, rnd, os.urandom)
    aa.verify(key.public_key(), rnd, sig)
    with pytest.raises(SignatureError):
        aa.verify(key.public_key(), bytes(8), sig)


@pytest.mark.parametrize("cipher", [Cipher.DES3, Cipher.AES128])
def test_chip_authentication_keys_agree(cipher: Cipher) -> None:
    d = domain(12)
    sk = d.scalar(os.urandom(d.scalar_bytes()))
    term = ChipAuthTerminal(d, d.encode(d.mul(sk, d.generator)), cipher, 1, os.urandom)
    cmds = term.commands()
    assert (cmds[0].p1, cmds[0].p2) == ((0x41, 0xA6) if cipher is Cipher.DES3 else (0x41, 0xA4))
    new = term.new_channel()
    chip = chip_channel(d, sk, term.pk, cipher)
    assert (new.ks_enc, new.ks_mac, new.ssc) == (chip.ks_enc, chip.ks_mac, 0)


@pytest.mark.parametrize("param_id", [12, 13, 0])  # P-256, brainpoolP256r1, the 1024-bit DH group
def test_the_chip_refuses_a_bad_key_agreement_key_at_once_and_derives_its_keys_after_answering(param_id: int) -> None:
    """The chip validates the terminal's key before it answers the key agreement; the shared secret and
    session keys come after the answer (`settle`, the simulator's idle moment) or at the mutual
    authentication, and agree with the terminal's either way."""
    params = PaceParams(Mapping.GM, Cipher.AES128, param_id)
    pw = can_password("123456")
    for settle_early in (True, False):
        term, chip = PaceTerminal(params, pw, 2, os.urandom), PaceChip(params, pw, os.urandom)
        a = chip.step(term.get_nonce().data)
        assert a is not None
        a = chip.step(term.map_command(a).data)
        assert a is not None
        ka = term.key_agreement_command(a)
        bad = copy.copy(chip)
        assert bad.step(_spoiled_key(ka.data)) is None  # refused at the key agreement itself
        a = chip.step(ka.data)
        assert a is not None and chip.ks_mac == b""  # answered before the keys were derived
        if settle_early:
            assert chip.settle() and chip.ks_mac
        a = chip.step(term.token_command(a).data)
        assert a is not None and chip.channel is not None
        term.finish(a)
        assert (term.ks_enc, term.ks_mac) == (chip.ks_enc, chip.ks_mac)


def _spoiled_key(dyn: bytes) -> bytes:
    """The terminal's key-agreement data with its public key's last byte changed: off the curve, or (DH)
    a value of the wrong order."""
    (outer,) = parse_all(dyn)
    (key,) = outer.children()
    return tlv(0x7C, tlv(0x83, key.value[:-1] + bytes((key.value[-1] ^ 1,))))
