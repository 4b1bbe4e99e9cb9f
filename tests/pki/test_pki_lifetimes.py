# ruff: noqa: F811  (pytest fixtures imported from pkikit are parameters here)
"""Doc 9303-12 §4 / App. A lifetimes: certificate validity = key usage period + what it must outlive."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from conftest import VECTORS
from pkikit import SiteFactory, make_site, softhsm  # noqa: F401

from mrtd.pki.site import add_months

DATA = json.loads((VECTORS / "pki" / "lifetimes.json").read_text())
APP_A = next(v for v in DATA["vectors"] if v["id"] == "p12-appA-lifetimes")
BARCODE = next(v for v in DATA["vectors"] if v["id"] == "p12-barcode-lifetime")


def months(text: str) -> int:
    total = 0
    for n, unit in re.findall(r"(\d+)([ym])", text):
        total += int(n) * (12 if unit == "y" else 1)
    return total


@pytest.mark.parametrize("index", range(3))
def test_appendix_a_rule(index: int) -> None:
    ex = APP_A["inputs"]["examples"][index]
    ds = months(ex["ds_pku"]) + months(ex["emrtd_validity"])
    csca = months(ex["csca_pku"]) + ds
    assert ds == months(APP_A["expected"]["ds_cert_validity"][index])
    assert csca == months(APP_A["expected"]["csca_cert_validity"][index])


def test_barcode_example_rule() -> None:
    i = BARCODE["inputs"]
    bcs = months(i["bcs_private_key_usage"]) + months(i["document_validity"])
    assert bcs == months(BARCODE["expected"]["bcs_cert_validity"])
    assert months(i["csca_private_key_usage"]) + bcs == months(BARCODE["expected"]["csca_cert_validity"])


@pytest.mark.parametrize("index", range(3))
def test_site_issues_ds_with_appendix_a_validity(make_site: SiteFactory, index: int) -> None:
    ex = APP_A["inputs"]["examples"][index]
    kit = make_site()
    rec = kit.issue("ds", usage_months=months(ex["ds_pku"]),
                    document_validity_years=months(ex["emrtd_validity"]) // 12)
    cert = kit.site.certificate(rec)
    expected_end = add_months(kit.clock.now, months(APP_A["expected"]["ds_cert_validity"][index]))
    assert cert.not_valid_after_utc == expected_end
    assert rec.usage_end is not None
    assert rec.usage_end.startswith(add_months(kit.clock.now, months(ex["ds_pku"])).isoformat()[:19])


def test_default_ds_usage_is_three_months(make_site: SiteFactory) -> None:
    kit = make_site()
    rec = kit.issue("ds")
    cert = kit.site.certificate(rec)
    usage_end = add_months(kit.clock.now, 3)
    assert cert.not_valid_after_utc == add_months(usage_end, 120)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > timedelta(days=3650)
