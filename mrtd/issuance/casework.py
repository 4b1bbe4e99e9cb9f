"""What an office keeps about an application beside its documents: who submitted it and who decided,
its images, the index a supervisor searches people by, and the files a document was made from.

- the case (`application_cases`): the application's own state (received -> approved | rejected;
  approved -> issued | failed), who submitted it, who approved or rejected it and why, the warnings it
  was received with, and the document it replaces;
- the images (`application_images`): the portrait and signature bytes, so that any API node can produce
  the document, and a replacement or a reprint needs no file from outside;
- the person index (`person_index`): names folded (no case, no accents) in every script they were given
  in, and in their MRZ transliteration, so that "Шевченко", "shevchenko" and "SHEVCHENKO" find the same
  person; each of those words is also kept in `person_words`, which a name search looks up by prefix;
- document files (`document_files`): the signed seal payload and the receipt of each issued document,
  the bytes a reprint is made from (nothing is signed again);
- the portrait's photo check as intake made it (`photo_checks`), by the image's SHA-256 and the checker
  that made it, so that producing the document does not measure the same photo again.

Every change commits with its audit entry (`RecordStore.writing()`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, and_, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from mrtd.errors import Finding, InputError, StateError
from mrtd.issuance.records import (
    ApplicationRecord,
    ApplicationRow,
    Base,
    DocumentRow,
    RecordStore,
    UnknownRecord,
    UTCDateTime,
    Writer,
)
from mrtd.mrz import NameOptions, transliterate

if TYPE_CHECKING:  # the photo stack (OpenCV) loads only where a photo check is kept or read
    from mrtd.issuance.photo import PhotoReport


class CaseState(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    FAILED = "failed"


C = CaseState
CASE_TRANSITIONS: Mapping[CaseState, frozenset[CaseState]] = MappingProxyType({
    C.RECEIVED: frozenset({C.APPROVED, C.REJECTED}),
    C.APPROVED: frozenset({C.ISSUED, C.FAILED}),
    C.REJECTED: frozenset(),
    C.ISSUED: frozenset(),
    C.FAILED: frozenset(),
})


class CaseRow(Base):
    __tablename__ = "application_cases"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    format: Mapped[str] = mapped_column(String(8))
    submitted_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)  # JSON: the warnings it was received with
    replaces: Mapped[str | None] = mapped_column(String(9), index=True)


class ImageRow(Base):
    __tablename__ = "application_images"
    __table_args__ = (UniqueConstraint("application_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PhotoCheckRow(Base):
    __tablename__ = "photo_checks"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the portrait checked
    checker: Mapped[str] = mapped_column(String(64))  # `mrtd.issuance.photo.checker()` that made it
    report: Mapped[str] = mapped_column(Text)  # `PhotoReport.to_record()`


class PersonIndexRow(Base):
    __tablename__ = "person_index"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    names_folded: Mapped[str] = mapped_column(Text)
    names_mrz: Mapped[str] = mapped_column(Text)
    birth_date: Mapped[str] = mapped_column(String(10), index=True)
    nationality: Mapped[str] = mapped_column(String(3), index=True)


class PersonWordRow(Base):
    """Each word of a person's names, folded and in its MRZ form: a name search looks words up by prefix in
    this index (a range of the primary key) instead of scanning every person's names."""

    __tablename__ = "person_words"
    # code-point order on PostgreSQL too (a locale's collation need not keep a prefix's words together)
    word: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)


def name_words(names_folded: str, names_mrz: str) -> set[str]:
    """The words a person is found by: those of the folded names and of their MRZ form ('|' separates names)."""
    return (set(names_folded.split()) | set(names_mrz.split())) - {"|"}


def prefix_range(column: Any, prefix: str) -> Any:
    """`column` starts with `prefix`, as a range an index serves: after folding no word holds U+10FFFF, so
    every word that starts with `prefix` sorts below prefix + U+10FFFF in code-point order, and no other."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


class DocumentFileRow(Base):
    __tablename__ = "document_files"
    __table_args__ = (UniqueConstraint("number", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True, slots=True)
class Case:
    """An application as the office sees it. `payload` is personal data: hand it only to roles that may
    read it (the use cases audit each read)."""

    id: int
    key: str
    state: CaseState
    format: str
    submitted_by: str
    submitted_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    findings: tuple[Mapping[str, Any], ...]
    replaces: str | None
    documents: tuple[tuple[str, str], ...] = ()  # (number, state)
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, Any]:
        """What anyone allowed to list applications sees: no personal data."""
        return {
            "id": self.id, "key": self.key, "state": self.state.value, "format": self.format,
            "submitted_by": self.submitted_by, "submitted_at": self.submitted_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.reason, "replaces": self.replaces,
            "findings": [dict(f) for f in self.findings],
            "documents": [{"number": n, "state": s} for n, s in self.documents],
        }


def fold(text: str) -> str:
    """Case- and accent-free text for matching names: NFKD without combining marks, casefolded, words
    separated by single spaces (hyphens, commas and '<' separate words)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in kept.casefold())
    return " ".join(words.split())


def mrz_form(text: str, names: NameOptions) -> str:
    """The name as the MRZ writes it (Doc 9303-3 §6), words separated by spaces; '' when a character
    has no transliteration (the folded form still matches)."""
    try:
        return transliterate(text, names).replace("<", " ").strip()
    except InputError:
        return ""


def _index_values(payload: Mapping[str, Any], names: NameOptions) -> dict[str, str]:
    holder = payload.get("holder", {})
    given = [holder.get("primary_identifier") or "", holder.get("secondary_identifier") or "",
             holder.get("name_in_national_characters") or "", *(holder.get("other_names") or [])]
    given = [g for g in given if g]
    return {
        "names_folded": " | ".join(fold(g) for g in given),
        "names_mrz": " | ".join(m for m in (mrz_form(g, names) for g in given) if m),
        "birth_date": str(holder.get("date_of_birth") or ""),
        "nationality": str(holder.get("nationality") or ""),
    }


def _case(row: CaseRow, app: ApplicationRow, with_payload: bool) -> Case:
    return _case_of(row, app.key, [(d.number, d.state) for d in app.documents],
                    json.loads(app.payload) if with_payload else {})


def _case_of(row: CaseRow, key: str, documents: Sequence[tuple[str, str]], payload: Mapping[str, Any]) -> Case:
    return Case(
        id=row.application_id, key=key, state=CaseState(row.state), format=row.format,
        submitted_by=row.submitted_by, submitted_at=row.submitted_at, decided_by=row.decided_by,
        decided_at=row.decided_at, reason=row.reason, findings=tuple(json.loads(row.findings)),
        replaces=row.replaces, documents=tuple(documents), payload=payload,
    )


class Received(NamedTuple):
    record: ApplicationRecord
    case: Case
    created: bool


class Casework:
    """The case tables of one records store."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    # -- writing

    def receive(self, key: str, payload: Mapping[str, Any], *, images: Mapping[str, bytes],
                findings: Sequence[Finding], names: NameOptions, actor: str, replaces: str | None = None,
                photo: PhotoReport | None = None) -> Received:
        """Record a received application with its case, images and index, once, in one transaction: a
        crash or a refused image leaves neither. Its record and case as this transaction left them, and
        whether this call made them (False: the case was already there). `photo`: intake's photo check of
        the portrait in `images`, kept beside it."""
        with self.store.writing() as w:
            s = w.session
            record = self.store.record_application(w, key, payload, actor=actor)
            application_id = record.id
            documents = [(number, str(state)) for number, state in record.documents]
            existing = s.get(CaseRow, application_id)
            if existing is not None:
                return Received(record, _case_of(existing, key, documents, {}), False)
            for kind, data in images.items():
                digest = hashlib.sha256(data).hexdigest()
                if payload.get(f"{kind}_sha256") != digest:
                    raise InputError(f"{kind}: the image is not the one the application names (SHA-256 differs)")
                s.add(ImageRow(application_id=application_id, kind=kind, sha256=digest, data=data))
                if kind == "portrait" and photo is not None:
                    from mrtd.issuance.photo import checker

                    s.add(PhotoCheckRow(application_id=application_id, sha256=digest, checker=checker(),
                                        report=photo.to_record()))
            warnings = [f.as_dict() for f in findings]
            row = CaseRow(application_id=application_id, state=CaseState.RECEIVED.value,
                          format=payload["document"]["format"], submitted_by=actor, submitted_at=w.now,
                          findings=json.dumps(warnings, ensure_ascii=False), replaces=replaces)
            s.add(row)
            values = _index_values(payload, names)
            s.add(PersonIndexRow(application_id=application_id, **values))
            s.add_all(PersonWordRow(word=word, application_id=application_id)
                      for word in name_words(values["names_folded"], values["names_mrz"]))
            w.audit(actor=actor, action="application.submitted", subject=key,
                    detail={"id": application_id, "warnings": len(warnings), "replaces": replaces})
            return Received(record, _case_of(row, key, documents, {}), True)

    def move(self, w: Writer, application_id: int, to: CaseState, *, actor: str,
             reason: str | None = None, decision: bool = False) -> CaseRow:
        """Move a case within an open write transaction; StateError for a move the table does not allow."""
        row = w.session.execute(
            select(CaseRow).where(CaseRow.application_id == application_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise UnknownRecord(f"application.id: no application {application_id}")
        current = CaseState(row.state)
        if to not in CASE_TRANSITIONS[current]:
            raise StateError(f"application {application_id}: cannot go from {current.value} to {to.value}")
        row.state = to.value
        if decision:
            row.decided_by, row.decided_at, row.reason = actor, w.now, reason
        w.audit(actor=actor, action=f"application.{to.value}", subject=str(application_id),
                detail={"from": current.value, "reason": reason})
        return row

    def keep_file(self, w: Writer, number: str, name: str, data: bytes) -> None:
        w.session.add(DocumentFileRow(number=number, name=name, data=data))

    # -- reading

    def case(self, application_id: int, *, with_payload: bool = False) -> Case:
        with self.store.reading() as s:
            row = s.get(CaseRow, application_id)
            app = s.get(ApplicationRow, application_id)
            if row is None or app is None:
                raise UnknownRecord(f"application.id: no application {application_id}")
            return _case(row, app, with_payload)

    def cases(self, *, state: CaseState | None = None, after: int = 0, limit: int = 50) -> list[Case]:
        """Cases with an id above `after`, oldest first (cursor pagination on the id)."""
        query = (select(CaseRow, ApplicationRow).join(ApplicationRow, ApplicationRow.id == CaseRow.application_id)
                 .where(CaseRow.application_id > after).order_by(CaseRow.application_id).limit(limit))
        if state is not None:
            query = query.where(CaseRow.state == state.value)
        with self.store.reading() as s:
            return [_case(row, app, False) for row, app in s.execute(query).all()]

    def images(self, application_id: int) -> dict[str, bytes]:
        with self.store.reading() as s:
            rows = s.execute(select(ImageRow).where(ImageRow.application_id == application_id)).scalars()
            return {r.kind: r.data for r in rows}

    def photo_checks(self, application_id: int) -> dict[str, PhotoReport]:
        """The photo check kept at intake, by the portrait's SHA-256; none when another checker made it."""
        from mrtd.issuance.photo import PhotoReport, checker

        with self.store.reading() as s:
            row = s.get(PhotoCheckRow, application_id)
            if row is None or row.checker != checker():
                return {}
            return {row.sha256: PhotoReport.from_record(row.report)}

    def files(self, number: str) -> dict[str, bytes]:
        with self.store.reading() as s:
            rows = s.execute(select(DocumentFileRow).where(DocumentFileRow.number == number)).scalars()
            return {r.name: r.data for r in rows}

    def application_of(self, number: str) -> int:
        with self.store.reading() as s:
            found = s.execute(select(DocumentRow.application_id).where(DocumentRow.number == number)).scalar()
            if found is None:
                raise UnknownRecord(f"document.number: no document {number} in the records")
            return int(found)

    def search(self, *, name: str | None, birth_date: str | None, number: str | None, nationality: str | None,
               names: NameOptions, limit: int = 50) -> list[Case]:
        """Cases whose person matches every criterion given: a name in any script or its transliteration
        (each word of the query, as a prefix of a word), the date of birth, a document number, the
        nationality."""
        query = select(CaseRow, ApplicationRow).join(ApplicationRow, ApplicationRow.id == CaseRow.application_id)
        query = query.join(PersonIndexRow, PersonIndexRow.application_id == CaseRow.application_id)
        if name:
            for word_folded, word_mrz in _query_words(name, names):
                # A query word matches from the start of an indexed word, in any script or in the MRZ form.
                starts = [prefix_range(PersonWordRow.word, w) for w in (word_folded, word_mrz) if w]
                query = query.where(CaseRow.application_id.in_(
                    select(PersonWordRow.application_id).where(or_(*starts))))
        if birth_date:
            query = query.where(PersonIndexRow.birth_date == birth_date)
        if nationality:
            query = query.where(PersonIndexRow.nationality == nationality.upper())
        if number:
            query = query.where(CaseRow.application_id.in_(
                select(DocumentRow.application_id).where(DocumentRow.number == number.upper())))
        with self.store.reading() as s:
            rows = s.execute(query.order_by(CaseRow.application_id).limit(limit)).all()
            return [_case(row, app, True) for row, app in rows]


def _query_words(name: str, names: NameOptions) -> list[tuple[str, str]]:
    """Each word of the query folded, with its MRZ form when the query transliterates word for word."""
    words = fold(name).split()
    if not words:
        raise InputError("name: give at least one letter or digit to search for")
    mrz_words = mrz_form(name, names).split()
    if len(mrz_words) != len(words):
        mrz_words = [""] * len(words)
    return list(zip(words, mrz_words, strict=True))
