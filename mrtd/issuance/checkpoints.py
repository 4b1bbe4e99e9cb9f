"""Signed checkpoints of the audit log, and their export outside the database.

A checkpoint is the log's head (the last entry's sequence number and hash) signed with the site's audit
key. The signed bytes are the RFC 8785 serialisation of
`{"kind": "mrtd-audit-checkpoint/1", "seq", "hash", "at", "key"}`, signed through the `Signer` protocol
(ECDSA with a DER signature, or RSASSA-PSS; the hash by key size, as for every other key of the site).
Whoever rewrites the log afterwards (even recomputing every hash and the head) cannot sign the new head
without the audit key, and cannot make the signed hash match a changed entry.

The records database keeps the checkpoints (`RecordStore` signs one every `every` entries and when a
command that wrote entries ends); an export copies them, with the audit keys' public keys and optionally
every entry's hash, to an append-only JSON Lines file (and/or syslog), so that a verifier holding only
the export can check a database whose owner rewrote everything, audit key included:

    {"type": "audit-key", "key": ID, "algorithm": ..., "spki": BASE64}
    {"type": "checkpoint", "seq": N, "hash": HEX, "at": ISO, "key": ID, "signature": BASE64}
    {"type": "entry", "seq": N, "hash": HEX}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import logging.handlers
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from mrtd.errors import ConfigurationError, InputError, SignatureError
from mrtd.issuance.audit import canonical_json
from mrtd.pki.certificates import verify_signature
from mrtd.pki.keys import default_hash
from mrtd.pki.signer import PublicKey, Signer, hash_algorithm

KIND = "mrtd-audit-checkpoint/1"
DEFAULT_EVERY = 1000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, as signed
    key_id: str
    signature: str  # base64

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.at, self.key_id)

    def as_line(self) -> dict[str, Any]:
        return {"type": "checkpoint", "seq": self.seq, "hash": self.hash, "at": self.at, "key": self.key_id,
                "signature": self.signature}


def checkpoint_message(seq: int, head_hash: str, at: str, key_id: str) -> bytes:
    return canonical_json({"kind": KIND, "seq": seq, "hash": head_hash, "at": at, "key": key_id}, "checkpoint")


class Checkpointer:
    """Signs the head with the audit key: every `every` entries, and on demand (a command's end). Given a
    function instead of a signer, it opens the key only when it first signs (commands that may write
    nothing do not pay for unlocking it)."""

    def __init__(self, signer: Signer | Callable[[], Signer], every: int = DEFAULT_EVERY) -> None:
        if every < 1:
            raise ConfigurationError(f"audit.checkpoint_every: {every} is not a positive number of entries")
        self._signer = signer if isinstance(signer, Signer) else None
        self._open = None if isinstance(signer, Signer) else signer
        self.every = every

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            assert self._open is not None
            self._signer = self._open()
        return self._signer

    def due(self, before: int, after: int) -> bool:
        """Whether appending entries before+1..after crossed a multiple of `every`."""
        return after // self.every > before // self.every

    def sign(self, seq: int, head_hash: str, when: dt.datetime) -> Checkpoint:
        at = when.astimezone(dt.UTC).isoformat(timespec="microseconds")
        signer = self.signer
        message = checkpoint_message(seq, head_hash, at, signer.key_id)
        signature = signer.sign(message, default_hash(signer.public_key()))
        return Checkpoint(seq, head_hash, at, signer.key_id, base64.b64encode(signature).decode("ascii"))


# --- the public side: audit keys and verification -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditKey:
    """An audit key's public half, as the site records it and an export carries it."""

    key_id: str
    public_key: PublicKey = field(repr=False)
    algorithm: str = ""

    @classmethod
    def from_record(cls, record: Mapping[str, Any], where: str = "audit key") -> AuditKey:
        try:
            public = serialization.load_der_public_key(base64.b64decode(str(record["spki"]), validate=True))
            key_id = str(record.get("key_id") or record["key"])
        except (KeyError, ValueError, binascii.Error) as exc:
            raise InputError(f"{where}: not an audit key record ({exc})") from None
        if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise InputError(f"{where}: {type(public).__name__} is not an EC or RSA key")
        return cls(key_id, public, str(record.get("algorithm", "")))

    def spki(self) -> str:
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode("ascii")

    def pem(self) -> str:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def as_line(self) -> dict[str, Any]:
        return {"type": "audit-key", "key": self.key_id, "algorithm": self.algorithm, "spki": self.spki()}


def signature_problem(checkpoint: Checkpoint, keys: Mapping[str, AuditKey]) -> str | None:
    """Why a checkpoint's signature does not verify under the known audit keys, or None when it does."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return f"it is signed by {checkpoint.key_id!r}, which is not an audit key of the site"
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        return "its signature is not base64"
    hash_alg = hash_algorithm(default_hash(key.public_key))
    params = padding.PSS(padding.MGF1(hash_alg), hash_alg.digest_size) if isinstance(key.public_key, rsa.RSAPublicKey) else None
    try:
        verify_signature(key.public_key, signature, checkpoint.message(), hash_alg, params, what="checkpoint")
    except SignatureError:
        return f"its signature does not verify under audit key {checkpoint.key_id}"
    return None


# --- export -------------------------------------------------------------------------------------------


@dataclass
class Exports:
    """What an export file holds: the audit keys, the checkpoints and entry hashes, by sequence number."""

    keys: dict[str, AuditKey] = field(default_factory=dict)
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)
    entries: dict[int, str] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return max([0, *self.checkpoints, *self.entries])


def read_exports(path: Path) -> Exports:
    """Read an export file; InputError naming the line for anything that is not one of its records."""
    out = Exports()
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--exports {path}: cannot read it ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                item = json.loads(line)
                kind = item["type"]
                if kind == "audit-key":
                    key = AuditKey.from_record(item, where)
                    out.keys[key.key_id] = key
                elif kind == "checkpoint":
                    cp = Checkpoint(int(item["seq"]), str(item["hash"]), str(item["at"]), str(item["key"]),
                                    str(item["signature"]))
                    out.checkpoints[cp.seq] = cp
                elif kind == "entry":
                    out.entries[int(item["seq"])] = str(item["hash"])
                else:
                    raise InputError(f"{where}: unknown record type {kind!r}")
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{where}: not an audit export record ({exc})") from None
    return out


def export_lines(keys: Iterable[AuditKey], checkpoints: Iterable[Checkpoint],
                 entries: Iterable[tuple[int, str]], already: Exports | None) -> list[str]:
    """The lines an export appends: keys it does not hold yet, then checkpoints and entry hashes past its
    last sequence number, in sequence order."""
    known = already or Exports()
    since = known.last_seq
    lines = [k.as_line() for k in keys if k.key_id not in known.keys]
    records: list[tuple[int, int, dict[str, Any]]] = [(s, 0, {"type": "entry", "seq": s, "hash": h})
                                                      for s, h in entries if s > since]
    records += [(c.seq, 1, c.as_line()) for c in checkpoints if c.seq > since]
    lines += [r for _, _, r in sorted(records, key=lambda t: (t[0], t[1]))]
    return [json.dumps(line, sort_keys=True, separators=(",", ":")) for line in lines]


def append_lines(path: Path, lines: list[str]) -> None:
    """Append to the export file (owner-only, O_APPEND, synced); never rewrites what is there."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def send_syslog(lines: list[str], address: str) -> None:
    """Send each line to syslog (`/dev/log`, or HOST:PORT over UDP), facility auth, as `mrtd-audit: LINE`."""
    host, _, port = address.rpartition(":")
    target: str | tuple[str, int] = (host, int(port)) if host and port.isdigit() else address
    try:
        handler = logging.handlers.SysLogHandler(address=target, facility=logging.handlers.SysLogHandler.LOG_AUTH)
    except OSError as exc:
        raise ConfigurationError(f"--syslog {address}: cannot reach syslog ({exc.strerror or exc})") from None
    logger = logging.Logger("mrtd-audit")
    logger.addHandler(handler)
    handler.setFormatter(logging.Formatter("mrtd-audit: %(message)s"))
    try:
        for line in lines:
            logger.info(line)
    finally:
        handler.close()
