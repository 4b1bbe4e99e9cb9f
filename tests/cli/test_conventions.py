"""The conventions every `mrtd` command follows, checked by walking the whole command tree: a usage error exits
2 (and under --json prints the envelope), `--site` defaults to $MRTD_SITE or the current folder, and the
root's --help lists each command with its own one-line help without importing it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from clikit import envelope

from mrtd.cli import COMMANDS, main
from mrtd.cli.lazy import LazyGroup


def _commands() -> Iterator[tuple[list[str], click.Command]]:
    ctx = click.Context(main)

    def walk(cmd: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, name
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    yield from walk(main, [])


COMMAND_LIST = list(_commands())
IDS = [" ".join(path) for path, _ in COMMAND_LIST]


def _has_json(cmd: click.Command) -> bool:
    return any(p.name == "as_json" for p in cmd.params)


def _invoke(args: list[str], cwd: Path) -> tuple[int, str, str]:
    with contextlib.chdir(cwd):  # the current folder: an empty one
        r = CliRunner().invoke(main, args, env={"MRTD_SITE": None})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def _assert_usage(args: list[str], cmd: click.Command, tmp_path: Path, why: str) -> None:
    code, out, err = _invoke(args, tmp_path)
    assert code == 2, f"{' '.join(args)} ({why}): exit {code}\n{out}{err}"
    if _has_json(cmd):
        code, out, err = _invoke([*args, "--json"], tmp_path)
        assert code == 2, f"{' '.join(args)} --json ({why}): exit {code}\n{out}{err}"
        env = envelope(out)
        assert env["ok"] is False and env["result"] is None and env["errors"][0]["rule"] == "usage", out
        assert env["command"] == " ".join(args[: len(env["command"].split())]), env["command"]


def _bad_value(param: click.Parameter) -> str | None:
    """A value the parameter's type refuses while parsing, if it has one."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return "not-one-of-the-choices"
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        if kind.min is not None:
            return str(kind.min - 1)
        if kind.max is not None:
            return str(kind.max + 1)
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "many"
    if isinstance(kind, click.DateTime):
        return "not-a-date"
    if isinstance(kind, click.Path) and kind.exists:
        return "/no/such/path/anywhere"
    return None


@pytest.mark.parametrize(("path", "cmd"), COMMAND_LIST, ids=IDS)
def test_every_usage_error_exits_2(path: list[str], cmd: click.Command, tmp_path: Path) -> None:
    _assert_usage([*path, "--no-such-option"], cmd, tmp_path, "an unknown option")
    required = [p for p in cmd.params if p.required]
    if required:
        _assert_usage(path, cmd, tmp_path, f"missing {required[0].name}")
    for param in cmd.params:
        bad = _bad_value(param)
        if bad is None or not isinstance(param, click.Option) or param.is_flag:
            continue
        _assert_usage([*path, param.opts[0], bad], cmd, tmp_path, f"{param.opts[0]} {bad}")


# Contradictory or incomplete options: each refused before anything is done.
CONFLICTS = [
    (["site", "init", "new-site", "--country", "UTO", "--csca", "external"], "--csca external without --csca-cert"),
    (["site", "init", "new-site", "--country", "UTO", "--token", "T"], "--token without --pkcs11-module"),
    (["pki", "init", "--country", "UTO", "--token", "T"], "--token without --pkcs11-module"),
    (["inventory", "receive", "--from", "P0000101", "--kind", "booklet", "--delivery", "D1"], "--from without --to"),
    (["chip", "read", "--reader", "R", "--out", "o", "--mrz-info", "X,700101,300101", "--can", "123456"],
     "--mrz-info and --can"),
    (["chip", "read", "--reader", "R", "--out", "o"], "neither --mrz-info nor --can"),
    (["serve", "--tls-cert", "__file__"], "--tls-cert without --tls-key"),
    (["records", "list", "--since", "yesterday"], "a date that is not one"),
]


@pytest.mark.parametrize(("args", "why"), CONFLICTS, ids=[w for _, w in CONFLICTS])
def test_contradictory_options_exit_2(args: list[str], why: str, tmp_path: Path) -> None:
    args = [str(Path(__file__)) if a == "__file__" else a for a in args]
    ctx = click.Context(main)
    cmd: click.Command | None = main
    for name in args:
        if not isinstance(cmd, click.Group):
            break
        cmd = cmd.get_command(ctx, name)
    assert cmd is not None
    _assert_usage(args, cmd, tmp_path, why)


@pytest.mark.parametrize(("path", "cmd"), [(p, c) for p, c in COMMAND_LIST if any(x.name == "site" for x in c.params)],
                         ids=[i for i, (_, c) in zip(IDS, COMMAND_LIST, strict=True)
                              if any(x.name == "site" for x in c.params)])
def test_site_defaults_to_mrtd_site_then_the_current_folder(path: list[str], cmd: click.Command) -> None:
    (site,) = [p for p in cmd.params if p.name == "site"]
    assert isinstance(site, click.Option) and site.envvar == "MRTD_SITE", " ".join(path)
    if path[-1] == "validate":  # names only: the current folder only when it is a site (tested with the command)
        return
    assert site.default == "." and not site.required, " ".join(path)


def test_root_help_imports_no_command_and_shows_each_ones_help() -> None:
    ctx = click.Context(main)
    help_text = CliRunner().invoke(main, ["--help"], terminal_width=200).stdout
    assert "Exit status: 0 success; 1 a domain failure" in help_text and "2 a usage" in help_text
    for name, entry in COMMANDS.items():
        assert isinstance(entry, tuple), f"{name}: give its one-line help in COMMANDS"
        command = main.get_command(ctx, name)
        assert command is not None and entry[1] == command.get_short_help_str(1000), name
    for group in (main.get_command(ctx, name) for name in COMMANDS):
        if isinstance(group, LazyGroup):
            for name, (_, short) in group.lazy.items():
                sub = group.get_command(ctx, name)
                assert sub is not None and short in (None, sub.get_short_help_str(1000)), name
