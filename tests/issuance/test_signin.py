"""Passwords, TOTP, lockout and browser sessions (mrtd.issuance.signin), with a clock the test moves."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyotp
import pytest

from mrtd.errors import InputError
from mrtd.issuance.records import RecordStore
from mrtd.issuance.roles import Role, Unauthenticated
from mrtd.issuance.signin import (
    IDLE_MINUTES,
    LOCK_MINUTES,
    MAX_FAILURES,
    SignInFailed,
    end_sessions,
    enrol_totp,
    session_of,
    set_password,
    sign_in,
    sign_out,
)
from mrtd.issuance.users import add_user

PASSWORD = "a long enough passphrase"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Iterator[RecordStore]:
    with RecordStore.open("sqlite://", clock=clock) as s:
        add_user(s, "carla", Role.CLERK, actor="admin")
        set_password(s, "carla", PASSWORD, actor="admin")
        yield s


def _audit(store: RecordStore) -> list[tuple[str, str, dict[str, object]]]:
    from sqlalchemy import select

    from mrtd.issuance.records import AuditRow

    with store.reading() as s:
        return [(r.actor, r.action, json.loads(r.detail)) for r in s.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()]


def test_password_rules_and_no_secret_in_the_log(store: RecordStore) -> None:
    with pytest.raises(InputError, match="shorter than 12"):
        set_password(store, "carla", "short", actor="admin")
    with pytest.raises(InputError, match="no user"):
        set_password(store, "nobody", PASSWORD, actor="admin")
    session, token = sign_in(store, "Carla ", PASSWORD)
    assert session.principal.name == "carla" and session.principal.role is Role.CLERK and len(token) >= 43
    assert PASSWORD not in json.dumps(_audit(store)) and token not in json.dumps(_audit(store))


def test_wrong_password_unknown_user_same_answer(store: RecordStore) -> None:
    with pytest.raises(SignInFailed) as wrong:
        sign_in(store, "carla", "not the passphrase")
    with pytest.raises(SignInFailed) as unknown:
        sign_in(store, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    assert [a for _, a, _ in _audit(store)][-2:] == ["user.sign-in-failed", "user.sign-in-failed"]


def test_lockout_after_repeated_failures_then_it_lifts(store: RecordStore, clock: Clock) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            sign_in(store, "carla", "wrong wrong wrong")
    with pytest.raises(SignInFailed):
        sign_in(store, "carla", PASSWORD)  # locked: the right password is refused too
    actions = [a for _, a, _ in _audit(store)]
    assert actions.count("user.locked") == 1
    assert _audit(store)[-1] == ("anonymous", "user.sign-in-failed", {"why": "locked"})
    clock.move(minutes=LOCK_MINUTES, seconds=1)
    sign_in(store, "carla", PASSWORD)
    # a success resets the count: four more failures do not lock
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            sign_in(store, "carla", "wrong wrong wrong")
    sign_in(store, "carla", PASSWORD)


def test_resetting_the_password_unlocks(store: RecordStore) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            sign_in(store, "carla", "wrong wrong wrong")
    set_password(store, "carla", "another long passphrase", actor="admin")
    sign_in(store, "carla", "another long passphrase")


def test_totp_second_factor_and_no_replay(store: RecordStore, clock: Clock) -> None:
    uri = enrol_totp(store, "carla", actor="admin")
    totp = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/") and "carla" in uri
    with pytest.raises(SignInFailed):
        sign_in(store, "carla", PASSWORD)  # no code
    code = totp.at(clock.now)
    with pytest.raises(SignInFailed):
        sign_in(store, "carla", "wrong wrong wrong", code)  # a code does not stand in for the password
    sign_in(store, "carla", PASSWORD, code)
    with pytest.raises(SignInFailed):
        sign_in(store, "carla", PASSWORD, code)  # the same code again: refused
    clock.move(seconds=30)
    sign_in(store, "carla", PASSWORD, totp.at(clock.now))
    clock.move(seconds=300)
    with pytest.raises(SignInFailed):
        sign_in(store, "carla", PASSWORD, totp.at(clock.now - dt.timedelta(seconds=120)))  # too old


def test_sessions_idle_timeout_sign_out_and_revoke(store: RecordStore, clock: Clock) -> None:
    session, token = sign_in(store, "carla", PASSWORD)
    assert session_of(store, token, clock.now).csrf == session.csrf
    clock.move(minutes=IDLE_MINUTES - 1)
    session_of(store, token, clock.now)  # used: the idle deadline moves on
    clock.move(minutes=IDLE_MINUTES - 1)
    session_of(store, token, clock.now)
    clock.move(minutes=IDLE_MINUTES + 1)
    with pytest.raises(Unauthenticated, match="timed out"):
        session_of(store, token, clock.now)
    _, token2 = sign_in(store, "carla", PASSWORD)
    sign_out(store, token2)
    with pytest.raises(Unauthenticated):
        session_of(store, token2, clock.now)
    _, token3 = sign_in(store, "carla", PASSWORD)
    assert end_sessions(store, "carla", actor="admin") == 1
    with pytest.raises(Unauthenticated):
        session_of(store, token3, clock.now)
    for bad in ("", "x" * 65, "not-a-session"):
        with pytest.raises(Unauthenticated):
            session_of(store, bad, clock.now)
