"""What every command shares: `--json`, printing results and findings, and turning errors into exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from mrtd.errors import Finding, MrtdError, ValidationError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def print_findings(findings: Sequence[Finding]) -> None:
    for f in findings:
        click.echo(f"  {f}", err=False)


def guarded(func: F) -> F:
    """Run a command; an `MrtdError` becomes a message on stderr (or JSON) and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MrtdError as exc:
            as_json = bool(kwargs.get("as_json"))
            if as_json:
                payload: dict[str, Any] = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
                if isinstance(exc, ValidationError):
                    payload["findings"] = [f.as_dict() for f in exc.findings]
                emit_json(payload)
            else:
                click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FINDINGS)

    return wrapper  # type: ignore[return-value]
