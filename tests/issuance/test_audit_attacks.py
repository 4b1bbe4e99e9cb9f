"""Attacks on the audit log done the way an attacker holding the database would: SQL straight on the
tables, the append-only triggers dropped, the chain and head recomputed. Each one is found by
`mrtd audit verify` (exit 1, the first bad entry or document and the rule named). SQLite and PostgreSQL.

The site is real (`init_site` with an audit key, records in the backend under test); its history is
written through the records store with the site's audit key signing checkpoints every 5 entries and at
the end (the store's close), as commands do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import KEY_SECRETS
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, create_engine, text
from test_records_backends import StepClock

from mrtd.cli.audit import audit
from mrtd.issuance.audit import canonical_json, entry_hash
from mrtd.issuance.checkpoints import AuditKey, Checkpointer
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import normalise_url
from mrtd.issuance.site import SiteConfig, init_site, load_site, read_config, write_config
from mrtd.issuance.states import DocumentState
from mrtd.pki.signer import MemorySigner

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures

S = DocumentState
AUDIT_SECRETS = KEY_SECRETS  # the audit key included
EVERY = 5


@dataclass
class Site:
    root: Path
    config: SiteConfig
    engine: Engine
    numbers: list[str]
    entries: int


def history(config: SiteConfig, clock: StepClock) -> tuple[list[str], int]:
    """Three applications: one document issued, one spoiled then issued, one cancelled; a note."""
    policy = NumberPolicy("UT")
    numbers = []
    with config.open_records(clock=clock, audit_secret=AUDIT_SECRETS["audit"]) as store:
        for n in range(3):
            app = store.receive_application(f"app-{n}", {"n": n})
            number = store.allocate_number(policy, app.id)
            numbers.append(number)
            if n == 1:
                store.transition(number, S.SPOILED, actor="station-1", detail={"step": "print"})
                number = store.allocate_number(policy, app.id)
                numbers.append(number)
            if n == 2:
                store.transition(number, S.CANCELLED, actor="clerk", detail="withdrawn")
                continue
            for state in (S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED, S.ISSUED):
                store.transition(number, state, actor="station-1", detail={"ok": True})
        store.note(numbers[0], "reprint", actor="clerk")
        with store.audit_snapshot() as snap:
            head = snap.head()[0]
    return numbers, head


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Iterator[Site]:
    clock = StepClock()
    root = tmp_path / "site"
    init_site(root, "UTO", secrets=AUDIT_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12,
              database_url=store_url)
    table = read_config(root)
    table["audit"] = {"checkpoint_every": EVERY}
    write_config(root, table)
    config = load_site(root)
    numbers, entries = history(config, clock)
    engine = create_engine(normalise_url(store_url))
    try:
        yield Site(root, config, engine, numbers, entries)
    finally:
        engine.dispose()


def verify(site: Site, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit, ["verify", "--site", str(site.root), *extra])
    return result.exit_code, result.output


def tamper(site: Site, *statements: str, params: dict[str, object] | None = None) -> None:
    """As the database's owner: drop (disable) the append-only triggers, then edit."""
    with site.engine.begin() as c:
        if site.engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            c.execute(text("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"))
        else:
            for name in ("audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update",
                         "audit_checkpoints_no_delete"):
                c.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for s in statements:
            c.execute(text(s), params or {})


def rechain(site: Site, edit: dict[int, dict[str, str]]) -> None:
    """Apply `edit` (seq -> column -> new value) and recompute every hash from there, and the head: the
    chain is whole again, as an attacker without the audit key can make it."""
    first = min(edit)
    with site.engine.connect() as c:
        rows = c.execute(text("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log "
                              "ORDER BY seq")).all()
    prev = rows[first - 2].hash if first > 1 else "0" * 64
    updates = []
    for r in rows[first - 1:]:
        values = {**r._asdict(), **edit.get(r.seq, {})}
        digest = entry_hash(r.seq, values["at"], values["actor"], values["action"], values["subject"],
                            json.loads(values["detail"]), prev)
        updates.append({**values, "prev_hash": prev, "hash": digest})
        prev = digest
    tamper(site)
    with site.engine.begin() as c:
        for u in updates:
            c.execute(text("UPDATE audit_log SET actor = :actor, detail = :detail, prev_hash = :prev_hash, "
                           "hash = :hash WHERE seq = :seq"), u)
        c.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_the_untouched_site_verifies(site: Site) -> None:
    code, out = verify(site)
    assert code == 0, out
    assert f"audit chain intact: {site.entries} entries" in out
    signed = -(-site.entries // EVERY)  # every 5th entry, and the last at the store's close
    assert f"{signed} signed checkpoints verified, 0 entries after the last" in out
    assert f"{len(site.numbers)} documents agree with the log" in out


def test_cutting_the_last_entries_and_moving_the_head_back(site: Site) -> None:
    keep = site.entries - 3
    tamper(site, f"DELETE FROM audit_log WHERE seq > {keep}",
           f"UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})")
    code, out = verify(site)
    assert code == 1
    assert f"audit log broken at entry {keep + 1} (truncated)" in out


def test_cutting_the_last_entries_with_their_checkpoints(site: Site) -> None:
    keep = site.entries - 3  # the last two state changes and the note after them
    tamper(site, f"DELETE FROM audit_log WHERE seq > {keep}", f"DELETE FROM audit_checkpoints WHERE seq > {keep}",
           f"UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})")
    code, out = verify(site)
    assert code == 1
    # The records still hold the events the cut entries recorded.
    assert f"audit log broken at entry {keep + 1} (events)" in out


def test_deleting_every_entry_and_the_head(site: Site) -> None:
    tamper(site, "DELETE FROM audit_log", "DELETE FROM audit_head", "DELETE FROM audit_checkpoints")
    code, out = verify(site)
    assert code == 1
    assert "audit log broken at entry 1 (empty-log): the log is empty but the records hold 3 applications" in out


def test_an_edited_entry_with_the_chain_and_head_recomputed(site: Site) -> None:
    rechain(site, {3: {"actor": "someone-else"}})
    code, out = verify(site)
    assert code == 1
    # Entry 3 is no document change, so the first signed checkpoint after it is where the rewrite shows.
    assert f"audit log broken at entry {EVERY} (checkpoint-hash)" in out


def test_an_edited_state_change_with_the_chain_recomputed(site: Site) -> None:
    with site.engine.connect() as c:
        seq, detail = c.execute(text("SELECT seq, detail FROM audit_log WHERE action = 'document.transition' "
                                     "AND detail LIKE '%\"to\":\"cancelled\"%'")).one()
    forged = json.loads(detail) | {"to": "spoiled"}
    rechain(site, {seq: {"detail": canonical_json(forged, "d").decode()}})
    code, out = verify(site)
    assert code == 1
    assert f"audit log broken at entry {seq} (events)" in out


def test_a_state_changed_in_the_documents_table(site: Site) -> None:
    number = site.numbers[0]
    tamper(site, f"UPDATE documents SET state = 'voided' WHERE number = '{number}'")
    code, out = verify(site)
    assert code == 1
    assert f"(documents): document {number} is voided in the records but the log replays to issued" in out


def test_a_document_added_to_the_records_alone(site: Site) -> None:
    tamper(site, "INSERT INTO documents (number, application_id, sequence_key, sequence, state, created_at, "
                 "state_changed_at) SELECT 'UT9999999', application_id, 'UT', 9999999, 'issued', created_at, "
                 f"state_changed_at FROM documents WHERE number = '{site.numbers[0]}'")
    code, out = verify(site)
    assert code == 1
    assert "audit log broken at document UT9999999 (documents)" in out


def test_exports_catch_a_database_rewritten_with_a_new_audit_key(site: Site, tmp_path: Path) -> None:
    exported = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(audit, ["export", "--site", str(site.root), "--to", str(exported), "--entries"])
    assert result.exit_code == 0, result.output
    assert verify(site, "--exports", str(exported))[0] == 0
    # The attacker rewrites entry 3, recomputes the chain, makes an audit key of their own, re-signs every
    # checkpoint with it and puts its public key in the site: the site alone is fooled...
    rechain(site, {3: {"actor": "someone-else"}})
    forger = Checkpointer(MemorySigner(ec.generate_private_key(ec.SECP256R1()), "forged"), EVERY)
    with site.engine.connect() as c:
        rows = c.execute(text("SELECT c.seq, l.hash FROM audit_checkpoints c JOIN audit_log l ON l.seq = c.seq")).all()
    resigned = [forger.sign(seq, digest, dt.datetime.now(dt.UTC)) for seq, digest in rows]
    tamper(site, "DELETE FROM audit_checkpoints")
    with site.engine.begin() as c:
        for cp in resigned:
            c.execute(text("INSERT INTO audit_checkpoints VALUES (:seq, :hash, :at, :key, :sig)"),
                      {"seq": cp.seq, "hash": cp.hash, "at": cp.at, "key": cp.key_id, "sig": cp.signature})
    state_file = site.root / "pki" / "state.json"
    state = json.loads(state_file.read_text())
    state["audit_keys"].append({"key_id": "forged", "algorithm": "ecdsa-p256", "status": "active", "created": "x",
                                "spki": AuditKey("forged", forger.signer.public_key()).spki(), "key": {}})
    state_file.write_text(json.dumps(state))
    assert verify(site)[0] == 0
    # ...but not whoever holds the exports: entry 3's exported hash is not the database's.
    code, out = verify(site, "--exports", str(exported))
    assert code == 1
    assert "audit log broken at entry 3 (export-hash)" in out


def test_exports_catch_a_cut_even_with_the_checkpoints_gone(site: Site, tmp_path: Path) -> None:
    exported = tmp_path / "audit.jsonl"
    assert CliRunner().invoke(audit, ["export", "--site", str(site.root), "--to", str(exported)]).exit_code == 0
    keep = site.entries - 1
    tamper(site, f"DELETE FROM audit_log WHERE seq > {keep}", f"DELETE FROM audit_checkpoints WHERE seq > {keep}",
           "DELETE FROM events WHERE audit_seq > :keep",
           f"UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})",
           params={"keep": keep})
    code, out = verify(site, "--exports", str(exported))
    assert code == 1
    assert f"audit log broken at entry {keep + 1} (truncated)" in out


def test_export_appends_only_what_is_new(site: Site, tmp_path: Path) -> None:
    exported = tmp_path / "audit.jsonl"
    runner = CliRunner()
    runner.invoke(audit, ["export", "--site", str(site.root), "--to", str(exported)])
    first = exported.read_text().splitlines()
    assert json.loads(first[0])["type"] == "audit-key"
    assert [json.loads(line)["type"] for line in first[1:]] == ["checkpoint"] * (len(first) - 1)
    again = runner.invoke(audit, ["export", "--site", str(site.root), "--to", str(exported)])
    assert "0 lines exported" in again.output and exported.read_text().splitlines() == first
    assert (exported.stat().st_mode & 0o777) == 0o600
