"""A click group that imports a command's module only when that command runs: `mrtd chip read` must
not pay for the records database, the page renderer and the seal codecs (importing every command took
about a second), and `--help` lists the commands from their one-line help kept here, importing none."""

from __future__ import annotations

import importlib
from typing import Any

import click

# A lazy command: "module:attribute", or ("module:attribute", "its one-line help for the group's --help").
LazyEntry = str | tuple[str, str]


class LazyGroup(click.Group):
    """`lazy`: command name -> LazyEntry."""

    def __init__(self, *args: Any, lazy: dict[str, LazyEntry] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = {name: (entry, None) if isinstance(entry, str) else entry for name, entry in (lazy or {}).items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            target = self.lazy[cmd_name][0]
            module, attr = target.split(":")
            command = getattr(importlib.import_module(module), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their one-line help; a lazy command with its help here is not imported."""
        rows = []
        for name in self.list_commands(ctx):
            short = self.lazy[name][1] if name in self.lazy else None
            if short is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                short = command.get_short_help_str(formatter.width - 6 - max(len(n) for n in self.list_commands(ctx)))
            rows.append((name, short))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
