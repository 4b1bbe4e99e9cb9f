"""What every command prints: the one JSON envelope of `--json` (and how an error becomes one), the tables
of list commands and the progress of long ones.

Every `--json` command prints exactly one object (`envelope.schema.json` beside this file):

    {"ok": true|false, "command": "seal verify", "result": ... | null,
     "errors": [{"rule", "field", "message", "clause"}], "warnings": [...same...]}

`result` is the command's own data (null when it failed before producing any); `errors` and `warnings`
are findings (`mrtd.errors.Finding`) or, for a failure, the error itself (`rule` is then the error's
kind: `usage`, `input`, `validation`, `state`, ...). Exit codes: 0 ok, 1 a domain failure (findings,
a failed verification, a refused operation), 2 a usage error (see `mrtd --help`).

Without --json, a list command prints `table(...)`: a table with a header (rich) on a terminal, else
tab-separated lines under a header line, for `cut -f` and `csv`; a long command reports with
`progress(...)`: a bar on a terminal, else one line per item on stderr (`[3/12] U10000003 issued`).
rich is imported only when a table or a bar is drawn (start-up time).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import click

from mrtd.errors import Finding, MrtdError, Severity, ValidationError

SCHEMA_PATH = Path(__file__).with_name("envelope.schema.json")

Item = Finding | Mapping[str, Any]


class Verdict(TypedDict):
    errors: list[Item]
    warnings: list[Item]


def command_name(ctx: click.Context | None = None) -> str:
    """The command as typed after `mrtd` ("pki masterlist build"), from the click context."""
    ctx = ctx or click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None:
        if ctx.parent is not None or not getattr(ctx.command, "is_root", False):
            names.append(ctx.info_name or ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(reversed([n for n in names if n]))


def item(value: Item) -> dict[str, str]:
    """One entry of `errors` or `warnings`."""
    data: Mapping[str, Any] = value.as_dict() if isinstance(value, Finding) else value
    return {"rule": str(data.get("rule") or data.get("code") or "error"), "field": str(data.get("field") or ""),
            "message": str(data.get("message") or data.get("rule") or "error"), "clause": str(data.get("clause") or "")}


def split_findings(findings: Iterable[Item]) -> tuple[list[Item], list[Item]]:
    """Findings as (errors, warnings): anything not an error (warnings, notes) is a warning."""
    errors: list[Item] = []
    warnings: list[Item] = []
    for f in findings:
        severity = f.severity.value if isinstance(f, Finding) else str(f.get("severity", Severity.ERROR.value))
        (errors if severity == Severity.ERROR.value else warnings).append(f)
    return errors, warnings


def verdict(ok: bool, findings: Iterable[Item] = (), failed: Iterable[Item] = ()) -> Verdict:
    """`errors` and `warnings` of a check's verdict: when it passed, every finding is a warning (tolerated);
    when it failed, its error findings and its failed checks are the errors."""
    errors, warnings = split_findings(findings)
    if ok:
        return {"errors": [], "warnings": [*errors, *warnings]}
    return {"errors": [*errors, *failed], "warnings": warnings}


def envelope(command: str, result: Any, *, ok: bool | None = None, errors: Iterable[Item] = (),
             warnings: Iterable[Item] = ()) -> dict[str, Any]:
    """The envelope. `ok` defaults to the result's own "ok" when it has one, else to "no errors"."""
    error_items = [item(e) for e in errors]
    if ok is None:
        ok = bool(result["ok"]) if isinstance(result, Mapping) and "ok" in result else not error_items
    return {"ok": ok, "command": command, "result": result, "errors": error_items,
            "warnings": [item(w) for w in warnings]}


def emit_json(result: Any, *, ok: bool | None = None, errors: Iterable[Item] = (),
              warnings: Iterable[Item] = ()) -> None:
    """Print a command's result as the envelope (the one way a command writes --json output)."""
    click.echo(json.dumps(envelope(command_name(), result, ok=ok, errors=errors, warnings=warnings),
                          ensure_ascii=False, indent=2, default=str))


def _kind(exc: BaseException) -> str:
    """`InputError` -> "input", `ValidationError` -> "validation": the error's kind as a rule."""
    name = type(exc).__name__.removesuffix("Error") or type(exc).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def error_items(exc: BaseException) -> list[dict[str, str]]:
    """An error as envelope entries: the error itself then its findings (a validation error: its findings)."""
    if isinstance(exc, click.ClickException):
        field = ""
        if isinstance(exc, click.BadParameter):
            field = exc.param_hint if isinstance(exc.param_hint, str) else (
                exc.param.opts[0] if exc.param is not None and exc.param.opts else "")
        return [item({"rule": "usage", "field": field, "message": exc.format_message()})]
    findings = [item(f) for f in getattr(exc, "findings", ())] if isinstance(exc, MrtdError) else []
    if isinstance(exc, ValidationError) and findings:
        return findings  # its message is only its findings joined
    field = getattr(exc, "step", "") or ""
    return [item({"rule": _kind(exc), "field": field, "message": str(exc)}), *findings]


def emit_error(exc: BaseException, ctx: click.Context | None = None) -> None:
    """Print an error as the envelope (ok false, no result)."""
    click.echo(json.dumps(envelope(command_name(ctx), None, ok=False, errors=error_items(exc)),
                          ensure_ascii=False, indent=2))


def on_terminal(err: bool = False) -> bool:
    """Whether stdout (or stderr) is a terminal a person reads."""
    return (sys.stderr if err else sys.stdout).isatty()


def _cell(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())  # one line, no tabs


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], summary: str = "") -> None:
    """A list command's output: the rows under their header (`columns`), then `summary` ("3 documents").
    On a terminal a rich table; else tab-separated lines (the summary on stderr, so stdout is the table)."""
    rows = [[_cell(v) for v in row] for row in rows]
    if on_terminal():
        from rich.console import Console
        from rich.table import Table

        shown = Table(header_style="bold", box=None, pad_edge=False)
        for column in columns:
            shown.add_column(column, overflow="fold")  # serials and numbers whole, never cut with an ellipsis
        for row in rows:
            shown.add_row(*row)
        console = Console(highlight=False)
        console.print(shown)
        if summary:
            console.print(summary)
        return
    for row in [list(columns), *rows]:
        click.echo("\t".join(row))
    if summary:
        click.echo(summary, err=True)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[str], None]]:
    """Report each item of a long command as it is done: `step("U10000003 issued")`. A rich bar on a
    terminal, else one line per item on stderr: `[3/12] U10000003 issued`."""
    if on_terminal(err=True):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task(label, total=total, last="")
            yield lambda text: bar.update(task, advance=1, last=text)
        return
    done = 0

    def line(text: str) -> None:
        nonlocal done
        done += 1
        click.echo(f"[{done}/{total}] {text}", err=True)

    yield line
