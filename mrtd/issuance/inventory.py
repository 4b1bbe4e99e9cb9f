"""Blank stock: pre-numbered passport booklets and card bodies, and how a document gets its number.

Booklets and card bodies arrive from the printer with their number already printed (and perforated);
the office must issue the number on the blank in front of it. A site chooses (`[numbering] source`):
- `sequence` (the default): mrtd draws the next number of the site's policy. An application that names
  its own number (the blank's) is honoured after a check: the number is well formed, no document ever
  had it, and it is not one the site's own sequence will hand out later. Otherwise it is refused.
- `inventory`: every number is a blank's. Blanks are received into stock (`mrtd inventory receive`);
  the operator (or a station) gives the blank's number, which must be in stock and unused, and it is
  marked used in the same transaction that creates the document. A damaged blank is spoiled
  (`mrtd inventory spoil`), with the reason, and can never be issued.

Every change writes its audit entry in the same transaction. The table (`blanks`) lives here, beside the
records' own; the records create it with theirs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from mrtd.errors import ConfigurationError, InputError, StateError
from mrtd.issuance.numbering import NumberPolicy, check_number
from mrtd.issuance.records import Base, DocumentRow, RecordStore, UnknownRecord, UTCDateTime, Writer

SOURCES = ("sequence", "inventory")
MAX_RECEIPT = 100_000  # blanks in one delivery: a printer's pallet is a few thousand
_TAIL = re.compile(r"^(.*?)(\d+)$")


class BlankState(StrEnum):
    IN_STOCK = "in-stock"
    USED = "used"
    SPOILED = "spoiled"


class BlankKind(StrEnum):
    BOOKLET = "booklet"  # TD3 passport booklets
    CARD = "card"  # TD1 / TD2 card bodies


class BlankRow(Base):
    __tablename__ = "blanks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(9), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    delivery: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")  # why it was spoiled, or the application it was used for


@dataclass(frozen=True, slots=True)
class Blank:
    number: str
    kind: BlankKind
    state: BlankState
    delivery: str
    received_at: dt.datetime
    state_changed_at: dt.datetime
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind.value, "state": self.state.value, "delivery": self.delivery,
                "received_at": self.received_at.isoformat(), "state_changed_at": self.state_changed_at.isoformat(),
                "note": self.note}


def _blank(row: BlankRow) -> Blank:
    return Blank(row.number, BlankKind(row.kind), BlankState(row.state), row.delivery, row.received_at,
                 row.state_changed_at, row.note)


def number_range(first: str, last: str) -> list[str]:
    """Every number from `first` to `last`: the same prefix, then a counter of the same width
    (P0000101 .. P0000200)."""
    a, b = _TAIL.match(check_number(first)), _TAIL.match(check_number(last))
    if a is None or b is None or a.group(1) != b.group(1) or len(a.group(2)) != len(b.group(2)):
        raise InputError(f"range: {first} and {last} are not one prefix followed by a counter of the same width")
    start, end, width = int(a.group(2)), int(b.group(2)), len(a.group(2))
    if end < start:
        raise InputError(f"range: {last} comes before {first}")
    if end - start + 1 > MAX_RECEIPT:
        raise InputError(f"range: {end - start + 1} blanks in one delivery is more than {MAX_RECEIPT}")
    return [f"{a.group(1)}{n:0{width}d}" for n in range(start, end + 1)]


class Inventory:
    """The blanks of one site's records."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def receive(self, numbers: Iterable[str], kind: BlankKind | str, *, delivery: str, actor: str) -> list[Blank]:
        """Take a delivery of blanks into stock: all of them, or none (a number already known as a blank or
        already used by a document refuses the whole delivery, naming the numbers)."""
        wanted = sorted(check_number(n) for n in numbers)
        if not wanted:
            raise InputError("numbers: a delivery holds at least one blank")
        if len(wanted) > MAX_RECEIPT:
            raise InputError(f"numbers: {len(wanted)} blanks in one delivery is more than {MAX_RECEIPT}")
        twice = sorted({n for n in wanted if wanted.count(n) > 1}) if len(set(wanted)) != len(wanted) else []
        if twice:
            raise InputError(f"numbers: {', '.join(twice[:5])} given twice")
        kind = BlankKind(kind)
        delivery = _text(delivery, "delivery", 64)
        with self.store.writing() as w:
            s = w.session
            known = set(s.execute(select(BlankRow.number).where(BlankRow.number.in_(wanted))).scalars())
            used = set(s.execute(select(DocumentRow.number).where(DocumentRow.number.in_(wanted))).scalars())
            if known or used:
                clash = sorted(known | used)
                raise StateError(f"numbers: {', '.join(clash[:5])}{' ...' if len(clash) > 5 else ''} "
                                 f"{'is' if len(clash) == 1 else 'are'} already known (in stock, used or spoiled); "
                                 "nothing was received")
            rows = [BlankRow(number=n, kind=kind.value, state=BlankState.IN_STOCK.value, delivery=delivery,
                             received_at=w.now, state_changed_at=w.now, note="") for n in wanted]
            s.add_all(rows)
            w.audit(actor=actor, action="inventory.received", subject=delivery,
                    detail={"kind": kind.value, "count": len(rows), "first": wanted[0], "last": wanted[-1]})
            return [_blank(r) for r in rows]

    def spoil(self, number: str, *, reason: str, actor: str) -> Blank:
        """Record a blank as spoiled (damaged, misprinted, lost): it can never be issued."""
        reason = _text(reason, "reason", 500)
        with self.store.writing() as w:
            row = _row(w, number)
            if row.state != BlankState.IN_STOCK.value:
                raise StateError(f"blank {row.number}: is {row.state}, not in stock; only a blank in stock is spoiled "
                                 "here (a used blank's document is spoiled with `mrtd document`)")
            row.state, row.state_changed_at, row.note = BlankState.SPOILED.value, w.now, reason
            w.audit(actor=actor, action="inventory.spoiled", subject=row.number, detail={"reason": reason})
            return _blank(row)

    def claim(self, w: Writer, number: str, application_key: str) -> None:
        """Mark the blank used, inside the transaction that creates its document; refuse one that is not in
        stock (unknown, used or spoiled)."""
        row = w.session.execute(select(BlankRow).where(BlankRow.number == number).with_for_update()).scalar_one_or_none()
        if row is None:
            raise InputError(f"document.number: {number} is not a blank in this site's stock (receive it with "
                             "`mrtd inventory receive`)")
        if row.state != BlankState.IN_STOCK.value:
            raise StateError(f"document.number: blank {number} is {row.state}" +
                             (f" ({row.note})" if row.note else "") + "; give the number of a blank in stock")
        row.state, row.state_changed_at, row.note = BlankState.USED.value, w.now, f"application {application_key}"
        w.audit(actor="inventory", action="inventory.used", subject=number, detail={"application": application_key})

    def blanks(self, *, state: BlankState | str | None = None, kind: BlankKind | str | None = None) -> list[Blank]:
        query = select(BlankRow).order_by(BlankRow.number)
        if state is not None:
            query = query.where(BlankRow.state == BlankState(state).value)
        if kind is not None:
            query = query.where(BlankRow.kind == BlankKind(kind).value)
        with self.store.reading() as s:
            return [_blank(r) for r in s.execute(query).scalars()]

    def blank(self, number: str) -> Blank:
        with self.store.reading() as s:
            row = s.execute(select(BlankRow).where(BlankRow.number == check_number(number))).scalar_one_or_none()
            if row is None:
                raise UnknownRecord(f"blank {number}: not in this site's inventory")
            return _blank(row)


def _row(w: Writer, number: str) -> BlankRow:
    row = w.session.execute(select(BlankRow).where(BlankRow.number == check_number(number)).with_for_update()
                            ).scalar_one_or_none()
    if row is None:
        raise UnknownRecord(f"blank {number}: not in this site's inventory")
    return row


def _text(value: str, name: str, limit: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise InputError(f"{name}: must not be empty")
    if len(value) > limit:
        raise InputError(f"{name}: longer than {limit} characters")
    return value


def draw_number(store: RecordStore, *, source: str, policy: NumberPolicy, application_id: int, application_key: str,
                requested: str | None, actor: str) -> str:
    """The number of the application's document, its document created in the same transaction.

    `requested` is the blank's number (given by the operator, or the application's own). With the
    `inventory` source it must be a blank in stock; with `sequence` it is honoured when no document had
    it and the site's sequence will not reach it, else refused; without one the sequence draws."""
    if source not in SOURCES:
        raise ConfigurationError(f"numbering.source: {source!r} is not one of {', '.join(SOURCES)}")
    if source == "inventory":
        if not requested:
            raise InputError("document.number: this site issues the numbers printed on its blanks "
                             "(numbering.source = inventory): give the number of the blank being personalised")
        inventory = Inventory(store)
        return store.assign_number(requested, application_id, source="inventory", actor=actor,
                                   claim=lambda w, number: inventory.claim(w, number, application_key))
    if requested is None:
        return store.allocate_number(policy, application_id, actor=actor)
    number = check_number(requested)
    try:
        policy.parse(number)
    except InputError:
        return store.assign_number(number, application_id, source="requested", actor=actor)
    raise InputError(f"document.number: {number} is a number of this site's own sequence ({policy.prefix!r} and "
                     f"{policy.digits} digits), which mrtd draws itself; leave document.number out")


def requested_numbers(items: Sequence[str | None]) -> str | None:
    """The one number asked for by the operator and the application together; InputError when they differ."""
    given = {n for n in items if n}
    if len(given) > 1:
        raise InputError(f"document.number: {' and '.join(sorted(given))} are both asked for; give one blank")
    return next(iter(given), None)
