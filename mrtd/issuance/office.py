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

import base64
import contextlib
import datetime as dt
import getpass
import hashlib
import json
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from mrtd.asn1.keys import CurveKey, key_bits
from mrtd.asn1.x509 import Certificate, as_certificate
from mrtd.chip.keytransport import ChipKeys, parse_public_key, seal_keys
from mrtd.errors import Finding, InputError, MrtdError, StateError, ValidationError
from mrtd.issuance.application import check_application, image_findings
from mrtd.issuance.audit import AuditEntry, AuditReport, check_no_secrets, verify_chain
from mrtd.issuance.casework import Case, CaseState, Casework
from mrtd.issuance.photo import PhotoChecks, PhotoReport, check_photo, photo_sha256
from mrtd.issuance.pipeline import (
    CHIP_DIR,
    PAGE_PDF,
    PAGE_PNG,
    RECEIPT,
    REPLACES,
    SEAL_FILE,
    SEAL_PAYLOAD,
    AlreadyIssued,
    ChipOutcome,
    IssueOptions,
    Issuer,
    Production,
    Steps,
    receive,
    seal_png,
)
from mrtd.issuance.preview import Preview, page_preview, preview_application
from mrtd.issuance.production import ProductionReport, production_report
from mrtd.issuance.queue import Job, JobState, LeaseLost, Queue
from mrtd.issuance.records import (
    AlreadyBeingIssued,
    ApplicationRecord,
    AuditRow,
    DocumentRecord,
    EventRecord,
    RecordsError,
    RecordStore,
)
from mrtd.issuance.reprint import Reprint, issued_page, reprint_page
from mrtd.issuance.roles import Action, Forbidden, Principal, require
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import IN_PRODUCTION, REPLACEABLE, DocumentState
from mrtd.issuance.stored import application_json, materialised, merge_changes, stored_application
from mrtd.issuance.users import register_station_key
from mrtd.pki.keys import Secrets
from mrtd.pki.signer import hash_for_bits
from mrtd.pki.site import PkiSite
from mrtd.private import write_private
from mrtd.seals.signers import idb_reference, signer_id
from mrtd.seals.verify import SealReport, Trust, check_seal

Clock = Callable[[], dt.datetime]
_REASON_LIMIT = 500
_ANSWERS = {DocumentState.ISSUED: "valid", DocumentState.VOIDED: "voided",
            DocumentState.REPORTED_LOST: "reported-lost", DocumentState.REPORTED_STOLEN: "reported-stolen"}
_FORMAT = re.compile(r"^(TD1|TD2|TD3|MRV-A|MRV-B)$")
TRUST_LIST_SECONDS = 300


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


@dataclass(frozen=True)
class DocumentView:
    """A document as a supervisor looks at it: its record and events, the page made again from the records
    (PNG), its seal (image and verdict) and the receipt with the chip's checks."""

    record: DocumentRecord
    events: list[EventRecord]
    page_png: bytes | None = field(default=None, repr=False)
    page_error: str = ""
    seal_png: bytes | None = field(default=None, repr=False)
    seal: SealReport | None = None
    receipt: dict[str, Any] = field(default_factory=dict)


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
    """An issuing site opened for its use cases. `secrets` (each key's own, by role) unlock the signing keys; without it the
    office can do everything that signs nothing (submit, decide, records, search, reprint, verify)."""

    def __init__(self, site: SiteConfig, *, clock: Clock, secrets: Secrets | None = None,
                 lease_seconds: float = 60.0, max_attempts: int = 3, print_check: bool | None = None) -> None:
        self.site = site
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.store: RecordStore = site.open_records(clock=clock, audit_secret=(secrets or {}).get("audit"))
        self.casework = Casework(self.store)
        self.queue = Queue(self.store, max_attempts=max_attempts)
        self._secrets = secrets
        self._print_check = site.print_check if print_check is None else print_check
        self._issuer: Issuer | None = None
        self._seal_trust: Trust | None = None
        self._verifier_trust: tuple[dt.datetime, dict[str, Any]] | None = None
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

    def checkpoint(self) -> None:
        """Sign the audit log's head if this office wrote entries since its last checkpoint (with the audit key)."""
        self.store.checkpoint_if_wrote()
        if self._issuer is not None:
            self._issuer.store.checkpoint_if_wrote()

    def issuer(self) -> Issuer:
        """The signing side, opened once (keys unlocked) and shared by every request; each call names
        its actor."""
        if self._secrets is None:
            raise StateError("office: opened without the signing keys' secrets, so it cannot produce documents")
        with self._lock:
            if self._issuer is None:
                self._issuer = Issuer(self.site, clock=self.clock, secrets=self._secrets,
                                      options=IssueOptions(actor="mrtd", print_check=self._print_check),
                                      store=self.store)
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
            return self._receive(who, checked.application, checked.warnings, checked.photo)
        with tempfile.TemporaryDirectory(prefix="mrtd-intake-") as folder:
            for name, raw in (images or {}).items():
                if not name or "/" in name or "\\" in name or name in (".", ".."):
                    raise InputError(f"images: {name!r} is not a plain file name")
                write_private(Path(folder) / name, raw)
            checked = check_application(data, Path(folder), source, names=self.site.names, today=self._today())
            if checked.application is None or checked.errors:
                raise ValidationError(checked.errors or checked.findings, source=source)
            return self._receive(who, checked.application, checked.warnings, checked.photo)

    def _receive(self, who: Principal, app: Any, warnings: Sequence[Finding],
                 photo: PhotoReport | None = None) -> Submitted:
        received = receive(self.casework, app, names=self.site.names, actor=who.name, findings=warnings, photo=photo)
        return Submitted(received.case, received.created, tuple(warnings))

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
            try:
                made = self._produce(who, station, job, public_key)
            except AlreadyBeingIssued:
                return None  # its job is back in the queue; the station asks again later
            if made is not None:
                return made

    def _produce(self, who: Principal, station: str, job: Job, public_key: str) -> Claim | None:
        issuer = self.issuer()
        case = self.casework.case(job.application_id, with_payload=True)
        number = None
        try:
            images = self.casework.images(job.application_id)
            photos = self._photo_checks(job.application_id, images)
            with stored_application(case.payload, images, names=self.site.names,
                                    source=f"application {job.application_id}", photos=photos) as app:
                photo = issuer.check_before_number(app, photos=photos)
                received = self.store.application(case.key)
                assert received is not None
                # Not while the application is being issued directly (`issue_stored`): that run's document
                # is no leftover to spoil. Once produced, the job's lease keeps the direct runs off it.
                with self.store.issuing(received):
                    record = self.store.application(case.key)
                    assert record is not None
                    issuer.settle_previous(record, actor=station)
                    with self.store.writing():  # the document and the job that made it know each other at once
                        drawn = issuer.draw_number(app, record, actor=station)
                        self.queue.number_drawn(job.id, station, drawn)
                    number = drawn  # only once committed: a number rolled back has no document to spoil
                    approval = {"approved_by": case.decided_by, "submitted_by": case.submitted_by,
                                "four_eyes": case.decided_by != case.submitted_by}
                    # A PKCS#11 session is not shared between threads: one signing request at a time.
                    signing = self._signing if self.site.pki_store == "pkcs11" else contextlib.nullcontext()
                    with signing, tempfile.TemporaryDirectory(prefix=f"mrtd-job-{job.id}-") as tmp:
                        work = Path(tmp)
                        production = issuer.produce(app, number, case.key, work, Steps(), approval,
                                                    actor=station, photo=photo, record_seal=False)
                        production.receipt["station"] = station
                        page = {name: (work / name).read_bytes() for name in (PAGE_PNG, PAGE_PDF, SEAL_FILE)
                                if (work / name).is_file()}
                    with self.store.writing():  # the seal recorded with the production the station will fetch
                        issuer.record_seal(production, actor=station)
                        self.queue.attach(job.id, station, number, production.to_json())
                        self._audit_read(who, case.key, {"id": job.application_id, "what": "production",
                                                         "job": job.id})
        except AlreadyIssued as exc:
            self.queue.finish(job.id, station, JobState.DONE, outcome=str(exc), requeue=False)
            return None
        except AlreadyBeingIssued as exc:
            self.queue.release(job.id, station, reason=str(exc))
            raise
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
        files = dict(image.files) if image is not None else {}
        return Claim(self.queue.job(job.id), number, self.site.chip_profile, files, keys, production.can, page,
                     production.receipt)

    def _photo_checks(self, application_id: int, images: Mapping[str, bytes]) -> PhotoChecks:
        """The portrait's photo check that intake kept (measuring the photo again would cost more than all
        the rest of intake), or for a case received without one, made now once for every step after."""
        kept = self.casework.photo_checks(application_id)
        portrait = images.get("portrait")
        if kept or portrait is None:
            return kept
        return {photo_sha256(portrait): check_photo(portrait)}

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
            with self.store.writing():  # issued and the job done together, or neither
                issuer.record_issued(production, raw, actor=station)
                self.queue.finish(job_id, station, JobState.DONE, outcome=f"issued {production.number}",
                                  requeue=False)
        except MrtdError as exc:
            issuer.spoil(production.number, "report", exc, actor=station)
            finished = self.queue.finish(job_id, station, JobState.SPOILED, outcome=f"{type(exc).__name__}: {exc}",
                                         requeue=True)
            if finished.state is JobState.FAILED:
                self._fail_case(job.application_id, station, str(exc))
            raise
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
        if old.state not in REPLACEABLE:
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
        if self._secrets is None:
            raise StateError("office: opened without the signing keys' secrets, so it cannot issue")
        options = IssueOptions(actor=who.name, print_check=self._print_check)
        with Issuer(self.site, clock=self.clock, secrets=self._secrets, options=options,
                    held_elsewhere=self._leased, store=self.store) as issuer, \
                stored_application(case.payload, self.casework.images(application_id), names=self.site.names,
                                   source=f"application {application_id}",
                                   photos=self.casework.photo_checks(application_id)) as app:
            return issuer.issue(app, out_dir, **kwargs)

    def _leased(self, record: ApplicationRecord) -> str | None:
        """The station whose live lease holds the application's document in production, if one does."""
        now = self.clock().astimezone(dt.UTC)
        for job in self.queue.jobs_of(record.id):
            if job.state is JobState.LEASED and job.lease_expires_at is not None and job.lease_expires_at > now:
                return (f"station {job.station} (job {job.id}, leased until "
                        f"{job.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC)")
        return None

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
        """Anyone: a seal (image, PDF, bytes, IDB text) checked against the site's CSCA and seal signers."""
        return check_seal(data, self._trust(), self.clock().astimezone(dt.UTC))

    def _trust(self) -> Trust:
        if self._seal_trust is None:
            pki = PkiSite(self.site.root, clock=self.clock)
            signers = [as_certificate(pki.certificate(rec)) for rec in pki.list()
                       if rec.role in ("seal-signer", "vdsnc-signer")]
            self._seal_trust = Trust(pki.trust_store(), signers)
        return self._seal_trust

    # -- audit

    def audit(self, who: Principal, *, after: int = 0, limit: int = 100, actor: str | None = None,
              action: str | None = None, subject: str | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, newest_first: bool = False) -> list[AuditEntry]:
        """Audit entries after `after` (or, newest first, before it when it is not 0), filtered by actor,
        action (a prefix: `document.` is every document action), subject and time (since <= at < until)."""
        require(who, Action.READ_AUDIT)
        query = select(AuditRow)
        if newest_first:
            query = query.where(AuditRow.seq < after) if after else query
            query = query.order_by(AuditRow.seq.desc())
        else:
            query = query.where(AuditRow.seq > after).order_by(AuditRow.seq)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if action:
            query = query.where(AuditRow.action.startswith(action, autoescape=True))
        if subject:
            query = query.where(AuditRow.subject == subject)
        for bound, op in ((since, "ge"), (until, "lt")):
            if bound is not None:
                stamp = bound.astimezone(dt.UTC).isoformat(timespec="microseconds")
                query = query.where(AuditRow.at >= stamp if op == "ge" else AuditRow.at < stamp)
        with self.store.reading() as s:
            rows = s.execute(query.limit(max(1, min(limit, 1000)))).scalars()
            return [AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, json.loads(r.detail), r.prev_hash, r.hash)
                    for r in rows]

    def verify_audit(self, who: Principal) -> AuditReport:
        """Walk the whole audit chain (auditor)."""
        require(who, Action.READ_AUDIT)
        return verify_chain(self.store)

    # -- what the web pages show beside the use cases above (same rights, same audited reads)

    def preview(self, who: Principal, data: Mapping[str, Any]) -> Preview:
        """The MRZ and printed name of an application being filled in, with every finding (clerk)."""
        require(who, Action.SUBMIT)
        return preview_application(data, self.site, self._today())

    def check_image(self, who: Principal, kind: str, raw: bytes) -> list[Finding]:
        """The findings intake would make about a portrait (the photo check) or a signature image (clerk)."""
        require(who, Action.SUBMIT)
        if kind not in ("portrait", "signature"):
            raise InputError(f"kind: {kind!r} is not portrait or signature")
        with tempfile.TemporaryDirectory(prefix="mrtd-image-") as folder:
            path = Path(folder) / kind
            write_private(path, raw)
            return image_findings(path, kind)

    def page_preview(self, who: Principal, application_id: int) -> bytes:
        """The page an application will print (specimen number, no seal), as PNG; the read is audited."""
        require(who, Action.READ_PERSON)
        case = self.casework.case(application_id, with_payload=True)
        with stored_application(case.payload, self.casework.images(application_id), names=self.site.names,
                                source=f"application {application_id}",
                                photos=self.casework.photo_checks(application_id)) as app:
            png = page_preview(app, self.site)
        self._audit_read(who, case.key, {"id": application_id, "what": "page-preview"})
        return png

    def document_view(self, who: Principal, number: str) -> DocumentView:
        """A document's record, events, page, seal and chip report (supervisor; the read is audited)."""
        require(who, Action.READ_DOCUMENT)
        require(who, Action.READ_PERSON)
        record, events = self.document(who, number)
        kept = self.casework.files(number)
        receipt: dict[str, Any] = {}
        if RECEIPT in kept:
            with contextlib.suppress(ValueError):
                receipt = json.loads(kept[RECEIPT])
        page, page_error = None, ""
        try:
            page = issued_page(number, store=self.store, site=self.site, dpi=150, check=False,
                               names=(PAGE_PNG,)).get(PAGE_PNG)
        except MrtdError as exc:
            page_error = str(exc)
        seal_image, seal = None, None
        if SEAL_PAYLOAD in kept:
            symbology = (receipt.get("seal") or {}).get("symbology", self.site.symbology)
            seal_image = seal_png(kept[SEAL_PAYLOAD], symbology)
            seal = self.verify_seal(kept[SEAL_PAYLOAD])
        self._audit_read(who, record.application_key, {"id": record.application_id, "what": "document",
                                                        "number": number})
        return DocumentView(record, events, page, page_error, seal_image, seal, receipt)

    def production(self, who: Principal) -> ProductionReport:
        """Stations, jobs, documents per hour and spoil rates (supervisor, auditor; no personal data)."""
        require(who, Action.READ_PRODUCTION)
        return production_report(self.queue, self.clock())

    def verifier_trust(self) -> dict[str, Any]:
        """Anyone: the trust list an offline verifier carries: the site's CSCAs and every seal signer whose
        path to a CSCA the site validated now, with what a browser needs to check a seal (the key as a curve
        point, how seals refer to the signer, the validity)."""
        now = self.clock().astimezone(dt.UTC)
        kept = self._verifier_trust
        if kept is not None and dt.timedelta(0) <= now - kept[0] < dt.timedelta(seconds=TRUST_LIST_SECONDS):
            return kept[1]  # a public page asks for it on every load: validate the paths once a while
        trust = self._trust()
        signers = []
        for cert in trust.lookup:
            purposes = [p for p in ("seal", "vdsnc") if trust.store.validate(cert, now, purpose=p).ok]
            signers.append(_trusted_signer(cert, purposes))
        cscas = [{"subject": c.subject_text, "sha256": hashlib.sha256(c.der).hexdigest(),
                  "not_before": c.not_before.isoformat(), "not_after": c.not_after.isoformat(),
                  "der": base64.b64encode(c.der).decode("ascii")}
                 for c in trust.store.certificates() if c.self_issued]
        made = {"issuer": self.site.country, "made_at": now.isoformat(timespec="seconds"), "cscas": cscas,
                "signers": signers}
        self._verifier_trust = (now, made)
        return made

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


def _trusted_signer(cert: Certificate, purposes: list[str]) -> dict[str, Any]:
    """A seal signer as the offline verifier reads it: the public key as an uncompressed point on a named
    curve, the VDS signer id and serial, the IDB reference, the certificate's SHA-256 (a VDS-NC or IDB that
    embeds its signer is matched by it) and the purposes (seal: VDS and IDB; vdsnc) for which the site
    validated its path to a CSCA."""
    key = cert.public_key
    if isinstance(key, CurveKey):
        curve, x, y = key.curve.name, key.x, key.y
    elif isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        curve, x, y = key.curve.name, numbers.x, numbers.y
    else:
        curve, x, y = "", 0, 0  # not an EC key: no seal verifies with it
    size = (key_bits(key) + 7) // 8
    return {"subject": cert.subject_text, "issuer": cert.issuer_text, "serial": f"{cert.serial:X}",
            "signer_id": signer_id(cert), "sha1": cert.sha1.hex(), "idb_ref": idb_reference(cert).hex(),
            "sha256": hashlib.sha256(cert.der).hexdigest(), "curve": curve,
            "point": "04" + x.to_bytes(size, "big").hex() + y.to_bytes(size, "big").hex() if curve else "",
            "hash": hash_for_bits(key_bits(key)).value if curve else "",
            "not_before": cert.not_before.isoformat(), "not_after": cert.not_after.isoformat(),
            "purposes": purposes}


def _print_check(data: Mapping[str, str]) -> dict[str, str]:
    status = str(data.get("status", ""))
    if status not in ("pass", "fail", "skipped", "not-applicable"):
        raise InputError(f"print_check.status: {status!r} is not pass, fail, skipped or not-applicable")
    return {"name": "station-print", "status": status, "detail": str(data.get("detail", ""))[:500]}


__all__ = ["CHIP_DIR", "RECEIPT", "Claim", "DocumentView", "Office", "Submitted", "os_user"]
