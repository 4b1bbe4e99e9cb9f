"""The office console: sign-in and sign-out, and the pages of each role. Every page parses its form, calls
one use case of `Office` with the signed-in principal (which checks the role and audits personal reads),
and renders the result; a page that belongs to a role first checks that the person may take its action, so
that a clerk cannot open the approver's queue even to look."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from mrtd.errors import Finding, InputError, MrtdError, ValidationError
from mrtd.issuance.casework import CaseState
from mrtd.issuance.roles import Action, require
from mrtd.issuance.signin import (
    MAX_FAILURES,
    SignInFailed,
    WebSession,
    new_csrf,
    same_secret,
    sign_in,
    sign_out,
)
from mrtd.issuance.states import REPLACEABLE, DocumentState
from mrtd.service.pages import i18n
from mrtd.service.pages.charts import stacked_bars
from mrtd.service.pages.findings import finding_json
from mrtd.service.pages.web import (
    LANG_COOKIE,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    PageRoute,
    _gettext,
    check_csrf,
    form_of,
    home_of,
    office_of,
    page_of,
    redirect,
    render,
    set_cookie,
    signed_in,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Session = Annotated[WebSession, Depends(signed_in)]
MONTHS = [f"{m:02d}" for m in range(1, 13)]
DAYS = [f"{d:02d}" for d in range(1, 32)]
FORMATS = ("TD3", "TD1", "TD2", "MRV-A", "MRV-B")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme)."""
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


def _data_uri(png: bytes | None, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(png).decode('ascii')}" if png else ""


def _image_type(raw: bytes) -> str:
    return "image/jpeg" if raw[:3] == b"\xff\xd8\xff" else "image/jp2" if raw[4:8] == b"jP  " else "image/png"


# --- sign-in, sign-out, language -------------------------------------------------------------------


@router.get("/")
async def root(request: Request) -> Response:
    try:
        session = await signed_in(request)
    except Exception:
        return redirect("/sign-in")
    return redirect(home_of(session.principal))


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "") -> Response:
    page = page_of(request)
    token = request.cookies.get(PRE_CSRF_COOKIE) or new_csrf()
    response = render(page, "sign_in.html", next=_safe_next(next), csrf=token, error="")
    set_cookie(response, PRE_CSRF_COOKIE, token)
    return response


@router.post("/sign-in")
async def sign_in_post(request: Request) -> Response:
    form = await form_of(request)
    page = page_of(request)
    token = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not same_secret(str(form.get("csrf", "")), token):
        raise CsrfRefused()
    office = office_of(request)
    try:
        session, cookie = await run_in_threadpool(sign_in, office.store, str(form.get("name", ""))[:200],
                                                  str(form.get("password", "")), str(form.get("code", "")))
    except SignInFailed:
        message = _gettext("The name, password or code is wrong, or the account is locked after %(n)s "
                           "failures in a row; try again later.") % {"n": MAX_FAILURES}
        return render(page, "sign_in.html", 401, next=_safe_next(str(form.get("next", ""))), csrf=token,
                      error=message, name=str(form.get("name", ""))[:64])
    response = redirect(_safe_next(str(form.get("next", ""))) or home_of(session.principal))
    set_cookie(response, SESSION_COOKIE, cookie)
    response.delete_cookie(PRE_CSRF_COOKIE, path="/", secure=True, httponly=True)
    return response


@router.post("/sign-out")
async def sign_out_post(request: Request, session: Session) -> Response:
    form = await form_of(request)
    check_csrf(session, form, request)
    await run_in_threadpool(sign_out, office_of(request).store, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/language")
async def language(request: Request, to: str = "", next: str = "/") -> Response:
    """Remember the person's language (a preference cookie, nothing else changes)."""
    response = redirect(_safe_next(next) or "/")
    if to in i18n.LANGUAGES:
        set_cookie(response, LANG_COOKIE, to, max_age=365 * 86400, http_only=False, same_site="lax")
    return response


# --- clerk: enrolment ------------------------------------------------------------------------------

TEXT_FIELDS = ("document.format", "document.code", "document.issuing_state", "document.date_of_expiry",
               "document.authority", "holder.primary_identifier", "holder.secondary_identifier",
               "holder.primary_identifier_latin", "holder.secondary_identifier_latin", "holder.nationality",
               "holder.sex", "holder.place_of_birth", "holder.place_of_birth_latin", "holder.personal_number")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def birth_date(year: str, month: str, day: str) -> str:
    """A date of birth with unknown parts written as X (Doc 9303-3 §4.2.2.3: unknown day, month or year)."""
    y = year.strip() if year.strip().isdigit() and len(year.strip()) == 4 else "XXXX"
    m = month if month in MONTHS else "XX"
    d = day if day in DAYS else "XX"
    return f"{y}-{m}-{d}"


def application_from_form(form: FormData, images: dict[str, str] | None = None) -> dict[str, Any]:
    """The application JSON (the schema's shape) from the enrolment form's fields."""
    data: dict[str, Any] = {"document": {}, "holder": {}}
    for name in TEXT_FIELDS:
        section, key = name.split(".")
        value = _text(form, name)
        if key in ("code", "issuing_state", "nationality", "personal_number"):
            value = value.upper()
        if value:
            data[section][key] = value
    data["holder"]["date_of_birth"] = birth_date(_text(form, "birth.year"), _text(form, "birth.month"),
                                                 _text(form, "birth.day"))
    if _text(form, "extra.etd") == "on":
        data["extra"] = {"seal.type": "etd"}
    for kind, name in (images or {}).items():
        data[kind] = name
    return data


def _findings_by_field(findings: tuple[Finding, ...] | list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        key = f.field.split("[")[0]
        out.setdefault(key, []).append(f)
    return out


def _enrol_page(request: Request, session: WebSession, form: FormData | None = None,
                findings: tuple[Finding, ...] = (), status: int = 200) -> Response:
    office = office_of(request)
    values = {k: _text(form, k) for k in (*TEXT_FIELDS, "birth.year", "birth.month", "birth.day", "extra.etd")} \
        if form is not None else {"document.format": "TD3", "document.code": "PP",
                                  "document.issuing_state": office.site.country, "holder.nationality": office.site.country}
    return render(page_of(request, session), "enrol.html", status, values=values, formats=FORMATS,
                  months=MONTHS, days=DAYS, findings=_findings_by_field(findings))


@router.get("/office/enrol")
async def enrol(request: Request, session: Session) -> Response:
    require(session.principal, Action.SUBMIT)
    return _enrol_page(request, session)


@router.post("/office/enrol/preview")
async def enrol_preview(request: Request, session: Session) -> Response:
    """The live preview: MRZ, printed names and findings of the form as it stands (JSON for the page)."""
    form = await form_of(request)
    check_csrf(session, form, request)
    office = office_of(request)
    page_of(request, session)  # the findings' sentences in the person's language
    preview = await run_in_threadpool(office.preview, session.principal, application_from_form(form))
    answer = {**preview.as_dict(), "findings": [finding_json(f) for f in preview.findings]}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@router.post("/office/enrol/image")
async def enrol_image(request: Request, session: Session) -> Response:
    """The photo check (portrait) or image check (signature) of an uploaded file, before submitting."""
    form = await form_of(request)
    check_csrf(session, form, request)
    kind, upload = _text(form, "kind"), form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("file: choose an image")
    raw = await upload.read()
    found = await run_in_threadpool(office_of(request).check_image, session.principal, kind, raw)
    page_of(request, session)
    return JSONResponse({"ok": not any(f.severity.value == "error" for f in found),
                         "findings": [finding_json(f) for f in found]}, headers={"Cache-Control": "no-store"})


@router.post("/office/enrol")
async def enrol_post(request: Request, session: Session) -> Response:
    form = await form_of(request)
    check_csrf(session, form, request)
    require(session.principal, Action.SUBMIT)
    images: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for kind in ("portrait", "signature"):
        upload = form.get(kind)
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read()
            if raw:
                names[kind] = kind + {"image/jpeg": ".jpg", "image/jp2": ".jp2"}.get(_image_type(raw), ".png")
                images[names[kind]] = raw
    data = application_from_form(form, names)
    office = office_of(request)
    try:
        done = await run_in_threadpool(office.submit, session.principal, data, images, source="form")
    except ValidationError as exc:
        return _enrol_page(request, session, form, exc.findings, 422)
    return redirect(f"/office/applications/{done.case.id}?submitted={'new' if done.created else 'again'}")


# --- applications (clerk, approver, supervisor) and the approver's queue --------------------------


@router.get("/office/applications")
async def applications(request: Request, session: Session, state: str = "", after: int = 0) -> Response:
    office = office_of(request)
    chosen = CaseState(state) if state in {s.value for s in CaseState} else None
    cases = await run_in_threadpool(office.applications, session.principal, state=chosen, after=max(0, after),
                                    limit=50)
    return render(page_of(request, session), "applications.html", cases=cases, state=state,
                  states=[s.value for s in CaseState], next_after=cases[-1].id if len(cases) == 50 else None)


def _person(case: Any, images: dict[str, bytes]) -> dict[str, Any]:
    payload = case.payload
    return {"holder": payload.get("holder", {}), "document": payload.get("document", {}),
            "extra": payload.get("extra", {}),
            "portrait": _data_uri(images.get("portrait"), _image_type(images.get("portrait", b""))),
            "signature": _data_uri(images.get("signature"), _image_type(images.get("signature", b"")))}


@router.get("/office/applications/{application_id}")
async def application(request: Request, session: Session, application_id: int, submitted: str = "") -> Response:
    office = office_of(request)
    case = await run_in_threadpool(office.application, session.principal, application_id)
    images = await run_in_threadpool(office.casework.images, application_id)
    return render(page_of(request, session), "application.html", case=case, person=_person(case, images),
                  submitted=submitted, may_decide=session.principal.may(Action.DECIDE))


@router.get("/office/queue")
async def queue(request: Request, session: Session) -> Response:
    require(session.principal, Action.DECIDE)
    office = office_of(request)
    cases = await run_in_threadpool(office.applications, session.principal, state=CaseState.RECEIVED, limit=200)
    return render(page_of(request, session), "queue.html", cases=cases)


@router.get("/office/queue/{application_id}")
async def decide(request: Request, session: Session, application_id: int) -> Response:
    require(session.principal, Action.DECIDE)
    office = office_of(request)
    case = await run_in_threadpool(office.application, session.principal, application_id)
    images = await run_in_threadpool(office.casework.images, application_id)
    preview, preview_error = "", ""
    try:
        preview = _data_uri(await run_in_threadpool(office.page_preview, session.principal, application_id))
    except MrtdError as exc:
        preview_error = str(exc)
    return render(page_of(request, session), "decide.html", case=case, person=_person(case, images),
                  preview=preview, preview_error=preview_error)


@router.post("/office/queue/{application_id}/{decision}")
async def decide_post(request: Request, session: Session, application_id: int, decision: str) -> Response:
    form = await form_of(request)
    check_csrf(session, form, request)
    office = office_of(request)
    reason = _text(form, "reason")
    if decision == "approve":
        await run_in_threadpool(office.approve, session.principal, application_id, reason or None)
    elif decision == "reject":
        await run_in_threadpool(office.reject, session.principal, application_id, reason)
    else:
        raise InputError(f"decision: {decision!r} is not approve or reject")
    return redirect("/office/queue")


# --- supervisor: search, a document, its changes ---------------------------------------------------


@router.get("/office/search")
async def search(request: Request, session: Session, name: str = "", birth_date: str = "", number: str = "",
                 nationality: str = "", reason: str = "") -> Response:
    require(session.principal, Action.SEARCH)
    criteria = {"name": name.strip() or None, "birth_date": birth_date.strip() or None,
                "number": number.strip().upper() or None, "nationality": nationality.strip().upper() or None}
    found, asked = None, any(criteria.values()) or bool(reason)
    if asked:
        found = await run_in_threadpool(lambda: office_of(request).search(session.principal, reason=reason,
                                                                          limit=50, **criteria))
    return render(page_of(request, session), "search.html", found=found,
                  values={"name": name, "birth_date": birth_date, "number": number, "nationality": nationality,
                          "reason": reason})


@router.get("/office/documents/{number}")
async def document(request: Request, session: Session, number: str) -> Response:
    office = office_of(request)
    view = await run_in_threadpool(office.document_view, session.principal, number.strip().upper()[:9])
    chip = [c for c in view.receipt.get("checks", []) if isinstance(c, dict)]
    return render(page_of(request, session), "document.html", view=view, page_png=_data_uri(view.page_png),
                  seal_png=_data_uri(view.seal_png), checks=chip,
                  may_change=session.principal.may(Action.CHANGE_DOCUMENT),
                  may_replace=session.principal.may(Action.REPLACE) and view.record.state in REPLACEABLE)


_CHANGES = {"void": DocumentState.VOIDED, "report-lost": DocumentState.REPORTED_LOST,
            "report-stolen": DocumentState.REPORTED_STOLEN}


@router.post("/office/documents/{number}/{action}")
async def document_post(request: Request, session: Session, number: str, action: str) -> Response:
    form = await form_of(request)
    check_csrf(session, form, request)
    office = office_of(request)
    number = number.strip().upper()[:9]
    reason = _text(form, "reason")
    if action in _CHANGES:
        await run_in_threadpool(office.change, session.principal, number, _CHANGES[action], reason)
        return redirect(f"/office/documents/{number}")
    if action == "replace":
        done = await run_in_threadpool(office.replace, session.principal, number, {}, None)
        return redirect(f"/office/applications/{done.case.id}?submitted=replacement")
    if action == "reprint":
        made = await run_in_threadpool(office.reprint, session.principal, number)
        return Response(made.files["page.pdf"], media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{number}.pdf"',
                                 "Cache-Control": "no-store"})
    raise InputError(f"action: {action!r} is not void, report-lost, report-stolen, replace or reprint")


# --- production (supervisor, auditor) --------------------------------------------------------------


@router.get("/office/production")
async def production(request: Request, session: Session) -> Response:
    office = office_of(request)
    report = await run_in_threadpool(office.production, session.principal)
    page = page_of(request, session)  # first: the charts' words are in the person's language
    legend = (_gettext("issued"), _gettext("spoiled"))

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    t = report.totals
    hours = stacked_bars("hours", _gettext("Documents per hour, last 24 hours"),
                         [f"{b.start:%H}" for b in report.hours], [b.issued for b in report.hours],
                         [b.spoiled for b in report.hours], legend,
                         _gettext("%(issued)s issued, %(spoiled)s spoiled") % {"issued": t["day_issued"],
                                                                              "spoiled": t["day_spoiled"]})
    days = stacked_bars("days", _gettext("Documents per day, last 7 days"),
                        [f"{b.start:%m-%d}" for b in report.days], [b.issued for b in report.days],
                        [b.spoiled for b in report.days], legend,
                        _gettext("%(issued)s issued, %(spoiled)s spoiled") % {"issued": t["week_issued"],
                                                                             "spoiled": t["week_spoiled"]})
    return render(page, "production.html", report=report, hours_chart=hours,
                  days_chart=days, day_rate=rate(t["day_spoil_rate"]), week_rate=rate(t["week_spoil_rate"]))


# --- auditor -----------------------------------------------------------------------------------------


def _moment(text: str, field: str) -> dt.datetime | None:
    if not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a date (YYYY-MM-DD) or date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _audit_page(request: Request, session: WebSession, *, chain: Any = None, **q: str) -> Response:
    office = office_of(request)
    before = int(q.get("before") or 0) if (q.get("before") or "").isdigit() else 0
    entries = await run_in_threadpool(
        lambda: office.audit(session.principal, after=before, limit=100, newest_first=True,
                             actor=q.get("actor", "").strip() or None, action=q.get("action", "").strip() or None,
                             subject=q.get("subject", "").strip() or None,
                             since=_moment(q.get("since", ""), "since"), until=_moment(q.get("until", ""), "until")))
    return render(page_of(request, session), "audit.html", entries=entries, values=q, chain=chain,
                  older=entries[-1].seq if len(entries) == 100 else None,
                  detail=lambda e: json.dumps(e.detail, ensure_ascii=False, sort_keys=True)[:300])


@router.get("/office/audit")
async def audit(request: Request, session: Session, actor: str = "", action: str = "", subject: str = "",
                since: str = "", until: str = "", before: str = "") -> Response:
    return await _audit_page(request, session, actor=actor, action=action, subject=subject, since=since,
                             until=until, before=before)


@router.post("/office/audit/verify")
async def audit_verify(request: Request, session: Session) -> Response:
    form = await form_of(request)
    check_csrf(session, form, request)
    report = await run_in_threadpool(office_of(request).verify_audit, session.principal)
    return await _audit_page(request, session, chain=report)


__all__ = ["application_from_form", "birth_date", "router"]
