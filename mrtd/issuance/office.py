"""The use cases of an issuing office, below its two faces: the command line and the HTTP service call
the same methods, each with the principal who acts.

submit -> approve | reject (four eyes) -> the queue -> claim (the centre produces and signs, the station
gets what it writes and prints) -> heartbeat -> report (the centre checks the chip read back and records
issued or spoiled); void, report lost or stolen, replace (a new application from the stored one, linked
to the old document), reprint (from the stored payload), search (audited with who and why), verify a seal,
read the audit log.

Rights are checked here with `roles.require`, so a face cannot forget them; personal data leaves only
through `application`, `search` and `claim`, and each such read is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mrtd.asn1.x509 import as_certificate
from mrtd.chip.keytransport import ChipKeys, parse_public_key, seal_keys
from mrtd.errors import Finding, InputError, MrtdError, StateError, ValidationError
from mrtd.issuance.application import check_application
from mrtd.issuance.audit import AuditEntry, check_no_secrets
from mrtd.issuance.casework import Case, CaseState, Casework
from mrtd.issuance.pipeline import (
    CHIP_DIR,
    PAGE_PDF,
    PAGE_PNG,
    RECEIPT,
    REPLACES,
    SEAL_FILE,
    AlreadyIssued,
    ChipOutcome,
    IssueOptions,
    Issuer,
    Production,
    Steps,
    application_key,
    application_payload,
    receive,
)
from mrtd.issuance.queue import Job, JobState, LeaseLost, Queue
from mrtd.issuance.records import AuditRow, DocumentRecord, EventRecord, RecordsError, RecordStore
from mrtd.issuance.reprint import Reprint, reprint_page
from mrtd.issuance.roles import Action, Forbidden, Principal, require
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import IN_PRODUCTION, DocumentState
from mrtd.issuance.stored import application_json, materialised, merge_changes, stored_application
from mrtd.issuance.users import register_station_key
from mrtd.pki.site import PkiSite
from mrtd.seals.verify import SealReport, Trust, check_seal

Clock = Callable[[], dt.datetime]
_REASON_LIMIT = 500
_ANSWERS = {DocumentState.ISSUED: "valid", DocumentState.VOIDED: "voided",
            DocumentState.REPORTED_LOST: "reported-lost", DocumentState.REPORTED_STOLEN: "reported-stolen"}
_FORMAT = re.compile(r"^(TD1|TD2|TD3|MRV-A|MRV-B)$")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@dataclass(frozen=True)
class Submitted:
    case: Case
    created: bool  # False: the very same application was submitted before (same id)
    warnings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A job leased to a station with what the centre produced for it."""

    job: Job
    number: str
    chip_profile: str
    files: dict[str, bytes] = field(repr=False)  # the chip's LDS files, by short name
    keys: str = field(repr=False)  # the per-document chip keys, sealed for the station (HPKE)
    can: str | None = None
    page: dict[str, bytes] = field(default_factory=dict, repr=False)  # page.png, page.pdf, seal.png
    receipt: dict[str, Any] = field(default_factory=dict)

    @property
    def key_info(self) -> str:
        return key_info(self.job.id, self.number)


def key_info(job_id: int, number: str) -> str:
    """What the sealed chip keys are bound to (HPKE info)."""
    return f"mrtd chip keys: job {job_id}, document {number}"


def _reason(reason: str | None, *, required: bool) -> str:
    text = " ".join((reason or "").split())
    if required and not text:
        raise InputError("reason: give the reason (it is recorded with who acted)")
    if len(text) > _REASON_LIMIT:
        raise InputError(f"reason: longer than {_REASON_LIMIT} characters")
    check_no_secrets(text, "reason")
    return text


class Office:
    """An issuing site opened for its use cases. `passphrase` unlocks the signing keys; without it the
    office can do everything that signs nothing (submit, decide, records, search, reprint, verify)."""

    def __init__(self, site: SiteConfig, *, clock: Clock, passphrase: bytes | None = None,
                 lease_seconds: float = 60.0, max_attempts: int = 3, print_check: bool | None = None) -> None:
        self.site = site
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.store: RecordStore = site.open_records(clock=clock)
        self.casework = Casework(self.store)
        self.queue = Queue(self.store, max_attempts=max_attempts)
        self._passphrase = passphrase
        self._print_check = site.print_check if print_check is None else print_check
        self._issuer: Issuer | None = None
        self._seal_trust: Trust | None = None
        self._lock = threading.Lock()
        self._signing = threading.Lock()

    def close(self) -> None:
        if self._issuer is not None:
            self._issuer.close()
        self.store.close()

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def issuer(self) -> Issuer:
        """The signing side, opened once (keys unlocked) and shared by every request; each call names
        its actor."""
        if self._passphrase is None:
            raise StateError("office: opened without the key passphrase, so it cannot produce documents")
        with self._lock:
            if self._issuer is None:
                self._issuer = Issuer(self.site, clock=self.clock, passphrase=self._passphrase,
                                      options=IssueOptions(actor="mrtd", print_check=self._print_check))
        return self._issuer

    # -- applications

    def submit(self, who: Principal, data: Mapping[str, Any], images: Mapping[str, bytes] | None = None, *,
               base_dir: Path | None = None, source: str = "") -> Submitted:
        """Receive an application (its images by file name in `images`, or files beside it in `base_dir`).
        Every finding at once when it is invalid (ValidationError); the same application again is the same
        case (`created` False)."""
        require(who, Action.SUBMIT)
        source = source or "application"
        if base_dir is not None:
            checked = check_application(data, base_dir, source, names=self.site.names, today=self._today())
            if checked.application is None or checked.errors:
                raise ValidationError(checked.errors or checked.findings, source=source)
            return self._receive(who, checked.application, checked.warnings)
        with tempfile.TemporaryDirectory(prefix="mrtd-intake-") as folder:
            for name, raw in (images or {}).items():
                if not name or "/" in name or "\\" in name or name in (".", ".."):
                    raise InputError(f"images: {name!r} is not a plain file name")
                (Path(folder) / name).write_bytes(raw)
            checked = check_application(data, Path(folder), source, names=self.site.names, today=self._today())
            if checked.application is None or checked.errors:
                raise ValidationError(checked.errors or checked.findings, source=source)
            return self._receive(who, checked.application, checked.warnings)

    def _receive(self, who: Principal, app: Any, warnings: Sequence[Finding]) -> Submitted:
        key = application_key(application_payload(app))
        before = self.casework.case_of_key(key)
        record = receive(self.store, self.casework, app, names=self.site.names, actor=who.name, findings=warnings)
        return Submitted(self.casework.case(record.id), before is None, tuple(warnings))

    def applications(self, who: Principal, *, state: CaseState | None = None, after: int = 0,
                     limit: int = 50) -> list[Case]:
        require(who, Action.LIST_APPLICATIONS)
        return self.casework.cases(state=state, after=after, limit=max(1, min(limit, 200)))

    def application(self, who: Principal, application_id: int) -> Case:
        """One application with its personal data; the read is audited."""
        require(who, Action.READ_PERSON)
        case = self.casework.case(application_id, with_payload=True)
        self._audit_read(who, case.key, {"id": application_id, "what": "application"})
        return case

    def _audit_read(self, who: Principal, subject: str, detail: Mapping[str, Any]) -> None:
        with self.store.writing() as w:
            w.audit(actor=who.name, action="person.read", subject=subject, detail=dict(detail))

    def approve(self, who: Principal, application_id: int, reason: str | None = None) -> Case:
        """Approve (four eyes: never the submitter) and queue it for production."""
        return self._decide(who, application_id, CaseState.APPROVED, _reason(reason, required=False))

    def reject(self, who: Principal, application_id: int, reason: str) -> Case:
        return self._decide(who, application_id, CaseState.REJECTED, _reason(reason, required=True))

    def _decide(self, who: Principal, application_id: int, to: CaseState, reason: str) -> Case:
        require(who, Action.DECIDE)
        case = self.casework.case(application_id)
        if case.submitted_by == who.name:
            raise Forbidden(f"application {application_id}: submitted by {who.name}, who may not also decide "
                            "it (four eyes)", rule="four-eyes")
        with self.store.writing() as w:
            self.casework.move(w, application_id, to, actor=who.name, reason=reason or None, decision=True)
            if to is CaseState.APPROVED:
                self.queue.enqueue(w, application_id, case.format, actor=who.name)
        return self.casework.case(application_id)

    # -- production

    def claim(self, who: Principal, station: str, *, formats: Sequence[str], public_key: str) -> Claim | None:
        """Lease the next job this station can do and produce it: None when there is nothing to do."""
        self._acting_station(who, station)
        for f in formats:
            if not _FORMAT.match(f):
                raise InputError(f"formats: {f!r} is not TD1, TD2, TD3, MRV-A or MRV-B")
        parse_public_key(public_key)
        register_station_key(self.store, who, public_key)
        self.expire_leases()
        while True:
            job = self.queue.lease(station, formats, seconds=self.lease_seconds)
            if job is None:
                return None
            made = self._produce(who, station, job, public_key)
            if made is not None:
                return made

    def _produce(self, who: Principal, station: str, job: Job, public_key: str) -> Claim | None:
        issuer = self.issuer()
        case = self.casework.case(job.application_id, with_payload=True)
        number = None
        try:
            with stored_application(case.payload, self.casework.images(job.application_id),
                                    names=self.site.names, source=f"application {job.application_id}") as app:
                photo = issuer.check_before_number(app)
                record = self.store.application(case.key)
                assert record is not None
                issuer.settle_previous(record, actor=station)
                number = issuer.draw_number(app, record, actor=station)
                self.queue.number_drawn(job.id, station, number)
                approval = {"approved_by": case.decided_by, "submitted_by": case.submitted_by,
                            "four_eyes": case.decided_by != case.submitted_by}
                # A PKCS#11 session is not shared between threads: one signing request at a time.
                signing = self._signing if self.site.pki_store == "pkcs11" else contextlib.nullcontext()
                with signing, tempfile.TemporaryDirectory(prefix=f"mrtd-job-{job.id}-") as tmp:
                    work = Path(tmp)
                    production = issuer.produce(app, number, case.key, work, Steps(), approval, actor=station,
                                                photo=photo)
                    production.receipt["station"] = station
                    page = {name: (work / name).read_bytes() for name in (PAGE_PNG, PAGE_PDF, SEAL_FILE)
                            if (work / name).is_file()}
            self.queue.attach(job.id, station, number, production.to_json())
        except AlreadyIssued as exc:
            self.queue.finish(job.id, station, JobState.DONE, outcome=str(exc), requeue=False)
            return None
        except LeaseLost:
            raise
        except MrtdError as exc:
            if number is not None:
                issuer.spoil(number, "produce", exc, actor=station)
            retry = isinstance(exc, RecordsError)
            finished = self.queue.finish(job.id, station, JobState.FAILED, outcome=f"{type(exc).__name__}: {exc}",
                                         requeue=retry)
            if not retry or finished.state is JobState.FAILED:
                self._fail_case(job.application_id, station, str(exc))
            return None
        image = production.image
        keys = ""
        if image is not None:
            keys = seal_keys(ChipKeys(image.aa_key, image.ca_key, image.ca_key_id), public_key,
                             key_info(job.id, number))
        self._audit_read(who, case.key, {"id": job.application_id, "what": "production", "job": job.id})
        files = dict(image.files) if image is not None else {}
        return Claim(self.queue.job(job.id), number, self.site.chip_profile, files, keys, production.can, page,
                     production.receipt)

    def _fail_case(self, application_id: int, actor: str, why: str) -> None:
        with self.store.writing() as w:
            self.casework.move(w, application_id, CaseState.FAILED, actor=actor, reason=why[:_REASON_LIMIT])

    def _acting_station(self, who: Principal, station: str) -> None:
        require(who, Action.PRODUCE)
        if not who.local and who.name != station:
            raise Forbidden(f"station {station}: {who.name} may act only as itself", rule="own-station")

    def heartbeat(self, who: Principal, job_id: int) -> Job:
        self._acting_station(who, who.name)
        return self.queue.heartbeat(job_id, who.name, seconds=self.lease_seconds)

    def report(self, who: Principal, job_id: int, chip: ChipOutcome | None,
               print_check: Mapping[str, str] | None) -> dict[str, Any]:
        """The station's result: the centre checks it and records the document issued (returns the
        receipt) or spoiled (raises, after queueing the next attempt)."""
        self._acting_station(who, who.name)
        station = who.name
        job = self.queue.held(job_id, station)
        if job.production is None or job.number is None:
            raise StateError(f"job {job_id}: nothing was produced for it")
        production = Production.from_json(job.production)
        issuer = self.issuer()
        checks = [_print_check(print_check)] if print_check is not None else []
        try:
            issuer.accept(production, chip, actor=station, checks=checks)
            receipt = production.receipt
            raw = (json.dumps(receipt, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
            issuer.record_issued(production, raw, actor=station)
        except MrtdError as exc:
            issuer.spoil(production.number, "report", exc, actor=station)
            finished = self.queue.finish(job_id, station, JobState.SPOILED, outcome=f"{type(exc).__name__}: {exc}",
                                         requeue=True)
            if finished.state is JobState.FAILED:
                self._fail_case(job.application_id, station, str(exc))
            raise
        self.queue.finish(job_id, station, JobState.DONE, outcome=f"issued {production.number}", requeue=False)
        return receipt

    def expire_leases(self) -> list[Job]:
        """Expire every lease that ran out: spoil its document, queue the next attempt."""
        expired = self.queue.expire_due(actor="lease-expiry", now=self.clock().astimezone(dt.UTC))
        if not expired:
            return expired
        for job in expired:
            if job.number is not None and self.store.document(job.number).state in IN_PRODUCTION:
                self.store.transition(job.number, DocumentState.SPOILED, actor="lease-expiry",
                                               detail={"step": "lease", "station": job.station,
                                                       "reason": "the station's lease expired"})
            if self.queue.job(job.id).state is JobState.FAILED:
                self._fail_case(job.application_id, "lease-expiry", "every attempt's lease expired")
        return expired

    # -- documents

    def document(self, who: Principal, number: str) -> tuple[DocumentRecord, list[EventRecord]]:
        require(who, Action.READ_DOCUMENT)
        return self.store.document(number), self.store.events(number)

    def change(self, who: Principal, number: str, to: DocumentState, reason: str | None) -> DocumentRecord:
        return change_document(self.store, who, number, to, reason)

    def replace(self, who: Principal, number: str, changes: Mapping[str, Any] | None = None,
                images: Mapping[str, bytes] | None = None) -> Submitted:
        """A new application from the one `number` was issued from, with `changes` laid over it (and new
        images when given), linked to the old document. It is received like any other: approval follows."""
        require(who, Action.REPLACE)
        old = self.store.document(number)
        if old.state not in (DocumentState.REPORTED_LOST, DocumentState.REPORTED_STOLEN, DocumentState.VOIDED):
            raise StateError(f"document {number}: it is {old.state.value}; a document is replaced after it is "
                             "reported lost or stolen, or voided")
        application_id = self.casework.application_of(number)
        case = self.casework.case(application_id, with_payload=True)
        data = merge_changes(application_json(case.payload), changes or {})
        data = merge_changes(data, {"extra": {REPLACES: number}})
        data["document"].pop("number", None)  # a new document gets a new number
        stored = self.casework.images(application_id)
        files = {f"{kind}.img": raw for kind, raw in stored.items()}
        for kind, raw in (images or {}).items():
            files[f"{kind}.new"] = raw
            data[kind] = f"{kind}.new"
        with materialised(data, files, names=self.site.names, source=f"replacement of {number}",
                          today=self._today()) as app:
            submitted = self._receive(who, app, ())
        self._audit_read(who, case.key, {"id": application_id, "what": "replacement", "of": number})
        return submitted

    def reprint(self, who: Principal, number: str) -> Reprint:
        require(who, Action.REPRINT)
        return reprint_page(number, store=self.store, site=self.site, actor=who.name)

    def issue_stored(self, who: Principal, application_id: int, out_dir: Path, **kwargs: Any) -> Any:
        """Issue a stored application here and now (a local site without stations): the local operator, or
        an approver's approval already recorded."""
        case = self.casework.case(application_id, with_payload=True)
        if not who.local and case.state is not CaseState.APPROVED:
            raise Forbidden(f"application {application_id}: only the local operator issues an application that "
                            "was not approved", rule="approval")
        if self._passphrase is None:
            raise StateError("office: opened without the key passphrase, so it cannot issue")
        options = IssueOptions(actor=who.name, print_check=self._print_check)
        with Issuer(self.site, clock=self.clock, passphrase=self._passphrase, options=options) as issuer, \
                stored_application(case.payload, self.casework.images(application_id), names=self.site.names,
                                   source=f"application {application_id}") as app:
            return issuer.issue(app, out_dir, **kwargs)

    # -- people

    def search(self, who: Principal, *, reason: str, name: str | None = None, birth_date: str | None = None,
               number: str | None = None, nationality: str | None = None, limit: int = 50) -> list[Case]:
        """People by name (any script or its transliteration), birth date, document number, nationality;
        the search is audited with who searched, why, and which applications it showed."""
        require(who, Action.SEARCH)
        why = _reason(reason, required=True)
        if not any((name, birth_date, number, nationality)):
            raise InputError("search: give at least one of name, birth_date, number, nationality")
        if birth_date is not None and not re.match(r"^[0-9X]{4}-[0-9X]{2}-[0-9X]{2}$", birth_date):
            raise InputError(f"birth_date: {birth_date!r} is not YYYY-MM-DD")
        found = self.casework.search(name=name, birth_date=birth_date, number=number, nationality=nationality,
                                     names=self.site.names, limit=max(1, min(limit, 200)))
        criteria = [k for k, v in (("name", name), ("birth_date", birth_date), ("number", number),
                                   ("nationality", nationality)) if v]
        with self.store.writing() as w:
            w.audit(actor=who.name, action="person.searched", subject="search",
                    detail={"reason": why, "criteria": criteria, "applications": [c.id for c in found]})
        return found

    # -- verifying

    def status(self, number: str, date_of_birth: str, date_of_expiry: str) -> str:
        """Anyone holding the document: its status (valid, expired, voided, reported-lost, reported-stolen),
        asked with the MRZ's number, date of birth and date of expiry so that numbers cannot be
        enumerated: a wrong date, an unknown number and a document never issued all answer `unknown`. The
        question is audited without who asked."""
        answer = "unknown"
        try:
            record = self.store.document(number.strip().upper())
            holder = self.casework.case(record.application_id, with_payload=True).payload
            known = (holder.get("holder", {}).get("date_of_birth") == date_of_birth
                     and holder.get("document", {}).get("date_of_expiry") == date_of_expiry)
            if known and record.state in _ANSWERS:
                answer = _ANSWERS[record.state]
                if answer == "valid" and dt.date.fromisoformat(date_of_expiry) <= self._today():
                    answer = "expired"
        except (InputError, ValueError):
            pass  # an unknown or malformed number: the same answer as a wrong date
        with self.store.writing() as w:
            w.audit(actor="anonymous", action="document.status-asked", subject=number[:9],
                    detail={"answer": answer})
        return answer

    def verify_seal(self, data: bytes) -> SealReport:
        """Anyone: a seal (image, bytes, IDB text) checked against the site's CSCA and seal signers."""
        if self._seal_trust is None:
            pki = PkiSite(self.site.root, clock=self.clock)
            signers = [as_certificate(pki.certificate(rec)) for rec in pki.list()
                       if rec.role in ("seal-signer", "vdsnc-signer")]
            self._seal_trust = Trust(pki.trust_store(), signers)
        return check_seal(data, self._seal_trust, self.clock().astimezone(dt.UTC))

    # -- audit

    def audit(self, who: Principal, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        require(who, Action.READ_AUDIT)
        with self.store.reading() as s:
            rows = s.execute(select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq)
                             .limit(max(1, min(limit, 1000)))).scalars()
            return [AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, json.loads(r.detail), r.prev_hash, r.hash)
                    for r in rows]

    def _today(self) -> dt.date:
        return self.clock().astimezone(dt.UTC).date()


def change_document(store: RecordStore, who: Principal, number: str, to: DocumentState,
                    reason: str | None) -> DocumentRecord:
    """Void, report lost, report stolen (a use case that needs only the records)."""
    require(who, Action.CHANGE_DOCUMENT)
    if to not in (DocumentState.VOIDED, DocumentState.REPORTED_LOST, DocumentState.REPORTED_STOLEN):
        raise InputError(f"state: {to.value} is not voided, reported-lost or reported-stolen")
    text = _reason(reason, required=to is DocumentState.VOIDED)
    store.transition(number, to, actor=who.name, detail={"reason": text} if text else {})
    return store.document(number)


def _print_check(data: Mapping[str, str]) -> dict[str, str]:
    status = str(data.get("status", ""))
    if status not in ("pass", "fail", "skipped", "not-applicable"):
        raise InputError(f"print_check.status: {status!r} is not pass, fail, skipped or not-applicable")
    return {"name": "station-print", "status": status, "detail": str(data.get("detail", ""))[:500]}


__all__ = ["CHIP_DIR", "RECEIPT", "Claim", "Office", "Submitted", "os_user"]
