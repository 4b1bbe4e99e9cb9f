"""What every page shares: templates with the request's language, the signed-in person (a session cookie),
CSRF checks on every form, security headers, error pages, static files.

A page route is a `PageRoute`: an mrtd error becomes an HTML page in the person's language (a problem+json
answer is for API clients), a missing session becomes a redirect to the sign-in page.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import mimetypes
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mrtd.errors import MrtdError
from mrtd.issuance.office import Office
from mrtd.issuance.roles import Action, Forbidden, Principal, Role, Unauthenticated
from mrtd.issuance.signin import WebSession, same_secret, session_of
from mrtd.service.pages import i18n
from mrtd.service.problems import STATUS

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "__Host-mrtd-session"
PRE_CSRF_COOKIE = "__Host-mrtd-csrf"
LANG_COOKIE = "mrtd-lang"
MAX_FORM = 16 * 1024 * 1024
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=i18n.DEFAULT)


def _gettext(message: str) -> str:
    return i18n.translations(_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(_language.get()).ngettext(singular, plural, n)


ENV = Environment(loader=PackageLoader("mrtd.service.pages", "templates"), autoescape=select_autoescape(),
                  extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
ENV.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def N_(text: str) -> str:
    """Marks a word for the catalogues (pybabel extract -k N_); it is translated where it is shown."""
    return text


# Words the pages show from data (states, verdicts, check results): in the catalogues through these marks.
WORDS = (N_("received"), N_("approved"), N_("rejected"), N_("issued"), N_("failed"), N_("validated"),
         N_("personalised"), N_("quality-checked"), N_("spoiled"), N_("voided"), N_("cancelled"),
         N_("reported-lost"), N_("reported-stolen"), N_("queued"), N_("leased"), N_("done"), N_("expired"),
         N_("pass"), N_("fail"), N_("skipped"), N_("not-applicable"), N_("valid"), N_("invalid"),
         N_("unknown-signer"), N_("untrusted"), N_("unsigned"))


class SignInNeeded(Exception):
    """No live session: the person is sent to the sign-in page."""


# The pages each role works in (the first is its home), and the action each page needs.
NAV: tuple[tuple[str, str, Action], ...] = (
    ("/office/enrol", N_("Enrol"), Action.SUBMIT),
    ("/office/queue", N_("Approval queue"), Action.DECIDE),
    ("/office/applications", N_("Applications"), Action.LIST_APPLICATIONS),
    ("/office/search", N_("Search"), Action.SEARCH),
    ("/office/production", N_("Production"), Action.READ_PRODUCTION),
    ("/office/audit", N_("Audit log"), Action.READ_AUDIT),
)


def home_of(who: Principal) -> str:
    return next((path for path, _, action in NAV if who.may(action)), "/verify/")


@dataclass
class Page:
    """The request as templates see it."""

    request: Request
    language: str
    session: WebSession | None = None
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def who(self) -> Principal | None:
        return self.session.principal if self.session else None

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""

    def nav(self) -> list[tuple[str, str]]:
        who = self.who
        if who is None:
            return []
        return [(path, _gettext(label)) for path, label, action in NAV if who.may(action)]


def office_of(request: Request) -> Office:
    office: Office = request.app.state.office
    return office


def language_of(request: Request) -> str:
    return i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))


def page_of(request: Request, session: WebSession | None = None) -> Page:
    page = Page(request, language_of(request), session)
    _language.set(page.language)
    return page


def headers(page: Page, *, private: bool = True) -> dict[str, str]:
    """Security headers: scripts only from here (and the page's import map by nonce), no framing, no
    referrer; pages with personal data are not cached."""
    csp = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
           f"script-src 'self' 'nonce-{page.nonce}' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self'; "
           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
    out = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Permissions-Policy": "camera=(self), microphone=(), geolocation=()"}
    if private:
        out["Cache-Control"] = "no-store"
    return out


def render(page: Page, template: str, status: int = 200, *, private: bool = True, **values: Any) -> HTMLResponse:
    _language.set(page.language)
    html = ENV.get_template(template).render(page=page, lang=page.language, dir=i18n.direction(page.language),
                                             languages=i18n.LANGUAGES, **values)
    return HTMLResponse(html, status_code=status, headers=headers(page, private=private))


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None, http_only: bool = True,
               same_site: str = "strict") -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=http_only,
                        samesite=same_site)  # type: ignore[arg-type]


async def signed_in(request: Request) -> WebSession:
    """The live session of the request's cookie, else `SignInNeeded`."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise SignInNeeded()
    office = office_of(request)
    try:
        return await run_in_threadpool(session_of, office.store, token, office.clock())
    except Unauthenticated:
        raise SignInNeeded() from None


async def form_of(request: Request) -> FormData:
    if int(request.headers.get("content-length") or 0) > MAX_FORM:
        raise CsrfRefused("form: larger than 16 MiB")
    return await request.form(max_part_size=MAX_FORM)


class CsrfRefused(Forbidden):
    def __init__(self, message: str = "csrf: the form's token is missing or not this session's; reload the page") -> None:
        super().__init__(message, rule="csrf")


def check_csrf(session: WebSession, form: Mapping[str, Any] | None, request: Request) -> None:
    """Every state-changing request carries the session's CSRF token (a form field, or X-CSRF-Token for the
    page's own fetches); SameSite=Strict cookies are the second wall."""
    given = request.headers.get("x-csrf-token", "")
    if not given and form is not None:
        value = form.get("csrf")
        given = value if isinstance(value, str) else ""
    if not same_secret(given, session.csrf):
        raise CsrfRefused()


def status_of(exc: MrtdError) -> int:
    return next(s for cls, s, _ in STATUS if isinstance(exc, cls))


class PageRoute(APIRoute):
    """A route whose errors are pages: sign-in redirects, and mrtd errors shown in the person's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"/sign-in?next={quote(target)}")
            except MrtdError as exc:
                page = page_of(request)
                code = status_of(exc)
                return render(page, "error.html", code, error=exc, code=code, rule=getattr(exc, "rule", ""))

        return page_handler


def now_of(office: Office) -> dt.datetime:
    return office.clock().astimezone(dt.UTC)


def role_label(role: Role | None) -> str:
    return _gettext(ROLE_LABELS[role])


ROLE_LABELS = {None: N_("local operator"), Role.CLERK: N_("clerk"), Role.APPROVER: N_("approver"),
               Role.SUPERVISOR: N_("supervisor"), Role.STATION: N_("station"), Role.PKI_OFFICER: N_("PKI officer"),
               Role.AUDITOR: N_("auditor"), Role.ADMIN: N_("administrator")}


# The checks a document passes when it is issued (mrtd.issuance.pipeline), by their names in the receipt.
CHECK_LABELS = {"photo": N_("Photo"), "mrz": N_("MRZ"), "lds": N_("Chip data (LDS)"), "seal": N_("Seal"),
                "page": N_("Page"), "print-check": N_("Print check (OCR)"), "chip": N_("Chip")}


def check_label(name: str) -> str:
    return _gettext(CHECK_LABELS[name]) if name in CHECK_LABELS else name


ENV.globals["role_label"] = role_label
ENV.globals["check_label"] = check_label
