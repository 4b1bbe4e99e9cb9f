"""The records store: applications, documents, chips, seals, events and the audit log, in one database.

SQLite (a file in the site folder) by default; PostgreSQL when given a `postgresql://` URL, through the
psycopg 3 driver. Every method that changes something runs in one transaction that also writes the
event and the audit entry, so a record is never half-written.

Concurrency: every write transaction first takes the write lock: on SQLite `BEGIN IMMEDIATE` (one writer
at a time, readers carry on under WAL), on PostgreSQL `SELECT ... FOR UPDATE` on the audit head row. That
serialises the audit chain (each entry must see the one before) and makes "look, then insert" safe for
idempotent receipt. Number allocation additionally locks its sequence row `FOR UPDATE`. Writes are a few
small rows, so serialising them costs little next to the seconds a document takes to produce; steps that
belong together are one transaction (a write inside `writing()` joins it), so the lock, and the COMMIT it
is held through, is taken once for them. Issuing one application is serialised for the whole of its run
by `issuing` (an advisory lock on PostgreSQL, a lock row on SQLite), which a dead process never holds for
ever.

Values handed back are plain frozen dataclasses, detached from any session.

    store = RecordStore.open("sqlite:////site/records.sqlite3")    # or postgresql://user@host/db
    app = store.receive_application(content_hash, payload)          # idempotent on the key
    number = store.allocate_number(NumberPolicy("UT"), app.id)      # document created, state received
    store.transition(number, DocumentState.VALIDATED, actor="station-1", detail={"step": "validate"})
    store.attach_seal(number, kind="vds", payload_sha256=..., signer_key_id=..., actor=...)
    store.attach_chip(number, sod_sha256=..., signer_key_id=..., data_groups=[1, 2, 14], actor=...)
    store.document(number); store.documents(state="issued"); store.events(number)
    audit.verify_chain(store)

Resuming after a crash: `receive_application` returns the application with its documents; one left in a
production state by the crash is moved to `spoiled` (its number is used up) before `allocate_number`
draws a new one, which it refuses to do while the application has a live or issued document.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from mrtd.errors import ConfigurationError, InputError, MrtdError, StateError
from mrtd.issuance.audit import (
    GENESIS,
    StoredEntry,
    canonical_json,
    check_no_secrets,
    entry_hash,
)
from mrtd.issuance.checkpoints import Checkpoint, Checkpointer
from mrtd.issuance.numbering import NumberPolicy, check_number
from mrtd.issuance.processes import ProcessId, alive, this_process
from mrtd.issuance.states import ABANDONED, IN_PRODUCTION, INITIAL, DocumentState, check_transition
from mrtd.private import private_dir, tighten, write_private

# How long the SQLite issuing lock row of a process on another host is honoured (one on this host is
# honoured exactly as long as its process lives).
ISSUING_LEASE = dt.timedelta(minutes=15)
DOCUMENT_COUNT = "documents"  # records_meta: how many documents the records hold (what the numbering mark keeps)
_ROWS_HELD: set[tuple[str, int]] = set()  # (database, application id) whose lock row a thread here holds
_ROWS_HELD_GUARD = threading.Lock()
_THREAD_WRITES = threading.local()
Clock = Callable[[], dt.datetime]
WriteObserver = Callable[[float, float], None]  # (seconds waited for the write lock, seconds held through COMMIT)
_HEX64 = frozenset("0123456789abcdef")
_STEP = re.compile(r"^[a-z][a-z0-9.-]{0,47}$")


class RecordsError(MrtdError):
    """The database failed or refused an operation (unreachable, locked too long, constraint)."""


class RecordsMissing(StateError):
    """The records database is gone, empty or lacks tables: refused, never silently made again."""


class UnknownRecord(InputError):
    """A document number or application that the records do not hold."""


class AlreadyBeingIssued(StateError):
    """Another process is issuing the application right now; nothing was changed."""

    def __init__(self, key: str, by: str) -> None:
        self.key = key
        super().__init__(f"application {key[:16]}…: already being issued by {by}; nothing was changed: issue it "
                         "again once that has finished (it is then refused as already issued, or issued if that "
                         "run failed)")


# --- models -------------------------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the records store")
        utc = value.astimezone(dt.UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    __tablename__ = "records_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ApplicationRow(Base):
    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[str] = mapped_column(Text)  # RFC 8785 JSON
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    documents: Mapped[list[DocumentRow]] = relationship(
        back_populates="application", order_by="DocumentRow.id"
    )


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("sequence_key", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(9), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    sequence_key: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    application: Mapped[ApplicationRow] = relationship(back_populates="documents")
    chip: Mapped[ChipRow | None] = relationship(back_populates="document")
    seals: Mapped[list[SealRow]] = relationship(back_populates="document", order_by="SealRow.id")


class ChipRow(Base):
    __tablename__ = "chips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    chip_id: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(64))
    sod_sha256: Mapped[str] = mapped_column(String(64))
    signer_key_id: Mapped[str] = mapped_column(String(128))
    data_groups: Mapped[str] = mapped_column(String(64))  # "1,2,14,15"
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    document: Mapped[DocumentRow] = relationship(back_populates="chip")


class SealRow(Base):
    __tablename__ = "seals"
    __table_args__ = (UniqueConstraint("document_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    signer_key_id: Mapped[str] = mapped_column(String(128))
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    document: Mapped[DocumentRow] = relationship(back_populates="seals")


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)  # the production page's recent documents
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text)  # RFC 8785 JSON
    # Not a foreign key: the audit log is checked by its hash chain, and a tampered log must still load.
    audit_seq: Mapped[int] = mapped_column(Integer)


class AuditRow(Base):
    __tablename__ = "audit_log"
    # an auditor's questions (`Office.audit`): one subject's or one actor's entries newest first, and a time span
    __table_args__ = (Index("ix_audit_log_subject_seq", "subject", "seq"), Index("ix_audit_log_actor_seq", "actor", "seq"),
                      Index("ix_audit_log_at", "at"))
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text, exactly as hashed
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text)  # RFC 8785 JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One row: the last entry's sequence number and hash; also the write lock on PostgreSQL."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class CheckpointRow(Base):
    """A signed checkpoint: the audit head at `seq`, signed with the site's audit key (mrtd.issuance.checkpoints)."""

    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text, exactly as signed
    key_id: Mapped[str] = mapped_column(String(128))
    signature: Mapped[str] = mapped_column(Text)  # base64


class SequenceRow(Base):
    """The next sequence value of one numbering policy; only ever goes up."""

    __tablename__ = "number_sequences"
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)


class LostNumberRow(Base):
    """A number the site gave out whose document was lost with the part of the records a restore did not
    bring back (`mrtd site restore`): never given again."""

    __tablename__ = "lost_numbers"
    number: Mapped[str] = mapped_column(String(9), primary_key=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)


class NumberGuard(Protocol):
    """What keeps numbering above the site's high-water mark, outside this database (mrtd.issuance.mark):
    told before a number is used, and after its document is committed."""

    def floor(self, sequence_key: str) -> int:
        """The lowest value the sequence may hand out (above every value ever reserved)."""
        ...

    def reserve(self, sequence_key: str, next_value: int) -> None:
        """Raise the mark to `next_value` before the value below it is used (durably, or raise)."""
        ...

    def reserve_given(self, number: str) -> None:
        """Record a number given from outside (a blank's) before it is used (durably, or raise)."""
        ...

    def committed(self, documents: int) -> None:
        """The records now hold `documents` documents, committed."""
        ...
class IssuingLockRow(Base):
    """On SQLite, the process issuing an application, while it makes its document (`RecordStore.issuing`)."""

    __tablename__ = "issuing_locks"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(320))  # processes.ProcessId.text()
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- values handed out --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: int
    key: str
    payload: Mapping[str, Any]
    received_at: dt.datetime
    documents: tuple[tuple[str, DocumentState], ...] = ()  # (number, state), oldest first


@dataclass(frozen=True, slots=True)
class ChipRecord:
    chip_id: str
    profile: str
    sod_sha256: str
    signer_key_id: str
    data_groups: tuple[int, ...]
    attached_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "chip_id": self.chip_id,
            "profile": self.profile,
            "sod_sha256": self.sod_sha256,
            "signer_key_id": self.signer_key_id,
            "data_groups": list(self.data_groups),
            "attached_at": self.attached_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SealRecord:
    kind: str
    payload_sha256: str
    signer_key_id: str
    attached_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "payload_sha256": self.payload_sha256,
            "signer_key_id": self.signer_key_id,
            "attached_at": self.attached_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    number: str
    state: DocumentState
    application_id: int
    application_key: str
    sequence_key: str
    created_at: dt.datetime
    state_changed_at: dt.datetime
    chip: ChipRecord | None = None
    seals: tuple[SealRecord, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state.value,
            "application_id": self.application_id,
            "application_key": self.application_key,
            "sequence_key": self.sequence_key,
            "created_at": self.created_at.isoformat(),
            "state_changed_at": self.state_changed_at.isoformat(),
            "chip": self.chip.as_dict() if self.chip else None,
            "seals": [s.as_dict() for s in self.seals],
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    number: str
    at: dt.datetime
    from_state: DocumentState | None
    to_state: DocumentState
    actor: str
    detail: Any
    audit_seq: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "at": self.at.isoformat(),
            "from_state": self.from_state.value if self.from_state else None,
            "to_state": self.to_state.value,
            "actor": self.actor,
            "detail": self.detail,
            "audit_seq": self.audit_seq,
        }


Detail = str | Mapping[str, Any] | None


# --- URLs ---------------------------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` go through psycopg 3; SQLite and explicit drivers pass unchanged."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def default_url(site: Path) -> str:
    return f"sqlite:///{site.resolve() / 'records.sqlite3'}"


# --- the store ----------------------------------------------------------------------------------------


def _system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_hex64(value: str, name: str) -> str:
    v = value.lower()
    if len(v) != 64 or not set(v) <= _HEX64:
        raise InputError(f"{name}: {value!r} is not a SHA-256 digest in hex (64 characters)")
    return v


def _check_text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    if required and not value.strip():
        raise InputError(f"{name}: must not be empty")
    if len(value) > limit:
        raise InputError(f"{name}: longer than {limit} characters")
    if any(not c.isprintable() for c in value):
        raise InputError(f"{name}: contains control characters")
    check_no_secrets(value, name)
    return value


def _detail_json(detail: Detail, where: str = "detail") -> tuple[Any, str]:
    value: Any = dict(detail) if isinstance(detail, Mapping) else ("" if detail is None else detail)
    check_no_secrets(value, where)
    return value, canonical_json(value, where).decode("utf-8")


class _Writer:
    """The open write transaction: appends audit entries and events under the held lock.

    The chain's head moves here (`seq`, `hash`) and is written to its row once, when the transaction ends
    (`settle`): an UPDATE per entry would only add round trips inside the lock. The documents this
    transaction has locked are kept, so that its later steps do not ask for the same lock again."""

    def __init__(self, session: Session, head: AuditHeadRow, now: dt.datetime) -> None:
        self.session = session
        self._head = head
        self.seq = head.seq
        self.hash = head.hash
        self.now = now
        self.locked: dict[str, DocumentRow] = {}
        self.after_commit: list[Callable[[], None]] = []  # run once the transaction is committed

    def settle(self) -> None:
        """Write the head the entries appended have moved to (before the commit)."""
        if self._head.seq != self.seq:
            self._head.seq, self._head.hash = self.seq, self.hash

    def audit(self, *, actor: str, action: str, subject: str, detail: object) -> int:
        seq = self.seq + 1
        at = self.now.isoformat(timespec="microseconds")
        detail_text = canonical_json(detail, "detail").decode("utf-8")
        digest = entry_hash(seq, at, actor, action, subject, detail, self.hash)
        self.session.add(
            AuditRow(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=detail_text,
                prev_hash=self.hash,
                hash=digest,
            )
        )
        self.seq, self.hash = seq, digest
        return seq

    def event(
        self,
        doc: DocumentRow,
        from_state: DocumentState | None,
        to_state: DocumentState,
        *,
        actor: str,
        detail: Any,
        detail_text: str,
        action: str,
    ) -> None:
        audit_detail = {
            "from": from_state.value if from_state else None,
            "to": to_state.value,
            "detail": detail,
        }
        seq = self.audit(actor=actor, action=action, subject=doc.number, detail=audit_detail)
        self.session.add(
            EventRow(
                document_id=doc.id,
                at=self.now,
                from_state=from_state.value if from_state else None,
                to_state=to_state.value,
                actor=actor,
                detail=detail_text,
                audit_seq=seq,
            )
        )


Writer = _Writer  # the open write transaction, as `RecordStore.writing()` hands it out


class RecordStore:
    """Records of one site. Open with `RecordStore.open(url)`; close with `close()` or a `with` block."""

    def __init__(self, write_engine: Engine, read_engine: Engine, clock: Clock) -> None:
        self._write_engine = write_engine
        self._read_engine = read_engine
        self._clock = clock
        self.guard: NumberGuard | None = None  # set by the site (mrtd.issuance.mark) when it keeps a mark
        self._checkpointer: Checkpointer | None = None
        self._wrote = False  # entries appended through this store since its last checkpoint
        self.on_write: WriteObserver | None = None  # told of each write transaction that committed (metrics)
        self._database = write_engine.url.render_as_string(hide_password=True)
        # PostgreSQL's issuing locks each hold a connection for a whole production: a pool of their own, so
        # that they never leave the short transactions waiting for a connection.
        self._lock_engine = (create_engine(write_engine.url, pool_pre_ping=True)
                             if write_engine.dialect.name == "postgresql" else None)

    def use_checkpoints(self, checkpointer: Checkpointer | None) -> None:
        """Sign the audit head with the audit key every `checkpointer.every` entries and when the store is
        closed after writing (the end of a command, a batch worker, a service)."""
        self._checkpointer = checkpointer

    # -- opening

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, create: bool = True) -> RecordStore:
        """Connect and check that the database is at the schema revision this code expects. An empty
        database is made by running the migrations when `create` (a new site); otherwise it is refused
        (RecordsMissing), as is a database at an older revision ("run `mrtd site upgrade`")."""
        write, read = _engines(url, create=create)
        store = cls(write, read, clock or _system_clock)
        try:
            store._prepare(create)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def upgrade(cls, url: str) -> tuple[str | None, str]:
        """Migrate the database to the head revision, keeping every row; (revision before, after)."""
        from mrtd.issuance import migrations

        write, read = _engines(url, create=False)
        try:
            with write.begin() as conn:
                _lock_schema(conn)
                before = migrations.current(conn)
                if before is None:
                    raise RecordsMissing(f"records: {_where(url)} holds no records to upgrade")
                if before.startswith("schema version"):
                    raise ConfigurationError(f"records: {before} is not one this mrtd knows how to upgrade")
                return migrations.upgrade(conn)
        except DBAPIError as exc:
            raise RecordsError(f"records: cannot upgrade the database: {_db_message(exc)}") from None
        finally:
            write.dispose()
            read.dispose()

    def _prepare(self, create: bool) -> None:
        from mrtd.issuance import casework, inventory, migrations, queue, signin, users  # noqa: F401  (their tables)

        try:
            with self._write_engine.begin() as conn:
                _lock_schema(conn)
                revision = migrations.current(conn)
                if revision is None:
                    if not create:
                        raise RecordsMissing(
                            "records: the database holds no records (deleted, emptied or never made); restore "
                            "the site's last backup with `mrtd site restore BACKUP`")
                    migrations.upgrade(conn)
                elif revision != migrations.head():
                    raise ConfigurationError(
                        f"records: the database is at schema revision {revision}, this mrtd needs "
                        f"{migrations.head()}: run `mrtd site upgrade` (after `mrtd site backup`)")
                missing = sorted(set(Base.metadata.tables) - set(inspect(conn).get_table_names()))
                if missing:
                    raise RecordsMissing(
                        f"records: the database lacks the table{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} (dropped?); restore the site's last backup with "
                        "`mrtd site restore BACKUP`")
                if conn.execute(select(AuditHeadRow.id).where(AuditHeadRow.id == 1)).scalar() is None:
                    conn.execute(insert(AuditHeadRow).values(id=1, seq=0, hash=GENESIS))
                _ensure_append_only(conn)
        except DBAPIError as exc:
            raise RecordsError(f"records: cannot open the database: {_db_message(exc)}") from None

    def close(self) -> None:
        try:
            self.checkpoint_if_wrote()
        finally:
            self._write_engine.dispose()
            self._read_engine.dispose()
            if self._lock_engine is not None:
                self._lock_engine.dispose()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self._write_engine.dialect.name

    # -- transactions

    def now(self) -> dt.datetime:
        """The store's clock, in UTC: the time its write transactions record."""
        now = self._clock()
        if now.tzinfo is None:
            raise ConfigurationError("records: the clock returned a naive datetime (it must be aware)")
        return now.astimezone(dt.UTC)

    @contextmanager
    def _write(self) -> Iterator[_Writer]:
        open_here = _writes_open_here()
        held = open_here.get(self._database)
        if held is not None:
            if held[0] is not self:
                raise StateError("records: this thread already has a write open on the same database through "
                                 "another store; a second would wait for ever on its lock (share one RecordStore)")
            # A write inside a write of the same thread joins it: both commit together, or neither does.
            yield held[1]
            return
        asked = time.perf_counter()
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                head = session.execute(
                    select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
                ).scalar_one()
                locked = time.perf_counter()
                start = head.seq
                writer = _Writer(session, head, self.now())
                open_here[self._database] = (self, writer)
                try:
                    yield writer
                finally:
                    del open_here[self._database]
                writer.settle()
                if writer.seq > start:
                    self._wrote = True
                    if self._checkpointer is not None and self._checkpointer.due(start, writer.seq):
                        session.add(_checkpoint_row(self._checkpointer.sign(writer.seq, writer.hash, writer.now)))
        except DBAPIError as exc:
            raise RecordsError(f"records: the database refused the change: {_db_message(exc)}") from None
        if self.on_write is not None:
            self.on_write(locked - asked, time.perf_counter() - locked)
        for then in writer.after_commit:
            then()

    def checkpoint(self) -> Checkpoint | None:
        """Sign the audit head now, unless the last checkpoint already covers it; None then."""
        if self._checkpointer is None:
            raise StateError("records: no audit key opened, so no checkpoint can be signed")
        with self._write() as w:
            last = w.session.execute(select(func.max(CheckpointRow.seq))).scalar() or 0
            if w.seq <= last:
                return None
            checkpoint = self._checkpointer.sign(w.seq, w.hash, w.now)
            w.session.add(_checkpoint_row(checkpoint))
        self._wrote = False
        return checkpoint

    def checkpoint_if_wrote(self) -> Checkpoint | None:
        """Sign the head if this store holds the audit key and appended entries since its last checkpoint (the
        end of a command; a service's pause)."""
        return self.checkpoint() if self._checkpointer is not None and self._wrote else None

    def writing(self) -> AbstractContextManager[_Writer]:
        """One write transaction under the write lock, for the modules that keep tables of their own beside
        these (users, casework, the queue): their rows and their audit entries commit together. The store's
        own changes (`transition`, `allocate_number`, ...) made inside it join it: several steps that
        belong together commit as one, and take the lock once."""
        return self._write()

    def reading(self) -> AbstractContextManager[Session]:
        """One consistent read transaction (inside this thread's write, that write's)."""
        return self._read()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        held = _writes_open_here().get(self._database)
        if held is not None and held[0] is self:
            # A read inside this thread's write reads in it: it sees the write's own changes, and takes no
            # second connection (threads queued for the write lock, each holding one, could leave none).
            yield held[1].session
            return
        try:
            with Session(self._read_engine) as session, session.begin():
                yield session
        except DBAPIError as exc:
            raise RecordsError(f"records: cannot read: {_db_message(exc)}") from None

    # -- applications

    def receive_application(
        self, application_key: str, payload: Mapping[str, Any], *, actor: str = "records"
    ) -> ApplicationRecord:
        """Record an application once. The same key again returns the record already there.

        `application_key` is the content hash the caller computed; a second receipt with the same key but
        different content is refused (StateError), since it would mean the key is not a content hash.
        """
        with self._write() as w:
            return self.record_application(w, application_key, payload, actor=actor)

    def record_application(
        self, w: Writer, application_key: str, payload: Mapping[str, Any], *, actor: str
    ) -> ApplicationRecord:
        """`receive_application` within an open write transaction (`writing()`), for a caller whose own rows
        must commit with the application or not at all."""
        key = _check_text(application_key, "application_key", 128)
        actor = _check_text(actor, "actor", 128)
        check_no_secrets(dict(payload), "payload")
        payload_text = canonical_json(dict(payload), "payload").decode("utf-8")
        row = w.session.execute(
            select(ApplicationRow)
            .where(ApplicationRow.key == key)
            .options(selectinload(ApplicationRow.documents))
        ).scalar_one_or_none()
        if row is not None:
            if row.payload != payload_text:
                raise StateError(
                    f"application {key}: already received with different content (the key must be "
                    "a hash of the content)"
                )
            return _application_record(row)
        # a new application has no documents: said here, so that reading them back costs no query
        row = ApplicationRow(key=key, payload=payload_text, received_at=w.now, documents=[])
        w.session.add(row)
        w.session.flush()
        w.audit(actor=actor, action="application.received", subject=key, detail={"id": row.id})
        return _application_record(row)

    def application(self, application_key: str) -> ApplicationRecord | None:
        with self._read() as s:
            row = s.execute(
                select(ApplicationRow)
                .where(ApplicationRow.key == application_key)
                .options(selectinload(ApplicationRow.documents))
            ).scalar_one_or_none()
            return _application_record(row) if row is not None else None

    # -- the issuing lock

    def issuing(self, application: ApplicationRecord) -> AbstractContextManager[None]:
        """Hold the application's issuing lock while its document is made, so that a second run of the same
        application stops (AlreadyBeingIssued, nothing changed) instead of spoiling the first one's document.

        PostgreSQL: a session advisory lock on a connection of its own, which the server releases when the
        holder's connection ends, however it ends. SQLite: a lock row naming the holder process; the row of a
        process that is gone (or, from another host, older than ISSUING_LEASE) is taken over."""
        if self.dialect == "postgresql":
            return self._advisory_lock(application)
        return self._lock_row(application)

    @contextmanager
    def _advisory_lock(self, application: ApplicationRecord) -> Iterator[None]:
        assert self._lock_engine is not None
        conn = self._lock_engine.connect()
        try:
            conn.execution_options(isolation_level="AUTOCOMMIT")  # no transaction left open while issuing
            # Advisory locks are per database: the schema is part of the key, so sites never block each other.
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            name = f"mrtd issuing {schema} {application.id}".encode()
            key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        except DBAPIError as exc:
            conn.invalidate()
            raise RecordsError(f"records: cannot take the issuing lock: {_db_message(exc)}") from None
        if not got:
            conn.close()
            raise AlreadyBeingIssued(application.key, "another process (the database holds its lock until it "
                                     "finishes or its connection ends)")
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.close()
            except DBAPIError:
                conn.invalidate()  # the connection closed: the server has released the lock with it

    @contextmanager
    def _lock_row(self, application: ApplicationRecord) -> Iterator[None]:
        me = this_process().text()
        mine = (self._write_engine.url.render_as_string(), application.id)
        with _ROWS_HELD_GUARD:  # a row names a process: its threads are told apart here
            if mine in _ROWS_HELD:
                raise AlreadyBeingIssued(application.key, "another thread of this process")
            _ROWS_HELD.add(mine)
        taken = False
        try:
            with self._write() as w:
                row = w.session.get(IssuingLockRow, application.id)
                if row is not None and row.holder != me and self._held(row, w.now):
                    who = ProcessId.parse(row.holder)
                    since = f"{row.since:%Y-%m-%d %H:%M:%S} UTC"
                    raise AlreadyBeingIssued(application.key, f"{who or row.holder} (since {since})")
                if row is None:
                    w.session.add(IssuingLockRow(application_id=application.id, holder=me, since=w.now))
                else:  # its holder is gone, or it is this process's own that could not be deleted: taken over
                    row.holder, row.since = me, w.now
            taken = True
            yield
        finally:
            try:
                if taken:
                    with self._write() as w:
                        w.session.execute(delete(IssuingLockRow).where(
                            IssuingLockRow.application_id == application.id, IssuingLockRow.holder == me))
            except RecordsError:
                pass  # the row names this process: taken over once it is gone (or by this process)
            finally:
                with _ROWS_HELD_GUARD:
                    _ROWS_HELD.discard(mine)

    @staticmethod
    def _held(row: IssuingLockRow, now: dt.datetime) -> bool:
        holder = ProcessId.parse(row.holder)
        live = alive(holder) if holder is not None else None
        if live is None:  # a process of another host: trusted for the lease
            return now - row.since < ISSUING_LEASE
        return live

    # -- numbers

    def allocate_number(self, policy: NumberPolicy, application_id: int, *, actor: str = "records") -> str:
        """Draw the next number of `policy` and create the document for the application (state received).

        Refused while the application has a document that is not spoiled or cancelled, so a resumed batch
        cannot issue an application twice. A number is never handed out twice: a document that later fails
        keeps its number and is marked spoiled.
        """
        actor = _check_text(actor, "actor", 128)
        with self._write() as w:
            s = w.session
            app = self._application_without_live_document(s, application_id)
            seq_row = s.execute(
                select(SequenceRow).where(SequenceRow.key == policy.sequence_key).with_for_update()
            ).scalar_one_or_none()
            if seq_row is None:
                seq_row = SequenceRow(key=policy.sequence_key, next_value=policy.start)
                s.add(seq_row)
            value = max(seq_row.next_value, policy.start, self.guard.floor(policy.sequence_key) if self.guard else 0)
            number = policy.format(value)
            clash = s.execute(select(DocumentRow.id).where(DocumentRow.number == number)).scalar()
            if clash is not None:
                raise ConfigurationError(
                    f"numbering: {number} already exists under another policy; policies overlap"
                )
            seq_row.next_value = value + 1
            if self.guard is not None:
                self.guard.reserve(policy.sequence_key, value + 1)  # before the number is used: a crash skips it
            documents = self._new_document(w, app, number, policy.sequence_key, value, actor,
                                           {"policy": policy.sequence_key})
            self._committed(w, documents)
        return number

    def assign_number(self, number: str, application_id: int, *, source: str, actor: str = "records",
                      claim: Callable[[Writer, str], None] | None = None) -> str:
        """Create the document for the application under a number given from outside: the number printed
        on a pre-numbered blank (`source` names where it came from: "requested", "inventory").

        Refused when any document already has the number (a number is never issued twice, a spoiled one
        included) or when the application has a live document. `claim`, when given, runs in the same
        transaction before the document is made (the inventory marks the blank used there, or refuses)."""
        number = check_number(number)
        actor = _check_text(actor, "actor", 128)
        if not _STEP.match(source):
            raise InputError(f"source: {source!r} is not a short lower-case name")
        with self._write() as w:
            s = w.session
            app = self._application_without_live_document(s, application_id)
            used = s.execute(select(DocumentRow).where(DocumentRow.number == number)).scalar_one_or_none()
            if used is not None:
                raise StateError(
                    f"document.number: {number} was already used for a document ({used.state}); a number is "
                    "never issued twice: give the number of a new blank"
                )
            lost = s.get(LostNumberRow, number)
            if lost is not None:
                raise StateError(f"document.number: {number} was given out before a restore and its document was "
                                 f"lost with the part of the records the backup did not hold ({lost.reason}); a "
                                 "number is never issued twice: give the number of a new blank")
            if claim is not None:
                claim(w, number)
            if self.guard is not None:
                self.guard.reserve_given(number)
            # Given numbers have no sequence of their own; they are counted per source, in order of use.
            last = s.execute(select(func.max(DocumentRow.sequence)).where(DocumentRow.sequence_key == source)).scalar()
            documents = self._new_document(w, app, number, source, (last or 0) + 1, actor, {"source": source})
            self._committed(w, documents)
        return number

    @staticmethod
    def _count_documents(s: Session) -> int:
        return int(s.execute(select(func.count()).select_from(DocumentRow)).scalar_one())

    @classmethod
    def _count_new_document(cls, s: Session) -> int:
        """Add the document just made (flushed) to the count kept in records_meta, and return the count.
        Counting the table instead took 36 ms per million documents, inside the write lock, at every
        allocation; the write lock makes this read-and-add safe. A database from before the kept count
        is counted once."""
        kept = s.get(MetaRow, DOCUMENT_COUNT)
        if kept is None:
            count = cls._count_documents(s)
            s.add(MetaRow(key=DOCUMENT_COUNT, value=str(count)))
            return count
        count = int(kept.value) + 1
        kept.value = str(count)
        return count

    def _committed(self, w: _Writer, documents: int) -> None:
        """Raise the mark's document count to `documents` once the transaction that made a document has
        committed (the transaction may be a larger one this write joined): never above what the records
        hold."""
        if self.guard is not None:
            guard = self.guard
            w.after_commit.append(lambda: guard.committed(documents))

    def numbering_state(self) -> tuple[str | None, int, dict[str, int]]:
        """What the site's mark is compared with: the records' id, how many documents they hold, and each
        sequence's next value."""
        with self._read() as s:
            records_id = s.execute(select(MetaRow.value).where(MetaRow.key == "records_id")).scalar()
            sequences = {r.key: r.next_value for r in s.execute(select(SequenceRow)).scalars()}
            return records_id, self._count_documents(s), sequences

    @staticmethod
    def _application_without_live_document(s: Session, application_id: int) -> ApplicationRow:
        app = s.get(ApplicationRow, application_id)
        if app is None:
            raise UnknownRecord(f"application_id: no application {application_id} in the records")
        for doc in app.documents:
            if DocumentState(doc.state) not in ABANDONED:
                raise StateError(
                    f"application {app.key}: already has document {doc.number} ({doc.state}); a new "
                    "number is only drawn after that one is spoiled or cancelled"
                )
        return app

    @classmethod
    def _new_document(cls, w: _Writer, app: ApplicationRow, number: str, sequence_key: str, sequence: int,
                      actor: str, how: Mapping[str, Any]) -> int:
        """Make the document (state received) and audit it; how many documents the records then hold."""
        doc = DocumentRow(
            number=number,
            application_id=app.id,
            sequence_key=sequence_key,
            sequence=sequence,
            state=INITIAL.value,
            created_at=w.now,
            state_changed_at=w.now,
        )
        w.session.add(doc)
        w.session.flush()
        detail = {"application": app.key, **how}
        w.event(
            doc,
            None,
            INITIAL,
            actor=actor,
            detail=detail,
            detail_text=canonical_json(detail, "detail").decode("utf-8"),
            action="document.allocated",
        )
        return cls._count_new_document(w.session)

    # -- state

    def transition(
        self, document_number: str, to_state: DocumentState | str, *, actor: str, detail: Detail = None
    ) -> None:
        """Move a document to `to_state` if the state machine allows it; event and audit entry together."""
        target = to_state if isinstance(to_state, DocumentState) else DocumentState.parse(to_state)
        actor = _check_text(actor, "actor", 128)
        value, detail_text = _detail_json(detail)
        with self._write() as w:
            doc = self._locked_document(w, document_number)
            current = DocumentState(doc.state)
            check_transition(current, target, doc.number)
            doc.state = target.value
            doc.state_changed_at = w.now
            w.event(
                doc,
                current,
                target,
                actor=actor,
                detail=value,
                detail_text=detail_text,
                action="document.transition",
            )

    def note(self, document_number: str, step: str, *, actor: str, detail: Detail = None) -> int:
        """Record a step that does not change the state (a reprint, a check passed, a retry) in the audit
        log, against the document. Returns the audit entry's sequence number."""
        if not _STEP.match(step):
            raise InputError(f"step: {step!r} is not a short lower-case name (a-z, 0-9, '-', '.')")
        actor = _check_text(actor, "actor", 128)
        value, _ = _detail_json(detail)
        with self._write() as w:
            doc = self._locked_document(w, document_number)
            return w.audit(
                actor=actor,
                action=f"note.{step}",
                subject=doc.number,
                detail={"state": doc.state, "detail": value},
            )

    def attach_chip(
        self,
        document_number: str,
        *,
        sod_sha256: str,
        signer_key_id: str,
        data_groups: Sequence[int],
        chip_id: str = "",
        profile: str = "",
        actor: str,
    ) -> ChipRecord:
        """Record the chip personalised for a document: the EF.SOD hash, the signer and the data groups."""
        sod = _check_hex64(sod_sha256, "sod_sha256")
        key_id = _check_text(signer_key_id, "signer_key_id", 128)
        chip = _check_text(chip_id, "chip_id", 64, required=False)
        prof = _check_text(profile, "profile", 64, required=False)
        actor = _check_text(actor, "actor", 128)
        groups = tuple(sorted(set(data_groups)))
        if not groups or any(not 1 <= g <= 16 for g in groups):
            raise InputError(f"data_groups: {list(data_groups)} is not a non-empty set of 1..16")
        with self._write() as w:
            doc = self._locked_document(w, document_number)
            self._check_in_production(doc, "attach a chip to")
            if doc.chip is not None:
                raise StateError(f"document {doc.number}: a chip is already recorded")
            row = ChipRow(
                document_id=doc.id,
                chip_id=chip,
                profile=prof,
                sod_sha256=sod,
                signer_key_id=key_id,
                data_groups=",".join(str(g) for g in groups),
                attached_at=w.now,
            )
            w.session.add(row)
            w.audit(
                actor=actor,
                action="chip.attached",
                subject=doc.number,
                detail={
                    "sod_sha256": sod,
                    "signer_key_id": key_id,
                    "data_groups": list(groups),
                    "chip_id": chip,
                },
            )
            return _chip_record(row)

    def attach_seal(
        self,
        document_number: str,
        *,
        kind: str,
        payload_sha256: str,
        signer_key_id: str,
        actor: str,
    ) -> SealRecord:
        """Record a signed seal (kind `vds`, `vds-nc` or `idb`) made for a document: its hash and signer."""
        if kind not in ("vds", "vds-nc", "idb"):
            raise InputError(f"seal.kind: {kind!r} is not vds, vds-nc or idb")
        digest = _check_hex64(payload_sha256, "payload_sha256")
        key_id = _check_text(signer_key_id, "signer_key_id", 128)
        actor = _check_text(actor, "actor", 128)
        with self._write() as w:
            doc = self._locked_document(w, document_number)
            self._check_in_production(doc, "attach a seal to")
            if any(seal.kind == kind for seal in doc.seals):
                raise StateError(f"document {doc.number}: a {kind} seal is already recorded")
            row = SealRow(
                document_id=doc.id, kind=kind, payload_sha256=digest, signer_key_id=key_id, attached_at=w.now
            )
            w.session.add(row)
            w.audit(
                actor=actor,
                action="seal.attached",
                subject=doc.number,
                detail={"kind": kind, "payload_sha256": digest, "signer_key_id": key_id},
            )
            return _seal_record(row)

    @staticmethod
    def _locked_document(w: _Writer, number: str) -> DocumentRow:
        """The document's row, locked for this transaction (once: a later step finds it kept)."""
        doc = w.locked.get(number)
        if doc is not None:
            return doc
        check_number(number)
        doc = w.session.execute(
            select(DocumentRow).where(DocumentRow.number == number).with_for_update()
        ).scalar_one_or_none()
        if doc is None:
            raise UnknownRecord(f"document.number: no document {number} in the records")
        w.locked[number] = doc
        return doc

    @staticmethod
    def _check_in_production(doc: DocumentRow, what: str) -> None:
        if DocumentState(doc.state) not in IN_PRODUCTION:
            raise StateError(f"document {doc.number}: cannot {what} a document in state {doc.state}")

    # -- reading

    def document(self, number: str) -> DocumentRecord:
        """The document with this number; UnknownRecord when there is none."""
        check_number(number)
        with self._read() as s:
            row = s.execute(
                select(DocumentRow).where(DocumentRow.number == number).options(*_document_loads())
            ).scalar_one_or_none()
            if row is None:
                raise UnknownRecord(f"document.number: no document {number} in the records")
            return _document_record(row)

    def documents(
        self,
        state: DocumentState | str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[DocumentRecord]:
        """Documents, oldest first, filtered by current state and by when they entered it (since <= t < until)."""
        query = select(DocumentRow).options(*_document_loads()).order_by(DocumentRow.id)
        if state is not None:
            target = state if isinstance(state, DocumentState) else DocumentState.parse(state)
            query = query.where(DocumentRow.state == target.value)
        for bound, name in ((since, "since"), (until, "until")):
            if bound is not None and bound.tzinfo is None:
                raise InputError(f"{name}: give an aware datetime (with a time zone)")
        if since is not None:
            query = query.where(DocumentRow.state_changed_at >= since)
        if until is not None:
            query = query.where(DocumentRow.state_changed_at < until)
        with self._read() as s:
            return [_document_record(row) for row in s.execute(query).scalars()]

    def signed_by(self, key_id: str) -> list[str]:
        """Numbers of the documents whose chip or seal the key `key_id` signed (a revocation's reach)."""
        with self._read() as s:
            chips = s.scalars(select(DocumentRow.number).join(ChipRow).where(ChipRow.signer_key_id == key_id))
            seals = s.scalars(select(DocumentRow.number).join(SealRow).where(SealRow.signer_key_id == key_id))
            return sorted({*chips, *seals})

    def events(self, number: str) -> list[EventRecord]:
        """Every state change of a document, oldest first."""
        check_number(number)
        with self._read() as s:
            doc_id = s.execute(select(DocumentRow.id).where(DocumentRow.number == number)).scalar()
            if doc_id is None:
                raise UnknownRecord(f"document.number: no document {number} in the records")
            rows = s.execute(
                select(EventRow).where(EventRow.document_id == doc_id).order_by(EventRow.id)
            ).scalars()
            return [
                EventRecord(
                    id=r.id,
                    number=number,
                    at=r.at,
                    from_state=DocumentState(r.from_state) if r.from_state else None,
                    to_state=DocumentState(r.to_state),
                    actor=r.actor,
                    detail=json.loads(r.detail),
                    audit_seq=r.audit_seq,
                )
                for r in rows
            ]

    def audit_chain(self) -> AbstractContextManager[tuple[tuple[int, str], Iterator[StoredEntry]]]:
        """One consistent read of the audit head and every entry in sequence order (for `verify_chain`)."""
        return self._audit_chain()

    @contextmanager
    def _audit_chain(self) -> Iterator[tuple[tuple[int, str], Iterator[StoredEntry]]]:
        with self._audit_snapshot() as snap:
            yield snap.head(), snap.entries()

    def audit_snapshot(self) -> AbstractContextManager[LogSnapshot]:
        """One consistent read of everything `mrtd.issuance.auditcheck` compares: head, entries, checkpoints,
        events and documents, each streamed in order."""
        return self._audit_snapshot()

    @contextmanager
    def _audit_snapshot(self) -> Iterator[LogSnapshot]:
        with self._read() as s:
            yield LogSnapshot(s)


class LogSnapshot:
    """The audit log and the records beside it, read in one transaction; rows stream (nothing is loaded
    whole), as plain tuples."""

    _STREAM: ClassVar[dict[str, Any]] = {"yield_per": 5000, "stream_results": True}

    def __init__(self, session: Session) -> None:
        self._s = session

    def head(self) -> tuple[int, str]:
        row = self._s.execute(select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)).first()
        return (row[0], row[1]) if row is not None else (0, GENESIS)

    def entries(self) -> Iterator[StoredEntry]:
        """Every entry in sequence order."""
        q = select(AuditRow.seq, AuditRow.at, AuditRow.actor, AuditRow.action, AuditRow.subject, AuditRow.detail,
                   AuditRow.prev_hash, AuditRow.hash).order_by(AuditRow.seq)
        for row in self._s.execute(q, execution_options=self._STREAM):
            yield StoredEntry(*row)

    def checkpoints(self) -> list[Checkpoint]:
        q = select(CheckpointRow).order_by(CheckpointRow.seq)
        return [Checkpoint(r.seq, r.hash, r.at, r.key_id, r.signature) for r in self._s.execute(q).scalars()]

    def events(self) -> Iterator[tuple[int, str, str | None, str]]:
        """(audit_seq, document number, from_state, to_state) of every event, in audit order."""
        q = (select(EventRow.audit_seq, DocumentRow.number, EventRow.from_state, EventRow.to_state)
             .join(DocumentRow, EventRow.document_id == DocumentRow.id).order_by(EventRow.audit_seq, EventRow.id))
        for row in self._s.execute(q, execution_options=self._STREAM):
            yield row[0], row[1], row[2], row[3]

    def documents(self) -> Iterator[tuple[str, str, str]]:
        """(number, state, application key) of every document."""
        q = (select(DocumentRow.number, DocumentRow.state, ApplicationRow.key)
             .join(ApplicationRow, DocumentRow.application_id == ApplicationRow.id).order_by(DocumentRow.id))
        for row in self._s.execute(q, execution_options=self._STREAM):
            yield row[0], row[1], row[2]

    def applications(self) -> int:
        return int(self._s.execute(select(func.count()).select_from(ApplicationRow)).scalar_one())


# --- helpers ------------------------------------------------------------------------------------------


def _engines(url: str, *, create: bool) -> tuple[Engine, Engine]:
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise ConfigurationError(f"records.url: not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            database = parsed.database
            if not create and database not in (None, "", ":memory:") and not Path(str(database)).exists():
                raise RecordsMissing(f"records: {database} is missing (deleted?); restore the site's last backup "
                                     "with `mrtd site restore BACKUP`")
            return _sqlite_engines(parsed, database)
        if backend == "postgresql":
            if parsed.get_driver_name() != "psycopg":
                raise ConfigurationError("records.url: PostgreSQL is reached through psycopg 3 only")
            write = create_engine(parsed, pool_pre_ping=True)
            return write, write.execution_options(isolation_level="REPEATABLE READ")
        raise ConfigurationError(f"records.url: {backend!r} is not supported (sqlite or postgresql)")
    except SQLAlchemyError as exc:
        raise ConfigurationError(f"records.url: {exc}") from None


def _lock_schema(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Two processes opening (or migrating) one database at once would race on CREATE TABLE.
        conn.execute(text("SELECT pg_advisory_xact_lock(7283461)"))


def _where(url: str) -> str:
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database"


def _writes_open_here() -> dict[str, tuple[RecordStore, _Writer]]:
    """This thread's open write transactions, by database: the store that opened each, and its writer."""
    opened: dict[str, tuple[RecordStore, _Writer]] = _THREAD_WRITES.__dict__.setdefault("open", {})
    return opened


def _checkpoint_row(c: Checkpoint) -> CheckpointRow:
    return CheckpointRow(seq=c.seq, hash=c.hash, at=c.at, key_id=c.key_id, signature=c.signature)



def _sqlite_engines(url: URL, database: str | None) -> tuple[Engine, Engine]:
    memory = database in (None, "", ":memory:")
    if memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        _sqlite_setup(engine, "BEGIN IMMEDIATE", wal=False)
        return engine, engine
    assert database is not None
    private_file(Path(database))
    write = create_engine(url, connect_args={"timeout": 60})
    read = create_engine(url, connect_args={"timeout": 60})
    _sqlite_setup(write, "BEGIN IMMEDIATE", wal=True)
    _sqlite_setup(read, "BEGIN", wal=True)
    return write, read


def private_file(database: Path) -> None:
    """The database file made owner-only before SQLite opens it: SQLite takes an empty file for an empty
    database and gives its -wal and -shm files the database file's mode."""
    private_dir(database.parent)
    with contextlib.suppress(FileExistsError):  # never truncate: another process may have made it
        write_private(database, b"", exclusive=True)
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        tighten(path)


def _sqlite_setup(engine: Engine, begin: str, *, wal: bool) -> None:
    """Take transactions out of the driver's hands so that writers can BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed record survives a power cut, not just a crash.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


_PG_APPEND_ONLY: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION mrtd_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION mrtd_audit_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION mrtd_audit_append_only()""",
    """CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION mrtd_audit_append_only()""",
    """CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION mrtd_audit_append_only()""",
)
_SQLITE_APPEND_ONLY: tuple[str, ...] = (
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END""",
)


def _ensure_append_only(conn: Connection) -> None:
    """Triggers that refuse UPDATE and DELETE on the audit log, so that no code path of ours (or a slip at
    an SQL prompt) can rewrite it. Someone who drops them is still caught by the hash chain."""
    if conn.dialect.name == "postgresql":
        names = {"audit_log": ("audit_log_append_only", "audit_log_no_truncate"),
                 "audit_checkpoints": ("audit_checkpoints_append_only", "audit_checkpoints_no_truncate")}
        present = conn.execute(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('audit_log'::regclass, "
                "'audit_checkpoints'::regclass) AND tgname IN :names"
            ).bindparams(bindparam("names", expanding=True)),
            {"names": [n for pair in names.values() for n in pair]},
        ).scalar_one()
        if present == 4:
            return
        for table, pair in names.items():
            for name in pair:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        statements = _PG_APPEND_ONLY
    else:
        statements = _SQLITE_APPEND_ONLY
    for statement in statements:
        conn.execute(text(statement))


def _db_message(exc: DBAPIError) -> str:
    # The driver's first line; it names the constraint or condition and never the connection password.
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__


def _document_loads() -> tuple[Any, ...]:
    return (
        selectinload(DocumentRow.application),
        selectinload(DocumentRow.chip),
        selectinload(DocumentRow.seals),
    )


def _application_record(row: ApplicationRow) -> ApplicationRecord:
    docs = tuple((d.number, DocumentState(d.state)) for d in row.documents)
    return ApplicationRecord(
        id=row.id, key=row.key, payload=json.loads(row.payload), received_at=row.received_at, documents=docs
    )


def _chip_record(row: ChipRow) -> ChipRecord:
    return ChipRecord(
        chip_id=row.chip_id,
        profile=row.profile,
        sod_sha256=row.sod_sha256,
        signer_key_id=row.signer_key_id,
        data_groups=tuple(int(g) for g in row.data_groups.split(",") if g),
        attached_at=row.attached_at,
    )


def _seal_record(row: SealRow) -> SealRecord:
    return SealRecord(
        kind=row.kind,
        payload_sha256=row.payload_sha256,
        signer_key_id=row.signer_key_id,
        attached_at=row.attached_at,
    )


def _document_record(row: DocumentRow) -> DocumentRecord:
    return DocumentRecord(
        number=row.number,
        state=DocumentState(row.state),
        application_id=row.application_id,
        application_key=row.application.key,
        sequence_key=row.sequence_key,
        created_at=row.created_at,
        state_changed_at=row.state_changed_at,
        chip=_chip_record(row.chip) if row.chip is not None else None,
        seals=tuple(_seal_record(s) for s in row.seals),
    )
