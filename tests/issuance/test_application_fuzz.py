"""Junk in, only MrtdError out: random and mutated JSON, CSV and JSON Lines to the application readers."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrtd.errors import MrtdError
from mrtd.issuance.application import application_from_dict, read_application
from mrtd.issuance.batch import read_batch

# MRTD_FUZZ_EXAMPLES raises the count for a longer run by hand.
SETTINGS = settings(
    max_examples=int(os.environ.get("MRTD_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SPECIMEN = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
SPECIMEN["portrait"] = str(EXAMPLES / SPECIMEN["portrait"])
SPECIMEN["signature"] = str(EXAMPLES / SPECIMEN["signature"])
SPECIMEN_BYTES = json.dumps(SPECIMEN, ensure_ascii=False).encode()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Plausible junk for the fields that matter: strings that look nearly right.
field_text = st.sampled_from(
    [
        "",
        " ",
        "PP",
        "P<",
        "ID",
        "TD1",
        "MRV-A",
        "UTO",
        "D",
        "XXA",
        "1974-XX-XX",
        "1974-02-30",
        "XXXX-XX-XX",
        "2034-04-30",
        "0000-01-01",
        "F",
        "X",
        "<",
        "Шевченко",
        "الرازي",
        "O'NEILL",
        "ÆØÅ",
        "\x00",
        "../../etc/passwd",
        "portraits/anna.jpg",
        "9" * 30,
    ]
) | st.text(max_size=30)


def _run(call: Any) -> None:
    with contextlib.suppress(MrtdError):
        call()


@SETTINGS
@given(json_values)
def test_random_json_values(data: Any) -> None:
    _run(lambda: application_from_dict(data, EXAMPLES, "fuzz"))


@SETTINGS
@given(st.sampled_from(["document", "holder"]), st.data())
def test_mutated_fields(section: str, draw: st.DataObject) -> None:
    data = json.loads(json.dumps(SPECIMEN))
    keys = [*list(data[section]), "number", "format", "code", "sex", "date_of_birth"]
    for _ in range(draw.draw(st.integers(1, 4))):
        key = draw.draw(st.sampled_from(keys))
        data[section][key] = draw.draw(field_text | json_values)
    _run(lambda: application_from_dict(data, EXAMPLES, "fuzz"))


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, len(SPECIMEN_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_mutated_bytes(tmp_path_factory: Any, edits: list[tuple[int, int]]) -> None:
    raw = bytearray(SPECIMEN_BYTES)
    for pos, value in edits:
        raw[pos % len(raw)] = value
    path: Path = tmp_path_factory.mktemp("fuzz") / "a.json"
    path.write_bytes(bytes(raw))
    _run(lambda: read_application(path))


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.jsonl", "x.json"]))
def test_random_batches(tmp_path_factory: Any, content: bytes, name: str) -> None:
    path: Path = tmp_path_factory.mktemp("batch") / name
    path.write_bytes(content)
    _run(lambda: list(read_batch(path)))


@SETTINGS
@given(st.lists(st.lists(field_text, min_size=0, max_size=6), max_size=4), st.sampled_from(["csv", "jsonl"]))
def test_structured_junk_batches(tmp_path_factory: Any, rows: list[list[str]], kind: str) -> None:
    header = "document.code,document.format,holder.date_of_birth,holder.primary_identifier,portrait,holder.other_names"
    path: Path = tmp_path_factory.mktemp("batch") / f"x.{kind}"
    if kind == "csv":
        body = "\n".join([header] + [",".join(json.dumps(c) for c in r) for r in rows])
    else:
        body = "\n".join(json.dumps(dict(zip(header.split(","), r, strict=False))) for r in rows)
    path.write_text(body, "utf-8", errors="surrogatepass")
    _run(lambda: list(read_batch(path)))
