"""The FastAPI application: the v1 API, problem+json errors, /healthz, /metrics, OpenAPI and /docs.

`create_app(office)` serves one opened `Office`. `app_from_environment()` is the factory uvicorn's worker
processes call (`mrtd serve --workers N`): each opens the site named by $MRTD_SITE with the key secret
from the environment the serving command set.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from mrtd import __version__
from mrtd.errors import ConfigurationError, MrtdError
from mrtd.issuance.office import Office
from mrtd.issuance.photo import one_thread_per_check
from mrtd.issuance.site import load_site
from mrtd.service import api, metrics, pages, problems
from mrtd.service.models import Health
from mrtd.service.ratelimit import Buckets

DESCRIPTION = """Issue ICAO Doc 9303 documents as an office does: clerks submit applications, approvers
decide them (never their own: four eyes), stations claim produced jobs from the queue and report the
chip read back, supervisors void, replace, reprint and search, auditors read the log. Authenticate with
`Authorization: Bearer <token>` (`mrtd users token NAME`). Errors are RFC 9457 problem details naming
the field and the rule."""


def create_app(office: Office, *, verify_rate: float = 5.0, verify_burst: int = 20,
               reap_every: float | None = None, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The app over `office`: the v1 API and any other `routers` (server-rendered pages, say), which reach
    the office as `request.app.state.office` and the principal through `mrtd.service.auth`. `reap_every`
    seconds a background task expires leases that ran out (default: a quarter of the lease) and signs a
    checkpoint of the audit log when requests wrote to it (with the audit key); once more at shutdown."""
    interval = reap_every if reap_every is not None else max(1.0, office.lease_seconds / 4)
    one_thread_per_check()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def reap() -> None:
            while True:
                await asyncio.sleep(interval)
                with contextlib.suppress(MrtdError):
                    await run_in_threadpool(office.expire_leases)
                with contextlib.suppress(MrtdError):  # what the requests wrote, under a signed checkpoint
                    await run_in_threadpool(office.checkpoint)

        task = asyncio.create_task(reap())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(MrtdError):
                await run_in_threadpool(office.checkpoint)

    app = FastAPI(title="mrtd", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.office = office
    app.state.verify_limit = Buckets(verify_rate, float(verify_burst))
    app.add_exception_handler(MrtdError, problems.mrtd_error)
    app.add_exception_handler(RequestValidationError, problems.request_invalid)
    app.add_exception_handler(HTTPException, problems.http_error)
    app.middleware("http")(metrics.middleware)
    office.store.on_write = metrics.observe_write
    app.include_router(api.router)
    for router in routers:
        app.include_router(router)
    registry = metrics.registry(office)

    @app.get("/healthz", response_model=Health, responses=problems.responses(503), tags=["service"])
    def healthz(request: Request) -> Health:
        """Alive, and the records database answers."""
        with office.store.reading() as s:
            s.execute(text("SELECT 1"))
        return Health(status="ok", records=office.store.dialect)

    @app.get("/metrics", tags=["service"], response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def prometheus() -> Response:
        """Prometheus metrics (text exposition format)."""
        return metrics.render(registry)

    return app


SIGNING_ROLES = ("ds", "seal-signer")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def app_from_environment() -> FastAPI:
    """For uvicorn's worker processes: the site from $MRTD_SITE, each signing key's own secret from the
    environment `mrtd serve` prepared ($MRTD_DS_PASSPHRASE, $MRTD_SEAL_PASSPHRASE; …_PIN for keys in a token)."""
    site_dir = os.environ.get("MRTD_SITE")
    if not site_dir:
        raise ConfigurationError("MRTD_SITE: not set; start the service with `mrtd serve --site DIR`")
    site = load_site(Path(site_dir), {"records.url": os.environ.get("MRTD_RECORDS_URL") or None})
    pki = site.pki(clock=_now)
    secrets = {role: value for role in SIGNING_ROLES if (value := pki.secret_in_environment(role))}
    audit = pki.secret_in_environment("audit") if pki.has_audit_key() else None
    if audit and len(secrets) == len(SIGNING_ROLES):
        secrets["audit"] = audit  # the records sign checkpoints of the audit log
    check = os.environ.get("MRTD_PRINT_CHECK")
    office = Office(site, clock=_now, secrets=secrets if len(secrets) >= len(SIGNING_ROLES) else None,
                    lease_seconds=float(os.environ.get("MRTD_LEASE_SECONDS", "60")),
                    print_check=None if check is None else check == "1")
    return create_app(office, verify_rate=float(os.environ.get("MRTD_VERIFY_RATE", "5")), routers=pages.routers())
