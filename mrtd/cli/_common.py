"""What every command shares: `--site`, `--json`, printing results and findings, turning errors into exit
codes, and reading secrets (passphrases, PINs) from a file, the environment or a hidden prompt, never argv.

Conventions (every command follows them; `tests/cli/` walks the whole tree to check):
- a command that takes a site uses `site_option()` ($MRTD_SITE, else the current folder);
- `--json` output goes through `emit_json` (the one envelope, `mrtd.cli.output`);
- a mistake in how the command was called (a missing or contradictory option, a bad value) raises
  `click.UsageError` / `click.BadParameter`: exit 2. A domain failure raises an `MrtdError` inside
  `@guarded`: exit 1. Neither is ever a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mrtd.cli.output import emit_error
from mrtd.cli.output import emit_json as emit_json
from mrtd.errors import Finding, InputError, MrtdError

if TYPE_CHECKING:
    from mrtd.pki.site import PkiSite

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _site_option(exists: bool) -> Callable[[F], F]:
    return click.option(
        "--site", "site", type=click.Path(file_okay=False, exists=exists, path_type=Path), envvar="MRTD_SITE",
        default=".", show_default="$MRTD_SITE or the current folder", help="The site folder (holds mrtd.toml).",
    )  # fmt: skip


# `--site DIR` of every command that works on a site: $MRTD_SITE, else the current folder.
site_option = _site_option(exists=True)
# The same for a command that makes the site's folder (`mrtd pki init`).
new_site_option = _site_option(exists=False)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
secret_file_option = click.option(
    "--secret-file", "secret_files", multiple=True, metavar="ROLE=FILE",
    help="A file holding one key's own secret (ROLE: csca, ds, seal-signer, vdsnc-signer, masterlist-signer, "
         "deviationlist-signer, audit, cvca, dv); repeat for each key. Else $MRTD_<ROLE>_PASSPHRASE "
         "($MRTD_<ROLE>_PIN for a key in a token) or a prompt.",
)  # fmt: skip

at_option = click.option(
    "--at", "at", default=None,
    help="Check as of this date (YYYY-MM-DD, or an ISO date-time; default now): a document checked for the day it was made.",
)  # fmt: skip
require_crl_option = click.option(
    "--require-crl", is_flag=True,
    help="Fail when no current CRL of the issuing CSCA is at hand (default: pass with a warning).",
)  # fmt: skip


def utc_today() -> dt.date:
    """The day as the records, the service's intake and `chip build` count it: the UTC date, whatever the
    machine's time zone (a command that judged by the local date could pass what the office then refuses)."""
    return dt.datetime.now(dt.UTC).date()


def parse_at(value: str | None) -> dt.datetime:
    """`--at`: a date (noon UTC, so that a day-precision validity reads naturally) or an ISO date-time."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD or an ISO date-time", param_hint="--at") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# Encrypts the per-document chip keys (keys/chip-keys.json) that `chip build` writes and `chip write` reads.
KEYS_PASSPHRASE_ENV = "MRTD_CHIP_KEYS_PASSPHRASE"


def print_findings(findings: Sequence[Finding]) -> None:
    for f in findings:
        click.echo(f"  {f}", err=False)


def guarded(func: F) -> F:
    """Run a command; an `MrtdError` becomes a message on stderr (or the JSON envelope) and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MrtdError as exc:
            if kwargs.get("as_json"):
                emit_error(exc)
            else:
                click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FINDINGS)

    return wrapper  # type: ignore[return-value]


def prompt_secret(what: str) -> str:
    """Ask for a secret without echoing it; the prompt goes to stderr so that stdout stays clean for --json."""
    value: str = click.prompt(what, hide_input=True, err=True)
    return value


def secret_files(values: Sequence[str]) -> dict[str, Path]:
    """`--secret-file ROLE=FILE` pairs."""
    from mrtd.pki.keys import KEY_ROLES

    out: dict[str, Path] = {}
    for value in values:
        role, _, file = value.partition("=")
        if not role or not file:
            raise click.BadParameter(f"{value!r}: expected ROLE=FILE, e.g. ds=ds.pass", param_hint="--secret-file")
        if role not in KEY_ROLES:
            raise click.BadParameter(f"{role!r} is none of {', '.join(KEY_ROLES)}", param_hint="--secret-file")
        out[role] = Path(file)
    return out


def role_secret(role: str, token: bool, files: Sequence[str],
                prompt: Callable[[str], str] | None = prompt_secret) -> bytes:
    """The secret of `role`'s key alone: `--secret-file ROLE=FILE`, $MRTD_<ROLE>_PASSPHRASE (or _PIN for a key
    in a token), or a prompt (None: no prompt)."""
    from mrtd.pki.keys import role_secret_from

    return role_secret_from(os.environ, role, token, secret_files(files).get(role), prompt)


def site_secrets(site: PkiSite, roles: Sequence[str], files: Sequence[str],
                 prompt: Callable[[str], str] | None = prompt_secret) -> dict[str, bytes]:
    """Each role's own secret for the keys of a site (a PIN where the role's key is in a token)."""
    return {role: role_secret(role, site.key_in_token(role), files, prompt) for role in roles}


def chip_keys_passphrase(file: Path | None) -> bytes | None:
    """The passphrase of a document's chip keys: `--keys-passphrase-file`, else $MRTD_CHIP_KEYS_PASSPHRASE,
    else None (keys unencrypted)."""
    if file is not None:
        secret = file.read_bytes().rstrip(b"\r\n")
        if not secret:
            raise InputError(f"--keys-passphrase-file {file}: empty")
        return secret
    value = os.environ.get(KEYS_PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None
