# ruff: noqa: F811  (pytest fixtures imported from pkikit are parameters here)
"""Into the HSM: a site whose CSCA key is a file moves it into a SoftHSM2 token with `mrtd pki rollover
--to-token MODULE:LABEL`; the link certificate the old key signs lets a verifier that knew only the old CSCA
accept documents signed under the new one, and documents issued before still verify. The retired file key
is then destroyed; `pki issue --store pkcs11` puts a Document Signer in a token; `pki revoke` counts what a
key signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS
from pkikit import Hsm, pem, softhsm  # noqa: F401

from mrtd.cli.chip import chip
from mrtd.cli.pki import pki
from mrtd.errors import KeyAccessError
from mrtd.issuance.application import read_application
from mrtd.issuance.pipeline import IssueOptions, Issuer
from mrtd.issuance.site import init_site
from mrtd.pki import lifecycle
from mrtd.pki import pkcs11 as p11
from mrtd.pki.site import PkiSite

pytestmark = pytest.mark.softhsm
FAST = IssueOptions(render_page=False, actor="migration-test")
DS_AFTER = b"ds passphrase after the migration"


def now() -> datetime:
    return datetime.now(UTC)


def cli(group: click.Command, env: dict[str, str], *args: Any) -> dict[str, Any]:
    result = CliRunner().invoke(group, [*map(str, args), "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json_result(result.stdout)
    return payload


def verify(folder: Path, trust: Path, at: datetime) -> bool:
    result = CliRunner().invoke(chip, ["verify", str(folder), "--trust", str(trust), "--at", at.isoformat(), "--json"])
    report: dict[str, Any] = envelope(result.stdout)
    assert (result.exit_code == 0) == bool(report["ok"]), result.output
    return bool(report["ok"])


def trust(tmp_path: Path, name: str, site: PkiSite, *serials: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for serial in serials:
        (folder / f"{serial}.pem").write_bytes(pem(site.certificate(site.record(serial))))
    return folder


def test_documents_issued_before_and_after_the_csca_moves_into_an_hsm_both_verify(softhsm: Hsm,
                                                                                   tmp_path: Path) -> None:
    root = tmp_path / "site"
    config = init_site(root, "UTO", secrets=KEY_SECRETS, clock=now, kdf_log2n=12)
    pki_site = PkiSite(root, clock=now)
    old_csca = next(r for r in pki_site.list() if r.role == "csca")
    assert old_csca.key["store"] == "file"
    with Issuer(config, clock=now, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        before = issuer.issue(read_application(EXAMPLES / "anna-eriksson-td3.json"), tmp_path / "before")

    # The migration: a new CSCA key generated in the token, linked from the old one.
    env = {"MRTD_CSCA_PASSPHRASE": KEY_SECRETS["csca"].decode(), "MRTD_CSCA_PIN": softhsm.pin.decode()}
    moved = cli(pki, env, "rollover", "--to-token", f"{softhsm.module}:{softhsm.token}", "--site", root)
    new_csca, link = moved["csca"], moved["link"]
    assert new_csca["key"]["store"] == "pkcs11" and new_csca["key"]["token"] == softhsm.token
    session = p11.open_session(softhsm.module, softhsm.token, softhsm.pin)
    assert p11.key_attributes(session, new_csca["key"]["label"]) == {
        "sensitive": True, "extractable": False, "always_sensitive": True, "never_extractable": True, "local": True}
    assert [p.name.split("-")[0] for p in (root / "pki" / "keys").iterdir()].count("csca") == 1  # no new key file
    assert link["issuer_serial"] == old_csca.serial

    # For two days the old key still signs (with its own passphrase, not the token's PIN): a Document
    # Signer made in the signers' token with --store pkcs11.
    ds_env = {"MRTD_CSCA_PASSPHRASE": KEY_SECRETS["csca"].decode(), "MRTD_DS_PIN": softhsm.signer_pin.decode()}
    in_token = cli(pki, ds_env, "issue", "ds", "--store", "pkcs11", "--token",
                   f"{softhsm.module}:{softhsm.signer_token}", "--site", root)["certificate"]
    assert in_token["key"]["store"] == "pkcs11" and in_token["issuer_serial"] == old_csca.serial

    # Three days on, the new key (in the token, opened with its PIN) certifies the Document Signer that
    # signs the next document.
    later = now() + timedelta(days=3)
    at_later = PkiSite(root, clock=lambda: later, kdf_log2n=12)
    ds_after = at_later.issue("ds", softhsm.pin, key_secret=DS_AFTER)
    assert ds_after.issuer_serial == new_csca["serial"]
    with Issuer(config, clock=lambda: later, secrets={**SIGNING_SECRETS, "ds": DS_AFTER}, options=FAST) as issuer:
        after = issuer.issue(read_application(EXAMPLES / "chayapa-long-name-td3.json"), tmp_path / "after")

    # A verifier that knew only the old CSCA and received the link certificate accepts both documents.
    old_and_link = trust(tmp_path, "old-and-link", at_later, old_csca.serial, link["serial"])
    assert verify(before.out_dir / "chip", old_and_link, later)
    assert verify(after.out_dir / "chip", old_and_link, later)
    # Without the link, the new document does not verify under the old CSCA, nor the old one under the new.
    assert not verify(after.out_dir / "chip", trust(tmp_path, "old-only", at_later, old_csca.serial), later)
    assert not verify(before.out_dir / "chip", trust(tmp_path, "new-only", at_later, new_csca["serial"]), later)

    # The retired file key is destroyed; what it certified still verifies.
    old_key = root / "pki" / old_csca.key["path"]
    assert lifecycle.destroy_key(at_later, old_csca.serial).key["store"] == "destroyed"
    assert not old_key.exists()
    assert verify(before.out_dir / "chip", old_and_link, later)

    # A key in a token is destroyed in the token.
    at_later.revoke(in_token["serial"], "superseded")
    lifecycle.destroy_key(at_later, in_token["serial"], token_pin=softhsm.signer_pin)
    signers = p11.open_session(softhsm.module, softhsm.signer_token, softhsm.signer_pin)
    with pytest.raises(KeyAccessError):
        p11.Pkcs11Signer(signers, in_token["key"]["label"])

    # Revoking a Document Signer says how many documents its key signed, and which.
    first_ds = next(r for r in at_later.list() if r.role == "ds")
    revoked = cli(pki, env, "revoke", first_ds.serial, "--reason", "key compromise", "--list-documents", "--site", root)
    assert revoked["documents_signed"] == 1 and revoked["documents"] == [before.number]
    revoked = cli(pki, env, "revoke", ds_after.serial, "--reason", "key compromise", "--site", root)
    assert revoked["documents_signed"] == 1 and "documents" not in revoked
