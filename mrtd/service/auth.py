"""Bearer tokens -> the principal who acts. Looked up in the records on every request, so a revoked token
is refused at once by every API node."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mrtd.issuance.office import Office
from mrtd.issuance.roles import Principal, Unauthenticated
from mrtd.issuance.users import authenticate

bearer = HTTPBearer(auto_error=False, description="A token from `mrtd users token NAME`.")


def office_of(request: Request) -> Office:
    office: Office = request.app.state.office
    return office


def principal(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
    if credentials is None:
        raise Unauthenticated("authorization: give a bearer token (made with `mrtd users token NAME`)")
    who = authenticate(office_of(request).store, credentials.credentials)
    request.state.principal = who
    return who
