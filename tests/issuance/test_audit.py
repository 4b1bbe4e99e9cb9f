"""The audit chain verifies, and any tampering with a stored entry is found at the first broken entry,
both by `verify_chain` and by `mrtd audit verify` (exit 1). Against SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import rfc8785
from click.testing import CliRunner
from clikit import envelope
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from mrtd.cli.audit import audit
from mrtd.issuance.audit import (
    GENESIS,
    AuditReport,
    StoredEntry,
    entry_hash,
    stored_hash,
    text_hash,
    verify_chain,
    verify_entries,
)
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore
from mrtd.issuance.states import DocumentState

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures

S = DocumentState


def build_history(store: RecordStore) -> int:
    """Two applications, two documents, a spoil and a full issue: returns the number of audit entries."""
    policy = NumberPolicy("UT")
    a = store.receive_application("app-a", {"n": 1})
    b = store.receive_application("app-b", {"n": 2})
    na = store.allocate_number(policy, a.id)
    store.transition(na, S.SPOILED, actor="station-1", detail={"step": "print"})
    na2 = store.allocate_number(policy, a.id)
    nb = store.allocate_number(policy, b.id)
    for state in (S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED, S.ISSUED):
        store.transition(na2, state, actor="station-1", detail={"ok": True})
    store.transition(nb, S.CANCELLED, actor="clerk", detail="withdrawn by the applicant")
    report = verify_chain(store)
    assert report.ok, report
    return report.entries


def run(engine: Engine, *statements: str) -> None:
    """Tamper as someone with the database's own rights would: first drop the append-only triggers."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))
        for s in statements:
            c.execute(text(s))


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 12"]
)
def test_the_database_itself_refuses_to_rewrite_the_log(
    statement: str, store: RecordStore, raw_engine: Engine
) -> None:
    build_history(store)
    with pytest.raises(DBAPIError, match="append-only"), raw_engine.begin() as c:
        c.execute(text(statement))
    assert verify_chain(store).ok


def site_for(tmp_path: Path, store_url: str) -> Path:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "mrtd.toml").write_text(f'[records]\nurl = "{store_url}"\n', encoding="utf-8")
    return site


def test_a_fresh_store_has_an_empty_intact_chain(store: RecordStore) -> None:
    report = verify_chain(store)
    assert report == AuditReport(entries=0, head_seq=0)
    assert report.ok and str(report) == "audit chain intact: 0 entries"


def test_entries_carry_the_hash_of_the_one_before(store: RecordStore, raw_engine: Engine) -> None:
    n = build_history(store)
    assert n == 12
    with raw_engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq"
            )
        ).all()
    prev = GENESIS
    for seq, at, actor, action, subject, detail, prev_hash, digest in rows:
        assert prev_hash == prev
        # Recomputed here from the documented definition, independently of the module's helper.
        body = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": json.loads(detail),
            "prev": prev_hash,
        }
        assert digest == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
        prev = digest
    assert [r[0] for r in rows] == list(range(1, 13))


TAMPERING = {
    "detail of entry 5": (
        ['UPDATE audit_log SET detail = \'{"from":"received","to":"issued"}\' WHERE seq = 5'],
        5,
        "hash",
    ),
    "actor of entry 1": (["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1"], 1, "hash"),
    "time of entry 12": (
        ["UPDATE audit_log SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 12"],
        12,
        "hash",
    ),
    "subject of entry 7": (["UPDATE audit_log SET subject = 'UT0000009' WHERE seq = 7"], 7, "hash"),
    "deleted entry 6": (["DELETE FROM audit_log WHERE seq = 6"], 6, "missing"),
    "deleted entry 1": (["DELETE FROM audit_log WHERE seq = 1"], 1, "missing"),
    "deleted last entry": (["DELETE FROM audit_log WHERE seq = 12"], 12, "missing"),
    "entries 8 and 9 swapped": (
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 8",
            "UPDATE audit_log SET seq = 8 WHERE seq = 9",
            "UPDATE audit_log SET seq = 9 WHERE seq = -1",
        ],
        8,
        "previous-hash",
    ),
    "junk appended": (
        [f"INSERT INTO audit_log VALUES (13, 'x', 'x', 'x', 'x', '\"\"', '{GENESIS}', '{GENESIS}')"],
        13,
        "previous-hash",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_at_the_first_broken_entry(
    case: str, store: RecordStore, raw_engine: Engine, store_url: str, tmp_path: Path
) -> None:
    build_history(store)
    statements, first, rule = TAMPERING[case]
    run(raw_engine, *statements)
    report = verify_chain(store)
    assert not report.ok
    assert (report.first_broken, report.rule) == (first, rule), report.message

    result = CliRunner().invoke(audit, ["verify", "--site", str(site_for(tmp_path, store_url))])
    assert result.exit_code == 1, result.output
    assert f"audit log broken at entry {first} ({rule})" in result.output

    as_json = CliRunner().invoke(audit, ["verify", "--site", str(site_for(tmp_path, store_url)), "--json"])
    assert as_json.exit_code == 1
    payload = envelope(as_json.output)
    assert payload["ok"] is False and payload["result"]["first_broken"] == first and payload["result"]["rule"] == rule
    assert payload["errors"][0]["rule"] == rule and payload["errors"][0]["field"] == f"entry {first}"


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(
    store: RecordStore, raw_engine: Engine
) -> None:
    build_history(store)
    with raw_engine.connect() as c:
        seq, at, actor, action, subject, prev_hash = c.execute(
            text("SELECT seq, at, actor, action, subject, prev_hash FROM audit_log WHERE seq = 4")
        ).one()
    forged_detail = {"from": "received", "to": "issued", "detail": None}
    forged = entry_hash(seq, at, actor, action, subject, forged_detail, prev_hash)
    run(
        raw_engine,
        f"UPDATE audit_log SET detail = '{json.dumps(forged_detail)}', hash = '{forged}' WHERE seq = 4",
    )
    report = verify_chain(store)
    assert (report.first_broken, report.rule) == (5, "previous-hash")
    assert "entry 4 or 5" in report.message


def test_a_well_chained_entry_added_behind_the_stores_back_is_found(
    store: RecordStore, raw_engine: Engine
) -> None:
    n = build_history(store)
    with raw_engine.connect() as c:
        last = c.execute(text(f"SELECT hash FROM audit_log WHERE seq = {n}")).scalar_one()
    at = "2026-11-01T10:00:00.000000+00:00"
    forged = entry_hash(n + 1, at, "intruder", "document.transition", "UT0000001", "", last)
    run(
        raw_engine,
        f"INSERT INTO audit_log VALUES ({n + 1}, '{at}', 'intruder', 'document.transition', 'UT0000001', '\"\"', '{last}', '{forged}')",
    )
    report = verify_chain(store)
    assert (report.first_broken, report.rule) == (n + 1, "head")


def test_mangled_detail_is_reported_not_raised(store: RecordStore, raw_engine: Engine) -> None:
    build_history(store)
    run(raw_engine, "UPDATE audit_log SET detail = '{not json' WHERE seq = 3")
    report = verify_chain(store)
    assert (report.first_broken, report.rule) == (3, "malformed")


def test_the_chain_goes_on_after_verification(store: RecordStore) -> None:
    n = build_history(store)
    store.receive_application("app-c", {"n": 3})
    assert verify_chain(store).entries == n + 1


def test_cli_audit_verify_intact(store: RecordStore, store_url: str, tmp_path: Path) -> None:
    n = build_history(store)
    result = CliRunner().invoke(audit, ["verify", "--site", str(site_for(tmp_path, store_url))])
    assert result.exit_code == 0, result.output
    # This site has no PKI, so no audit key: the chain and the records' replay hold, no checkpoint is signed.
    assert result.output.startswith(f"audit chain intact: {n} entries; 0 signed checkpoints verified, {n} entries "
                                    "after the last; 3 documents agree with the log")
    assert "the site has no audit key" in result.output


# --- the verification itself, on generated chains ------------------------------------------------------


def make_chain(details: list[str]) -> list[StoredEntry]:
    out: list[StoredEntry] = []
    prev = GENESIS
    for i, d in enumerate(details, start=1):
        at = f"2026-11-01T09:00:{i % 60:02d}.000000+00:00"
        digest = entry_hash(i, at, "op", "document.transition", f"UT{i:07d}", d, prev)
        out.append(StoredEntry(i, at, "op", "document.transition", f"UT{i:07d}", json.dumps(d), prev, digest))
        prev = digest
    return out


FIELDS = ["at", "actor", "action", "subject", "detail_json", "prev_hash", "hash"]


@settings(max_examples=60)
@given(
    details=st.lists(st.text(max_size=8), min_size=1, max_size=12),
    data=st.data(),
)
def test_any_single_field_change_is_found_at_that_entry(details: list[str], data: st.DataObject) -> None:
    chain = make_chain(details)
    head = (len(chain), chain[-1].hash)
    assert verify_entries(head, chain).ok
    k = data.draw(st.integers(0, len(chain) - 1))
    name = data.draw(st.sampled_from(FIELDS))
    original = getattr(chain[k], name)
    replacement = data.draw(st.text(min_size=1, max_size=10).filter(lambda t: t != original))
    if name == "detail_json":
        replacement = json.dumps(replacement)
        if json.loads(replacement) == json.loads(original):
            return
    fields = {f: getattr(chain[k], f) for f in ["seq", *FIELDS]}
    fields[name] = replacement
    tampered = [*chain[:k], StoredEntry(**fields), *chain[k + 1 :]]
    report = verify_entries(head, tampered)
    assert report.first_broken == k + 1, (name, report)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=300)
@given(actor=st.text(), action=st.text(), subject=st.text(), at=st.text(), prev=st.text(), detail=JSON,
       seq=st.integers(1, 2**40))
def test_the_fast_hash_of_a_stored_entry_is_the_rfc8785_hash(actor: str, action: str, subject: str, at: str,
                                                             prev: str, detail: object, seq: int) -> None:
    # What the store writes (the detail as RFC 8785 text) hashes the same through the verifier's text path,
    # and a detail stored as other JSON for the same value still verifies (through the parsing path).
    expected = entry_hash(seq, at, actor, action, subject, detail, prev)
    stored = StoredEntry(seq, at, actor, action, subject, rfc8785.dumps(detail).decode(), prev, expected)
    assert text_hash(stored) == expected
    other = StoredEntry(seq, at, actor, action, subject, json.dumps(detail, indent=1), prev, expected)
    assert stored_hash(other) == expected
