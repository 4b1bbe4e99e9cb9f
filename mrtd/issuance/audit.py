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
from collections.abc import Iterable, Iterator
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
class AuditReport:
    """The result of walking the chain. `first_broken` is the sequence number of the first bad entry."""

    entries: int
    head_seq: int
    first_broken: int | None = None
    rule: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "first_broken": self.first_broken,
            "rule": self.rule,
            "message": self.message,
        }

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries"
        return f"audit chain broken at entry {self.first_broken} ({self.rule}): {self.message}"


def verify_entries(head: tuple[int, str], entries: Iterable[StoredEntry]) -> AuditReport:
    """Walk the entries in stored order; report the first one that breaks the chain."""
    head_seq, head_hash = head
    expected = 1
    prev = GENESIS
    count = 0

    def broken(seq: int, rule: str, message: str) -> AuditReport:
        return AuditReport(entries=count, head_seq=head_seq, first_broken=seq, rule=rule, message=message)

    for row in entries:
        if row.seq != expected:
            if row.seq > expected:
                return broken(
                    expected, "missing", f"entry {expected} is missing (the next stored is {row.seq})"
                )
            return broken(row.seq, "order", f"entry {row.seq} is out of order (expected {expected})")
        try:
            detail = json.loads(row.detail_json)
            digest = entry_hash(row.seq, row.at, row.actor, row.action, row.subject, detail, row.prev_hash)
        except (ValueError, InputError) as exc:
            return broken(row.seq, "malformed", f"entry {row.seq} cannot be read: {exc}")
        if row.prev_hash != prev:
            return broken(
                row.seq,
                "previous-hash",
                f"entry {row.seq} does not carry the hash of entry {row.seq - 1} "
                f"(entry {row.seq - 1} or {row.seq} was changed, removed or moved)",
            )
        if digest != row.hash:
            return broken(
                row.seq, "hash", f"entry {row.seq} does not match its hash (its content was changed)"
            )
        prev = row.hash
        expected += 1
        count += 1

    last = expected - 1
    if head_seq != last:
        if head_seq > last:
            return broken(
                last + 1, "missing", f"the head names entry {head_seq} but the log ends at entry {last}"
            )
        return broken(head_seq + 1, "head", f"entries after {head_seq} were added outside the log")
    if head_hash != prev:
        return broken(last, "head", f"entry {last} does not match the hash the head records")
    return AuditReport(entries=count, head_seq=head_seq)


def verify_chain(store: AuditSource) -> AuditReport:
    """Verify the whole audit log of a store in one consistent read."""
    with store.audit_chain() as (head, entries):
        return verify_entries(head, entries)
