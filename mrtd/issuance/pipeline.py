"""The issuing pipeline: one application -> one issued document, its outputs and its records.

validate (the photo check included) -> allocate a unique number -> MRZ -> portrait -> LDS + EF.SOD -> seal
-> data page with the seal -> print check (OCR) -> chip personalisation with read-back -> record.

Records are the arbiter. The application is received idempotently (its key is a hash of its content),
a number is drawn only when the application has no live document, and every state change is written as it
happens. A failure after the number was drawn marks that document `spoiled` (the number is never reused)
and the application may be issued again under a new number. Outputs are written into a hidden
`.partial-<number>-<name>` sibling and renamed into place only after the records say `issued`; a crash
between the two is repaired by `recover_partials`.

Which products a document gets follows Doc 9303: a chip for every format but visas (no eMRV exists); a
printed page for every format (mrtd.layouts' templates, or the site's own); a visible digital seal where an ICAO seal
profile exists: a visa gets the Part 13 VDS visa seal (with the passport number and duration of stay
from the application's `extra`); a TD1 or TD3 document (any code, emergency passports included) gets an
IDB holding its own MRZ (message 0x07 / 0x08, plus 0x09 CAN when it has one); a TD2 emergency travel
document (extra `seal.type` = `etd`) gets an IDB with the ICAO ETD message. What a document does not get
is said in the receipt, with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.asn1.x509 import as_certificate
from mrtd.chip.document import DocumentImage, build_document_image, write_folder
from mrtd.chip.onchip import ChipKeys, personalise_with_chip_keys
from mrtd.chip.passive import passive_authentication
from mrtd.chip.perso import ChipImage, PersoReport, personalise
from mrtd.chip.portrait import prepare_portrait, prepare_signature
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.chip.transport import Transport
from mrtd.errors import (
    ChipError,
    ConfigurationError,
    Finding,
    InputError,
    MrtdError,
    StateError,
    ValidationError,
)
from mrtd.issuance.audit import canonical_json
from mrtd.issuance.casework import CaseState, Casework, Received
from mrtd.issuance.inventory import draw_number, requested_numbers
from mrtd.issuance.photo import PhotoChecks, PhotoReport, check_photo
from mrtd.issuance.records import (
    AlreadyBeingIssued,
    ApplicationRecord,
    RecordsError,
    RecordStore,
    UnknownRecord,
)
from mrtd.issuance.site import SiteConfig
from mrtd.issuance.states import ABANDONED, IN_PRODUCTION, DocumentState
from mrtd.layouts import load_template, sheet_pdf
from mrtd.layouts import render as render_page
from mrtd.layouts import write as write_page
from mrtd.layouts.qa import mrz_image, verify_print
from mrtd.layouts.template import Template
from mrtd.layouts.viewmodel import page_from_document
from mrtd.model import Application, Document, DocumentFormat, PartialDate
from mrtd.mrz import NameOptions, mrz_lines
from mrtd.pki.cvc.certificate import CvCertificate
from mrtd.pki.cvc.store import CvPki
from mrtd.pki.keys import Secrets, secret_of
from mrtd.pki.signer import Signer
from mrtd.pki.site import PkiSite
from mrtd.pki.trust import TrustStore
from mrtd.private import DIR_MODE, private_dir, tighten, write_private
from mrtd.seals import barcode
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb, make_vds, parse_duration
from mrtd.seals.verify import Trust, check_seal

Clock = Callable[[], dt.datetime]
TransportFactory = Callable[[], Transport]
RECEIPT_VERSION = 1
RECEIPT = "receipt.json"
SEAL_FILE = "seal.png"
CHIP_DIR = "chip"
PAGE_PNG = "page.png"
PAGE_PDF = "page.pdf"
PRINT_SHEET = "print-sheet.pdf"
SEAL_PAYLOAD = "seal.payload"  # the signed seal's bytes, kept in the records for reprints
REPLACES = "replaces"  # the application's extra naming the document it replaces
_PARTIAL = re.compile(r"^\.partial-([A-Z0-9]{1,9})-(.+)$")
PAGE_TEMPLATES = {DocumentFormat.TD3: "td3", DocumentFormat.TD1: "td1", DocumentFormat.TD2: "td2",
                  DocumentFormat.MRVA: "mrv-a", DocumentFormat.MRVB: "mrv-b"}


def page_template(site: SiteConfig, fmt: DocumentFormat) -> Template | None:
    """The page template for a format: the site's own (`[page] templates`), else the shipped one, else None.
    A site template is checked against the standard's MRZ geometry when loaded, and must be of `fmt`."""
    name = site.page_templates.get(fmt.value) or PAGE_TEMPLATES.get(fmt)
    if name is None:
        return None
    template = load_template(name)
    if template.format is not fmt:
        raise ConfigurationError(f"page.templates.{fmt.value}: {name} is a {template.format.value} template")
    return template


S = DocumentState


class PipelineError(MrtdError):
    """A step failed. Names the step; when a number was drawn, that document is now spoiled and the
    application can be issued again (`retryable`), unless the spoil could not be recorded (`unspoiled`)."""

    def __init__(self, step: str, message: str, *, number: str | None = None, cause: MrtdError | None = None,
                 unspoiled: SpoilNotRecorded | None = None) -> None:
        self.step = step
        self.number = number
        self.cause = cause
        self.unspoiled = unspoiled  # the spoil of `number` could not be recorded either
        self.retryable = True
        where = ""
        if unspoiled is not None:
            where = f" ({unspoiled})"
        elif number:
            where = f" (document {number} spoiled; the application can be issued again)"
        super().__init__(f"step {step}: {message}{where}")


class SpoilNotRecorded(RecordsError):
    """A failed document could not be recorded as spoiled (the database failed or the disk is full): it stays
    in its production state, its number reserved; the next run of its application spoils it."""

    def __init__(self, number: str, reason: str) -> None:
        self.number = number
        super().__init__(f"could not record the spoil of {number}: {reason}; the number stays reserved, and the "
                         "next run of the application spoils it")


class AlreadyIssued(StateError):
    """The application already has a document that was issued (or is issued and later voided/lost)."""

    def __init__(self, key: str, number: str, state: DocumentState) -> None:
        self.key = key
        self.number = number
        self.state = state
        super().__init__(f"application {key[:16]}…: already issued as document {number} ({state.value})")


@dataclass(frozen=True)
class IssueOptions:
    """What the pipeline does beyond the records. `render_page=False` skips the page and its OCR check
    (the crash test and the benchmark's "no page" figure use it); `print_check=False` renders but skips
    OCR. `actor` is who issues, for the records."""

    render_page: bool = True
    print_check: bool = True
    actor: str = "mrtd"


_DEFAULT_OPTIONS = IssueOptions()


@dataclass(frozen=True)
class Receipt:
    """What was issued: the document number, the output folder and the full receipt (as in receipt.json)."""

    number: str
    application_key: str
    out_dir: Path
    data: Mapping[str, Any] = field(repr=False)
    timings: tuple[Mapping[str, Any], ...] = ()

    @property
    def steps(self) -> dict[str, float]:
        """Seconds per step, the final record step included (receipt.json stops before it)."""
        return {s["step"]: s["seconds"] for s in self.timings or self.data["steps"]}

    @property
    def checks(self) -> dict[str, str]:
        return {c["name"]: c["status"] for c in self.data["checks"]}

    def as_dict(self) -> dict[str, Any]:
        return dict(self.data)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seal_png(payload: bytes, symbology: str) -> bytes:
    """The seal's image: the signed payload as a QR code or DataMatrix."""
    return barcode.to_png(barcode.render(payload, barcode.Symbology(symbology)))


@dataclass
class Production:
    """What the centre produced for one numbered document before its chip is personalised: the receipt so
    far (its `checks` too), the chip's files (their digests survive a trip through the queue; the image
    with its per-document private keys exists only in the process that produced it) and the seal."""

    number: str
    key: str
    receipt: dict[str, Any]
    can: str | None = None
    image: DocumentImage | None = field(default=None, repr=False)
    # on-chip keys: builds the image once the chip has made its key pairs (in this process only)
    build: Callable[[ChipKeys], DocumentImage] | None = field(default=None, repr=False)
    file_digests: dict[str, str] = field(default_factory=dict)
    data_groups: list[int] = field(default_factory=list)
    seal_payload: bytes | None = None
    seal_format: str | None = None  # "idb" or "vds", what the records keep of the seal (`record_seal`)

    def set_image(self, image: DocumentImage) -> None:
        self.image = image
        self.file_digests = {name: sha256_hex(data) for name, data in image.files.items()}
        self.data_groups = sorted(image.data_groups)

    def chip_image(self) -> ChipImage:
        if self.image is None:
            raise StateError(f"document {self.number}: no chip image in this process")
        i = self.image
        return ChipImage(dict(i.files), i.aa_key, i.ca_key, i.ca_key_id, self.can, cvca=i.cvca, chip_date=i.chip_date)

    def to_json(self) -> dict[str, Any]:
        """Everything but the chip image, for the queue to keep until the station reports."""
        return {"number": self.number, "key": self.key, "receipt": self.receipt, "can": self.can,
                "file_digests": self.file_digests, "data_groups": self.data_groups,
                "seal_payload": self.seal_payload.hex() if self.seal_payload is not None else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Production:
        seal = data.get("seal_payload")
        return cls(number=data["number"], key=data["key"], receipt=dict(data["receipt"]), can=data.get("can"),
                   file_digests=dict(data["file_digests"]), data_groups=list(data["data_groups"]),
                   seal_payload=bytes.fromhex(seal) if seal else None)


@dataclass(frozen=True)
class ChipOutcome:
    """A chip personalised and read back, here or at a station: its report and the files read back."""

    report: dict[str, Any]
    files: Mapping[str, bytes] = field(repr=False)
    reader: str

    @property
    def ok(self) -> bool:
        return self.report.get("status") == "personalised"

    @property
    def profile(self) -> str:
        return str(self.report.get("profile", ""))

    @property
    def access(self) -> str:
        return str(self.report.get("access", "?"))

    @classmethod
    def of(cls, report: PersoReport, reader: str) -> ChipOutcome:
        data = report.as_dict()
        data["access"] = report.read.access if report.read else "?"
        return cls(data, dict(report.read.files) if report.read else {}, reader)


# --- the application as records keep it --------------------------------------------------------------


def _file_digest(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"{what}: cannot read {path} ({exc.strerror or exc})") from None


def _date(d: dt.date | PartialDate | None) -> str | None:
    if d is None:
        return None
    return d.iso() if isinstance(d, PartialDate) else d.isoformat()


def application_payload(application: Application) -> dict[str, Any]:
    """The application's content as JSON: every fact, images by SHA-256 (not by path), no secret."""
    doc = application.document
    h = doc.holder
    payload: dict[str, Any] = {
        "document": {
            "code": str(doc.code), "format": doc.format.value, "issuing_state": doc.issuing_state,
            "requested_number": doc.number, "date_of_issue": _date(doc.date_of_issue),
            "date_of_expiry": _date(doc.date_of_expiry), "authority": doc.authority,
            "optional_data": doc.optional_data, "optional_data_2": doc.optional_data_2, "can": doc.can,
        },
        "holder": {
            "primary_identifier": h.primary_identifier, "secondary_identifier": h.secondary_identifier,
            "nationality": h.nationality, "date_of_birth": _date(h.date_of_birth), "sex": h.sex.value,
            "place_of_birth": h.place_of_birth, "personal_number": h.personal_number,
            "name_in_national_characters": h.name_in_national_characters, "other_names": list(h.other_names),
            "address": h.address, "telephone": h.telephone, "profession": h.profession, "title": h.title,
        },
        "portrait_sha256": _file_digest(application.portrait, "portrait"),
        "signature_sha256": _file_digest(application.signature, "signature"),
        "extra": dict(sorted(application.extra.items())),
    }
    # Kept only when given, so that the key of an application without them is what it always was.
    for section, values in (("document", {"observations": doc.observations}),
                            ("holder", {"primary_identifier_latin": h.primary_identifier_latin,
                                        "secondary_identifier_latin": h.secondary_identifier_latin,
                                        "place_of_birth_latin": h.place_of_birth_latin})):
        payload[section].update({k: v for k, v in values.items() if v})
    return payload


def application_key(payload: Mapping[str, Any]) -> str:
    """The content hash that makes receipt idempotent: the same application is the same key."""
    return hashlib.sha256(canonical_json(dict(payload), "application")).hexdigest()


def receive(casework: Casework, application: Application, *, names: NameOptions, actor: str,
            findings: Sequence[Finding] = (), photo: PhotoReport | None = None) -> Received:
    """Record the application once (the key is a hash of its content) with its case: the images, the
    person index, who submitted it and (`photo`) intake's photo check of the portrait. The record, the
    case, and whether this call made them (False: the same application was received before)."""
    payload = application_payload(application)
    images = {kind: data for kind, data in (("portrait", _read(application.portrait, "portrait")),
                                            ("signature", _read(application.signature, "signature")))
              if data is not None}
    return casework.receive(application_key(payload), payload, images=images, findings=findings, names=names,
                            actor=actor, replaces=application.extra.get(REPLACES) or None, photo=photo)


# --- output folders -----------------------------------------------------------------------------------


def partial_dir(final: Path, number: str) -> Path:
    return final.parent / f".partial-{number}-{final.name}"


def recover_partials(store: RecordStore, out_root: Path) -> dict[str, list[str]]:
    """Repair what a crash left in `out_root`: a partial folder whose document the records say is issued is
    renamed into place; any other partial folder (its document was never issued) is removed."""
    done: dict[str, list[str]] = {"finished": [], "removed": []}
    if not out_root.is_dir():
        return done
    for entry in sorted(out_root.iterdir()):
        m = _PARTIAL.match(entry.name)
        if not m or not entry.is_dir():
            continue
        number, name = m.group(1), m.group(2)
        final = out_root / name
        try:
            state = store.document(number).state
        except UnknownRecord:
            state = None
        if state is S.ISSUED and not final.exists() and (entry / RECEIPT).is_file():
            entry.rename(final)
            done["finished"].append(number)
        elif state is None or state is not S.ISSUED or final.exists():
            shutil.rmtree(entry, ignore_errors=True)
            done["removed"].append(number)
    return done


def _digests(folder: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != RECEIPT:
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _write_json(path: Path, value: Any) -> None:
    write_private(path, json.dumps(value, ensure_ascii=False, indent=1) + "\n", exclusive=True, sync=True)


# --- steps --------------------------------------------------------------------------------------------


class Steps:
    """Times each step and remembers which one is running (for the error)."""

    def __init__(self) -> None:
        self.current = "start"
        self.timings: list[dict[str, Any]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        start = time.perf_counter()
        yield
        self.timings.append({"step": name, "seconds": round(time.perf_counter() - start, 4)})


def _check(name: str, status: str, detail: str = "") -> dict[str, str]:
    return {"name": name, "status": status, "detail": detail}


def _cert_info(cert: x509.Certificate, signer: Signer) -> dict[str, str]:
    return {"serial": f"{cert.serial_number:X}", "subject": cert.subject.rfc4514_string(), "key_id": signer.key_id}


def seal_kind_for(document: Document, extra: Mapping[str, str]) -> tuple[DocumentKind | None, str]:
    """The ICAO seal profile a document takes, or None and why not."""
    if document.format.is_visa:
        missing = [k for k in ("seal.passport_number", "seal.duration_of_stay") if not extra.get(k)]
        if missing:
            return None, (f"a visa seal names the passport and the duration of stay; the application's extra "
                          f"has no {' or '.join(missing)}")
        return DocumentKind.VISA, "ICAO visa seal"
    if document.format in (DocumentFormat.TD1, DocumentFormat.TD3):
        return DocumentKind.MRZ, f"IDB seal of the {document.format.value} MRZ"
    if extra.get("seal.type", "").strip().lower() == "etd":
        return DocumentKind.ETD, "IDB seal with the ICAO emergency travel document message"
    return None, (f"the IDB has no ICAO message for a {document.format.value} MRZ (0x81 MRZ_TD2 is a national "
                  "message) and the document is not an emergency travel document (extra seal.type = etd) "
                  "[ICAO TR Datastructure for Barcode]; its chip carries the signed data")


class Issuer:
    """A site opened for issuing: records, signers and trust loaded once, then `issue` per application.

    `secrets` holds each key's own secret by role ("ds", "seal-signer": a passphrase, or its token's PIN).
    `held_elsewhere` names who else is making an application's document beside the runs that take the
    issuing lock (a station holding its job's lease), or None. Close it (or use `with`)."""

    def __init__(
        self,
        site: SiteConfig,
        *,
        clock: Clock,
        secrets: Secrets,
        options: IssueOptions = _DEFAULT_OPTIONS,
        transport_factory: TransportFactory | None = None,
        held_elsewhere: Callable[[ApplicationRecord], str | None] | None = None,
        store: RecordStore | None = None,
    ) -> None:
        self.site = site  # plain values: the caller (the CLI) read mrtd.toml and merged the overrides
        self.clock = clock
        self.options = options
        self.transport_factory = transport_factory
        self.held_elsewhere = held_elsewhere
        self.pki = PkiSite(self.site.root, clock=clock, actor=options.actor)
        self.ds_signer, self.ds_cert = self.pki.signer_for("ds", secret_of(secrets, "ds"))
        self.seal_signer, self.seal_cert = self.pki.signer_for("seal-signer", secret_of(secrets, "seal-signer"))
        self.trust: TrustStore = self.pki.trust_store()
        self.seal_trust = Trust(self.trust, [as_certificate(self.seal_cert)])
        # With the audit key's secret the records sign checkpoints of the audit log as they go. `store`: the
        # caller's, opened the same way (the office's), so that the caller's writes and these can be one.
        self._owns_store = store is None
        self.store = store or self.site.open_records(clock=clock, audit_secret=secrets.get("audit"))
        self.casework = Casework(self.store)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Issuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the records side

    def receive(self, application: Application, *, actor: str | None = None,
                findings: Sequence[Finding] = (), photo: PhotoReport | None = None) -> ApplicationRecord:
        return receive(self.casework, application, names=self.site.names, actor=actor or self.options.actor,
                       findings=findings, photo=photo).record

    def approval(self, record: ApplicationRecord) -> dict[str, Any]:
        """Who approved the application, for the records. One operator issuing directly (`mrtd issue`, a
        batch) approves it here as that operator; four eyes is the service's approval step."""
        case = self.casework.case(record.id)
        if case.state is CaseState.RECEIVED:
            with self.store.writing() as w:
                self.casework.move(w, record.id, CaseState.APPROVED, actor=self.options.actor, decision=True,
                                   reason="issued directly by the operator")
            case = self.casework.case(record.id)
        elif case.state is not CaseState.APPROVED:
            raise StateError(f"application {record.id}: it is {case.state.value}, not approved")
        assert case.decided_by is not None
        return {"approved_by": case.decided_by, "submitted_by": case.submitted_by,
                "four_eyes": case.decided_by != case.submitted_by}

    def settle_previous(self, record: ApplicationRecord, folder_for: Callable[[str], Path] | None = None, *,
                        actor: str | None = None) -> None:
        """Refuse an application already issued; spoil a document a crash (or an expired lease) left in
        production."""
        for number, state in record.documents:
            if state in ABANDONED:
                continue
            if state in IN_PRODUCTION:
                self.store.transition(number, S.SPOILED, actor=actor or self.options.actor,
                                      detail={"step": "resume", "reason": "interrupted before it was issued"})
                if folder_for is not None:
                    shutil.rmtree(partial_dir(folder_for(number), number), ignore_errors=True)
                continue
            if state is S.ISSUED and folder_for is not None:
                final = folder_for(number)
                partial = partial_dir(final, number)
                if partial.is_dir() and not final.exists() and (partial / RECEIPT).is_file():
                    partial.rename(final)  # issued, then the crash came before the rename
            raise AlreadyIssued(record.key, number, state)

    # -- the pipeline

    def issue(self, application: Application, out_dir: Path, *, transport_factory: TransportFactory | None = None,
              blank: str | None = None) -> Receipt:
        """Issue `application` into the folder `out_dir` (absent or empty). `blank`: the number printed on the
        blank being personalised (see `mrtd.issuance.inventory`)."""
        out_dir = Path(out_dir)
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise InputError(f"--out: {out_dir} exists and is not an empty folder; refusing to overwrite")
        return self._issue(application, lambda _number: out_dir, transport_factory, blank)

    def issue_into(self, application: Application, out_root: Path, *, transport_factory: TransportFactory | None = None,
                   blank: str | None = None) -> Receipt:
        """Issue `application` into `out_root/<document number>/` (what batches do)."""
        return self._issue(application, lambda number: Path(out_root) / number, transport_factory, blank)

    def check_before_number(self, app: Application, *, photos: PhotoChecks | None = None) -> PhotoReport | None:
        """Everything checked before a number is drawn, so that a refusal consumes nothing: the expiry, the
        date of issue asked for, and the portrait (its photo check, returned; from `photos` when already
        made). ValidationError otherwise."""
        self.check_not_expired(app)
        today = self.clock().astimezone(dt.UTC).date()
        asked = app.document.date_of_issue
        if asked is not None and asked != today:
            # Honoured or refused, never replaced: a document carries the date it is made on.
            raise ValidationError([Finding(
                "document.date_of_issue", "not-today",
                f"{asked.isoformat()} is not the day this document is issued ({today.isoformat()}); give today's "
                "date or leave it out", "Doc 9303-10 §4.7.12 (DG12 date of issue)")], source=app.source)
        return self.check_portrait(app, photos=photos)

    def draw_number(self, app: Application, record: ApplicationRecord, *, blank: str | None = None,
                    actor: str | None = None) -> str:
        """The document's number, its document created: from the site's sequence, or the blank's number
        (`blank`, or the application's own) checked as `mrtd.issuance.inventory.draw_number` says."""
        return draw_number(self.store, source=self.site.number_source, policy=self.site.numbering,
                           application_id=record.id, application_key=record.key,
                           requested=requested_numbers([blank, app.document.number]), actor=actor or self.options.actor)

    def check_not_expired(self, app: Application) -> None:
        today = self.clock().astimezone(dt.UTC).date()
        if app.document.date_of_expiry <= today:
            # Checked before a number is drawn: an application refused here consumes nothing.
            raise ValidationError([Finding("document.date_of_expiry", "expired",
                                           f"{app.document.date_of_expiry} is not after the date of issue "
                                           f"{today}", "Doc 9303-3 §4.1")], source=app.source)

    def check_portrait(self, app: Application, *, photos: PhotoChecks | None = None) -> PhotoReport | None:
        """The photo check of the application's portrait (None without one; from `photos` when already
        made); ValidationError when it refuses the photo. Like the expiry, checked before a number is drawn,
        so a refusal consumes nothing."""
        raw = _read(app.portrait, "portrait")
        if raw is None:
            return None
        try:
            report = check_photo(raw, kept=photos)
        except InputError as exc:
            raise ValidationError([Finding("portrait", "image-undecodable", str(exc))], source=app.source) from None
        if not report.ok:
            raise ValidationError(report.findings("portrait"), source=app.source)
        return report

    def _issue(self, app: Application, folder_for: Callable[[str], Path],
               transport_factory: TransportFactory | None, blank: str | None = None) -> Receipt:
        steps = Steps()
        started = time.perf_counter()
        with steps.step("validate"):
            try:
                photo = self.check_before_number(app)
            except ValidationError as bad:
                raise PipelineError("validate", str(bad), cause=bad) from None
            received = self.receive(app)
        # One run of an application at a time: a second one stops here (AlreadyBeingIssued, nothing changed)
        # instead of spoiling this one's document as if a crash had left it.
        with self.store.issuing(received):
            return self._issue_held(app, received.key, photo, folder_for, transport_factory, blank, steps, started)

    def _issue_held(self, app: Application, key: str, photo: PhotoReport | None, folder_for: Callable[[str], Path],
                    transport_factory: TransportFactory | None, blank: str | None, steps: Steps,
                    started: float) -> Receipt:
        actor = self.options.actor
        with steps.step("number"):
            record = self.store.application(key)  # as the last run left it, now that this one holds the lock
            assert record is not None  # received above
            if self.held_elsewhere is not None and (holder := self.held_elsewhere(record)):
                raise AlreadyBeingIssued(record.key, holder)
            self.settle_previous(record, folder_for)
            approval = self.approval(record)
            try:
                number = self.draw_number(app, record, blank=blank, actor=actor)
            except MrtdError as exc:
                raise PipelineError("number", str(exc), cause=exc) from exc
        final = folder_for(number)
        if final.exists() and (not final.is_dir() or any(final.iterdir())):
            raise self._failed("number", InputError(f"output folder {final} exists and is not empty"), number)
        work = partial_dir(final, number)
        try:
            private_dir(work.parent)
            work.mkdir(mode=DIR_MODE)
            tighten(work)
            production = self.produce(app, number, record.key, work, steps, approval, photo=photo)
            with steps.step("chip"):
                self.accept(production, self._personalise(production, transport_factory))
            with steps.step("record"):
                data = production.receipt
                data["steps"] = list(steps.timings)  # the record step itself is timed in Receipt.timings
                data["total_seconds"] = round(time.perf_counter() - started, 4)
                data["outputs"] = _digests(work)
                _write_json(work / RECEIPT, data)
                self.record_issued(production, (work / RECEIPT).read_bytes(), actor=actor)
        except MrtdError as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise self._failed(steps.current, exc, number) from exc
        except OSError as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise self._failed(steps.current, InputError(f"cannot write the outputs: {exc.strerror or exc}"),
                               number) from exc
        except BaseException:
            # An interrupt: leave the records as they are (a resumed run spoils the document) and no output.
            shutil.rmtree(work, ignore_errors=True)
            raise
        # Issued: from here on the outputs are never deleted. Should the move fail, issuing the same
        # application again (or any batch run into this folder) moves them into place.
        try:
            if final.exists():
                final.rmdir()
            work.rename(final)
        except OSError as exc:
            raise PipelineError("record", f"issued as {number}, but the outputs stay in {work} "
                                f"({exc.strerror or exc}); issue the application again to move them into place") from exc
        return Receipt(number, record.key, final, data, tuple(steps.timings))

    def spoil(self, number: str, step: str, exc: MrtdError, *, actor: str | None = None) -> None:
        """Mark a document still in production spoiled (its number is used up), naming the step and error.
        SpoilNotRecorded when the records cannot take it: then nobody may be told it was spoiled."""
        try:
            state = self.store.document(number).state
            if state in IN_PRODUCTION:
                self.store.transition(number, S.SPOILED, actor=actor or self.options.actor,
                                      detail={"step": step, "error": type(exc).__name__, "message": str(exc)[:500]})
        except MrtdError as failed:
            raise SpoilNotRecorded(number, str(failed)) from failed

    def _failed(self, step: str, exc: MrtdError, number: str) -> PipelineError:
        """Spoil the document `exc` stopped; the error says so, or that the spoil could not be recorded."""
        try:
            self.spoil(number, step, exc)
        except SpoilNotRecorded as unspoiled:
            return PipelineError(step, str(exc), number=number, cause=exc, unspoiled=unspoiled)
        return PipelineError(step, str(exc), number=number, cause=exc)

    def produce(self, app: Application, number: str, key: str, work: Path, steps: Steps,
                approval: Mapping[str, Any], *, actor: str | None = None, photo: PhotoReport | None = None,
                record_seal: bool = True) -> Production:
        """What the centre makes for a numbered document, written into `work`: the MRZ, the chip's files
        signed (`chip/`, the per-document keys only in memory), the seal, the page (PNG and PDF) and its
        OCR print check. The chip is personalised afterwards, here or at a station, and `accept`ed.
        `photo` is the portrait's check made before the number was drawn (`check_portrait`); made here if not.
        The seal is recorded once signed; with `record_seal` False the caller records it (`record_seal`)
        in the write that follows, one transaction fewer inside the write lock, unless a later step fails:
        then the caller gets no production, and the seal is recorded here before the error goes on."""
        site, opts, store = self.site, self.options, self.store
        actor = actor or opts.actor
        if photo is None:
            photo = self.check_portrait(app)
        now = self.clock().astimezone(dt.UTC)
        today = now.date()
        # A document is issued on the day it is issued: a date_of_issue asked for was checked to be today
        # (`check_before_number`). DG12 and the page carry it, inside the DS key usage period.
        doc = dataclasses.replace(app.document, number=number, date_of_issue=today)
        checks: list[dict[str, str]] = []
        receipt: dict[str, Any] = {
            "receipt_version": RECEIPT_VERSION,
            "number": number,
            "application": {"key": key, "source": app.source},
            "document": {"code": str(doc.code), "format": doc.format.value, "issuing_state": doc.issuing_state,
                         "date_of_issue": _date(doc.date_of_issue), "date_of_expiry": _date(doc.date_of_expiry)},
            "issued_at": now.replace(microsecond=0).isoformat(),
            "site": {"country": site.country, "records": store.dialect},
            "signers": {"document_signer": _cert_info(self.ds_cert, self.ds_signer),
                        "seal_signer": _cert_info(self.seal_cert, self.seal_signer)},
            "approval": dict(approval),
            "checks": checks,
        }
        if photo is not None:
            summary = photo.as_dict()
            receipt["photo"] = {k: summary[k] for k in ("eyes", "checks", "findings")}
            warned = len(summary["findings"])
            checks.append(_check("photo", "pass", f"one face, eyes at {summary['eyes']}"
                                 + (f", {warned} warning{'s' if warned != 1 else ''}" if warned else "")))
        production = Production(number=number, key=key, receipt=receipt, can=doc.can or None)

        with steps.step("mrz"):
            lines = tuple(mrz_lines(doc, site.names))
            receipt["mrz"] = list(lines)
            checks.append(_check("mrz", "pass", f"{doc.format.value} MRZ built, check digits computed"))

        has_chip = not doc.format.is_visa
        portrait_raw = _read(app.portrait, "portrait")
        signature_raw = _read(app.signature, "signature")
        with steps.step("portrait"):
            portrait = signature = None
            if has_chip:
                if portrait_raw is None:
                    raise InputError("portrait: a document with a chip needs a portrait for DG2 [Doc 9303-10 §4.7.2]")
                assert photo is not None and photo.eyes is not None  # checked in the validate step
                portrait = prepare_portrait(portrait_raw, eyes=photo.eyes)
                signature = prepare_signature(signature_raw) if signature_raw is not None else None
            # both steps done: validated and approved in one transaction (a commit less inside the write lock)
            with store.writing():
                store.transition(number, S.VALIDATED, actor=actor, detail={"step": "mrz"})
                store.transition(number, S.APPROVED, actor=actor, detail={"step": "portrait", **approval})

        fingers = [(finger, path.read_bytes()) for finger, path in app.fingerprints]
        cvca = self._cvca() if fingers else None

        def build(keys: ChipKeys | None = None) -> DocumentImage:
            """The LDS and EF.SOD; with `keys`, around the public keys of key pairs the chip generated."""
            assert portrait is not None
            image = build_document_image(doc, lines, portrait, signature, self.ds_signer, self.ds_cert,
                                         clock=lambda: now, eyes_located=True, fingerprints=fingers, cvca=cvca,
                                         aa_public=keys.aa if keys else None, ca_public=keys.ca if keys else None)
            write_folder(DocumentImage(image.files), work / CHIP_DIR)  # the per-document keys stay on the chip
            production.set_image(image)
            receipt["lds"] = {"files": sorted(image.files), "sod_sha256": sha256_hex(image.files["EF.SOD"])}
            checks.append(_check("lds", "pass", f"{len(image.files)} files, EF.SOD signed by the Document Signer"))
            return image

        with steps.step("lds"):
            if not has_chip:
                checks.append(_check("lds", "not-applicable", "a visa has no chip [Doc 9303-7]"))
            elif self.site.chip_keys == "on-chip":
                production.build = build  # the chip makes its key pairs first; the LDS is built around them
            else:
                build()

        try:
            seal_png: bytes | None = None
            with steps.step("seal"):
                kind, why = seal_kind_for(doc, app.extra)
                if kind is None:
                    receipt["seal"] = None
                    checks.append(_check("seal", "not-applicable", why))
                else:
                    seal_png, production.seal_payload, production.seal_format = self._seal(
                        doc, app.extra, kind, now, receipt, checks)
                    if record_seal:
                        self.record_seal(production, actor=actor)
                    write_private(work / SEAL_FILE, seal_png)

            template = self._template(doc)
            with steps.step("page"):
                sides = None
                page = None
                if template is None:
                    checks.append(_check("page", "not-applicable",
                                         f"mrtd.layouts has no template for {doc.format.value}"))
                elif not opts.render_page or not site.render_page:
                    checks.append(_check("page", "skipped", "page rendering switched off for this run"))
                else:
                    modules = barcode.modules(barcode.open_image(seal_png)) if seal_png is not None else ()
                    page = page_from_document(doc, template, portrait=portrait_raw, signature=signature_raw,
                                              seal_modules=modules, names=site.names, extra=app.extra)
                    sides = render_page(template, page, site.dpi)
                    write_page(template, sides, work / PAGE_PNG, site.dpi)
                    write_page(template, sides, work / PAGE_PDF, site.dpi)
                    printed = "PNG and PDF"
                    if name := site.print_sheets.get(doc.format.value):
                        layouts = [[s.layout for s in sides if s.layout is not None]]
                        write_private(work / PRINT_SHEET, sheet_pdf(name, layouts, site.print_offset, title=number))
                        printed += f" and the {name} print sheet"
                    checks.append(_check("page", "pass", f"{template.name} at {site.dpi} dpi, {printed}"))
            with steps.step("print-check"):
                if sides is None or page is None or template is None:
                    checks.append(_check("print-check", "not-applicable" if template is None else "skipped",
                                         "no page was rendered"))
                elif not opts.print_check or not site.print_check:
                    checks.append(_check("print-check", "skipped", "OCR print check switched off for this run"))
                else:
                    result = verify_print(mrz_image([s.image for s in sides], template), template, page.mrz)
                    checks.append(_check("print-check", "pass",
                                         f"tesseract read the MRZ back ({result.raw_agreement:.1%} raw agreement, "
                                         f"{len(result.recovered)} fillers recovered)"))
                    receipt["print_check"] = {"read": list(result.read), "raw_agreement": result.raw_agreement,
                                              "fillers_recovered": len(result.recovered)}
        except BaseException:
            if not record_seal:  # the caller never gets this production; a seal signed for it is recorded
                self.record_seal(production, actor=actor)
            raise
        return production

    def _personalise(self, production: Production, transport_factory: TransportFactory | None) -> ChipOutcome | None:
        """Personalise the chip here: through the named reader, else the in-process simulator. With
        `[chip] keys = "on-chip"` the chip generates its key pairs and the LDS is built around them."""
        if production.image is None and production.build is None:
            return None
        factory = transport_factory or self.transport_factory
        transport: Transport = factory() if factory is not None else SimTransport(VirtualCard(self.site.chip_profile))
        at = self.clock().astimezone(dt.UTC)
        build = production.build
        try:
            if build is not None:
                def around(keys: ChipKeys) -> ChipImage:
                    build(keys)
                    return dataclasses.replace(production.chip_image(), aa_public=keys.aa, ca_public=keys.ca)

                _image, report = personalise_with_chip_keys(around, transport, self.site.chip_profile, trust=self.trust, at=at)
            else:
                report = personalise(production.chip_image(), transport, self.site.chip_profile, trust=self.trust, at=at)
        finally:
            transport.close()
        return ChipOutcome.of(report, "simulator" if factory is None else "named reader")

    def accept(self, production: Production, chip: ChipOutcome | None, *, actor: str | None = None,
               checks: Sequence[Mapping[str, str]] = ()) -> None:
        """Judge the personalised document, wherever its chip was written: the chip must say personalised,
        every file read back must be the one produced, and passive authentication over the files read back
        must pass against the site's trust store. Then the document is personalised and quality-checked;
        any failure raises (the caller spoils the document)."""
        actor = actor or self.options.actor
        own_checks = production.receipt["checks"]
        own_checks.extend(dict(c) for c in checks)
        if not production.file_digests:
            own_checks.append(_check("chip", "not-applicable", "a visa has no chip"))
        else:
            if chip is None:
                raise ChipError("chip", "no chip was personalised for a document that has one")
            production.receipt["chip"] = {**chip.report, "reader": chip.reader}
            if not chip.ok:
                bad = "; ".join(f"{c['name']}: {c['detail']}" for c in chip.report.get("checks", [])
                                if c.get("status") not in ("pass", "absent", "skipped"))
                raise ChipError("chip read-back", f"the chip is {chip.report.get('status')}: {bad}")
            differs = sorted(n for n, digest in production.file_digests.items()
                             if n not in chip.files or sha256_hex(chip.files[n]) != digest)
            if differs:
                raise ChipError("chip read-back", f"read back differs from what was produced: {', '.join(differs)}")
            passive = passive_authentication(chip.files, self.trust, self.clock().astimezone(dt.UTC))
            if not passive.ok:
                raise ChipError("passive authentication",
                                "; ".join(f"{c.name}: {c.why}" for c in passive.failed()))
            own_checks.append(_check("chip", "pass", f"personalised, read back over {chip.access}, "
                                     + ", ".join(f"{c['name']} {c['status']}" for c in chip.report.get("checks", []))
                                     + "; passive authentication at the centre pass"))
        failed = [c["name"] for c in own_checks if c["status"] == "fail"]
        with self.store.writing():  # one transaction: the chip, personalised and (all checks passed) checked
            if chip is not None and production.file_digests:
                self.store.attach_chip(production.number, sod_sha256=production.file_digests["EF.SOD"],
                                       signer_key_id=self.ds_signer.key_id,
                                       data_groups=production.data_groups, profile=chip.profile, actor=actor)
            self.store.transition(production.number, S.PERSONALISED, actor=actor,
                                  detail={"chip": bool(production.file_digests),
                                          "page": any(c["name"] == "page" and c["status"] == "pass"
                                                      for c in own_checks),
                                          "seal": production.seal_payload is not None})
            if not failed:
                self.store.transition(production.number, S.QUALITY_CHECKED, actor=actor,
                                      detail={c["name"]: c["status"] for c in own_checks})
        if failed:  # personalised, but not fit to issue: the caller spoils it
            raise ChipError("quality", f"checks failed: {', '.join(failed)}")

    def record_issued(self, production: Production, receipt: bytes, *, actor: str | None = None) -> None:
        """Keep what a reprint needs (the signed seal payload, the receipt) and mark the document issued and
        its application's case issued, together."""
        actor = actor or self.options.actor
        number = production.number
        application_id = self.casework.application_of(number)
        with self.store.writing() as w:  # one transaction: never issued without its receipt, or its case not
            if production.seal_payload is not None:
                self.casework.keep_file(w, number, SEAL_PAYLOAD, production.seal_payload)
            self.casework.keep_file(w, number, RECEIPT, receipt)
            self.store.transition(number, S.ISSUED, actor=actor, detail={"receipt_sha256": sha256_hex(receipt)})
            self.casework.move(w, application_id, CaseState.ISSUED, actor=actor)

    def _template(self, doc: Document) -> Template | None:
        return page_template(self.site, doc.format)

    def record_seal(self, production: Production, *, actor: str | None = None) -> None:
        """Record the seal `produce` made for the document (its format, payload hash and signer); inside
        the caller's write transaction when there is one."""
        if production.seal_payload is None or production.seal_format is None:
            return
        self.store.attach_seal(production.number, kind=production.seal_format,
                               payload_sha256=sha256_hex(production.seal_payload),
                               signer_key_id=self.seal_signer.key_id, actor=actor or self.options.actor)

    def _seal(self, doc: Document, extra: Mapping[str, str], kind: DocumentKind, now: dt.datetime,
              receipt: dict[str, Any], checks: list[dict[str, str]]) -> tuple[bytes, bytes, str]:
        """The seal's image, its payload and its format ("idb", "vds"), verified from the image."""
        request = SealRequest(
            kind=kind, issuing_state=doc.issuing_state, mrz=tuple(mrz_lines(doc, self.site.names)),
            issue_date=doc.date_of_issue or now.date(),
            passport_number=extra.get("seal.passport_number", ""),
            duration_of_stay=parse_duration(extra["seal.duration_of_stay"]) if extra.get("seal.duration_of_stay") else None,
            number_of_entries=int(extra["seal.number_of_entries"]) if extra.get("seal.number_of_entries", "").isdigit() else None,
            can=doc.can if kind is DocumentKind.MRZ else "",
        )
        payload: bytes
        if kind is DocumentKind.VISA:  # the Part 13 VDS visa profile, as ICAO issues visas
            fmt = "vds"
            payload = make_vds(request, self.seal_signer, self.seal_cert, now.date()).raw
        else:  # the travel document's own MRZ, or the ETD message: IDB messages only
            fmt = "idb"
            cert_der = self.seal_cert.public_bytes(serialization.Encoding.DER)
            payload = make_idb(request, self.seal_signer, cert_der, now.date(),
                               date_bytes=self.site.idb_date_bytes).text.encode("ascii")
        png = seal_png(payload, self.site.symbology)
        report = check_seal(png, self.seal_trust, now)
        if not report.ok:
            raise MrtdSealError(f"the seal does not verify from its own image: {report.verdict.value}")
        digest = sha256_hex(payload)
        receipt["seal"] = {"format": fmt, "type": kind.value, "document_type": report.document_type,
                           "messages": list(report.content), "symbology": self.site.symbology, "file": SEAL_FILE,
                           "bytes": len(payload), "payload_sha256": digest}
        checks.append(_check("seal", "pass", f"{fmt.upper()} {kind.value} seal ({report.document_type}) decoded from "
                                             "its image and verified"))
        return png, payload, fmt

    def _cvca(self) -> CvCertificate | None:
        """The site's current CVCA (pki/cvc), whose key the chip trusts for Terminal Authentication; None
        when the site has no EAC PKI (then fingerprints are not protected by Terminal Authentication)."""
        if not (self.pki.root / "cvc" / "cvca").is_dir():
            return None
        return CvPki(self.pki.root, str(self.pki._load().get("country", "XX"))).current_cvca()


class MrtdSealError(MrtdError):
    """A seal that does not verify right after it was made."""


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what}: cannot read {path} ({exc.strerror or exc})") from None


def issue_application(
    application: Application,
    site: SiteConfig,
    out_dir: Path,
    *,
    clock: Clock,
    secrets: Secrets,
    transport_factory: TransportFactory | None = None,
    options: IssueOptions = _DEFAULT_OPTIONS,
) -> Receipt:
    """Issue one application into `out_dir` (see the module docstring for the steps and guarantees)."""
    with Issuer(site, clock=clock, secrets=secrets, options=options) as issuer:
        return issuer.issue(application, out_dir, transport_factory=transport_factory)
