"""Errors as RFC 9457 problem details (`application/problem+json`), naming the field and the rule.

Every `MrtdError` maps to a status by its class; a `ValidationError` carries all its findings. Messages
of mrtd errors start with the field they are about (`document.number: ...`), which becomes `field`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mrtd.errors import (
    ChipError,
    ConfigurationError,
    Finding,
    InputError,
    KeyAccessError,
    MrtdError,
    StateError,
    TransportError,
    ValidationError,
    VerificationError,
)
from mrtd.issuance.queue import LeaseLost
from mrtd.issuance.records import RecordsError, UnknownRecord
from mrtd.issuance.roles import Forbidden, Unauthenticated

MEDIA_TYPE = "application/problem+json"
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]-]{0,80}): ")

# (class, HTTP status, rule) in order: the first class that matches wins.
STATUS: tuple[tuple[type[MrtdError], int, str], ...] = (
    (Unauthenticated, 401, "authentication"),
    (Forbidden, 403, "role"),
    (UnknownRecord, 404, "unknown"),
    (LeaseLost, 409, "lease"),
    (StateError, 409, "state"),
    (ValidationError, 422, "validation"),
    (InputError, 422, "input"),
    (ChipError, 422, "chip"),
    (VerificationError, 422, "verification"),
    (TransportError, 502, "transport"),
    (RecordsError, 503, "records"),
    (KeyAccessError, 503, "keys"),
    (ConfigurationError, 503, "configuration"),
    (MrtdError, 422, "error"),
)


def problem(status: int, title: str, detail: str, *, rule: str, field: str | None = None,
            findings: Sequence[Finding] = (), headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:mrtd:problem:{rule}", "title": title, "status": status,
                            "detail": detail, "rule": rule}
    if field:
        body["field"] = field
    if findings:
        body["findings"] = [{"field": f.field, "rule": f.rule, "message": f.message, "clause": f.clause,
                             "severity": f.severity.value} for f in findings]
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: MrtdError) -> JSONResponse:
    status, rule = next((s, r) for cls, s, r in STATUS if isinstance(exc, cls))
    rule = getattr(exc, "rule", rule) if isinstance(exc, Forbidden) else rule
    findings: Sequence[Finding] = exc.findings if isinstance(exc, ValidationError) else ()
    field = findings[0].field if findings else None
    if findings:
        rule = findings[0].rule if len(findings) == 1 else rule
    elif (m := _FIELD.match(str(exc))) is not None:
        field = m.group(1)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, type(exc).__name__, str(exc), rule=rule, field=field, findings=findings, headers=headers)


async def mrtd_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MrtdError)
    return from_error(exc)


async def request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own request checks (types, required parameters, JSON syntax) as findings."""
    assert isinstance(exc, RequestValidationError)
    findings = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        findings.append(Finding(".".join(loc) or "request", str(err.get("type", "invalid")), str(err.get("msg", ""))))
    return problem(422, "RequestValidationError", "; ".join(str(f) for f in findings) or "invalid request",
                   rule="validation", field=findings[0].field if findings else None, findings=findings)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return problem(exc.status_code, "HTTPException", str(exc.detail), rule=f"http-{exc.status_code}",
                   headers=headers or None)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "rule"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "rule": {"type": "string"}, "field": {"type": "string"},
        "findings": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"},
            "clause": {"type": "string"}, "severity": {"type": "string"}}}},
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem statuses an endpoint may answer with."""
    return {s: {"description": "A problem (RFC 9457)", "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
            for s in statuses}
