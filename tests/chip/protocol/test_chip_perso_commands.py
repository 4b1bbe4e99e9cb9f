"""Personalisation command codecs: what the personaliser builds, the simulator parses back exactly."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.curves import domain
from mrtd.errors import MrtdError

doc_numbers = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=9)
dates = st.text(alphabet="0123456789", min_size=6, max_size=6)


@settings(max_examples=100)
@given(st.integers(0, 0xFFFF), st.integers(1, 0xFFFF))
def test_create_file_round_trip(fid: int, size: int) -> None:
    cmd = pc.create_file(fid, size)
    assert cmd.encode()[:5] == bytes.fromhex("00E0000006")
    assert pc.parse_create_file(cmd.data) == (fid, size)


@settings(max_examples=100)
@given(doc_numbers, dates, dates)
def test_mrz_seed_round_trip(doc: str, dob: str, doe: str) -> None:
    cmd = pc.put_mrz_seed(doc, dob, doe)
    assert cmd.encode()[:4] == bytes.fromhex("00DA0062")
    assert pc.parse_mrz_seed(cmd.data) == (doc.ljust(9, "<"), dob, doe)


@pytest.mark.parametrize("param_id", [8, 12, 13, 16, 18])
@settings(max_examples=10)
@given(st.integers(1, 2**160), st.one_of(st.none(), st.integers(0, 1000)))
def test_ca_key_round_trip(param_id: int, private: int, key_id: int | None) -> None:
    d = domain(param_id)
    key = pc.parse_ca_key(pc.put_ca_key(d, private, key_id).data)
    assert (key.domain.param_id, key.private, key.key_id) == (param_id, private, key_id)


def test_rsa_key_commands_have_the_jmrtd_layout() -> None:
    n, d = 0xC0FFEE << 1000, 0x1234567
    mod, exp = pc.put_aa_rsa(n, d, 128)
    assert mod.encode()[:9] == bytes.fromhex("00DA0060856000048180")[:9]  # Lc 133: 60 00 04 81 80 n
    assert pc.parse_aa_rsa(mod.data, 0x60) == n and pc.parse_aa_rsa(exp.data, 0x61) == d
    assert pc.lock().encode() == bytes.fromhex("00DADEAD")


@settings(max_examples=200)
@given(st.binary(max_size=150), st.sampled_from([0x60, 0x61, 0x63, 0x65, 0x66]))
def test_parsers_only_raise_mrtd_errors(data: bytes, tag: int) -> None:
    for parse in (pc.parse_create_file, pc.parse_mrz_seed, pc.parse_ca_key,
                  lambda b: pc.parse_aa_rsa(b, tag), lambda b: pc.parse_simple(b, tag)):
        with contextlib.suppress(MrtdError):
            parse(data)
