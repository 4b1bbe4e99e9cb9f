"""A site's own page templates (`mrtd site init --page-template TD2=FILE`): copied into the site, checked
against the standard's MRZ geometry, and used by the pipeline for documents of that format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, KEY_SECRETS, ROOT, SIGNING_SECRETS, require, secret_env

from mrtd.cli.site import site as site_cli
from mrtd.errors import ConfigurationError, ProfileError
from mrtd.issuance.application import read_application
from mrtd.issuance.pipeline import IssueOptions, Issuer, page_template
from mrtd.issuance.site import init_site, load_site, read_config, write_config
from mrtd.layouts.ocr import tesseract_path
from mrtd.model import DocumentFormat

PASS = b"site-template-passphrase"
TD2_TEMPLATE = ROOT / "examples" / "templates" / "td2-card.toml"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return NOW


def test_the_template_is_copied_and_used(tmp_path: Path) -> None:
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT",
                     kdf_log2n=12, page_templates={"TD2": TD2_TEMPLATE})
    assert (site.root / "templates" / "td2.toml").read_bytes() == TD2_TEMPLATE.read_bytes()
    assert read_config(site.root)["page"]["templates"] == {"TD2": "templates/td2.toml"}
    t = page_template(load_site(site.root), DocumentFormat.TD2)
    assert t is not None and t.format is DocumentFormat.TD2
    visa = page_template(site, DocumentFormat.MRVA)  # nothing configured: the shipped template
    assert visa is not None and visa.name == "mrv-a"


@pytest.mark.ocr
def test_a_td2_card_gets_its_page_and_print_check(tmp_path: Path) -> None:
    require(tesseract_path() is not None, "tesseract (Debian tesseract-ocr)")
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT",
                     kdf_log2n=12, page_templates={"TD2": TD2_TEMPLATE})
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=IssueOptions(actor="tester")) as issuer:
        receipt = issuer.issue(read_application(EXAMPLES / "arnpol-long-name-td2.json"), tmp_path / "out")
    assert receipt.checks["page"] == "pass" and receipt.checks["print-check"] == "pass"
    assert (receipt.out_dir / "page.png").is_file() and (receipt.out_dir / "page.pdf").is_file()


def test_wrong_templates_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(site_cli, ["init", str(tmp_path / "a"), "--country", "UTO", "--certificate-country",
                                           "UT", "--page-template", f"TD1={TD2_TEMPLATE}"],
                                env=secret_env())
    assert result.exit_code == 1 and "not a TD1 template" in result.output
    assert not (tmp_path / "a").exists()
    off = tmp_path / "off.toml"
    off.write_text(TD2_TEMPLATE.read_text("utf-8").replace("left = 3.6", "left = 9.0"), "utf-8")
    with pytest.raises(ProfileError):
        init_site(tmp_path / "b", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12,
                  page_templates={"TD2": off})
    site = init_site(tmp_path / "c", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    table = read_config(site.root)
    table["page"]["templates"] = {"TD4": "x.toml"}
    write_config(site.root, table)
    with pytest.raises(ConfigurationError, match="not a document format"):
        load_site(site.root)


def test_print_sheet_with_the_site_printers_calibration(tmp_path: Path) -> None:
    """`[print] sheets` and `offset`: an emergency passport also gets its A4 print sheet, moved by the site
    printer's calibration; poppler reads the MRZ where the offset puts it."""
    import html
    import re
    import shutil
    import subprocess

    require(tesseract_path() is not None, "tesseract (Debian tesseract-ocr)")
    require(shutil.which("pdftotext") is not None, "pdftotext (Debian poppler-utils)")
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    table = read_config(site.root)
    table["print"] = {"offset": "1.5,-0.5", "sheets": {"TD3": "a4-etd"}}
    write_config(site.root, table)
    site = load_site(site.root)
    assert site.print_offset == (1.5, -0.5) and site.print_sheets == {"TD3": "a4-etd"}
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=IssueOptions(actor="tester")) as issuer:
        receipt = issuer.issue(read_application(EXAMPLES / "siobhan-oneill-emergency.json"), tmp_path / "out")
    sheet = receipt.out_dir / "print-sheet.pdf"
    xml = subprocess.run(["pdftotext", "-bbox", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
    m = re.search(r'<word xMin="([0-9.]+)"[^>]*>' + re.escape(html.escape(receipt.data["mrz"][0])) + "<", xml)
    assert m is not None
    # A4 (210 mm) centres the 125 mm page at 42.5 mm; the MRZ's first cell is 5.6 mm in; then the offset.
    assert float(m.group(1)) == pytest.approx((42.5 + 5.6 + 1.5) * 72 / 25.4, abs=0.2)
    assert re.search(r'<page width="595\.2\d*" height="841\.8\d*"', xml)

    table["print"] = {"offset": "30,0"}
    write_config(site.root, table)
    with pytest.raises(ConfigurationError, match="beyond 10 mm"):
        load_site(site.root)
