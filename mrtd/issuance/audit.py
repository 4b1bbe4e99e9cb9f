"""The audit log: append-only entries, each carrying the SHA-256 of the entry before it.

An entry's hash is SHA-256 over the RFC 8785 (JSON Canonicalization Scheme) serialisation of
`{"seq", "at", "actor", "action", "subject", "detail", "prev"}`; the first entry's `prev` is 64 zeros.
The store keeps a head row (the last sequence number and hash) updated in the same transaction as each
append, so that cutting entries off the end is detected too. `RecordStore` appends (inside the very
transaction that changes the records); this module serialises, hashes and verifies.

The chain proves the log was not edited by someone who could not also rewrite every later entry and the
head; anchoring the head outside the database (printing it, signing it) is what turns that into proof
against the database's own administrator.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import rfc8785

from mrtd.errors import InputError

GENESIS = "0" * 64

# Names that mark a value as a secret; such a key anywhere in an actor or detail is refused.
_SECRET_WORDS = ("passphrase", "password", "passwd", "secret", "private_key", "privatekey", "private-key")
_SECRET_KEYS = frozenset({"pin", "puk", "key_pin", "so_pin", "user_pin", "mrz_key", "kenc", "kmac"})
_SECRET_TEXT = ("PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY")


def canonical_json(value: Any, where: str) -> bytes:
    """RFC 8785 bytes of a JSON value; InputError naming `where` for anything JSON cannot carry."""
    try:
        out: bytes = rfc8785.dumps(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: not a JSON value that can be canonicalised (RFC 8785): {exc}") from None
    return out


def check_no_secrets(value: object, where: str) -> None:
    """Refuse values that look like secrets: keys named like passphrases/PINs, PEM private keys."""
    if isinstance(value, str):
        if any(marker in value for marker in _SECRET_TEXT):
            raise InputError(f"{where}: looks like a private key; secrets are never recorded")
    elif isinstance(value, dict):
        for key, item in value.items():
            k = str(key).lower()
            if k in _SECRET_KEYS or any(word in k for word in _SECRET_WORDS):
                raise InputError(f"{where}.{key}: secrets are never recorded")
            check_no_secrets(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_no_secrets(item, f"{where}[{i}]")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(
    seq: int, at: str, actor: str, action: str, subject: str, detail: object, prev_hash: str
) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical_json(body, "audit entry")).hexdigest()


_quote = json.encoder.encode_basestring  # RFC 8785 escapes strings exactly as json does with ensure_ascii off
_BODY = '{"action":%s,"actor":%s,"at":%s,"detail":%s,"prev":%s,"seq":%d,"subject":%s}'  # the keys in RFC 8785 order


def text_hash(row: StoredEntry) -> str:
    """The entry's hash with its stored detail text taken as the RFC 8785 form of the detail (as the store
    writes it): the canonical body put together as text, without parsing."""
    body = _BODY % (_quote(row.action), _quote(row.actor), _quote(row.at), row.detail_json, _quote(row.prev_hash),
                    row.seq, _quote(row.subject))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def stored_hash(row: StoredEntry) -> str:
    """The hash a stored entry should carry. Fast path `text_hash` (when it matches, SHA-256 proves the
    bytes were the canonical ones); otherwise the detail is parsed and canonicalised again. ValueError or
    InputError when the row cannot be read."""
    try:
        digest = text_hash(row)
    except UnicodeEncodeError:
        digest = ""
    if digest == row.hash:
        return digest
    detail = json.loads(row.detail_json)
    return entry_hash(row.seq, row.at, row.actor, row.action, row.subject, detail, row.prev_hash)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An audit row exactly as stored: `detail` is still the JSON text, so a mangled row can be reported."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail_json: str
    prev_hash: str
    hash: str


class AuditSource(Protocol):
    """What `verify_chain` needs from a store: one consistent read of the head and the entries."""

    def audit_chain(self) -> AbstractContextManager[tuple[tuple[int, str], Iterator[StoredEntry]]]: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong: the entry it shows at (or None), the rule broken, and what was found. A
    divergence of the records from the log also names the document."""

    seq: int | None
    rule: str
    message: str
    document: str | None = None


class EntryCheck(Protocol):
    """A check that rides along the chain walk (checkpoints, the records' replay): it sees each entry once
    the entry's own hash and link are good, and the end of the log."""

    def entry(self, row: StoredEntry) -> Problem | None: ...

    def end(self, last: int) -> Problem | None: ...


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The result of walking the log. `first_broken` is the sequence number of the first bad entry;
    `document` the first document whose records disagree with the log. `checkpoints` counts the signed
    checkpoints verified, `unsigned` the entries past the last one, `documents` the documents replayed."""

    entries: int
    head_seq: int
    first_broken: int | None = None
    rule: str = ""
    message: str = ""
    document: str | None = None
    checkpoints: int | None = None
    unsigned: int | None = None
    documents: int | None = None

    @property
    def ok(self) -> bool:
        return not self.rule

    def as_dict(self) -> dict[str, Any]:
        out = {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "first_broken": self.first_broken,
            "rule": self.rule,
            "message": self.message,
        }
        extra = {"document": self.document, "checkpoints": self.checkpoints, "unsigned": self.unsigned,
                 "documents": self.documents}
        return out | {k: v for k, v in extra.items() if v is not None}

    def __str__(self) -> str:
        if self.ok:
            text = f"audit chain intact: {self.entries} entries"
            if self.checkpoints is not None:
                text += f"; {self.checkpoints} signed checkpoints verified, {self.unsigned} entries after the last"
            if self.documents is not None:
                text += f"; {self.documents} documents agree with the log"
            return text
        where = f"entry {self.first_broken}" if self.first_broken is not None else f"document {self.document}"
        return f"audit log broken at {where} ({self.rule}): {self.message}"


def verify_entries(head: tuple[int, str], entries: Iterable[StoredEntry],
                   checks: Sequence[EntryCheck] = ()) -> AuditReport:
    """Walk the entries in stored order; report the first one that breaks the chain (or one of `checks`)."""
    head_seq, head_hash = head
    expected = 1
    prev = GENESIS
    count = 0

    def broken(problem: Problem) -> AuditReport:
        return AuditReport(entries=count, head_seq=head_seq, first_broken=problem.seq, rule=problem.rule,
                           message=problem.message, document=problem.document)

    for row in entries:
        if row.seq != expected:
            if row.seq > expected:
                return broken(Problem(expected, "missing", f"entry {expected} is missing (the next stored is {row.seq})"))
            return broken(Problem(row.seq, "order", f"entry {row.seq} is out of order (expected {expected})"))
        try:
            digest = stored_hash(row)
        except (ValueError, InputError) as exc:
            return broken(Problem(row.seq, "malformed", f"entry {row.seq} cannot be read: {exc}"))
        if row.prev_hash != prev:
            return broken(Problem(
                row.seq,
                "previous-hash",
                f"entry {row.seq} does not carry the hash of entry {row.seq - 1} "
                f"(entry {row.seq - 1} or {row.seq} was changed, removed or moved)",
            ))
        if digest != row.hash:
            return broken(Problem(row.seq, "hash", f"entry {row.seq} does not match its hash (its content was changed)"))
        for check in checks:
            problem = check.entry(row)
            if problem is not None:
                return broken(problem)
        prev = row.hash
        expected += 1
        count += 1

    last = expected - 1
    if head_seq != last:
        if head_seq > last:
            return broken(Problem(last + 1, "missing", f"the head names entry {head_seq} but the log ends at entry {last}"))
        return broken(Problem(head_seq + 1, "head", f"entries after {head_seq} were added outside the log"))
    if head_hash != prev:
        return broken(Problem(last, "head", f"entry {last} does not match the hash the head records"))
    for check in checks:
        problem = check.end(last)
        if problem is not None:
            return broken(problem)
    return AuditReport(entries=count, head_seq=head_seq)


def verify_chain(store: AuditSource) -> AuditReport:
    """Verify the whole audit log of a store in one consistent read."""
    with store.audit_chain() as (head, entries):
        return verify_entries(head, entries)
