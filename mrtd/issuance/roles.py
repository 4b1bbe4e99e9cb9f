"""People in roles: who may do what, written down as one table.

A principal is whoever acts: a user of the service, authenticated by a bearer token, or the local
operator of a site on the command line (the OS user, who holds the site's files and so every right;
naming a user with `--user` acts as that user, in that user's role). Faces check `require(principal,
action)` before they call a use case; the rules that need more than a role (four eyes, a station acting
only for itself) live in the use cases.

Personal data (names, dates of birth, portraits) is readable by the roles that must see a person to do
their work: the clerk who enrols, the approver who decides, the supervisor who voids, replaces and
searches, and the station that personalises the document. Each such read is audited by the use case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from mrtd.errors import InputError, MrtdError


class Role(StrEnum):
    CLERK = "clerk"
    APPROVER = "approver"
    SUPERVISOR = "supervisor"
    STATION = "station"
    PKI_OFFICER = "pki-officer"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"role: {text!r} is not one of {', '.join(r.value for r in cls)}") from None


class Action(StrEnum):
    SUBMIT = "application.submit"
    LIST_APPLICATIONS = "application.list"
    READ_PERSON = "application.read"  # an application's personal data
    DECIDE = "application.decide"  # approve or reject
    PRODUCE = "job.produce"  # claim, heartbeat, report a result
    READ_DOCUMENT = "document.read"  # a document's record (no personal data)
    CHANGE_DOCUMENT = "document.change"  # void, report lost or stolen
    REPLACE = "document.replace"
    REPRINT = "document.reprint"
    SEARCH = "person.search"
    READ_AUDIT = "audit.read"
    READ_PRODUCTION = "production.read"  # stations, jobs, documents per hour (no personal data)
    MANAGE_USERS = "users.manage"
    MANAGE_PKI = "pki.manage"


R = Role
A = Action

# The one table of rights: action -> the roles that may take it.
PERMISSIONS: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        A.SUBMIT: frozenset({R.CLERK}),
        A.LIST_APPLICATIONS: frozenset({R.CLERK, R.APPROVER, R.SUPERVISOR}),
        A.READ_PERSON: frozenset({R.CLERK, R.APPROVER, R.SUPERVISOR}),
        A.DECIDE: frozenset({R.APPROVER}),
        A.PRODUCE: frozenset({R.STATION}),
        A.READ_DOCUMENT: frozenset({R.CLERK, R.APPROVER, R.SUPERVISOR, R.AUDITOR}),
        A.CHANGE_DOCUMENT: frozenset({R.SUPERVISOR}),
        A.REPLACE: frozenset({R.SUPERVISOR}),
        A.REPRINT: frozenset({R.SUPERVISOR}),
        A.SEARCH: frozenset({R.SUPERVISOR}),
        A.READ_AUDIT: frozenset({R.AUDITOR}),
        A.READ_PRODUCTION: frozenset({R.SUPERVISOR, R.AUDITOR}),
        A.MANAGE_USERS: frozenset({R.ADMIN}),
        A.MANAGE_PKI: frozenset({R.PKI_OFFICER}),
    }
)


class Forbidden(MrtdError):
    """The principal's role does not allow the action, or a rule such as four eyes forbids it."""

    def __init__(self, message: str, rule: str = "role") -> None:
        self.rule = rule
        super().__init__(message)


class Unauthenticated(MrtdError):
    """No credentials, or credentials that are unknown or revoked."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who acts. `role` None is the site's local operator (the OS user holding the site folder)."""

    name: str
    role: Role | None = None

    @property
    def local(self) -> bool:
        return self.role is None

    def may(self, action: Action) -> bool:
        return self.role is None or self.role in PERMISSIONS[action]

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role.value if self.role else None}


def require(principal: Principal, action: Action) -> None:
    """Raise `Forbidden` unless the principal's role may take `action`."""
    if not principal.may(action):
        allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise Forbidden(f"{principal.name} ({principal.role}) may not {action.value}; only {allowed} may")
