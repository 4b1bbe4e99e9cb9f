"""`mrtd render` and `mrtd layout check` (commands invoked directly; the lead registers them on `main`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES, require
from layout_fixtures import seal_bytes
from PIL import Image

from mrtd.cli.render import layout, render
from mrtd.layouts.ocr import tesseract_path

TD3_APP = EXAMPLES / "anna-eriksson-td3.json"
TD1_APP = EXAMPLES / "anna-eriksson-td1.json"


@pytest.fixture(autouse=True)
def _examples() -> None:
    require(TD3_APP.exists() and TD1_APP.exists(), "examples/applications/anna-eriksson-td{1,3}.json")


def test_render_td3_png_without_check(tmp_path: Path) -> None:
    out = tmp_path / "page.png"
    r = CliRunner().invoke(render, [str(TD3_APP), "--layout", "td3", "--out", str(out), "--no-check"])
    assert r.exit_code == 0, r.output
    with Image.open(out) as im:
        assert im.size == (1476, 1039)
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)


def test_render_td1_pdf_two_pages(tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    seal = tmp_path / "seal.png"
    seal.write_bytes(seal_bytes())
    r = CliRunner().invoke(render, [str(TD1_APP), "--layout", "td1", "--out", str(out), "--dpi", "600",
                                    "--seal", str(seal), "--no-check"])
    assert r.exit_code == 0, r.output
    boxes = re.findall(rb"/MediaBox\s*\[\s*([^\]]+)\]", out.read_bytes())
    assert len(boxes) == 2


def test_wrong_layout_for_the_document_code_is_exit_1(tmp_path: Path) -> None:
    r = CliRunner().invoke(render, [str(TD3_APP), "--layout", "td1", "--out", str(tmp_path / "x.png"), "--no-check"])
    assert r.exit_code == 1
    assert "document.code" in r.output
    assert list(tmp_path.iterdir()) == []


def test_bad_dpi_is_a_usage_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(render, [str(TD3_APP), "--layout", "td3", "--out", str(tmp_path / "x.png"), "--dpi", "150"])
    assert r.exit_code == 2


@pytest.mark.ocr
def test_render_checks_then_layout_check_reads_the_file(tmp_path: Path) -> None:
    require(tesseract_path() is not None, "tesseract")
    out = tmp_path / "card.png"
    r = CliRunner().invoke(render, [str(TD1_APP), "--layout", "td1", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    payload = envelope(r.output)
    assert payload["ok"] and [Path(p).name for p in payload["result"]["files"]] == ["card-front.png", "card-back.png"]
    r = CliRunner().invoke(layout, ["check", str(tmp_path / "card-back.png"), "--application", str(TD1_APP), "--json"])
    assert r.exit_code == 0, r.output
    assert envelope(r.output)["ok"] is True


@pytest.mark.ocr
def test_layout_check_of_another_holders_page_fails_with_positions(tmp_path: Path) -> None:
    require(tesseract_path() is not None, "tesseract")
    other = EXAMPLES / "olena-shevchenko-cyrillic.json"
    require(other.exists(), "examples/applications/olena-shevchenko-cyrillic.json")
    out = tmp_path / "olena.png"
    assert CliRunner().invoke(render, [str(other), "--layout", "td3", "--out", str(out), "--no-check"]).exit_code == 0
    r = CliRunner().invoke(layout, ["check", str(out), "--application", str(TD3_APP), "--json"])
    assert r.exit_code == 1
    findings = json_result(r.output)["findings"]
    assert findings and all(re.fullmatch(r"mrz\.line[12]\[\d+\]", f["field"]) for f in findings)
