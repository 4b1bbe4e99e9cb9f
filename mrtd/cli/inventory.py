"""`mrtd inventory receive|list|spoil`: the site's pre-numbered blanks (passport booklets, card bodies).

A site issues the numbers of its blanks when its `mrtd.toml` says `[numbering] source = "inventory"`;
then `mrtd issue --blank NUMBER` names the blank being personalised (see `mrtd.issuance.inventory`).
"""

from __future__ import annotations

from pathlib import Path

import click

from mrtd.cli._common import emit_json, guarded, json_option, site_option
from mrtd.cli.output import table
from mrtd.cli.people import principal, user_option
from mrtd.cli.records import open_site_store
from mrtd.issuance.inventory import BlankKind, BlankState, Inventory, number_range

_kinds = click.Choice([k.value for k in BlankKind])


@click.group()
def inventory() -> None:
    """Pre-numbered blanks: receive a delivery, list the stock, record a spoiled blank."""


@inventory.command("receive")
@click.argument("numbers", nargs=-1, metavar="[NUMBER...]")
@click.option("--from", "first", default=None, help="First number of a run of blanks (P0000101).")
@click.option("--to", "last", default=None, help="Last number of the run (P0000200).")
@click.option("--kind", type=_kinds, required=True, help="Passport booklets or card bodies.")
@click.option("--delivery", required=True, help="The delivery's reference (the printer's delivery note).")
@site_option
@user_option
@json_option
@guarded
def receive(numbers: tuple[str, ...], first: str | None, last: str | None, kind: str, delivery: str,
            site: Path, user: str | None, as_json: bool) -> None:
    """Take a delivery of blanks into stock: NUMBERs, or a run --from/--to. All or nothing."""
    wanted = list(numbers)
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to: give both, for a run of numbers")
    if first is not None and last is not None:
        wanted += number_range(first, last)
    with open_site_store(site) as store:
        received = Inventory(store).receive(wanted, kind, delivery=delivery, actor=principal(store, user).name)
    if as_json:
        emit_json({"received": len(received), "first": received[0].number, "last": received[-1].number})
    else:
        click.echo(f"received {len(received)} {kind} blank{'s' if len(received) != 1 else ''} "
                   f"({received[0].number} .. {received[-1].number}), delivery {delivery}")


@inventory.command("list")
@click.option("--state", type=click.Choice([s.value for s in BlankState]), default=None)
@click.option("--kind", type=_kinds, default=None)
@site_option
@json_option
@guarded
def list_(state: str | None, kind: str | None, site: Path, as_json: bool) -> None:
    """The blanks, by number, with their state (in-stock, used, spoiled)."""
    with open_site_store(site) as store:
        blanks = Inventory(store).blanks(state=state, kind=kind)
    if as_json:
        emit_json({"blanks": [b.as_dict() for b in blanks]})
        return
    counts = {s: sum(1 for b in blanks if b.state is s) for s in BlankState}
    table(("number", "kind", "state", "delivery", "note"),
          [(b.number, b.kind.value, b.state.value, b.delivery, b.note) for b in blanks],
          ", ".join(f"{n} {s.value}" for s, n in counts.items()))


@inventory.command("spoil")
@click.argument("number")
@click.option("--reason", required=True, help="Why: damaged, misprinted, lost, ...")
@site_option
@user_option
@json_option
@guarded
def spoil(number: str, reason: str, site: Path, user: str | None, as_json: bool) -> None:
    """Record the blank NUMBER as spoiled: it is never issued."""
    with open_site_store(site) as store:
        blank = Inventory(store).spoil(number, reason=reason, actor=principal(store, user).name)
    if as_json:
        emit_json({**blank.as_dict()})
    else:
        click.echo(f"{blank.number}: spoiled ({blank.note})")
