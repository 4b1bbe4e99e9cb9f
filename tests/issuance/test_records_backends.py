"""The two record backends the records tests run against, and checks of the backends themselves.

`store_url` is parametrised: a SQLite file in a temporary folder, and PostgreSQL at 127.0.0.1:5432
(trust auth, user postgres or root, database `test`) in a schema made for the one test and dropped after
it, so parallel runs never see each other's rows. Other test modules import the fixtures from here.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from conftest import require
from sqlalchemy import Engine, create_engine, text

from mrtd.errors import ConfigurationError, Finding, Severity
from mrtd.issuance.records import RecordStore, normalise_url

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DATABASE = "test"
_pg_user: str | bool | None = False  # False: not probed yet


def pg_user() -> str | None:
    """The first of postgres/root that can log in to database `test`, or None when PostgreSQL is not there."""
    global _pg_user
    if _pg_user is False:
        _pg_user = None
        for user in (os.environ.get("PGUSER", "postgres"), "root"):
            try:
                with psycopg.connect(
                    host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE, connect_timeout=3
                ):
                    _pg_user = user
                    break
            except psycopg.Error:
                continue
    return _pg_user if isinstance(_pg_user, str) else None


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A `postgresql://` URL whose search_path is a fresh schema, dropped at the end of the test."""
    user = pg_user()
    require(user is not None, f"PostgreSQL at {PG_HOST}:{PG_PORT}, database {PG_DATABASE}")
    assert user is not None
    schema = f"mrtd_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        options = quote(f"-csearch_path={schema}")
        yield f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options={options}"
    finally:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite3'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


class StepClock:
    """A clock for tests: starts at a fixed instant and moves one second per reading."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        current = self.now
        self.now += dt.timedelta(seconds=1)
        return current


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(store_url: str, clock: StepClock) -> Iterator[RecordStore]:
    s = RecordStore.open(store_url, clock=clock)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def raw_engine(store_url: str) -> Iterator[Engine]:
    """A plain engine on the same database, for tampering behind the store's back."""
    engine = create_engine(normalise_url(store_url))
    try:
        yield engine
    finally:
        engine.dispose()


# --- the backends themselves --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_urls_go_through_psycopg3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "not a url"])
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"records\.url"):
        RecordStore.open(url)


def test_store_uses_the_backend_it_was_given(store: RecordStore, store_url: str) -> None:
    assert store.dialect == ("postgresql" if store_url.startswith("postgresql") else "sqlite")


def test_opening_twice_keeps_the_records(store_url: str, clock: StepClock) -> None:
    with RecordStore.open(store_url, clock=clock) as first:
        app = first.receive_application("a" * 64, {"holder": "ERIKSSON"})
    with RecordStore.open(store_url, clock=clock) as second:
        again = second.application("a" * 64)
    assert again is not None and again.id == app.id and again.payload == {"holder": "ERIKSSON"}


@pytest.mark.postgres
def test_postgres_schema_is_isolated(pg_schema_url: str) -> None:
    with RecordStore.open(pg_schema_url) as s:
        s.receive_application("k", {})
    user = pg_user()
    schema = pg_schema_url.split("search_path%3D", 1)[1]
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE) as c:
        row = c.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'documents'",
            (schema,),
        ).fetchone()
    assert row == (1,)


def test_sqlite_file_is_created_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "site" / "records.sqlite3"
    with RecordStore.open(f"sqlite:///{path}") as s:
        s.receive_application("k", {})
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_a_received_case_is_returned_as_the_backend_stores_it(store: RecordStore) -> None:
    """`Casework.receive` makes the case it returns in its own transaction, without reading it back: it
    must equal what a later read gives (times, findings, documents), on either backend."""
    from mrtd.issuance.casework import Casework
    from mrtd.mrz import NameOptions

    casework = Casework(store)
    payload = {"document": {"format": "TD3"}, "holder": {"primary_identifier": "ERIKSSON", "nationality": "UTO",
                                                         "date_of_birth": "1974-08-12"}}
    warning = Finding("holder.secondary_identifier", "empty", "no given names", severity=Severity.WARNING)
    first = casework.receive("c" * 64, payload, images={}, findings=[warning], names=NameOptions(), actor="clerk")
    again = casework.receive("c" * 64, payload, images={}, findings=(), names=NameOptions(), actor="other")
    assert first.created and not again.created
    assert first.case == again.case == casework.case(first.record.id)
    assert first.case.findings[0]["rule"] == "empty" and first.case.submitted_by == "clerk"
