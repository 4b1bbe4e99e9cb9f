"""People signing in to the web pages: passwords (argon2id), an optional TOTP second factor, lockout after
repeated failures, and browser sessions.

A password is hashed with argon2id (argon2-cffi's RFC 9106 low-memory parameters) and never stored or
logged in clear. After `MAX_FAILURES` wrong passwords or codes in a row the account is locked for
`LOCK_MINUTES`; the failures, the lock and every sign-in are audited (without the password). An unknown
name costs the same argon2 verification as a known one, and the answer is the same, so the page does not
tell which names exist.

A session is 32 random bytes in an HttpOnly cookie; the records keep its SHA-256 (like API tokens) and a
CSRF secret that every form of the session carries. A session ends on sign-out, after `IDLE_MINUTES`
without a request, after `MAX_HOURS`, or when the user's API tokens are revoked (`mrtd users revoke`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mrtd.errors import InputError
from mrtd.issuance.records import Base, RecordStore, UTCDateTime, Writer
from mrtd.issuance.roles import Principal, Role, Unauthenticated
from mrtd.issuance.users import UserRow, check_name

MAX_FAILURES = 5
LOCK_MINUTES = 15
IDLE_MINUTES = 30
MAX_HOURS = 12
MIN_PASSWORD = 12
SEEN_EVERY = 60
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so that both cost one argon2 verification.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


class PasswordRow(Base):
    __tablename__ = "user_passwords"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_totp_step: Mapped[int | None] = mapped_column(Integer)  # a code is accepted once
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SessionRow(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInFailed(Unauthenticated):
    """Wrong name, password or code, or the account is locked; the message never says which name exists."""


@dataclass(frozen=True, slots=True)
class WebSession:
    principal: Principal
    csrf: str
    session_id: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _user(session: Session, name: str) -> UserRow | None:
    return session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: shorter than {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InputError("password: longer than 1024 characters")


def set_password(store: RecordStore, name: str, password: str, *, actor: str) -> None:
    """Set (or reset) the user's password; clears failures and any lock. Audited without the password."""
    check_name(name)
    check_password_rule(password)
    hashed = _HASHER.hash(password)
    with store.writing() as w:
        user = _user(w.session, name)
        if user is None:
            raise InputError(f"user.name: no user {name!r}")
        row = w.session.get(PasswordRow, user.id)
        if row is None:
            w.session.add(PasswordRow(user_id=user.id, hash=hashed, failures=0, changed_at=w.now))
        else:
            row.hash, row.failures, row.locked_until, row.changed_at = hashed, 0, None, w.now
        w.audit(actor=actor, action="user.password-set", subject=name, detail={})


def enrol_totp(store: RecordStore, name: str, *, actor: str, issuer: str = "mrtd") -> str:
    """Give the user a TOTP second factor (RFC 6238, 30 s, 6 digits); returns the otpauth:// URI to show
    once (an authenticator app reads it). The user must have a password."""
    secret = pyotp.random_base32()
    with store.writing() as w:
        user = _user(w.session, check_name(name))
        row = w.session.get(PasswordRow, user.id) if user is not None else None
        if user is None or row is None:
            raise InputError(f"user.name: {name!r} has no password yet (`mrtd users password {name}` first)")
        row.totp_secret, row.last_totp_step = secret, None
        w.audit(actor=actor, action="user.totp-enrolled", subject=name, detail={})
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def sign_in(store: RecordStore, name: str, password: str, code: str = "") -> tuple[WebSession, str]:
    """Check the password (and the TOTP code when the user has one) and open a session; returns it with
    the cookie value (shown once). `SignInFailed` otherwise, counting the failure."""
    name = name.strip().lower()
    with store.reading() as s:
        user = _user(s, name) if len(name) <= 64 else None
        row = s.get(PasswordRow, user.id) if user is not None else None
        known = (user.id, user.name, Role(user.role)) if user is not None and row is not None else None
        stored_hash = row.hash if row is not None else _DUMMY
        totp_secret = row.totp_secret if row is not None else None
        locked_until = row.locked_until if row is not None else None
    ok: bool
    try:
        ok = _HASHER.verify(stored_hash, password[:1024])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    # A refusal is recorded (committed) before it is raised: the failures, the lock and the audit entries stay.
    with store.writing() as w:
        now = w.now
        if known is None:
            w.audit(actor="anonymous", action="user.sign-in-failed", subject=name[:64] or "-",
                    detail={"why": "unknown user or no password"})
        elif locked_until is not None and locked_until > now:
            w.audit(actor="anonymous", action="user.sign-in-failed", subject=name, detail={"why": "locked"})
        else:
            user_id, user_name, role = known
            prow = w.session.get(PasswordRow, user_id)
            assert prow is not None
            step = _totp_step(totp_secret, code, now) if ok and totp_secret else None
            if ok and (not totp_secret or (step is not None and step != prow.last_totp_step)):
                return _open_session(w, prow, user_name, role, step, password, totp_secret is not None)
            prow.failures += 1
            if prow.failures >= MAX_FAILURES:
                prow.locked_until, prow.failures = now + dt.timedelta(minutes=LOCK_MINUTES), 0
                w.audit(actor="anonymous", action="user.locked", subject=name,
                        detail={"minutes": LOCK_MINUTES, "after": MAX_FAILURES})
            w.audit(actor="anonymous", action="user.sign-in-failed", subject=name,
                    detail={"why": "password" if not ok else "code"})
    raise SignInFailed("sign-in: the name, password or code is wrong, or the account is locked")


def _open_session(w: Writer, prow: PasswordRow, name: str, role: Role, step: int | None, password: str,
                  second_factor: bool) -> tuple[WebSession, str]:
    prow.failures, prow.locked_until = 0, None
    if step is not None:
        prow.last_totp_step = step  # a code is accepted once
    if _HASHER.check_needs_rehash(prow.hash):
        prow.hash = _HASHER.hash(password)
    token = secrets.token_urlsafe(32)
    session = SessionRow(sha256=_digest(token), user_id=prow.user_id, csrf=secrets.token_urlsafe(32),
                         created_at=w.now, seen_at=w.now)
    w.session.add(session)
    w.session.flush()
    w.audit(actor=name, action="user.signed-in", subject=name,
            detail={"session": session.id, "second_factor": second_factor})
    return WebSession(Principal(name, role), session.csrf, session.id), token


def _totp_step(secret: str | None, code: str, now: dt.datetime) -> int | None:
    """The 30-second step the code belongs to (this one or the one either side), else None."""
    code = "".join(code.split())
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    here = int(now.timestamp()) // totp.interval
    for step in (here, here - 1, here + 1):
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def session_of(store: RecordStore, token: str, now: dt.datetime) -> WebSession:
    """The live session a cookie names; `Unauthenticated` when it is unknown, ended or timed out. Each
    use moves its idle deadline on."""
    if not token or len(token) > 64:
        raise Unauthenticated("session: sign in")
    with store.reading() as s:
        found = s.execute(select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
                          .where(SessionRow.sha256 == _digest(token))).first()
        if found is None or found[0].ended_at is not None:
            raise Unauthenticated("session: sign in")
        seen, user = found
        if now - seen.seen_at < dt.timedelta(seconds=SEEN_EVERY) and now - seen.created_at < dt.timedelta(hours=MAX_HOURS):
            return WebSession(Principal(user.name, Role(user.role)), seen.csrf, seen.id)
    # Every SEEN_EVERY seconds (not on every request: a write takes the records' write lock) the idle
    # deadline moves on, and a session past a deadline ends.
    with store.writing() as w:
        row = w.session.execute(select(SessionRow).where(SessionRow.sha256 == _digest(token))).scalar_one_or_none()
        if row is None or row.ended_at is not None:
            raise Unauthenticated("session: sign in")
        now = w.now
        if now - row.seen_at <= dt.timedelta(minutes=IDLE_MINUTES) and now - row.created_at <= dt.timedelta(hours=MAX_HOURS):
            owner = w.session.get(UserRow, row.user_id)
            assert owner is not None
            row.seen_at = now
            return WebSession(Principal(owner.name, Role(owner.role)), row.csrf, row.id)
        row.ended_at = now  # committed before the refusal below
        w.audit(actor="session", action="user.session-expired", subject=str(row.id), detail={})
    raise Unauthenticated("session: it timed out; sign in again")


def sign_out(store: RecordStore, token: str) -> None:
    with store.writing() as w:
        row = w.session.execute(select(SessionRow).where(SessionRow.sha256 == _digest(token))).scalar_one_or_none()
        if row is None or row.ended_at is not None:
            return
        row.ended_at = w.now
        user = w.session.get(UserRow, row.user_id)
        w.audit(actor=user.name if user else "?", action="user.signed-out", subject=str(row.id), detail={})


def end_sessions(store: RecordStore, name: str, *, actor: str) -> int:
    """End every live session of the user (with `mrtd users revoke`); returns how many."""
    with store.writing() as w:
        user = _user(w.session, check_name(name))
        if user is None:
            return 0
        live = list(w.session.execute(select(SessionRow).where(SessionRow.user_id == user.id,
                                                               SessionRow.ended_at.is_(None))).scalars())
        for row in live:
            row.ended_at = w.now
        ended = len(live)
        if ended:
            w.audit(actor=actor, action="user.sessions-ended", subject=name, detail={"sessions": ended})
        return ended


def new_csrf() -> str:
    """A CSRF secret for a form shown before there is a session (the sign-in form: double submit)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(24)).decode("ascii")


def same_secret(a: str, b: str) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a.encode(), b.encode())


__all__ = ["LOCK_MINUTES", "MAX_FAILURES", "SignInFailed", "WebSession", "end_sessions",
           "enrol_totp", "new_csrf", "same_secret", "session_of", "set_password", "sign_in", "sign_out"]
