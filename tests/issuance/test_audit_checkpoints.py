"""Checkpoints: signed every N entries and at the end of what wrote entries, verifiable with the audit
key's public half only; the audit key made for a site that had none; exports to syslog."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import json_result
from conftest import KEY_SECRETS, secret_env
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from test_records_backends import StepClock

from mrtd.cli.audit import audit
from mrtd.issuance.auditcheck import check_log
from mrtd.issuance.checkpoints import AuditKey, Checkpointer, signature_problem
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore
from mrtd.issuance.site import init_site
from mrtd.issuance.states import DocumentState
from mrtd.pki.signer import MemorySigner
from mrtd.pki.site import PkiSite


def _signer(kind: str) -> MemorySigner:
    key = ec.generate_private_key(ec.SECP384R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    return MemorySigner(key, f"test-{kind}")


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_checkpoint_verifies_under_its_key_only(kind: str) -> None:
    signer = _signer(kind)
    cp = Checkpointer(signer, 10).sign(7, "ab" * 32, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    keys = {signer.key_id: AuditKey(signer.key_id, signer.public_key())}
    assert signature_problem(cp, keys) is None
    assert "not an audit key" in (signature_problem(cp, {}) or "")
    other = _signer(kind)
    assert "does not verify" in (signature_problem(cp, {signer.key_id: AuditKey(signer.key_id, other.public_key())}) or "")
    moved = type(cp)(8, cp.hash, cp.at, cp.key_id, cp.signature)  # the same signature on another head
    assert "does not verify" in (signature_problem(moved, keys) or "")


def test_checkpoints_every_n_entries_and_at_close(tmp_path: Path) -> None:
    signer = _signer("ec")
    store = RecordStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", clock=StepClock())
    store.use_checkpoints(Checkpointer(signer, 4))
    app = store.receive_application("app", {"n": 1})
    number = store.allocate_number(NumberPolicy("UT"), app.id)
    for state in (DocumentState.VALIDATED, DocumentState.APPROVED, DocumentState.PERSONALISED):
        store.transition(number, state, actor="op")
    with store.audit_snapshot() as snap:
        assert [c.seq for c in snap.checkpoints()] == [4]  # entries 1..5: the 4th crossed the first multiple
    store.close()  # the end of the "command": the head (5) is signed
    with RecordStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}") as again:
        report = check_log(again, {signer.key_id: AuditKey(signer.key_id, signer.public_key())})
        with again.audit_snapshot() as snap:
            assert [c.seq for c in snap.checkpoints()] == [4, 5]
    assert report.ok and (report.checkpoints, report.unsigned, report.documents) == (2, 0, 1), report


def test_an_old_site_gets_an_audit_key_and_its_log_a_checkpoint(tmp_path: Path) -> None:
    old = {r: s for r, s in KEY_SECRETS.items() if r != "audit"}
    clock = StepClock()
    site = init_site(tmp_path / "s", "UTO", secrets=old, clock=clock, certificate_country="UT", kdf_log2n=12)
    assert not PkiSite(site.root).has_audit_key()
    with site.open_records(clock=clock) as store:
        store.receive_application("app", {"n": 1})
    runner = CliRunner()
    made = runner.invoke(audit, ["init-key", "--site", str(site.root), "--json"], env=secret_env())
    assert made.exit_code == 0, made.output
    record = json_result(made.output)
    assert record["checkpoint"] == 1 and record["key_id"].startswith("audit-")
    pem = runner.invoke(audit, ["key", "--site", str(site.root)])
    assert "-----BEGIN PUBLIC KEY-----" in pem.output and "PRIVATE" not in pem.output
    again = runner.invoke(audit, ["init-key", "--site", str(site.root)], env=secret_env())
    assert again.exit_code == 2 and "--rotate" in again.output
    rotated = runner.invoke(audit, ["init-key", "--site", str(site.root), "--rotate"],
                            env=secret_env({"audit": b"a new audit passphrase"}))
    assert rotated.exit_code == 0, rotated.output
    assert [k["status"] for k in PkiSite(site.root).audit_keys()] == ["superseded", "active"]
    verified = runner.invoke(audit, ["verify", "--site", str(site.root)])
    assert verified.exit_code == 0 and "1 signed checkpoints verified" in verified.output, verified.output
    wrong = runner.invoke(audit, ["checkpoint", "--site", str(site.root)], env=secret_env())
    assert wrong.exit_code == 1 and "cannot decrypt" in wrong.output


def test_export_to_syslog_sends_each_line(tmp_path: Path) -> None:
    clock = StepClock()
    site = init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    with site.open_records(clock=clock, audit_secret=KEY_SECRETS["audit"]) as store:
        store.receive_application("app", {"n": 1})
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        port = server.getsockname()[1]
        result = CliRunner().invoke(audit, ["export", "--site", str(site.root), "--syslog", f"127.0.0.1:{port}"])
        assert result.exit_code == 0, result.output
        got = [server.recv(65536).decode().rstrip("\x00") for _ in range(2)]
    assert all("mrtd-audit: " in g for g in got)
    assert json.loads(got[0].split("mrtd-audit: ", 1)[1])["type"] == "audit-key"
    assert json.loads(got[1].split("mrtd-audit: ", 1)[1])["seq"] == 1


def test_any_command_signs_at_its_end_with_the_audit_secret_at_hand(tmp_path: Path) -> None:
    from mrtd.cli.people import users_group

    clock = StepClock()
    site = init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    runner = CliRunner()
    unsigned = runner.invoke(users_group, ["add", "clerk-a", "--role", "clerk", "--site", str(site.root)])
    assert unsigned.exit_code == 0, unsigned.output
    signed = runner.invoke(users_group, ["add", "clerk-b", "--role", "clerk", "--site", str(site.root)],
                           env=secret_env({"audit": KEY_SECRETS["audit"]}))
    assert signed.exit_code == 0, signed.output
    listed = runner.invoke(users_group, ["list", "--site", str(site.root)], env=secret_env())
    assert listed.exit_code == 0, listed.output  # reads only: nothing to sign, the key is not even opened
    with site.open_records() as store, store.audit_snapshot() as snap:
        head = snap.head()[0]
        assert [c.seq for c in snap.checkpoints()] == [head]


def test_a_batch_with_workers_ends_under_a_signed_checkpoint(tmp_path: Path) -> None:
    from conftest import EXAMPLES

    from mrtd.issuance.batchrun import ISSUED, run_batch
    from mrtd.issuance.pipeline import IssueOptions

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    site = init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=now, certificate_country="UT", kdf_log2n=12)
    secrets = {r: KEY_SECRETS[r] for r in ("ds", "seal-signer", "audit")}
    summary = run_batch(EXAMPLES / "batches" / "consulate-day.jsonl", site, tmp_path / "out", secrets=secrets,
                        clock=now, workers=2, options=IssueOptions(render_page=False, actor="tester"))
    assert summary.count(ISSUED) >= 2
    keys = {k["key_id"]: AuditKey.from_record(k) for k in PkiSite(site.root).audit_keys()}
    with site.open_records() as store:
        report = check_log(store, keys)
    assert report.ok and report.unsigned == 0 and report.documents == summary.count(ISSUED), report
