"""A document that fails while the records fail too: the error says that its spoil could not be recorded
(never "spoiled" while the record says otherwise), and the next run of the application spoils it.

Once with the spoil's write refused by an injected failure, once with the disk really full: the records
on a small tmpfs filled up while the chip is being personalised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS, require

from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.chip.transport import Transport
from mrtd.errors import TransportError
from mrtd.issuance.application import read_application
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.pipeline import IssueOptions, Issuer, PipelineError
from mrtd.issuance.records import RecordsError
from mrtd.issuance.site import SiteConfig, init_site
from mrtd.issuance.states import DocumentState
from mrtd.model import Application

FAST = IssueOptions(render_page=False, actor="tester")


def anna() -> Application:
    """Anna's application, numbered from the site's sequence (without the number it asks for)."""
    app = read_application(EXAMPLES / "anna-eriksson-td3.json")
    return dataclasses.replace(app, document=dataclasses.replace(app.document, number=None))


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


pytest_plugins = ["test_records_backends"]  # store_url: SQLite, and PostgreSQL in a schema of its own


def make_site(root: Path, url: str | None = None) -> SiteConfig:
    return init_site(root, "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12,
                     database_url=url)


def _no_reader() -> Transport:
    raise TransportError("connect", "no card in the reader")


def _states(issuer: Issuer) -> list[tuple[str, DocumentState]]:
    return [(d.number, d.state) for d in issuer.store.documents()]


def test_a_spoil_the_records_refuse_is_reported_as_not_recorded(store_url: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site", store_url)
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        transition = issuer.store.transition

        def refusing_spoils(number: str, to: Any, **kwargs: Any) -> None:
            if to is DocumentState.SPOILED:
                raise RecordsError("records: the database refused the change: database or disk is full")
            transition(number, to, **kwargs)

        monkeypatch.setattr(issuer.store, "transition", refusing_spoils)
        with pytest.raises(PipelineError) as failed:
            issuer.issue(anna(), tmp_path / "out", transport_factory=_no_reader)
        message = str(failed.value)
        assert "no card in the reader" in message
        assert ("could not record the spoil of U10000001: records: the database refused the change: database or "
                "disk is full; the number stays reserved") in message
        assert "spoiled;" not in message and failed.value.unspoiled is not None
        assert _states(issuer) == [("U10000001", DocumentState.APPROVED)]  # what the message said

        monkeypatch.undo()  # the records work again: the next run spoils the number and issues anew
        receipt = issuer.issue(anna(), tmp_path / "out")
        assert receipt.number == "U10000002"
        assert _states(issuer) == [("U10000001", DocumentState.SPOILED), ("U10000002", DocumentState.ISSUED)]
        assert verify_chain(issuer.store).ok


# --- the disk really full ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, unmounted after the test (mounting needs root, as CI runs)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(where)],
                             capture_output=True, text=True, check=False)
    require(mounted.returncode == 0, f"a tmpfs of its own for the test ({mounted.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Fill `disk` to the last byte; returns the filler file (remove it to free the disk)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as fh:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    fh.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    return filler


def test_a_disk_full_while_a_document_is_spoiled_is_reported_as_it_is(small_disk: Path, tmp_path: Path) -> None:
    records = small_disk / "records.sqlite3"
    site = make_site(tmp_path / "site", f"sqlite:///{records}")
    filled: list[Path] = []

    def disk_fills_then_the_chip() -> Transport:
        # The disk fills up as the chip is being personalised: the chip's record then fails, and so does the
        # spoil. The write-ahead log is emptied first, so that every later write needs new space.
        import sqlite3

        with sqlite3.connect(records) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filled.append(fill(small_disk))
        return SimTransport(VirtualCard(site.chip_profile))

    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        with pytest.raises(PipelineError) as failed:
            issuer.issue(anna(), tmp_path / "out", transport_factory=disk_fills_then_the_chip)
        message = str(failed.value)
        assert filled and "full" in message, message
        assert "could not record the spoil of U10000001" in message and "the number stays reserved" in message
        assert "spoiled;" not in message
        assert _states(issuer) == [("U10000001", DocumentState.APPROVED)]  # as the message says
        assert not (tmp_path / "out").exists()

        filled[0].unlink()  # space again: the next run spoils the number and issues under a new one
        receipt = issuer.issue(anna(), tmp_path / "out")
        assert receipt.number == "U10000002"
        assert _states(issuer) == [("U10000001", DocumentState.SPOILED), ("U10000002", DocumentState.ISSUED)]
        assert verify_chain(issuer.store).ok
