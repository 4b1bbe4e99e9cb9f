"""`mrtd document reprint`: the page of an issued document made again from the records alone, exactly as
issued, and recorded; a batch document too (nothing but the records is needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS, require

from mrtd.cli.records import document
from mrtd.errors import InputError, StateError
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.batchrun import run_batch
from mrtd.issuance.casework import DocumentFileRow
from mrtd.issuance.pipeline import IssueOptions
from mrtd.issuance.reprint import reprint_page
from mrtd.issuance.site import SiteConfig, init_site
from mrtd.issuance.states import DocumentState
from mrtd.layouts.ocr import tesseract_path

pytestmark = pytest.mark.ocr

PASS = b"reprint-test-passphrase"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
BATCH = EXAMPLES / "batches"


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def issued(tmp_path: Path) -> tuple[SiteConfig, str, Path]:
    """A document issued by a batch run; its output folder is then removed: the records must suffice."""
    require(tesseract_path() is not None, "tesseract (Debian tesseract-ocr)")
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    source = next(p for p in sorted(BATCH.iterdir()) if p.suffix == ".jsonl")
    summary = run_batch(source, site, tmp_path / "issued", secrets=SIGNING_SECRETS, clock=clock,
                        options=IssueOptions(actor="tester"))
    item = next(o for o in summary.outcomes if o.status == "issued" and o.number)
    assert item.number is not None
    folder = tmp_path / "issued" / item.number
    kept = tmp_path / "kept"
    kept.mkdir()
    for png in folder.glob("page*.png"):  # the first batch item is a PS document: data and observations pages
        (kept / png.name).write_bytes(png.read_bytes())
    import shutil

    shutil.rmtree(tmp_path / "issued")
    return site, item.number, kept


def test_reprint_makes_the_same_page_from_the_records(issued: tuple[SiteConfig, str, Path], tmp_path: Path) -> None:
    site, number, page = issued
    with site.open_records() as store:
        result = reprint_page(number, store=store, site=site, actor="clerk")
        assert store.document(number).state is DocumentState.ISSUED
        assert verify_chain(store).ok
    pngs = {p.name: p.read_bytes() for p in page.glob("page*.png")}
    assert pngs and set(result.files) == {*pngs, "page.pdf"}
    assert all(result.files[name] == data for name, data in pngs.items())


def test_an_edited_receipt_is_refused(issued: tuple[SiteConfig, str, Path]) -> None:
    site, number, _ = issued
    with site.open_records() as store:
        with store.writing() as w:
            row = w.session.query(DocumentFileRow).filter_by(number=number, name="receipt.json").one()
            row.data = row.data.replace(b'"mrz"', b'"mrz" ', 1)
        with pytest.raises(InputError, match="not the one recorded"):
            reprint_page(number, store=store, site=site, actor="clerk")


def test_a_voided_document_is_not_reprinted_and_the_cli_says_why(issued: tuple[SiteConfig, str, Path],
                                                                 tmp_path: Path) -> None:
    site, number, _ = issued
    result = CliRunner().invoke(document, ["reprint", number, "--out", str(tmp_path / "ok"), "--site", str(site.root),
                                           "--json"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "ok").iterdir()} == {"page-front.png", "page-observations.png", "page.pdf"}
    with site.open_records() as store:
        store.transition(number, DocumentState.VOIDED, actor="clerk", detail={"reason": "damaged"})
        with pytest.raises(StateError, match="only an issued document"):
            reprint_page(number, store=store, site=site, actor="clerk")
    result = CliRunner().invoke(document, ["reprint", number, "--out", str(tmp_path / "d"), "--site", str(site.root),
                                           "--json"])
    assert result.exit_code == 1 and not (tmp_path / "d").exists()
