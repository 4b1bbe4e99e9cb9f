"""Users of a site, their roles and their bearer tokens.

A token is 32 random bytes (base64url, prefixed `mrtd_`), shown once when it is made; the records keep
only its SHA-256. A fast hash is enough here because the secret is random and 256 bits long: there is no
dictionary to try, unlike a password (the same reasoning as for API tokens elsewhere). Every request looks
its token up in the database, so a revoked token stops working at once, on every API node.

A station also registers the X25519 public key the centre encrypts its per-document chip keys for: the
first claim records it (trust on first use, audited); a different key later is refused until an admin
clears it (`mrtd users reset-key`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mrtd.errors import InputError, StateError
from mrtd.issuance.records import Base, RecordStore, UnknownRecord, UTCDateTime
from mrtd.issuance.roles import Forbidden, Principal, Role, Unauthenticated

TOKEN_PREFIX = "mrtd_"
_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
_TOKEN = re.compile(r"^mrtd_[A-Za-z0-9_-]{43}$")


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    station_key: Mapped[str | None] = mapped_column(String(64))  # X25519 public key, base64url


class TokenRow(Base):
    __tablename__ = "user_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created_at: dt.datetime
    created_by: str
    tokens: int  # live tokens
    station_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role.value, "created_at": self.created_at.isoformat(),
                "created_by": self.created_by, "live_tokens": self.tokens,
                "station_key": self.station_key}


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"user.name: {name!r} is not 1-64 characters of a-z, 0-9, '.', '_', '-' starting "
                         "with a letter")
    return name


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _user(session: Session, name: str) -> UserRow:
    row = session.execute(select(UserRow).where(UserRow.name == check_name(name))).scalar_one_or_none()
    if row is None:
        raise UnknownRecord(f"user.name: no user {name!r}")
    return row


def _live_tokens(session: Session, user_id: int) -> list[TokenRow]:
    return list(session.execute(
        select(TokenRow).where(TokenRow.user_id == user_id, TokenRow.revoked_at.is_(None))).scalars())


def add_user(store: RecordStore, name: str, role: Role, *, actor: str) -> User:
    check_name(name)
    with store.writing() as w:
        if w.session.execute(select(UserRow.id).where(UserRow.name == name)).scalar() is not None:
            raise StateError(f"user.name: {name!r} exists already")
        row = UserRow(name=name, role=role.value, created_at=w.now, created_by=actor)
        w.session.add(row)
        w.audit(actor=actor, action="user.added", subject=name, detail={"role": role.value})
        return User(name, role, w.now, actor, 0)


def issue_token(store: RecordStore, name: str, *, actor: str) -> str:
    """A new token for the user; the only time it is ever shown. Older tokens stay valid until revoked."""
    token = TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    with store.writing() as w:
        user = _user(w.session, name)
        row = TokenRow(user_id=user.id, sha256=token_digest(token), created_at=w.now)
        w.session.add(row)
        w.session.flush()
        w.audit(actor=actor, action="user.token-issued", subject=name, detail={"token_id": row.id})
    return token


def revoke(store: RecordStore, name: str, *, actor: str) -> int:
    """Revoke every live token of the user; returns how many. Takes effect on the next request."""
    with store.writing() as w:
        user = _user(w.session, name)
        live = _live_tokens(w.session, user.id)
        for row in live:
            row.revoked_at = w.now
        w.audit(actor=actor, action="user.tokens-revoked", subject=name,
                detail={"token_ids": [r.id for r in live]})
        return len(live)


def reset_station_key(store: RecordStore, name: str, *, actor: str) -> None:
    with store.writing() as w:
        user = _user(w.session, name)
        w.audit(actor=actor, action="user.station-key-cleared", subject=name,
                detail={"previous": user.station_key})
        user.station_key = None


def users(store: RecordStore) -> list[User]:
    with store.reading() as s:
        out = []
        for row in s.execute(select(UserRow).order_by(UserRow.name)).scalars():
            out.append(User(row.name, Role(row.role), row.created_at, row.created_by,
                            len(_live_tokens(s, row.id)), row.station_key))
        return out


def user(store: RecordStore, name: str) -> User:
    with store.reading() as s:
        row = _user(s, name)
        return User(row.name, Role(row.role), row.created_at, row.created_by, len(_live_tokens(s, row.id)),
                    row.station_key)


def authenticate(store: RecordStore, token: str) -> Principal:
    """The principal a bearer token belongs to; `Unauthenticated` for an unknown or revoked token."""
    if not _TOKEN.match(token):
        raise Unauthenticated("token: not an mrtd token")
    with store.reading() as s:
        found = s.execute(
            select(UserRow.name, UserRow.role)
            .join(TokenRow, TokenRow.user_id == UserRow.id)
            .where(TokenRow.sha256 == token_digest(token), TokenRow.revoked_at.is_(None))
        ).first()
    if found is None:
        raise Unauthenticated("token: unknown or revoked")
    return Principal(found[0], Role(found[1]))


def cli_principal(store: RecordStore, os_user: str, named: str | None) -> Principal:
    """The command line's principal: the named user, in that user's role, else the local OS user."""
    if not named:
        return Principal(os_user)
    found = user(store, named)
    return Principal(found.name, found.role)


def register_station_key(store: RecordStore, station: Principal, public_key: str) -> None:
    """Record the station's key on first use; refuse a different one later (an admin clears it)."""
    with store.reading() as s:
        if _user(s, station.name).station_key == public_key:
            return  # the usual case: read only
    with store.writing() as w:
        row = _user(w.session, station.name)
        if row.station_key == public_key:
            return
        if row.station_key is not None:
            raise Forbidden(f"station {station.name}: its registered key differs from the one given; an admin "
                            "clears it with `mrtd users reset-key`", rule="station-key")
        row.station_key = public_key
        w.audit(actor=station.name, action="user.station-key-registered", subject=station.name,
                detail={"public_key": public_key})
