"""Batches of applications: a folder of JSON files, a CSV file, or JSON Lines; each item names its row.

A CSV has one application per row, with flattened column names (`document.code`,
`holder.primary_identifier`, ..., `portrait`, `signature`, `extra.<key>`); an empty cell means the field is
absent, and `holder.other_names` holds several names separated by `;`. Image paths resolve against the
folder of the batch file. One bad row never stops the batch: it becomes an item with its error.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mrtd.errors import Finding, ValidationError
from mrtd.issuance.application import (
    MAX_APPLICATION_BYTES,
    ROOT,
    CheckedApplication,
    check_application,
    check_application_file,
    parse_json,
)
from mrtd.limits import regular_file
from mrtd.model import Application
from mrtd.mrz import NameOptions

BATCH = "batch"  # the field named by findings about the batch source as a whole
OTHER_NAMES_SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One application of a batch: `row` locates it ("line 3" in a CSV or JSON Lines file, or a file name).

    Exactly one of `application` and `error` is set; `warnings` lists findings that do not stop issue.
    """

    row: str
    application: Application | None
    error: ValidationError | None
    warnings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def batch_kind(source: Path) -> str:
    """"folder", "csv", "jsonl" or "json"; raises `ValidationError` for anything else."""
    if source.is_dir():
        return "folder"
    suffix = source.suffix.lower()
    kinds = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
    if suffix in kinds:
        return kinds[suffix]
    raise ValidationError(
        [Finding(BATCH, "unknown-batch-format", f"{source.name}: not a folder, .json, .csv or .jsonl file")],
        source=str(source),
    )


def read_batch(
    source: Path, *, names: NameOptions | None = None, today: dt.date | None = None
) -> Iterator[BatchItem]:
    """The applications in `source` (a folder of .json files, a .csv, a .jsonl, or one .json), in order.

    A source that cannot be read at all raises `ValidationError`; a bad application becomes an item.
    """
    kind = batch_kind(source)
    if kind == "folder":
        files = sorted(p for p in source.iterdir() if p.suffix.lower() == ".json" and p.is_file())
        for path in files:
            yield _item(path.name, str(path), check_application_file(path, names=names, today=today))
    elif kind == "json":
        yield _item(source.name, str(source), check_application_file(source, names=names, today=today))
    elif kind == "jsonl":
        yield from _read_jsonl(source, names, today)
    else:
        yield from _read_csv(source, names, today)


def _item(row: str, where: str, checked: CheckedApplication) -> BatchItem:
    if checked.application is not None and not checked.errors:
        return BatchItem(row, checked.application, None, checked.warnings)
    return BatchItem(row, None, ValidationError(checked.errors or checked.findings, source=where), checked.warnings)


def _unreadable(source: Path, exc: OSError) -> ValidationError:
    return ValidationError(
        [Finding(BATCH, "unreadable", f"{str(source)!r} cannot be read ({exc.strerror or exc})")], source=str(source)
    )


def _read_jsonl(source: Path, names: NameOptions | None, today: dt.date | None) -> Iterator[BatchItem]:
    try:
        fh = regular_file(source, "batch").open("rb")
    except OSError as exc:
        raise _unreadable(source, exc) from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            row = f"line {number}"
            where = f"{source}, {row}"
            if len(raw) > MAX_APPLICATION_BYTES:
                checked = CheckedApplication(
                    None, (Finding(ROOT, "too-large", f"is larger than {MAX_APPLICATION_BYTES} bytes"),)
                )
            else:
                try:
                    data = parse_json(raw)
                except ValidationError as exc:
                    checked = CheckedApplication(None, exc.findings)
                else:
                    checked = check_application(data, source.parent, where, names=names, today=today)
            yield _item(row, where, checked)


def _read_csv(source: Path, names: NameOptions | None, today: dt.date | None) -> Iterator[BatchItem]:
    try:
        # surrogateescape: a row with bytes that are not UTF-8 is reported, and the rest of the batch read.
        fh = regular_file(source, "batch").open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise _unreadable(source, exc) from None
    with fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ValidationError([Finding(BATCH, "not-csv", f"header: {exc}")], source=str(source)) from None
        if header is None:
            return
        columns = [c.strip() for c in header]
        problems = _header_problems(columns)
        if problems:
            raise ValidationError(problems, source=str(source))
        while True:
            start = reader.line_num + 1
            row = f"line {start}"
            where = f"{source}, {row}"
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader cannot resynchronise after a malformed record: report it and stop.
                yield _item(row, where, CheckedApplication(None, (Finding(BATCH, "not-csv", str(exc)),)))
                return
            if not any(c.strip() for c in cells):
                continue
            yield _item(row, where, _csv_row(columns, cells, source.parent, where, names, today))


def _header_problems(columns: list[str]) -> list[Finding]:
    problems: list[Finding] = []
    seen: set[str] = set()
    for i, name in enumerate(columns, start=1):
        if _has_surrogates(name):
            problems.append(Finding(BATCH, "not-utf8", f"column {i} of the header is not UTF-8"))
        elif not name:
            problems.append(Finding(BATCH, "empty-column-name", f"column {i} of the header has no name"))
        elif name in seen:
            problems.append(Finding(name, "duplicate-column", f"column {name!r} appears twice in the header"))
        seen.add(name)
    for name in seen:
        if any(other.startswith(name + ".") for other in seen):
            problems.append(Finding(name, "column-conflict", f"column {name!r} is also used as a group"))
    return problems


def _csv_row(
    columns: list[str],
    cells: list[str],
    base_dir: Path,
    where: str,
    names: NameOptions | None,
    today: dt.date | None,
) -> CheckedApplication:
    if len(cells) > len(columns):
        extra = len(cells) - len(columns)
        return CheckedApplication(
            None, (Finding(ROOT, "extra-cells", f"has {extra} more cell(s) than the header has columns"),)
        )
    data: dict[str, object] = {}
    undecodable: list[Finding] = []
    for name, cell in zip(columns, cells, strict=False):
        value = cell.strip()
        if not value:
            continue
        if _has_surrogates(value):
            undecodable.append(Finding(name, "not-utf8", "is not UTF-8"))
            continue
        parts = name.split(".")
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)  # the header check refused a column that is also a group
            node = child
        if name == "holder.other_names":
            node[parts[-1]] = [n.strip() for n in value.split(OTHER_NAMES_SEPARATOR) if n.strip()]
        else:
            node[parts[-1]] = value
    if undecodable:
        return CheckedApplication(None, tuple(undecodable))
    return check_application(data, base_dir, where, names=names, today=today)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)
