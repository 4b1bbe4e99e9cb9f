"""`mrtd users add|token|password|totp|revoke|list|reset-key`, and who acts on the command line.

The command line acts as the local OS user (who holds the site folder and so every right of the site),
unless `--user NAME` (or $MRTD_USER) names a registered user: then it acts as that user, in that user's
role, and four eyes applies to it as to the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from mrtd.cli._common import emit_json, guarded, json_option, prompt_secret, site_option
from mrtd.cli.output import table
from mrtd.issuance.records import RecordStore
from mrtd.issuance.roles import Action, Principal, Role, require
from mrtd.issuance.users import add_user, cli_principal, issue_token, reset_station_key, revoke, users

user_option = click.option(
    "--user", "user", envvar="MRTD_USER", default=None,
    help="Act as this registered user, in its role (default: $MRTD_USER, else the local OS user).",
)  # fmt: skip


def os_user() -> str:
    from mrtd.issuance.office import os_user as name

    return name()


def principal(store: RecordStore, user: str | None) -> Principal:
    return cli_principal(store, os_user(), user)


@contextmanager
def _as_admin(site: Path, user: str | None) -> Iterator[tuple[RecordStore, Principal]]:
    """The site's records and the principal, who must be allowed to manage users."""
    from mrtd.cli.records import open_site_store

    with open_site_store(site) as store:
        who = principal(store, user)
        require(who, Action.MANAGE_USERS)
        yield store, who




@click.group("users")
def users_group() -> None:
    """People who use the service, their roles and their tokens."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The user's role.")
@site_option
@user_option
@json_option
@guarded
def users_add(name: str, role: str, site: Path, user: str | None, as_json: bool) -> None:
    """Register NAME in a role."""
    with _as_admin(site, user) as (store, who):
        made = add_user(store, name, Role(role), actor=who.name)
    if as_json:
        emit_json({**made.as_dict()})
    else:
        click.echo(f"user {made.name} added as {made.role.value}; make a token with `mrtd users token {made.name}`")


@users_group.command("token")
@click.argument("name")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the token into this new file (mode 0600) instead of showing it.")
@site_option
@user_option
@json_option
@guarded
def users_token(name: str, out: Path | None, site: Path, user: str | None, as_json: bool) -> None:
    """Make a bearer token for NAME. It is shown once (or written to --out); the site keeps only its hash."""
    import os

    with _as_admin(site, user) as (store, who):
        token = issue_token(store, name, actor=who.name)
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(token + "\n")
    if as_json:
        emit_json({"user": name, **({"file": str(out)} if out else {"token": token})})
    elif out is not None:
        click.echo(f"token for {name} written to {out}")
    else:
        click.echo(token)
        click.echo(f"(the token for {name}; shown once, keep it secret)", err=True)


@users_group.command("revoke")
@click.argument("name")
@site_option
@user_option
@json_option
@guarded
def users_revoke(name: str, site: Path, user: str | None, as_json: bool) -> None:
    """Revoke every token of NAME and end its web sessions, at once on every API node."""
    from mrtd.issuance.signin import end_sessions

    with _as_admin(site, user) as (store, who):
        count = revoke(store, name, actor=who.name)
        sessions = end_sessions(store, name, actor=who.name)
    if as_json:
        emit_json({"user": name, "revoked": count, "sessions_ended": sessions})
    else:
        click.echo(f"{count} token{'s' if count != 1 else ''} of {name} revoked, "
                   f"{sessions} web session{'s' if sessions != 1 else ''} ended")


@users_group.command("password")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the new password from this file (else $MRTD_USER_PASSWORD, else a prompt).")
@site_option
@user_option
@json_option
@guarded
def users_password(name: str, password_file: Path | None, site: Path, user: str | None, as_json: bool) -> None:
    """Set NAME's password for the web pages (at least 12 characters; stored as argon2id). Also unlocks."""
    import os

    from mrtd.issuance.signin import set_password

    if password_file is not None:
        secret = password_file.read_text("utf-8").rstrip("\r\n")
    else:
        secret = os.environ.get("MRTD_USER_PASSWORD") or prompt_secret(f"new password for {name}")
    with _as_admin(site, user) as (store, who):
        set_password(store, name, secret, actor=who.name)
    if as_json:
        emit_json({"user": name})
    else:
        click.echo(f"password of {name} set")


@users_group.command("totp")
@click.argument("name")
@site_option
@user_option
@json_option
@guarded
def users_totp(name: str, site: Path, user: str | None, as_json: bool) -> None:
    """Give NAME a TOTP second factor; prints the otpauth:// URI once (for the user's authenticator)."""
    from mrtd.issuance.signin import enrol_totp

    with _as_admin(site, user) as (store, who):
        uri = enrol_totp(store, name, actor=who.name)
    if as_json:
        emit_json({"user": name, "otpauth_uri": uri})
    else:
        click.echo(uri)
        click.echo(f"(the second factor of {name}; shown once, give it to the user only)", err=True)


@users_group.command("reset-key")
@click.argument("name")
@site_option
@user_option
@json_option
@guarded
def users_reset_key(name: str, site: Path, user: str | None, as_json: bool) -> None:
    """Forget station NAME's registered key (its next claim registers a new one)."""
    with _as_admin(site, user) as (store, who):
        reset_station_key(store, name, actor=who.name)
    if as_json:
        emit_json({"user": name})
    else:
        click.echo(f"station key of {name} cleared")


@users_group.command("list")
@site_option
@user_option
@json_option
@guarded
def users_list(site: Path, user: str | None, as_json: bool) -> None:
    """Every user, its role and how many live tokens it has."""
    with _as_admin(site, user) as (store, _who):
        found = users(store)
    if as_json:
        emit_json([u.as_dict() for u in found])
        return
    table(("name", "role", "live tokens"), [(u.name, u.role.value, u.tokens) for u in found],
          f"{len(found)} user{'s' if len(found) != 1 else ''}")
