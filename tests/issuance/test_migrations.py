"""Alembic owns the records schema: databases frozen at schema version 1 by main before Alembic
(tests/vectors/records/, made with the command line) are refused by normal commands until `mrtd site
upgrade`, which keeps every row; the audit chain still verifies; the baseline revision is that schema.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import VECTORS, require
from sqlalchemy import Engine, create_engine, inspect, text
from test_records_backends import PG_DATABASE, PG_HOST, PG_PORT, pg_user

from mrtd.cli import main
from mrtd.errors import ConfigurationError, StateError
from mrtd.issuance import migrations
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.casework import name_words
from mrtd.issuance.records import Base, RecordStore, normalise_url

pytest_plugins = ["test_records_backends"]

FIXTURES = VECTORS / "records"
# Rows compared before and after, by table: (order by, columns).
SAMPLES = {
    "documents": ("id", "number, state, sequence_key, sequence, application_id"),
    "audit_log": ("seq", "seq, action, subject, hash, prev_hash"),
    "audit_head": ("id", "seq, hash"),
    "users": ("id", "name, role"),
    "blanks": ("id", "number, state, note"),
    "number_sequences": ("key", "key, next_value"),
    "application_cases": ("application_id", "application_id, state, submitted_by, decided_by"),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def frozen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database at schema version 1, from the fixture of its backend."""
    if request.param == "sqlite":
        path = tmp_path / "records.sqlite3"
        shutil.copyfile(FIXTURES / "schema-1.sqlite3", path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_schema_url")
    schema = url.rsplit("%3D", 1)[1]
    require(shutil.which("psql") is not None, "psql (postgresql-client)")
    dump = (FIXTURES / "schema-1.postgresql.sql").read_text("utf-8").replace("mrtd_fixture", schema)
    dump = dump.replace(f"CREATE SCHEMA {schema};", "")  # made by the fixture already
    done = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", "-h", PG_HOST, "-p", str(PG_PORT), "-U",
                           str(pg_user()), "-d", PG_DATABASE], input=dump, capture_output=True, text=True,
                          check=False, env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"})
    assert done.returncode == 0, done.stderr
    yield url


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        tables = sorted(t for t in inspect(conn).get_table_names() if t != "alembic_version")
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
        rows = {t: [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {t} ORDER BY {order}"))]
                for t, (order, cols) in SAMPLES.items()}
    return {"counts": counts, "rows": rows}


def test_a_frozen_database_is_refused_until_upgraded_and_keeps_every_row(frozen: str) -> None:
    engine = create_engine(normalise_url(frozen))
    try:
        before = snapshot(engine)
        assert before["counts"]["documents"] >= 4 and before["counts"]["audit_log"] >= 60
        with pytest.raises(ConfigurationError, match=r"revision 0001.*run `mrtd site upgrade`"):
            RecordStore.open(frozen, create=False)
        with pytest.raises(ConfigurationError, match="run `mrtd site upgrade`"):
            RecordStore.open(frozen)  # not even "create" touches a database it finds at an old revision
        assert RecordStore.upgrade(frozen) == ("0001", migrations.head())
        after = snapshot(engine)
        with engine.connect() as conn:  # 0005's word index, filled from the person index the records held
            words = {(w, app) for app, folded, mrz in conn.execute(
                text("SELECT application_id, names_folded, names_mrz FROM person_index")) for w in name_words(folded, mrz)}
            indexed = {(w, app) for w, app in conn.execute(text("SELECT word, application_id FROM person_words"))}
    finally:
        engine.dispose()
    assert after["rows"] == before["rows"]
    assert indexed == words and {w.isupper() for w, _ in words} == {True, False}  # MRZ and folded forms
    added = {t: n for t, n in after["counts"].items() if t not in before["counts"]}
    assert added == {"lost_numbers": 0, "audit_checkpoints": 0, "issuing_locks": 0, "photo_checks": 0,
                     "person_words": len(words)}
    assert {t: n for t, n in after["counts"].items() if t in before["counts"]} == {
        **before["counts"], "records_meta": before["counts"]["records_meta"] + 1}  # + records_id
    with RecordStore.open(frozen, create=False) as store:
        report = verify_chain(store)
        assert report.ok, str(report)
        assert report.entries == before["counts"]["audit_log"]
        records_id, documents, sequences = store.numbering_state()
        assert records_id and documents == before["counts"]["documents"] and sequences["U/9"] > 10000001
    assert RecordStore.upgrade(frozen) == (migrations.head(), migrations.head())  # a second run changes nothing


def test_site_upgrade_on_the_command_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(FIXTURES / "schema-1.sqlite3", site / "records.sqlite3")
    (site / "mrtd.toml").write_text('[site]\ncountry = "UTO"\n[records]\nurl = "sqlite:///records.sqlite3"\n')
    runner = CliRunner()
    refused = runner.invoke(main, ["records", "list", "--site", str(site)])
    assert refused.exit_code == 1 and "run `mrtd site upgrade`" in refused.output
    done = runner.invoke(main, ["site", "upgrade", "--site", str(site)])
    assert done.exit_code == 0 and f"upgraded from 0001 to revision {migrations.head()}" in done.output, done.output
    listed = runner.invoke(main, ["records", "list", "--site", str(site)])
    assert listed.exit_code == 0 and "8 documents" in listed.output
    assert runner.invoke(main, ["audit", "verify", "--site", str(site)]).exit_code == 0
    assert (site / "records.sqlite3").stat().st_mode & 0o777 == 0o600


def _schema(engine: Engine) -> dict[str, Any]:
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(t for t in insp.get_table_names() if t != "alembic_version"):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)),
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table)),
        }
    return out


def test_the_baseline_revision_is_the_frozen_schema_and_head_is_the_code(tmp_path: Path) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'baseline.sqlite3'}")
    try:
        with engine.begin() as conn:
            command.upgrade(migrations._config(conn), "0001")
        frozen = create_engine(f"sqlite:///file:{FIXTURES / 'schema-1.sqlite3'}?mode=ro&uri=true")
        try:
            assert _schema(engine) == _schema(frozen)
        finally:
            frozen.dispose()
    finally:
        engine.dispose()
    with RecordStore.open(f"sqlite:///{tmp_path / 'head.sqlite3'}"):
        pass
    head = create_engine(f"sqlite:///{tmp_path / 'head.sqlite3'}")
    try:
        assert set(_schema(head)) == set(Base.metadata.tables)  # the code's tables are the head revision's
    finally:
        head.dispose()


def test_a_downgrade_is_refused_and_keeps_every_row(tmp_path: Path) -> None:
    from alembic import command

    with RecordStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}"):
        pass
    engine = create_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        before = _schema(engine)
        with engine.begin() as conn, pytest.raises(StateError, match="never migrated down; restore a backup"):
            command.downgrade(migrations._config(conn), "0002")
        with engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()
        assert _schema(engine) == before
    finally:
        engine.dispose()
