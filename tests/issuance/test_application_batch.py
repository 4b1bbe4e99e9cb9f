"""Batches: a folder, CSV or JSON Lines; every item names its row, one bad row never stops the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES

from mrtd.errors import ValidationError
from mrtd.issuance.batch import read_batch

HEADER = (
    "document.code,document.format,document.issuing_state,document.number,document.date_of_issue,"
    "document.date_of_expiry,holder.primary_identifier,holder.secondary_identifier,holder.nationality,"
    "holder.date_of_birth,holder.sex,holder.other_names,portrait,signature"
)
IMAGES = f"{EXAMPLES}/portraits/anna.jpg,{EXAMPLES}/signatures/anna.png"


def test_example_batches_are_valid() -> None:
    for name in ("consulate-day.csv", "consulate-day.jsonl"):
        items = list(read_batch(EXAMPLES / "batches" / name))
        assert items and all(i.ok and i.application is not None for i in items), [
            str(i.error) for i in items if i.error
        ]


def test_folder_rows_are_file_names() -> None:
    items = list(read_batch(EXAMPLES))
    assert [i.row for i in items] == sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert all(i.ok for i in items)


def test_csv_rows_report_their_line(tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                f"PP,TD3,UTO,L898902C3,2024-05-01,2034-04-30,ERIKSSON,ANNA MARIA,UTO,1974-08-12,F,ANNA LINDQVIST;A. E.,{IMAGES}",
                "",
                f"PP,TD3,UTO,,2024-05-01,2034-04-30,ERIKSSON,ANNA MARIA,UTO,1974-13-12,Q,,{IMAGES}",
                f'ID,TD1,UTO,D23145890,2025-03-14,2035-03-13,"ERIKSSON\nSVENSSON",ANNA,UTO,1974-08-12,F,,{IMAGES}',
                f"ID,TD1,UTO,D23145890,2025-03-14,2035-03-13,ERIKSSON,ANNA,ZZZ,1974-08-12,F,,{IMAGES},extra",
            ]
        )
        + "\n",
        "utf-8",
    )
    items = list(read_batch(path))
    assert [i.row for i in items] == ["line 2", "line 4", "line 5", "line 7"]
    first, second, third, fourth = items
    assert first.ok and first.application is not None
    assert first.application.document.holder.other_names == ("ANNA LINDQVIST", "A. E.")
    assert second.error is not None
    assert [(f.field, f.rule) for f in second.error.findings] == [
        ("holder.date_of_birth", "not-a-date"),
        ("holder.sex", "enum"),
    ]
    assert second.error.source == f"{path}, line 4"
    assert third.ok  # a quoted cell may span lines; the row is where it starts
    assert fourth.error is not None
    assert [(f.field, f.rule) for f in fourth.error.findings] == [("application", "extra-cells")]


def test_csv_header_problems_refuse_the_whole_batch(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("document.code,document,document.code\nPP,x,PP\n", "utf-8")
    with pytest.raises(ValidationError) as info:
        list(read_batch(path))
    assert sorted((f.field, f.rule) for f in info.value.findings) == [
        ("document", "column-conflict"),
        ("document.code", "duplicate-column"),
    ]


def test_csv_unknown_columns_and_bad_bytes_are_row_findings(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        (HEADER + ",holder.shoe_size\n").encode()
        + b"PP,TD3,UTO,,2024-05-01,2034-04-30,ERIKSS\xd8N,ANNA,UTO,1974-08-12,F,,"
        + IMAGES.encode()
        + b",42\n"
        + b"PP,TD3,UTO,,2024-05-01,2034-04-30,ERIKSSON,ANNA,UTO,1974-08-12,F,,"
        + IMAGES.encode()
        + b",42\n"
    )
    first, second = read_batch(path)
    assert first.error is not None and second.error is not None
    assert [(f.field, f.rule) for f in first.error.findings] == [("holder.primary_identifier", "not-utf8")]
    assert [(f.field, f.rule) for f in second.error.findings] == [("holder.shoe_size", "unknown-field")]


def test_jsonl_rows(tmp_path: Path) -> None:
    good = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    good["portrait"] = str(EXAMPLES / good["portrait"])
    good["signature"] = str(EXAMPLES / good["signature"])
    bad = dict(good, holder=dict(good["holder"], date_of_birth="1974-13-01"))
    path = tmp_path / "day.jsonl"
    path.write_bytes(
        b"\n".join([json.dumps(good).encode(), b"", b"{not json", json.dumps(bad).encode(), b"\xff\xfe"])
        + b"\n"
    )
    items = list(read_batch(path))
    assert [i.row for i in items] == ["line 1", "line 3", "line 4", "line 5"]
    assert items[0].ok
    assert [(f.field, f.rule) for f in items[1].error.findings] == [("application", "not-json")]  # type: ignore[union-attr]
    assert [str(f) for f in items[2].error.findings] == ['holder.date_of_birth: "1974-13-01" is not a date']  # type: ignore[union-attr]
    assert items[2].error.source == f"{path}, line 4"  # type: ignore[union-attr]
    assert [(f.field, f.rule) for f in items[3].error.findings] == [("application", "not-utf8")]  # type: ignore[union-attr]


def test_images_resolve_against_the_batch_folder() -> None:
    (item, *_) = read_batch(EXAMPLES / "batches" / "consulate-day.csv")
    assert item.application is not None
    assert item.application.portrait == EXAMPLES / "batches" / "../portraits/siobhan.jpg"


def test_unknown_source_kinds(tmp_path: Path) -> None:
    path = tmp_path / "day.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ValidationError) as info:
        list(read_batch(path))
    assert info.value.findings[0].rule == "unknown-batch-format"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert list(read_batch(empty)) == []
