"""`mrtd site backup` and `mrtd site restore`: the records copied out whole, and brought back under the
numbering mark.

SQLite: SQLite's online backup API (a consistent copy while stations keep writing). PostgreSQL:
`pg_dump --format=custom` of the records' schema, restored with `pg_restore` (Debian's
postgresql-client); libpq takes the password from PGPASSWORD or ~/.pgpass, never from argv.

The rule of a restore (README, "Records"): a backup may be older than the site's mark. It is accepted,
and then
- sequences resume above the mark (the mark is never lowered), so a number drawn in the lost part is
  never drawn again; the numbers between the backup's sequence and the mark are reported;
- every number given from outside (a blank's) after the backup, known from the site's journal of given
  numbers, is recorded as lost (`lost_numbers`) and its blank, if the backup has it in stock, spoiled:
  never issued again;
- the mark's document count becomes the restored count (the lost documents are gone from the records,
  not from the world: the audit entry of the restore names how many).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from mrtd.errors import ConfigurationError, InputError, StateError
from mrtd.issuance.checkpoints import Checkpointer
from mrtd.issuance.inventory import BlankRow, BlankState
from mrtd.issuance.mark import Mark, MarkKeeper, RecordsBehind, start_mark
from mrtd.issuance.records import (
    DocumentRow,
    LostNumberRow,
    RecordsError,
    RecordsMissing,
    RecordStore,
    SequenceRow,
    normalise_url,
    private_file,
)
from mrtd.issuance.site import SiteConfig
from mrtd.private import private_dir, tighten, write_private

PG_TOOLS_HINT = "install Debian's postgresql-client (scripts/install-system-packages.sh)"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    backend: str
    bytes: int
    sha256: str
    documents: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "backend": self.backend, "bytes": self.bytes, "sha256": self.sha256,
                "documents": self.documents}


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    sha256: str
    documents: int  # in the restored records
    mark_documents: int  # the mark's count before the restore
    upgraded: tuple[str | None, str] | None
    sequences: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (backup's next, resumes at)
    lost_given: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"source": str(self.source), "sha256": self.sha256, "documents": self.documents,
                "documents_before": self.mark_documents, "documents_lost": max(0, self.mark_documents - self.documents),
                "upgraded": list(self.upgraded) if self.upgraded else None,
                "sequences": {k: {"backup_next": a, "resumes_at": b} for k, (a, b) in self.sequences.items()},
                "lost_given_numbers": list(self.lost_given)}


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _backend(url: str) -> str:
    return make_url(normalise_url(url)).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise ConfigurationError("records.url: an in-memory database has nothing to back up")
    return Path(database)


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver name); it never holds a password (site.py refuses)."""
    parsed = make_url(normalise_url(url)).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _pg_tool(name: str, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which(name)
    if exe is None:
        raise ConfigurationError(f"{name}: not found; {PG_TOOLS_HINT}")
    done = subprocess.run([exe, *args], capture_output=True, check=False, timeout=3600)
    if done.returncode != 0:
        first = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        raise RecordsError(f"{name}: {first}")
    return done


def _pg_schema(store: RecordStore) -> str:
    with store.reading() as s:
        return str(s.execute(text("SELECT current_schema()")).scalar_one())


def backup(site: SiteConfig, dest: Path, *, actor: str, audit_secret: bytes | None = None) -> BackupReport:
    """Copy the site's records to `dest` (a new file, 0600): consistent while others keep writing. With the
    audit key's secret, the backup's audit entry ends under a signed checkpoint."""
    dest = Path(dest)
    if dest.exists():
        raise InputError(f"backup: {dest} exists; refusing to overwrite a backup")
    private_dir(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    with site.open_records(audit_secret=audit_secret) as store:  # a database behind the mark is refused here too
        documents = store.numbering_state()[1]
        backend = store.dialect
        try:
            write_private(tmp, b"", exclusive=True)
            if backend == "sqlite":
                with _sqlite(_sqlite_path(site.records_url)) as source, _sqlite(tmp) as target:
                    source.backup(target)
                    target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            else:
                _pg_tool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--schema={_pg_schema(store)}",
                                     f"--file={tmp}", f"--dbname={_libpq_url(site.records_url)}"])
            tighten(tmp)
            try:
                os.link(tmp, dest)  # never over a backup that appeared since the check above
            except FileExistsError:
                raise InputError(f"backup: {dest} exists; refusing to overwrite a backup") from None
        finally:
            tmp.unlink(missing_ok=True)
        digest = _sha256(dest)
        with store.writing() as w:
            w.audit(actor=actor, action="site.backup", subject=dest.name,
                    detail={"sha256": digest, "documents": documents, "backend": backend})
    return BackupReport(dest, backend, dest.stat().st_size, digest, documents)


@contextlib.contextmanager
def _sqlite(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection closed at the end (sqlite3's own `with` only commits; an open one would keep the
    database's WAL mapped)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True) if read_only else sqlite3.connect(path)
    try:
        yield db
        db.commit()
    finally:
        db.close()


def _sqlite_records_id(path: Path) -> tuple[str | None, bool]:
    """A SQLite backup's records id, and whether it is a records database at all."""
    try:
        with _sqlite(path, read_only=True) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"records_meta", "documents"} <= tables:
                return None, False
            row = db.execute("SELECT value FROM records_meta WHERE key = 'records_id'").fetchone()
            return (str(row[0]) if row else None), True
    except sqlite3.DatabaseError:
        return None, False


def _pg_dump_facts(path: Path) -> tuple[str | None, set[str]]:
    """A custom-format dump's records id and the schemas it holds (`pg_restore --list` and its data)."""
    listing = _pg_tool("pg_restore", ["--list", str(path)]).stdout.decode("utf-8", "replace")
    schemas = {line.split()[-2] for line in listing.splitlines() if " SCHEMA - " in line}
    data = _pg_tool("pg_restore", ["--data-only", "--table=records_meta", "--file=-", str(path)]).stdout
    records_id = None
    for line in data.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("\t")
        if key == "records_id":
            records_id = value.strip()
    return records_id, schemas


def restore(site: SiteConfig, source: Path, *, actor: str, force: bool = False,
            audit_secret: bytes | None = None) -> RestoreReport:
    """Bring the site's records back from `source` (a file `backup` made), under the numbering mark."""
    source = Path(source)
    if not source.is_file():
        raise InputError(f"restore: {source} is not a file")
    keeper = MarkKeeper(site.root)
    mark = keeper.read()
    if mark is None:
        raise ConfigurationError(f"{keeper.path}: this site keeps no numbering mark; run `mrtd site upgrade` first")
    if not force:
        try:
            with site.open_records():
                pass
        except (RecordsMissing, RecordsBehind, RecordsError, ConfigurationError):
            pass  # lost, emptied, behind the mark, foreign or at an older revision: what a restore is for
        else:
            raise StateError("restore: the site's records are intact and not behind the mark; restoring would "
                             "discard what was recorded since the backup (give --force if that is meant)")
    digest = _sha256(source)
    backend = _backend(site.records_url)
    if backend == "sqlite":
        records_id, ok = _sqlite_records_id(source)
        if not ok:
            raise InputError(f"restore: {source} is not a SQLite records backup")
    else:
        records_id, schemas = _pg_dump_facts(source)
    if records_id is not None and records_id != mark.records_id:
        raise RecordsBehind(f"restore: {source} holds the records {records_id}, not this site's ({mark.records_id})")
    if backend == "sqlite":
        target = _sqlite_path(site.records_url)
        private_file(target)
        with _sqlite(source, read_only=True) as src, _sqlite(target) as dst:
            src.backup(dst)
        for suffix in ("", "-wal", "-shm"):
            tighten(target.with_name(target.name + suffix))
    else:
        _restore_pg(site, source, schemas)
    _adopt_id(site.records_url, mark.records_id)
    upgraded = None
    try:
        RecordStore.open(site.records_url, create=False).close()
    except ConfigurationError:
        upgraded = RecordStore.upgrade(site.records_url)
    return _reconcile(site, keeper, mark, source, digest, upgraded, actor, audit_secret)


def _restore_pg(site: SiteConfig, source: Path, schemas: set[str]) -> None:
    engine = create_engine(normalise_url(site.records_url))
    try:
        with engine.connect() as conn:
            schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    finally:
        engine.dispose()
    if schemas != {schema}:
        raise InputError(f"restore: {source} holds the schema(s) {', '.join(sorted(schemas)) or 'none'}, not the "
                         f"site's {schema}")
    engine = create_engine(normalise_url(site.records_url))
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote(schema)
            conn.execute(text(f"DROP SCHEMA {quoted} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {quoted}"))
    finally:
        engine.dispose()
    _pg_tool("pg_restore", ["--clean", "--if-exists", "--exit-on-error", "--no-owner", "--no-privileges",
                            f"--dbname={_libpq_url(site.records_url)}", str(source)])


def _adopt_id(url: str, records_id: str) -> None:
    """A backup made before the records had an id takes the site's (its migration then keeps it)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            present = conn.execute(text("SELECT value FROM records_meta WHERE key = 'records_id'")).scalar()
            if present is None:
                conn.execute(text("INSERT INTO records_meta (key, value) VALUES ('records_id', :v)"), {"v": records_id})
    finally:
        engine.dispose()


def _reconcile(site: SiteConfig, keeper: MarkKeeper, mark: Mark, source: Path, digest: str,
               upgraded: tuple[str | None, str] | None, actor: str, audit_secret: bytes | None) -> RestoreReport:
    store = RecordStore.open(site.records_url, create=False)
    try:
        if audit_secret is not None:
            signer = site.pki(clock=lambda: dt.datetime.now(dt.UTC)).audit_signer(audit_secret)
            store.use_checkpoints(Checkpointer(signer, site.checkpoint_every))
        given = keeper.given()
        with store.writing() as w:
            s = w.session
            documents = int(s.execute(select(func.count()).select_from(DocumentRow)).scalar_one())
            have = set(s.execute(select(DocumentRow.number)).scalars())
            lost = sorted({n for n in given if n not in have} - set(s.execute(select(LostNumberRow.number)).scalars()))
            reason = f"given out before the restore of {source.name} ({digest[:16]}); its document is not in it"
            for number in lost:
                s.add(LostNumberRow(number=number, recorded_at=w.now, reason=reason))
                blank = s.execute(select(BlankRow).where(BlankRow.number == number)).scalar_one_or_none()
                if blank is not None and blank.state == BlankState.IN_STOCK.value:
                    blank.state, blank.state_changed_at, blank.note = BlankState.SPOILED.value, w.now, reason
            sequences: dict[str, tuple[int, int]] = {}
            for row in s.execute(select(SequenceRow)).scalars():
                resume = max(row.next_value, mark.sequences.get(row.key, 0))
                sequences[row.key] = (row.next_value, resume)
                row.next_value = resume
            for key in set(mark.sequences) - set(sequences):
                s.add(SequenceRow(key=key, next_value=mark.sequences[key]))
                sequences[key] = (0, mark.sequences[key])
            w.audit(actor=actor, action="site.restored", subject=source.name,
                    detail={"sha256": digest, "documents": documents, "documents_before": mark.documents,
                            "lost_given_numbers": lost,
                            "sequences": {k: {"backup_next": a, "resumes_at": b} for k, (a, b) in sequences.items()}})
        keeper.write(Mark(mark.records_id, documents, mark.sequences), lower=True)
    finally:
        store.close()
    return RestoreReport(source, digest, documents, mark.documents, upgraded, sequences, tuple(lost))


def upgrade(site: SiteConfig) -> dict[str, Any]:
    """`mrtd site upgrade`: migrate the records to the head revision, start the numbering mark of a site
    made before marks, and make the site folder owner-only."""
    before, after = RecordStore.upgrade(site.records_url)
    keeper = MarkKeeper(site.root)
    started = False
    if keeper.kept() and keeper.read() is None:
        with RecordStore.open(site.records_url, create=False) as store:
            start_mark(site.root, store)
        started = True
    for path in [site.root, *site.root.rglob("*")]:
        if not path.is_symlink():
            tighten(path)
    return {"from": before, "to": after, "mark_started": started}


