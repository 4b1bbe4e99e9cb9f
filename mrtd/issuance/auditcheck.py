"""`mrtd audit verify`: the audit log checked against itself, its signed checkpoints, the exports made of
it, and the records it is the history of. One streaming walk (`audit.verify_entries`), the first failure
named by entry (or document) and rule:

  missing, order, malformed, previous-hash, hash, head   the hash chain and its head (mrtd.issuance.audit)
  empty-log            documents or applications exist but the log is empty
  checkpoint-signature a checkpoint's signature does not verify under the site's (or the exports') audit keys
  checkpoint-hash      the chain's hash at a checkpoint is not the signed one (history rewritten)
  truncated            a checkpoint or an export names an entry past the end of the log
  export-hash          an exported checkpoint or entry hash differs from the log's
  replay               the log's own history of a document is impossible (a number allocated twice, a move
                       from a state the document was not in, a transition the state machine forbids)
  events               the records' events are not the log's state changes (entry, document, from, to)
  documents            a document's number or state in the records is not what the log replays to

A document's history in the log is its `document.allocated` entry (state received) and each
`document.transition` entry (detail `from`, `to`); `RecordStore` writes each with the event in one
transaction, so the two must agree exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from mrtd.issuance.audit import AuditReport, Problem, StoredEntry, verify_entries
from mrtd.issuance.checkpoints import AuditKey, Checkpoint, Exports, signature_problem
from mrtd.issuance.states import DocumentState, is_legal

ALLOCATED = "document.allocated"
TRANSITION = "document.transition"
_STATES = frozenset(s.value for s in DocumentState)


class Snapshot(Protocol):
    """One consistent read of the log and the records (`RecordStore.audit_snapshot()`)."""

    def head(self) -> tuple[int, str]: ...

    def entries(self) -> Iterator[StoredEntry]: ...

    def checkpoints(self) -> list[Checkpoint]: ...

    def events(self) -> Iterator[tuple[int, str, str | None, str]]: ...

    def documents(self) -> Iterator[tuple[str, str, str]]: ...

    def applications(self) -> int: ...


class SnapshotSource(Protocol):
    def audit_snapshot(self) -> AbstractContextManager[Snapshot]: ...


class EmptyLog:
    """A log is never empty while the records hold anything."""

    def __init__(self, applications: int) -> None:
        self.applications = applications

    def entry(self, row: StoredEntry) -> Problem | None:
        return None

    def end(self, last: int) -> Problem | None:
        if last == 0 and self.applications:
            return Problem(1, "empty-log", f"the log is empty but the records hold {self.applications} applications "
                                           "(its entries were deleted)")
        return None


class Checkpoints:
    """Each checkpoint's signature, and the chain's hash at each checkpoint (and each exported hash)."""

    def __init__(self, stored: list[Checkpoint], keys: Mapping[str, AuditKey], exports: Exports | None) -> None:
        self.count = 0
        self.last = max((c.seq for c in stored), default=0)
        self._bad: dict[int, Problem] = {}
        self._want: dict[int, list[tuple[str, str, str]]] = {}  # seq -> (hash, rule, what says so)
        trusted = exports.keys if exports is not None else keys
        whose = "the exports'" if exports is not None else "the site's"
        for c in stored:
            why = signature_problem(c, trusted)
            if why is not None:
                self._bad.setdefault(c.seq, Problem(c.seq, "checkpoint-signature",
                                                    f"the checkpoint at entry {c.seq}: {why} ({whose} audit keys)"))
            self._want.setdefault(c.seq, []).append((c.hash, "checkpoint-hash", "its signed checkpoint"))
        if exports is not None:
            for c in exports.checkpoints.values():
                why = signature_problem(c, exports.keys)
                if why is not None:
                    self._bad.setdefault(c.seq, Problem(c.seq, "export-hash", f"the exported checkpoint at entry "
                                                                              f"{c.seq}: {why}"))
                self._want.setdefault(c.seq, []).append((c.hash, "export-hash", "the exported checkpoint"))
            for seq, digest in exports.entries.items():
                self._want.setdefault(seq, []).append((digest, "export-hash", "the exported entry hash"))
        self._furthest = max([0, *self._want])

    def entry(self, row: StoredEntry) -> Problem | None:
        bad = self._bad.get(row.seq)
        if bad is not None:
            return bad
        for digest, rule, what in self._want.get(row.seq, ()):
            if digest != row.hash:
                return Problem(row.seq, rule, f"entry {row.seq} does not have the hash {what} records: the log was "
                                              "rewritten at or before this entry")
            if rule == "checkpoint-hash":
                self.count += 1
        return None

    def end(self, last: int) -> Problem | None:
        if self._furthest > last:
            return Problem(last + 1, "truncated", f"a checkpoint or export covers entry {self._furthest} but the log "
                                                  f"ends at entry {last}: entries were cut off its end")
        return None


@dataclass(slots=True)
class _Doc:
    state: str
    last: int  # the last entry about it
    application: str


class Replay:
    """Replays every document's history from the log and holds the records against it, as the walk goes:
    the events in audit order side by side with the entries, the documents at the end."""

    def __init__(self, events: Iterator[tuple[int, str, str | None, str]],
                 documents: Iterator[tuple[str, str, str]]) -> None:
        self._events = events
        self._event = next(events, None)
        self._documents = documents
        self.docs: dict[str, _Doc] = {}
        self.seen = 0  # documents of the records found as the log has them

    def entry(self, row: StoredEntry) -> Problem | None:
        ev = self._event
        if ev is not None and ev[0] < row.seq:
            return self._stray(ev)
        if row.action != ALLOCATED and row.action != TRANSITION:
            return self._stray(ev) if ev is not None and ev[0] == row.seq else None
        seq, number = row.seq, row.subject
        try:
            detail = json.loads(row.detail_json)
            was, to, why = detail["from"], detail["to"], detail["detail"]
        except (ValueError, KeyError, TypeError):
            return Problem(seq, "replay", f"entry {seq}: a {row.action} entry without from, to and detail")
        if to not in _STATES or (was is not None and was not in _STATES):
            return Problem(seq, "replay", f"entry {seq}: document {number} moves to unknown state {to!r}")
        doc = self.docs.get(number)
        if row.action == ALLOCATED:
            if doc is not None:
                return Problem(seq, "replay", f"entry {seq}: number {number} is allocated a second time (it was "
                                              f"already used, last at entry {doc.last})", number)
            if was is not None or to != DocumentState.RECEIVED.value:
                return Problem(seq, "replay", f"entry {seq}: document {number} is allocated into {to}, not received")
            app = why.get("application", "") if isinstance(why, dict) else ""
            self.docs[number] = _Doc(to, seq, str(app))
        else:
            if doc is None:
                return Problem(seq, "replay", f"entry {seq}: document {number} changes state but the log never "
                                              "allocated it", number)
            if was != doc.state:
                return Problem(seq, "replay", f"entry {seq}: document {number} moves from {was} but the log had it "
                                              f"{doc.state} (entry {doc.last})", number)
            if not is_legal(DocumentState(was), DocumentState(to)):
                return Problem(seq, "replay", f"entry {seq}: document {number} moves {was} -> {to}, which the state "
                                              "machine forbids", number)
            doc.state, doc.last = to, seq
        if ev is None or ev[0] != seq:
            return Problem(seq, "events", f"entry {seq} ({number} {was} -> {to}) has no event in the records", number)
        if (ev[1], ev[2], ev[3]) != (number, was, to):
            return Problem(seq, "events", f"the records' event for entry {seq} says {ev[1]} {ev[2]} -> {ev[3]}, the "
                                          f"log says {number} {was} -> {to}", number)
        self._event = next(self._events, None)
        return None

    @staticmethod
    def _stray(ev: tuple[int, str, str | None, str]) -> Problem:
        return Problem(ev[0], "events", f"the records hold an event of {ev[1]} ({ev[2]} -> {ev[3]}) at entry {ev[0]}, "
                                        "which is no state change in the log", ev[1])

    def end(self, last: int) -> Problem | None:
        if self._event is not None:
            return self._stray(self._event)
        for number, state, app in self._documents:
            doc = self.docs.pop(number, None)
            if doc is None:
                return Problem(None, "documents", f"document {number} ({state}) is in the records but the log never "
                                                  "allocated it", number)
            if state != doc.state:
                return Problem(doc.last, "documents", f"document {number} is {state} in the records but the log "
                                                    f"replays to {doc.state} (its last entry is {doc.last})", number)
            if doc.application and app != doc.application:
                return Problem(doc.last, "documents", f"document {number} belongs to application {app} in the records "
                                                    f"but to {doc.application} in the log", number)
            self.seen += 1
        for number, doc in self.docs.items():
            return Problem(doc.last, "documents", f"document {number} is in the log (entry {doc.last}) but not in the "
                                                     "records", number)
        return None


def check_log(source: SnapshotSource, keys: Mapping[str, AuditKey], exports: Exports | None = None) -> AuditReport:
    """The whole check, in one consistent read of `source`. `keys` are the site's audit keys by key id; with
    `exports` only the exports' keys are trusted."""
    with source.audit_snapshot() as snap:
        head = snap.head()
        stored = snap.checkpoints()
        checkpoints = Checkpoints(stored, keys, exports)
        replay = Replay(snap.events(), snap.documents())
        report = verify_entries(head, snap.entries(), [EmptyLog(snap.applications()), checkpoints, replay])
    if not report.ok:
        return report
    return AuditReport(entries=report.entries, head_seq=report.head_seq, checkpoints=checkpoints.count,
                       unsigned=report.head_seq - checkpoints.last, documents=replay.seen)
