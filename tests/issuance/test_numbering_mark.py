"""A number is issued once, ever: the site's numbering mark, kept outside the records, refuses a records
database that is lost, emptied, cut down, foreign or older than the site, and numbering resumes above it
after `mrtd site backup` / `mrtd site restore`. Done the way an accident or an attacker would (the file
deleted or copied back, rows deleted and a table dropped behind the store's back), on SQLite and
PostgreSQL alike, through the command line where the exit code and the message matter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import json_result
from conftest import EXAMPLES, KEY_SECRETS, secret_env
from sqlalchemy import Engine, create_engine, event, text

from mrtd.cli import main
from mrtd.errors import StateError
from mrtd.issuance import migrations
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.inventory import Inventory, draw_number
from mrtd.issuance.mark import MARK_FILE, MarkKeeper, RecordsBehind
from mrtd.issuance.records import RecordsMissing, RecordStore, normalise_url
from mrtd.issuance.site import SiteConfig, init_site, load_site, read_config, write_config

pytest_plugins = ["test_records_backends"]  # store_url: SQLite file or a PostgreSQL schema of its own


@pytest.fixture
def site(tmp_path: Path, store_url: str, clock: object) -> SiteConfig:
    url = None if store_url.startswith("sqlite") else store_url
    return init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT",  # type: ignore[arg-type]
                     database_url=url, kdf_log2n=12)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=secret_env())
    return result.exit_code, result.output


def draw(site: SiteConfig, key: str, requested: str | None = None) -> str:
    """A new application and its document's number, as `mrtd issue` draws it (through the site)."""
    with site.open_records() as store:
        app = store.receive_application(key, {"key": key})
        return draw_number(store, source=site.number_source, policy=site.numbering, application_id=app.id,
                           application_key=key, requested=requested, actor="test")


def sql(site: SiteConfig, *statements: str) -> None:
    """Edit the records behind mrtd's back, as anyone holding the database can."""
    engine = create_engine(normalise_url(site.records_url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def is_sqlite(site: SiteConfig) -> bool:
    return site.records_url.startswith("sqlite")


def assert_refused(site: SiteConfig, *needles: str) -> str:
    code, out = cli("records", "list", "--site", str(site.root))
    assert code == 1, out
    for needle in needles:
        assert needle in out, out
    assert "mrtd site restore" in out
    return out


# --- the attacks --------------------------------------------------------------------------------------


def test_a_deleted_database_is_refused_and_not_made_again(site: SiteConfig, tmp_path: Path) -> None:
    first = draw(site, "a")
    if is_sqlite(site):
        Path(site.records_url.removeprefix("sqlite:///")).unlink()
        missing = "is missing"
    else:
        with RecordStore.open(site.records_url) as store, store.reading() as s:
            schema = s.execute(text("SELECT current_schema()")).scalar_one()
        sql(site, f'DROP SCHEMA "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
        missing = "holds no records"
    application = tmp_path / "app.json"
    data = json.loads((EXAMPLES / "anna-eriksson-td1.json").read_text("utf-8"))
    data["document"].pop("number")
    data["portrait"] = str(EXAMPLES / data["portrait"])
    data["signature"] = str(EXAMPLES / data["signature"])
    application.write_text(json.dumps(data), "utf-8")
    code, out = cli("issue", str(application), "--site", str(site.root), "--out", str(tmp_path / "out"),
                    "--no-print-check")
    assert code == 1 and missing in out and "mrtd site restore" in out, out
    assert not (tmp_path / "out").exists()
    assert_refused(site, missing)
    code, out = cli("audit", "verify", "--site", str(site.root))
    assert code == 1 and "intact" not in out and "mrtd site restore" in out, out
    if is_sqlite(site):
        assert not Path(site.records_url.removeprefix("sqlite:///")).exists()  # never silently made again
    assert first == "U10000001"


def test_an_emptied_database_is_refused(site: SiteConfig) -> None:
    draw(site, "a")
    draw(site, "b")
    sql(site, "DELETE FROM events", "DELETE FROM documents")  # the audit log's triggers do not guard these
    assert_refused(site, "holds 0 documents", "says 2 were recorded")


def test_a_dropped_documents_table_is_refused(site: SiteConfig) -> None:
    draw(site, "a")
    sql(site, "DROP TABLE events", "DROP TABLE chips", "DROP TABLE seals", "DROP TABLE documents")
    assert_refused(site, "lacks the tables", "documents")


def test_a_new_database_in_its_place_is_refused(site: SiteConfig, tmp_path: Path) -> None:
    """A fresh database (empty, or another site's) carries another records id."""
    draw(site, "a")
    if is_sqlite(site):
        other = init_site(tmp_path / "other", "UTO", secrets=KEY_SECRETS, clock=load_clock,  # type: ignore[arg-type]
                          certificate_country="UT", kdf_log2n=12)
        database = Path(site.records_url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(other.root / "records.sqlite3", database)
    else:
        sql(site, "UPDATE records_meta SET value = 'ffffffffffffffffffffffffffffffff' WHERE key = 'records_id'")
    assert_refused(site, "is not the one this site's numbering mark belongs to")


def load_clock() -> object:
    import datetime as dt

    return dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def test_an_old_copy_put_back_is_refused(site: SiteConfig, tmp_path: Path) -> None:
    draw(site, "a")
    code, out = cli("site", "backup", str(tmp_path / "old.backup"), "--site", str(site.root))
    assert code == 0, out
    draw(site, "b")
    draw(site, "c")
    if is_sqlite(site):  # the file copied back by hand (its WAL gone with it), not through `mrtd site restore`
        database = Path(site.records_url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(tmp_path / "old.backup", database)
    else:
        sql(site, "DELETE FROM events WHERE document_id IN (SELECT id FROM documents WHERE number <> 'U10000001')",
            "DELETE FROM documents WHERE number <> 'U10000001'")
    assert_refused(site, "holds 1 documents but the site's numbering mark says 3")


def test_a_site_without_a_mark_is_told_to_upgrade(site: SiteConfig) -> None:
    draw(site, "a")
    (site.root / "pki" / MARK_FILE).unlink()
    code, out = cli("records", "list", "--site", str(site.root))
    assert code == 1 and "mrtd site upgrade" in out, out
    code, out = cli("site", "upgrade", "--site", str(site.root))
    assert code == 0 and "numbering mark started" in out, out
    code, out = cli("site", "upgrade", "--site", str(site.root), "--json")
    assert code == 0 and json_result(out) == {"from": migrations.head(), "to": migrations.head(), "mark_started": False}, out
    assert draw(site, "b") == "U10000002"


# --- backup, restore, and no number ever twice --------------------------------------------------------


def test_backup_issue_more_restore_the_old_backup_then_numbers_resume_above_all(site: SiteConfig,
                                                                                  tmp_path: Path) -> None:
    before = [draw(site, "a"), draw(site, "b")]
    code, out = cli("site", "backup", str(tmp_path / "b.backup"), "--site", str(site.root), "--json")
    assert code == 0, out
    assert json_result(out)["documents"] == 2
    assert (tmp_path / "b.backup").stat().st_mode & 0o777 == 0o600
    after = [draw(site, "c"), draw(site, "d")]
    code, out = cli("site", "restore", str(tmp_path / "b.backup"), "--site", str(site.root))
    assert code == 1 and "intact" in out and "--force" in out, out  # a healthy site is not overwritten by mistake
    code, out = cli("site", "restore", str(tmp_path / "b.backup"), "--site", str(site.root), "--force", "--json")
    assert code == 0, out
    report = json_result(out)
    assert report["documents"] == 2 and report["documents_lost"] == 2
    assert report["sequences"]["U/9"] == {"backup_next": 10000003, "resumes_at": 10000005}
    with site.open_records() as store:
        assert [d.number for d in store.documents()] == before  # the backup's documents, and only those
        assert verify_chain(store).ok
    again = [draw(site, "e"), draw(site, "f")]
    code, out = cli("audit", "verify", "--site", str(site.root))  # chain, checkpoints, replay of the documents
    assert code == 0, out
    issued = before + after + again
    assert len(set(issued)) == len(issued)
    assert min(again) > max(before + after)
    assert again == ["U10000005", "U10000006"]


def test_restore_of_a_lost_database(site: SiteConfig, tmp_path: Path) -> None:
    draw(site, "a")
    assert cli("site", "backup", str(tmp_path / "b.backup"), "--site", str(site.root))[0] == 0
    lost = draw(site, "b")
    sql(site, "DELETE FROM events", "DELETE FROM documents")
    assert_refused(site, "holds 0 documents")
    code, out = cli("site", "restore", str(tmp_path / "b.backup"), "--site", str(site.root))  # no --force needed
    assert code == 0 and "resumes at 10000003" in out, out
    assert draw(site, "c") == "U10000003" and lost == "U10000002"


def test_a_crash_after_the_mark_was_raised_only_skips_a_number(site: SiteConfig,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    draw(site, "a")

    def crash(*_: object, **__: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(RecordStore, "_new_document", staticmethod(crash))
    with pytest.raises(OSError):
        draw(site, "b")
    monkeypatch.undo()
    assert draw(site, "c") == "U10000003"  # U10000002 was reserved and is never drawn; the site still opens


def kept_count(site: SiteConfig) -> tuple[int | None, int]:
    """The document count the records keep (None: not kept) and the number of document rows."""
    engine = create_engine(normalise_url(site.records_url))
    try:
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT value FROM records_meta WHERE key = 'documents'")).scalar()
            rows = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
            return (None if kept is None else int(kept)), int(rows)
    finally:
        engine.dispose()


def test_drawing_a_number_does_not_count_the_documents_table(site: SiteConfig) -> None:
    """The mark's document count comes from the count the records keep: counting the table at every
    allocation, inside the write lock, grew with the records (36 ms per million documents on PostgreSQL)."""
    draw(site, "a")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.lower().split()))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        draw(site, "b")
        draw(site, "c", requested="QA0000001")
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    allocations = [s for s in statements if s.startswith("insert into documents")]
    assert len(allocations) == 2, statements
    counted = [s for s in statements if "count(" in s and "from documents" in s]
    assert len(counted) == 2, counted  # once each when the store opens (checked against the mark), no more
    assert kept_count(site) == (3, 3)
    assert MarkKeeper(site.root).read().documents == 3  # type: ignore[union-attr]


def test_records_from_before_the_kept_count_are_counted_once(site: SiteConfig) -> None:
    draw(site, "a")
    draw(site, "b")
    sql(site, "DELETE FROM records_meta WHERE key = 'documents'")  # as a database made before the count was kept
    assert draw(site, "c") == "U10000003"
    assert kept_count(site) == (3, 3)
    assert draw(site, "d", requested="QA0000001") == "QA0000001"
    assert kept_count(site) == (4, 4)
    assert MarkKeeper(site.root).read().documents == 4  # type: ignore[union-attr]
    sql(site, "DELETE FROM events WHERE document_id = (SELECT max(id) FROM documents)",
        "DELETE FROM documents WHERE id = (SELECT max(id) FROM documents)")  # a row deleted: the mark still sees it
    assert_refused(site, "holds 3 documents but the site's numbering mark says 4")


def test_blanks_given_out_after_the_backup_are_never_issued_again(site: SiteConfig, tmp_path: Path) -> None:
    table = read_config(site.root)
    table["numbering"]["source"] = "inventory"
    write_config(site.root, table)
    site = load_site(site.root)
    with site.open_records() as store:
        Inventory(store).receive([f"X000010{n}" for n in range(1, 6)], "booklet", delivery="D-1", actor="test")
    assert draw(site, "a", "X0000101") == "X0000101"
    assert cli("site", "backup", str(tmp_path / "b.backup"), "--site", str(site.root))[0] == 0
    assert draw(site, "b", "X0000103") == "X0000103"
    code, out = cli("site", "restore", str(tmp_path / "b.backup"), "--site", str(site.root), "--force")
    assert code == 0 and "X0000103" in out, out
    with pytest.raises(StateError, match="X0000103 was given out before a restore"):
        draw(site, "c", "X0000103")
    with site.open_records() as store:
        assert Inventory(store).blank("X0000103").state == "spoiled"
        with pytest.raises(StateError, match="already known"):
            Inventory(store).receive(["X0000103"], "booklet", delivery="D-2", actor="test")
    assert draw(site, "d", "X0000102") == "X0000102"


def test_a_backup_of_another_site_is_refused(site: SiteConfig, tmp_path: Path) -> None:
    if not is_sqlite(site):
        pytest.skip("one PostgreSQL schema per test: the other site's records would share it")
    other = init_site(tmp_path / "other", "UTO", secrets=KEY_SECRETS, clock=load_clock,  # type: ignore[arg-type]
                      certificate_country="UT", kdf_log2n=12)
    assert cli("site", "backup", str(tmp_path / "other.backup"), "--site", str(other.root))[0] == 0
    code, out = cli("site", "restore", str(tmp_path / "other.backup"), "--site", str(site.root), "--force")
    assert code == 1 and "not this site's" in out, out


def test_the_store_refuses_without_making_anything(tmp_path: Path) -> None:
    with pytest.raises(RecordsMissing, match="is missing"):
        RecordStore.open(f"sqlite:///{tmp_path / 'none.sqlite3'}", create=False)
    assert not (tmp_path / "none.sqlite3").exists()
    assert issubclass(RecordsBehind, StateError)


# --- the mark in the HSM ------------------------------------------------------------------------------

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.mark.softhsm
@pytest.mark.slow
def test_with_a_token_the_mark_survives_the_loss_of_its_file_and_the_database(tmp_path: Path) -> None:
    """A token site keeps the mark in its token too: the database deleted and the mark file with it (or
    put back from an old copy) are still refused."""
    import os
    import subprocess
    import sys

    from conftest import ROOT, require

    require(shutil.which("softhsm2-util") is not None and Path(SOFTHSM_MODULE).exists(), "SoftHSM2")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf), "MRTD_DS_PIN": "246810", "MRTD_SEAL_PIN": "246810",
           "MRTD_AUDIT_PIN": "246810", "MRTD_CSCA_PASSPHRASE": "csca of a token site"}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "mrtd-site", "--pin", "246810",
                    "--so-pin", "13579135"], check=True, capture_output=True, env=env)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mrtd.cli", *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=ROOT, check=False)

    site = tmp_path / "s"
    made = run("site", "init", str(site), "--country", "UTO", "--certificate-country", "UT", "--pkcs11-module",
               SOFTHSM_MODULE, "--token", "mrtd-site")
    assert made.returncode == 0, made.stderr
    # Copies taken before anything was issued: the records and the mark file, consistent with each other.
    shutil.copyfile(site / "records.sqlite3", tmp_path / "records.before")
    shutil.copyfile(site / "pki" / MARK_FILE, tmp_path / "mark.before")
    issued = run("issue", str(EXAMPLES / "anna-eriksson-td1.json"), "--site", str(site), "--out",
                 str(tmp_path / "out"), "--no-print-check")
    assert issued.returncode == 0, issued.stderr
    assert json.loads((site / "pki" / MARK_FILE).read_text("utf-8"))["documents"] == 1
    # Both put back by hand: the file alone would agree with the old records; the token does not.
    for suffix in ("-wal", "-shm"):
        (site / f"records.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copyfile(tmp_path / "records.before", site / "records.sqlite3")
    shutil.copyfile(tmp_path / "mark.before", site / "pki" / MARK_FILE)
    refused = run("records", "list", "--site", str(site))
    assert refused.returncode == 1 and "holds 0 documents but the site's numbering mark says 1" in refused.stderr, \
        refused.stderr
    # The records and the mark file both gone: still refused, and nothing made again.
    (site / "records.sqlite3").unlink()
    (site / "pki" / MARK_FILE).unlink()
    gone = run("records", "list", "--site", str(site))
    assert gone.returncode == 1 and "mrtd site restore" in gone.stderr, gone.stderr
    assert not (site / "records.sqlite3").exists()
    assert "246810" not in issued.stdout + issued.stderr + refused.stderr
