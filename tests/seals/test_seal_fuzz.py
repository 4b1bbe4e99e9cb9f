"""Decoders of outside input raise only MrtdError subclasses, on random bytes and on mutated real seals."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
from collections.abc import Callable

from conftest import SHARED, require
from hypothesis import given, settings
from hypothesis import strategies as st
from sealkit import NOW, cert_path, seals_dir

from mrtd.asn1.x509 import load_certificate
from mrtd.errors import MrtdError
from mrtd.seals import idb, vds, vdsnc
from mrtd.seals.verify import Trust, check_seal


@functools.cache
def _samples() -> tuple[tuple[bytes, ...], tuple[str, ...], tuple[str, ...]]:
    base = seals_dir()
    vds_raw = tuple(p.read_bytes() for p in sorted((base / "vds").glob("*.bin")))
    idb_text = tuple(p.read_text().strip() for p in sorted((base / "idb").glob("*.txt")))
    nc = tuple(p.read_text() for p in sorted((base / "vdsnc").glob("*.json")))
    return vds_raw, idb_text, nc


@functools.cache
def _trust() -> Trust:
    return Trust.load(seals_dir() / "certs")


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, pos, value in edits:
        if not out:
            break
        i = pos % len(out)
        if kind == 0:
            out[i] = value
        elif kind == 1:
            del out[i:]
        elif kind == 2:
            out.insert(i, value)
        else:
            del out[i]
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)


def _only_mrtd_errors(call: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(MrtdError):
        call(*args)


@settings(max_examples=150)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes(data: bytes, strict: bool) -> None:
    require((SHARED / "vectors" / "seals").exists(), "../shared/vectors/seals")
    _only_mrtd_errors(vds.decode, b"\xdc" + data, strict)
    _only_mrtd_errors(idb.decode, "RDB1" + data.decode("latin-1"), strict)
    _only_mrtd_errors(vdsnc.decode, data, strict)
    _only_mrtd_errors(check_seal, data, _trust(), NOW, strict)
    _only_mrtd_errors(check_seal, b"\x89PNG\r\n\x1a\n" + data, _trust(), NOW, strict)  # a broken image
    _only_mrtd_errors(load_certificate, data)


@settings(max_examples=150)
@given(st.integers(0, 100), EDITS, st.booleans())
def test_mutated_vds(which: int, edits: list[tuple[int, int, int]], strict: bool) -> None:
    vds_raw, _, _ = _samples()
    data = _mutate(vds_raw[which % len(vds_raw)], edits)
    _only_mrtd_errors(check_seal, data, _trust(), NOW, strict)
    _only_mrtd_errors(check_seal, data.hex().encode(), _trust(), NOW, strict)


@settings(max_examples=100)
@given(st.integers(0, 100), EDITS, st.booleans())
def test_mutated_idb(which: int, edits: list[tuple[int, int, int]], strict: bool) -> None:
    _, idb_text, _ = _samples()
    text = idb_text[which % len(idb_text)]
    # mutate both the barcode text and the binary payload inside it
    _only_mrtd_errors(check_seal, _mutate(text.encode(), edits), _trust(), NOW, strict)
    seal = idb.decode(text)
    payload = _mutate(seal.payload, edits)
    forged = text[:5] + base64.b32encode(payload).decode().rstrip("=")
    _only_mrtd_errors(check_seal, forged.encode(), _trust(), NOW, strict)


@settings(max_examples=100)
@given(EDITS, st.booleans())
def test_mutated_vdsnc(edits: list[tuple[int, int, int]], strict: bool) -> None:
    _, _, nc = _samples()
    _only_mrtd_errors(check_seal, _mutate(nc[0].encode(), edits), _trust(), NOW, strict)
    doc = json.loads(nc[0])
    cer = bytearray(load_certificate(cert_path("UTTS5B").read_bytes()).der)
    doc["sig"]["cer"] = base64url(_mutate(bytes(cer), edits))
    _only_mrtd_errors(check_seal, json.dumps(doc).encode(), _trust(), NOW, strict)


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@settings(max_examples=60)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
                    max_leaves=10))
def test_vdsnc_arbitrary_json(value: object) -> None:
    doc = {"data": {"hdr": {"t": "icao.vacc", "v": 1, "is": "UTO"}, "msg": {"x": value}},
           "sig": {"alg": "ES256", "cer": "AAAA", "sigvl": "AAAA"}}
    try:
        text = json.dumps(doc)
    except ValueError:
        return
    _only_mrtd_errors(check_seal, text.encode(), _trust(), NOW, False)
