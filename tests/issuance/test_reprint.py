"""`mrtd document reprint`: the page of an issued document made again, exactly as issued, and recorded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, require

from mrtd.cli.records import document
from mrtd.errors import InputError, StateError
from mrtd.issuance.application import read_application
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.pipeline import IssueOptions, Issuer
from mrtd.issuance.reprint import reprint_page
from mrtd.issuance.site import SiteConfig, init_site
from mrtd.issuance.states import DocumentState
from mrtd.layouts.ocr import tesseract_path

pytestmark = pytest.mark.ocr

PASS = b"reprint-test-passphrase"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
APP = EXAMPLES / "anna-eriksson-td3.json"


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def issued(tmp_path: Path) -> tuple[SiteConfig, str, Path]:
    require(tesseract_path() is not None, "tesseract (Debian tesseract-ocr)")
    site = init_site(tmp_path / "site", "UTO", passphrase=PASS, clock=clock, certificate_country="UT", kdf_log2n=12)
    with Issuer(site, clock=clock, passphrase=PASS, options=IssueOptions(actor="tester")) as issuer:
        receipt = issuer.issue(read_application(APP), tmp_path / "issued")
    return site, receipt.number, tmp_path / "issued"


def test_reprint_makes_the_same_page_and_records_it(issued: tuple[SiteConfig, str, Path], tmp_path: Path) -> None:
    site, number, issued_dir = issued
    with site.open_records() as store:
        result = reprint_page(read_application(APP), number, store=store, site=site, issued_dir=issued_dir,
                              out_dir=tmp_path / "reprint", actor="clerk")
        assert store.document(number).state is DocumentState.ISSUED
        assert verify_chain(store).ok
    assert set(result.files) == {"page.png", "page.pdf"}
    assert (tmp_path / "reprint" / "page.png").read_bytes() == (issued_dir / "page.png").read_bytes()


def test_an_edited_receipt_or_another_application_is_refused(issued: tuple[SiteConfig, str, Path],
                                                            tmp_path: Path) -> None:
    site, number, issued_dir = issued
    with site.open_records() as store:
        with pytest.raises(InputError, match="not the application"):
            reprint_page(read_application(EXAMPLES / "olena-shevchenko-cyrillic.json"), number, store=store,
                         site=site, issued_dir=issued_dir, out_dir=tmp_path / "a", actor="clerk")
        receipt = json.loads((issued_dir / "receipt.json").read_text("utf-8"))
        receipt["mrz"][1] = receipt["mrz"][1].replace("F", "M", 1)
        (issued_dir / "receipt.json").write_text(json.dumps(receipt), "utf-8")
        with pytest.raises(InputError, match="not the receipt recorded"):
            reprint_page(read_application(APP), number, store=store, site=site, issued_dir=issued_dir,
                         out_dir=tmp_path / "b", actor="clerk")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_voided_document_is_not_reprinted_and_the_cli_says_why(issued: tuple[SiteConfig, str, Path],
                                                                 tmp_path: Path) -> None:
    site, number, issued_dir = issued
    with site.open_records() as store:
        store.transition(number, DocumentState.VOIDED, actor="clerk", detail={"reason": "damaged"})
        with pytest.raises(StateError, match="only an issued document"):
            reprint_page(read_application(APP), number, store=store, site=site, issued_dir=issued_dir,
                         out_dir=tmp_path / "c", actor="clerk")
    result = CliRunner().invoke(document, ["reprint", number, "--application", str(APP), "--from", str(issued_dir),
                                           "--out", str(tmp_path / "d"), "--site", str(site.root), "--json"])
    assert result.exit_code == 1
    assert "only an issued document" in result.output
