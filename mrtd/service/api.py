"""The v1 API: each endpoint parses its input, calls one use case of `Office` with the authenticated
principal, and renders the result. Rights are checked by the use case (`roles.require`)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mrtd.errors import ChipError, InputError, KeyAccessError, VerificationError
from mrtd.issuance.casework import Case, CaseState
from mrtd.issuance.office import Claim, Office, Submitted
from mrtd.issuance.pipeline import ChipOutcome
from mrtd.issuance.roles import Principal
from mrtd.issuance.states import DocumentState
from mrtd.service import models as m
from mrtd.service.auth import office_of, principal
from mrtd.service.problems import responses
from mrtd.service.ratelimit import limited

router = APIRouter(prefix="/v1")
Who = Annotated[Principal, Depends(principal)]
TheOffice = Annotated[Office, Depends(office_of)]
Id = Annotated[int, Path(ge=1, le=2**62, description="A record's id")]
Number = Annotated[str, Path(min_length=1, max_length=9, pattern="^[A-Z0-9]+$", description="A document number")]
MAX_JSON = 32 * 1024 * 1024  # an application with two inline images stays far below this


def decode_b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{field}: not base64 (RFC 4648)") from None


def encode_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _summary(case: Case) -> m.ApplicationSummary:
    return m.ApplicationSummary.model_validate(case.summary())


def _submitted(result: Submitted, response: Response) -> m.Submitted:
    response.status_code = 201 if result.created else 200
    return m.Submitted(id=result.case.id, state=result.case.state.value,
                       findings=[m.FindingModel(**f.as_dict()) for f in result.warnings])


def _cursor(after: int | None) -> str | None:
    return base64.urlsafe_b64encode(f"a:{after}".encode()).decode().rstrip("=") if after is not None else None


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        kind, _, value = text.partition(":")
        if kind != "a" or not value.isdigit() or len(value) > 18:
            raise ValueError(text)
        return int(value)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InputError("cursor: not a cursor this API gave out") from None


# --- applications -------------------------------------------------------------------------------------

SUBMISSION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": m.Submission.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["application"],
                "properties": {"application": {"type": "string", "description": "the application JSON"}},
                "additionalProperties": {"type": "string", "format": "binary"},
            }},
        },
    }
}


async def _submission(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The application and its images from a JSON body (images inline, base64) or a multipart form (the
    application as a part named `application`, each image a file part named as the application names it)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        raw = form.get("application")
        if raw is None:
            raise InputError("application: the form has no part named application")
        text = raw if isinstance(raw, str) else (await raw.read()).decode("utf-8", "replace")
        data = _json_object(text.encode("utf-8"), "application")
        images: dict[str, bytes] = {}
        for name, value in form.multi_items():
            if name != "application" and not isinstance(value, str):
                images[value.filename or name] = await value.read()
        return data, images
    if kind != "application/json":
        raise InputError("content-type: send application/json or multipart/form-data")
    body = await request.body()
    if len(body) > MAX_JSON:
        raise InputError(f"body: larger than {MAX_JSON} bytes")
    submission = m.Submission.model_validate(_json_object(body, "body"))
    return submission.application, {k: decode_b64(v, f"images.{k}") for k, v in submission.images.items()}


def _json_object(raw: bytes, field: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{field}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"{field}: not a JSON object")
    return value


@router.post("/applications", status_code=201, response_model=m.Submitted, openapi_extra=SUBMISSION_BODY,
             responses={200: {"model": m.Submitted, "description": "The same application, received before"},
                        **responses(401, 403, 422)}, tags=["applications"])
async def submit(request: Request, response: Response, who: Who, office: TheOffice) -> m.Submitted:
    """Submit an application (clerk). 201 with its id; the same application again: 200 and the same id;
    422 with every finding when it is invalid."""
    data, images = await _submission(request)
    result = await run_in_threadpool(office.submit, who, data, images, source="application")
    return _submitted(result, response)


@router.get("/applications", response_model=m.ApplicationPage, responses=responses(401, 403, 422),
            tags=["applications"])
def list_applications(who: Who, office: TheOffice, state: CaseState | None = None,
                      cursor: Annotated[str | None, Query(max_length=64)] = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50) -> m.ApplicationPage:
    """Applications, oldest first, without personal data (clerk, approver, supervisor)."""
    cases = office.applications(who, state=state, after=_after(cursor), limit=limit)
    return m.ApplicationPage(items=[_summary(c) for c in cases],
                             next_cursor=_cursor(cases[-1].id) if len(cases) == limit else None)


@router.get("/applications/{application_id}", response_model=m.ApplicationDetail,
            responses=responses(401, 403, 404), tags=["applications"])
def get_application(application_id: Id, who: Who, office: TheOffice) -> m.ApplicationDetail:
    """One application with its personal data and images (clerk, approver, supervisor; audited)."""
    case = office.application(who, application_id)
    images = {k: encode_b64(v) for k, v in office.casework.images(application_id).items()}
    return m.ApplicationDetail(**case.summary(), application=dict(case.payload), images=images)


@router.post("/applications/{application_id}/approve", response_model=m.ApplicationSummary,
             responses=responses(401, 403, 404, 409, 422), tags=["applications"])
def approve(application_id: Id, who: Who, office: TheOffice, body: m.Decision | None = None) -> m.ApplicationSummary:
    """Approve and queue for production (approver; never the submitter: four eyes)."""
    return _summary(office.approve(who, application_id, body.reason if body else None))


@router.post("/applications/{application_id}/reject", response_model=m.ApplicationSummary,
             responses=responses(401, 403, 404, 409, 422), tags=["applications"])
def reject(application_id: Id, body: m.Reason, who: Who, office: TheOffice) -> m.ApplicationSummary:
    """Reject with a reason (approver; never the submitter)."""
    return _summary(office.reject(who, application_id, body.reason))


# --- stations and jobs --------------------------------------------------------------------------------


def _claim_response(claim: Claim) -> m.ClaimResponse:
    assert claim.job.lease_expires_at is not None
    return m.ClaimResponse(
        job=claim.job.id, attempt=claim.job.attempt, lease_expires_at=claim.job.lease_expires_at.isoformat(),
        number=claim.number, chip_profile=claim.chip_profile, can=claim.can,
        files={k: encode_b64(v) for k, v in claim.files.items()}, keys=claim.keys, key_info=claim.key_info,
        page={k: encode_b64(v) for k, v in claim.page.items()}, receipt=claim.receipt)


@router.post("/stations/{name}/claim", response_model=m.ClaimResponse,
             responses={204: {"description": "Nothing to do now"}, **responses(401, 403, 422)}, tags=["stations"])
def claim(name: Annotated[str, Path(max_length=64)], body: m.ClaimRequest, who: Who, office: TheOffice) -> Any:
    """The next approved job this station can do, produced and signed at the centre, with a lease
    (station, as itself)."""
    made = office.claim(who, name, formats=list(body.formats), public_key=body.public_key)
    if made is None:
        return Response(status_code=204)
    return _claim_response(made)


@router.post("/jobs/{job_id}/heartbeat", response_model=m.Lease, responses=responses(401, 403, 404, 409),
             tags=["stations"])
def heartbeat(job_id: Id, who: Who, office: TheOffice) -> m.Lease:
    """Extend the lease of a job this station holds."""
    job = office.heartbeat(who, job_id)
    assert job.lease_expires_at is not None
    return m.Lease(job=job.id, lease_expires_at=job.lease_expires_at.isoformat())


@router.post("/jobs/{job_id}/result", response_model=m.JobOutcome, responses=responses(401, 403, 404, 409, 422),
             tags=["stations"])
def result(job_id: Id, body: m.JobResult, who: Who, office: TheOffice) -> m.JobOutcome:
    """The chip read back and the print check: the centre checks them (passive authentication over the
    files read back) and records the document issued, or spoiled (its application is queued again)."""
    chip = None
    if body.chip is not None:
        files = {k: decode_b64(v, f"chip.files.{k}") for k, v in body.chip.files.items()}
        chip = ChipOutcome(body.chip.report.model_dump(), files, body.chip.reader)
    try:
        receipt = office.report(who, job_id, chip, body.print_check.model_dump() if body.print_check else None)
    except (ChipError, VerificationError, KeyAccessError, InputError) as exc:
        # report() spoiled the document and queued the next attempt: a result, not a fault of the request
        number = office.queue.job(job_id).number
        return m.JobOutcome(job=job_id, number=number or "", state="spoiled", message=str(exc), receipt=None)
    return m.JobOutcome(job=job_id, number=receipt["number"], state="issued", message="issued", receipt=receipt)


# --- documents ----------------------------------------------------------------------------------------


def _document(office: Office, who: Principal, number: str) -> m.DocumentDetail:
    record, events = office.document(who, number)
    return m.DocumentDetail(**record.as_dict(), events=[m.EventModel(**{k: v for k, v in e.as_dict().items()
                                                                         if k != "number"}) for e in events])


@router.get("/documents/{number}", response_model=m.DocumentDetail, responses=responses(401, 403, 404, 422),
            tags=["documents"])
def get_document(number: Number, who: Who, office: TheOffice) -> m.DocumentDetail:
    """A document's record and its events, without personal data."""
    return _document(office, who, number)


def _change(to: DocumentState) -> Any:
    def change(number: Number, body: m.Reason, who: Who, office: TheOffice) -> m.DocumentDetail:
        office.change(who, number, to, body.reason)
        return _document(office, who, number)

    return change


for _path, _state, _doc in (
    ("void", DocumentState.VOIDED, "Void an issued document (supervisor; a reason is required)."),
    ("report-lost", DocumentState.REPORTED_LOST, "Record that an issued document was reported lost (supervisor)."),
    ("report-stolen", DocumentState.REPORTED_STOLEN, "Record that a document was reported stolen (supervisor)."),
):
    router.add_api_route(f"/documents/{{number}}/{_path}", _change(_state), methods=["POST"],
                         response_model=m.DocumentDetail, responses=responses(401, 403, 404, 409, 422),
                         tags=["documents"], name=_path, description=_doc)


@router.post("/documents/{number}/replace", status_code=201, response_model=m.Submitted,
             responses={200: {"model": m.Submitted, "description": "The same replacement, received before"},
                        **responses(401, 403, 404, 409, 422)}, tags=["documents"])
def replace(number: Number, body: m.Replacement, response: Response, who: Who, office: TheOffice) -> m.Submitted:
    """A new application from the stored one, with changes, linked to the old document (supervisor); it
    is approved like any other."""
    images: dict[str, bytes] = {str(k): decode_b64(v, f"images.{k}") for k, v in body.images.items()}
    return _submitted(office.replace(who, number, body.changes, images), response)


@router.post("/documents/{number}/reprint", response_model=m.ReprintResult,
             responses=responses(401, 403, 404, 409, 422), tags=["documents"])
def reprint(number: Number, who: Who, office: TheOffice) -> m.ReprintResult:
    """The data page again, from the stored payload, exactly as issued (supervisor; audited)."""
    done = office.reprint(who, number)
    return m.ReprintResult(number=number, files={k: encode_b64(v) for k, v in done.files.items()},
                           sha256=done.digests, audit_seq=done.audit_seq)


# --- people, seals, audit ----------------------------------------------------------------------------


@router.get("/search", response_model=m.SearchResult, responses=responses(401, 403, 422), tags=["people"])
def search(who: Who, office: TheOffice, reason: Annotated[str, Query(max_length=500)] = "",
           name: Annotated[str | None, Query(max_length=200)] = None,
           birth_date: Annotated[str | None, Query(max_length=10)] = None,
           number: Annotated[str | None, Query(max_length=9)] = None,
           nationality: Annotated[str | None, Query(max_length=3)] = None) -> m.SearchResult:
    """People by name (national script or transliteration), birth date, document number, nationality
    (supervisor). Every search is audited with who searched and the stated `reason`."""
    found = office.search(who, reason=reason, name=name, birth_date=birth_date, number=number,
                          nationality=nationality)
    return m.SearchResult(items=[_match(c) for c in found])


def _match(case: Case) -> m.PersonMatch:
    holder: Mapping[str, Any] = case.payload.get("holder", {})
    return m.PersonMatch(
        application_id=case.id, state=case.state.value,
        primary_identifier=holder.get("primary_identifier") or "",
        secondary_identifier=holder.get("secondary_identifier") or "",
        name_in_national_characters=holder.get("name_in_national_characters") or "",
        date_of_birth=holder.get("date_of_birth"), nationality=holder.get("nationality") or "",
        documents=[m.DocumentRef(number=n, state=s) for n, s in case.documents])


VERIFY_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}}
    for t in ("image/png", "image/jpeg", "application/octet-stream", "text/plain")}}}


@router.post("/verify/seal", response_model=m.SealVerdict, openapi_extra=VERIFY_BODY,
             responses=responses(422, 429), tags=["verify"], dependencies=[Depends(limited)])
async def verify_seal(request: Request, office: TheOffice) -> JSONResponse:
    """Anyone (rate-limited): a seal as an image, the payload bytes, or its text -> the verdict."""
    data = await request.body()
    if len(data) > 8 * 1024 * 1024:
        raise InputError("body: larger than 8 MiB")
    report = await run_in_threadpool(office.verify_seal, data)
    return JSONResponse(report.as_dict())


@router.post("/status", response_model=m.StatusAnswer, responses=responses(422, 429), tags=["verify"],
             dependencies=[Depends(limited)])
def status(body: m.StatusQuestion, office: TheOffice) -> m.StatusAnswer:
    """Anyone (rate-limited): a document's status from the issuing office, asked with its MRZ fields;
    `unknown` unless all three match a document issued. Audited without who asked."""
    return m.StatusAnswer.model_validate({"status": office.status(body.number, body.date_of_birth,
                                                                  body.date_of_expiry)})


@router.get("/audit", response_model=m.AuditPage, responses=responses(401, 403, 422), tags=["audit"])
def audit(who: Who, office: TheOffice, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> m.AuditPage:
    """Audit entries after sequence number `after` (auditor)."""
    entries = office.audit(who, after=after, limit=limit)
    return m.AuditPage(items=[m.AuditEntryModel(**e.as_dict()) for e in entries],
                       next_after=entries[-1].seq if len(entries) == limit else None)


@router.get("/whoami", response_model=m.WhoAmI, responses=responses(401), tags=["people"])
def whoami(who: Who) -> m.WhoAmI:
    """The principal the token belongs to."""
    return m.WhoAmI(name=who.name, role=who.role.value if who.role else None)
