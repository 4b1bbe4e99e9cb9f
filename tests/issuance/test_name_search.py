"""Finding people by name, on SQLite and PostgreSQL: each word of the query is the start of a word of one of
the person's names, in any script (case and accents folded) or in its MRZ transliteration; every word of the
query must match. Searched through the records' word index (`person_words`), which a site from before it
gets on `mrtd site upgrade` (benchmarks/bench_search.py times it on a million people)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SIGNING_SECRETS
from servicekit import make_site, submission
from sqlalchemy import create_engine, text

from mrtd.errors import ConfigurationError
from mrtd.issuance import migrations
from mrtd.issuance.casework import PersonWordRow
from mrtd.issuance.office import Office
from mrtd.issuance.records import RecordStore
from mrtd.issuance.roles import Principal, Role
from mrtd.issuance.site import SiteConfig

pytest_plugins = ["test_records_backends"]  # store_url: SQLite, and PostgreSQL in a schema of its own

CLERK = Principal("carla", Role.CLERK)
SUPERVISOR = Principal("sam", Role.SUPERVISOR)
PEOPLE = {
    "anna": {"primary_identifier": "ERIKSSON", "secondary_identifier": "ANNA MARIA"},
    "taras": {"primary_identifier": "SHEVCHENKO", "secondary_identifier": "TARAS",
              "name_in_national_characters": "Шевченко Тарас"},
    "jurgen": {"primary_identifier": "MÜLLER-LÜDENSCHEIDT", "secondary_identifier": "JÜRGEN"},
    "annabel": {"primary_identifier": "ANNABEL", "secondary_identifier": "ROSE"},
}
QUERIES = {
    "eriksson": {"anna"},
    "Erik": {"anna"},
    "riksson": set(),  # inside a word, not at its start
    "anna": {"anna", "annabel"},
    "maria anna": {"anna"},
    "anna rose": {"annabel"},
    "шевч": {"taras"},
    "ШЕВЧЕНКО тарас": {"taras"},
    "shevchenko": {"taras"},
    "müller": {"jurgen"},
    "muller": {"jurgen"},
    "MUELLER": {"jurgen"},  # the MRZ's transliteration of Ü (Doc 9303-3 §6)
    "ludenscheidt jurgen": {"jurgen"},
    "zzz": set(),
}


@pytest.fixture
def people(store_url: str, tmp_path: Path) -> Iterator[tuple[SiteConfig, Office, dict[str, int]]]:
    site = make_site(tmp_path / "site", store_url)
    with Office(site, clock=lambda: dt.datetime.now(dt.UTC), secrets=SIGNING_SECRETS) as office:
        ids = {}
        for who, holder in PEOPLE.items():
            body = submission("anna-eriksson-td3.json", holder=holder)
            images = {k: base64.b64decode(v) for k, v in body["images"].items()}
            ids[who] = office.submit(CLERK, body["application"], images).case.id
        yield site, office, ids


def found(office: Office, ids: dict[str, int], query: str) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    return {by_id[c.id] for c in office.search(SUPERVISOR, reason="identity check", name=query)}


def test_each_query_word_starts_a_name_word_in_any_script_or_its_mrz_form(
        people: tuple[SiteConfig, Office, dict[str, int]]) -> None:
    _, office, ids = people
    for query, want in QUERIES.items():
        assert found(office, ids, query) == want, query


def test_a_site_from_before_the_word_index_gets_it_on_upgrade(
        people: tuple[SiteConfig, Office, dict[str, int]], store_url: str) -> None:
    site, _, ids = people
    _back_to_0004(store_url)
    with pytest.raises(ConfigurationError, match="mrtd site upgrade"):
        RecordStore.open(store_url).close()
    assert RecordStore.upgrade(store_url) == ("0004", migrations.head())
    with Office(site, clock=lambda: dt.datetime.now(dt.UTC), secrets=SIGNING_SECRETS) as again:
        for query, want in QUERIES.items():
            assert found(again, ids, query) == want, query


def _back_to_0004(url: str) -> None:
    """The records as revision 0004 left them: no word index (0005), no audit indexes (0006)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            PersonWordRow.__table__.drop(conn)
            for index in ("ix_audit_log_subject_seq", "ix_audit_log_actor_seq", "ix_audit_log_at"):
                conn.execute(text(f"DROP INDEX {index}"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    finally:
        engine.dispose()
