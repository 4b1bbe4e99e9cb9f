"""The issuing pipeline on the in-process simulator (no OCR here; test_end_to_end.py does the full run)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clikit import envelope, json_result
from conftest import EXAMPLES, KEY_SECRETS, SEAL_SYMBOLOGIES, SIGNING_SECRETS, secret_env

from mrtd.chip.document import read_files
from mrtd.chip.lds.dg2 import Dg2
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.chip.transport import Transport
from mrtd.errors import TransportError
from mrtd.issuance.application import read_application
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.pipeline import (
    AlreadyIssued,
    IssueOptions,
    Issuer,
    PipelineError,
    application_key,
    application_payload,
    partial_dir,
    recover_partials,
)
from mrtd.issuance.site import SiteConfig, init_site, load_site
from mrtd.issuance.states import DocumentState
from mrtd.model import Application, DocumentFormat

PASS = b"pipeline-test-passphrase"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
FAST = IssueOptions(render_page=False, actor="tester")


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def site(tmp_path: Path) -> SiteConfig:
    return init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)


def app(name: str) -> Application:
    return read_application(EXAMPLES / name)


def test_issue_writes_every_output_and_records_every_state(site: SiteConfig, tmp_path: Path) -> None:
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(app("anna-eriksson-td3.json"), tmp_path / "out")
        doc = issuer.store.document(receipt.number)
        events = issuer.store.events(receipt.number)
    out = tmp_path / "out"
    assert receipt.number == "L898902C3"  # the number the application asks for (its blank's), honoured
    assert doc.state is DocumentState.ISSUED
    assert [e.to_state.value for e in events] == [
        "received", "validated", "approved", "personalised", "quality-checked", "issued"]
    assert doc.chip is not None and doc.chip.data_groups == (1, 2, 7, 11, 12, 14, 15)
    files = read_files(out / "chip")
    assert set(files) >= {"EF.COM", "DG1", "DG2", "EF.SOD"}
    assert not (out / "chip" / "keys").exists()  # the per-document private keys are on the chip only
    data = json.loads((out / "receipt.json").read_text("utf-8"))
    assert data == receipt.as_dict()
    assert data["number"] == receipt.number and "L898902C3" in data["mrz"][1]
    assert data["document"]["date_of_issue"] == "2026-11-23"
    assert "requested_number" not in data["document"]  # never silently replaced, so nothing "requested" to keep
    assert {c["name"]: c["status"] for c in data["checks"]} == {
        "photo": "pass", "mrz": "pass", "lds": "pass", "seal": "pass", "page": "skipped", "print-check": "skipped",
        "chip": "pass"}
    # The photo check found the eyes; DG2 holds the token crop made there, with the eye centres recorded.
    assert data["photo"]["eyes"] is not None and data["photo"]["findings"] == []
    face = Dg2.decode(files["DG2"]).instances[0].face().faces[0]
    assert {(p.major, p.minor) for p in face.points()} == {(12, 1), (12, 2)}
    assert [s["step"] for s in data["steps"]] == [
        "validate", "number", "mrz", "portrait", "lds", "seal", "page", "print-check", "chip"]
    assert list(receipt.steps)[-1] == "record"
    assert set(data["outputs"]) == {f"chip/{n}" for n in ("EF.COM", "EF.SOD", "EF.CardAccess")} | {
        f"chip/DG{n}.bin" for n in (1, 2, 7, 11, 12, 14, 15)} | {"seal.png"}
    assert data["seal"]["format"] == "idb" and data["seal"]["type"] == "mrz"
    assert data["seal"]["messages"] == ["MRZ_TD3"] and data["seal"]["document_type"] == "IDB MRZ_TD3"
    assert [(s.kind, s.payload_sha256) for s in doc.seals] == [("idb", data["seal"]["payload_sha256"])]
    check_seal_png(out / "seal.png", data, site)
    assert data["lds"]["sod_sha256"] == doc.chip.sod_sha256
    assert PASS.decode() not in (out / "receipt.json").read_text("utf-8")
    assert not [p for p in (tmp_path).iterdir() if p.name.startswith(".partial")]


def test_same_application_is_never_issued_twice(site: SiteConfig, tmp_path: Path) -> None:
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        first = issuer.issue_into(app("leyla-mirza-stateless.json"), tmp_path / "out")
        with pytest.raises(AlreadyIssued) as err:
            issuer.issue_into(app("leyla-mirza-stateless.json"), tmp_path / "out")
    assert err.value.number == first.number
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [first.number]


def _failing_after(n: int) -> Callable[[], Transport]:
    class Dying:
        def __init__(self) -> None:
            self.inner = SimTransport(VirtualCard("mrtd-sim"))
            self.left = n

        def transmit(self, apdu: bytes) -> bytes:
            self.left -= 1
            if self.left < 0:
                raise TransportError("transmit", "card removed")
            return self.inner.transmit(apdu)

        def close(self) -> None:
            self.inner.close()

    return Dying


def test_a_failed_step_spoils_the_number_and_the_application_can_be_issued_again(
    site: SiteConfig, tmp_path: Path
) -> None:
    olena = app("olena-shevchenko-cyrillic.json")  # asks for UB3920571, the number of its blank
    application = dataclasses.replace(olena, document=dataclasses.replace(olena.document, number=None))
    out = tmp_path / "out"
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        with pytest.raises(PipelineError) as err:
            issuer.issue(application, out, transport_factory=_failing_after(20))
        assert err.value.step == "chip" and err.value.number == "U10000001"
        assert "step chip" in str(err.value) and "card removed" in str(err.value)
        assert issuer.store.document("U10000001").state is DocumentState.SPOILED
        assert not out.exists() and not list(tmp_path.glob(".partial-*"))
        receipt = issuer.issue(application, out)
        assert receipt.number == "U10000002"
        # With the blank's own number, a spoiled document spends the blank: the retry needs another one.
        with pytest.raises(PipelineError) as err:
            issuer.issue(olena, tmp_path / "blank", transport_factory=_failing_after(20))
        assert err.value.number == "UB3920571"
        with pytest.raises(PipelineError, match="UB3920571 was already used for a document \\(spoiled\\)"):
            issuer.issue(olena, tmp_path / "blank")
        states = [(d.number, d.state) for d in issuer.store.documents()]
        report = verify_chain(issuer.store)
    assert states == [("U10000001", DocumentState.SPOILED), ("U10000002", DocumentState.ISSUED),
                      ("UB3920571", DocumentState.SPOILED)]
    assert report.ok, report


@pytest.mark.parametrize("content", [b"not an image at all", "red"])
def test_bad_portrait_is_refused_before_a_number_is_drawn(site: SiteConfig, tmp_path: Path, content: object) -> None:
    """Junk, or the issue's 600x800 red "NOT A FACE" rectangle: the photo check refuses it in the validate
    step, so no number is used up."""
    bad = tmp_path / "portrait.png"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        from PIL import Image, ImageDraw

        red = Image.new("RGB", (600, 800), (200, 20, 20))
        ImageDraw.Draw(red).text((220, 390), "NOT A FACE", fill=(255, 255, 255))
        red.save(bad)
    application = dataclasses.replace(app("anna-eriksson-td1.json"), portrait=bad)
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        with pytest.raises(PipelineError) as err:
            issuer.issue(application, tmp_path / "out")
        assert err.value.step == "validate" and err.value.number is None
        assert "portrait" in str(err.value)
        assert issuer.store.documents() == []


def test_visa_with_passport_and_stay_gets_a_seal_and_no_chip(site: SiteConfig, tmp_path: Path) -> None:
    visa = app("alex-mueller-visa-mrva.json")  # the example names the passport and the stay in its extra
    assert visa.extra == {"seal.passport_number": "C01X00T47", "seal.duration_of_stay": "90"}
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(visa, tmp_path / "out")
        record = issuer.store.document(receipt.number)
    # The page is skipped by this test's options (a visa has a page: the MRV-A template).
    assert receipt.checks == {"photo": "pass", "mrz": "pass", "lds": "not-applicable", "seal": "pass",
                              "page": "skipped", "print-check": "skipped", "chip": "not-applicable"}
    assert (tmp_path / "out" / "seal.png").is_file()
    assert [s.kind for s in record.seals] == ["vds"] and record.chip is None
    assert receipt.data["seal"]["format"] == "vds" and receipt.data["seal"]["type"] == "visa"
    report = check_seal_png(tmp_path / "out" / "seal.png", receipt.data, site)
    assert report["content"]["PASSPORT_NUMBER"] == "C01X00T47"


def test_visa_without_passport_number_says_why_it_has_no_seal(site: SiteConfig, tmp_path: Path) -> None:
    bare = dataclasses.replace(app("alex-mueller-visa-mrva.json"), extra={})
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(bare, tmp_path / "out")
    seal = next(c for c in receipt.data["checks"] if c["name"] == "seal")
    assert seal["status"] == "not-applicable" and "seal.passport_number" in seal["detail"]


def check_seal_png(png: Path, receipt: dict[str, Any], site: SiteConfig) -> dict[str, Any]:
    """zxing-cpp decodes the PNG to the very bytes the receipt hashed, and `mrtd seal verify` says valid."""
    import zxingcpp
    from click.testing import CliRunner
    from PIL import Image

    from mrtd.cli.seal import seal as seal_group

    with Image.open(png) as img:
        found = zxingcpp.read_barcodes(img, formats=SEAL_SYMBOLOGIES)
    assert len(found) == 1
    assert hashlib.sha256(found[0].bytes).hexdigest() == receipt["seal"]["payload_sha256"]
    assert found[0].format.name == {"qr": "QRCode", "datamatrix": "DataMatrix"}[receipt["seal"]["symbology"]]
    (csca,) = sorted((site.root / "pki" / "certs").glob("csca-*.pem"))
    (signer,) = sorted((site.root / "pki" / "certs").glob("seal-signer-*.pem"))
    result = CliRunner().invoke(seal_group, ["verify", str(png), "--trust", str(csca), "--certs", str(signer),
                                             "--strict", "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json_result(result.output)
    assert report["verdict"] == "valid" and report["format"] == receipt["seal"]["format"]
    assert report["document_type"] == receipt["seal"]["document_type"]
    if receipt["seal"]["type"] == "mrz":
        (message,) = [m for m in report["content"] if m.startswith("MRZ_")]
        assert report["content"][message] == "\n".join(receipt["mrz"])  # the seal says what the MRZ says
    return report


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_gets_the_seal_its_format_has(name: str, site: SiteConfig, tmp_path: Path) -> None:
    application = app(name)
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(application, tmp_path / "out")
        record = issuer.store.document(receipt.number)
    seal_check = next(c for c in receipt.data["checks"] if c["name"] == "seal")
    fmt = application.document.format
    if fmt is DocumentFormat.TD2:
        # No ICAO IDB message holds a TD2 MRZ (0x81 is national) and this is no emergency travel document.
        assert seal_check["status"] == "not-applicable" and "0x81" in seal_check["detail"]
        assert receipt.data["seal"] is None and not record.seals
        assert not (tmp_path / "out" / "seal.png").exists()
        return
    assert seal_check["status"] == "pass"
    expected = ("vds", "visa") if fmt.is_visa else ("idb", "mrz")
    assert (receipt.data["seal"]["format"], receipt.data["seal"]["type"]) == expected
    assert [(s.kind, s.payload_sha256) for s in record.seals] == [
        (expected[0], receipt.data["seal"]["payload_sha256"])]
    report = check_seal_png(tmp_path / "out" / "seal.png", receipt.data, site)
    if application.document.can:
        assert report["content"]["CAN"] == application.document.can


def test_the_seal_follows_the_site_symbology(site: SiteConfig, tmp_path: Path) -> None:
    dm_site = dataclasses.replace(site, symbology="datamatrix")
    with Issuer(dm_site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(app("anna-eriksson-td1.json"), tmp_path / "out")
    assert receipt.data["seal"]["symbology"] == "datamatrix"
    assert receipt.data["seal"]["messages"] == ["MRZ_TD1", "CAN"]
    report = check_seal_png(tmp_path / "out" / "seal.png", receipt.data, dm_site)
    assert report["content"]["CAN"] == "540238" and report["barcode"]["symbology"] == "datamatrix"


def test_a_td2_emergency_travel_document_gets_the_idb_etd_message(site: SiteConfig, tmp_path: Path) -> None:
    etd = dataclasses.replace(app("arnpol-long-name-td2.json"), extra={"seal.type": "etd"})
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(etd, tmp_path / "out")
        record = issuer.store.document(receipt.number)
    assert receipt.checks["seal"] == "pass" and [s.kind for s in record.seals] == ["idb"]
    assert (receipt.data["seal"]["format"], receipt.data["seal"]["type"]) == ("idb", "etd")
    report = check_seal_png(tmp_path / "out" / "seal.png", receipt.data, site)
    assert report["content"]["EMERGENCY_TRAVEL_DOCUMENT"]["MRZ"] == "\n".join(receipt.data["mrz"])


def test_expired_application_is_refused_before_anything_is_made(site: SiteConfig, tmp_path: Path) -> None:
    application = app("anna-eriksson-td3.json")
    old = dataclasses.replace(application, document=dataclasses.replace(application.document,
                                                                        date_of_expiry=dt.date(2020, 1, 1)))
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        with pytest.raises(PipelineError) as err:
            issuer.issue(old, tmp_path / "out")
        assert err.value.step == "validate" and err.value.number is None
        assert "date_of_expiry" in str(err.value)
        assert issuer.store.documents() == []  # no number drawn for an application refused at validation
    assert not (tmp_path / "out").exists()


def test_application_key_is_a_content_hash(tmp_path: Path) -> None:
    a = app("anna-eriksson-td3.json")
    assert application_key(application_payload(a)) == application_key(application_payload(app("anna-eriksson-td3.json")))
    other = dataclasses.replace(a, extra={"note": "x"})
    assert application_key(application_payload(a)) != application_key(application_payload(other))
    portrait = tmp_path / "p.jpg"
    portrait.write_bytes(a.portrait.read_bytes() + b"\0" if a.portrait else b"")
    moved = dataclasses.replace(a, portrait=portrait)
    assert application_payload(moved)["portrait_sha256"] != application_payload(a)["portrait_sha256"]


def test_recover_partials_finishes_issued_and_removes_the_rest(site: SiteConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue_into(app("anna-eriksson-td1.json"), out)
        # Simulate a crash between "issued" in the records and the rename, and a leftover of a spoiled one.
        (out / receipt.number).rename(partial_dir(out / receipt.number, receipt.number))
        stray = partial_dir(out / "U99999999", "U99999999")
        stray.mkdir()
        done = recover_partials(issuer.store, out)
    assert done == {"finished": [receipt.number], "removed": ["U99999999"]}
    assert (out / receipt.number / "receipt.json").is_file() and not stray.exists()


def test_cli_issue_json_then_refuses_the_same_application(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mrtd.cli.issue import issue

    # `mrtd issue` signs at the real time, so its keys are made at the real time too: on the fixture's fixed
    # clock the Document Signer's 3-month usage period would end under the test on 2027-02-23
    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=lambda: dt.datetime.now(dt.UTC),
                     certificate_country="UT", kdf_log2n=12)
    env = secret_env()
    args = [str(EXAMPLES / "jean-pierre-habimana-refugee.json"), "--site", str(site.root), "--no-print-check"]
    runner = CliRunner()
    first = runner.invoke(issue, [*args, "--out", str(tmp_path / "a"), "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert envelope(first.output)["ok"]
    data = json_result(first.output)
    assert data["out"] == str(tmp_path / "a")
    assert {c["name"]: c["status"] for c in data["checks"]}["print-check"] == "skipped"
    # A refugee's travel document: the data page and its observations page (the 1951 Convention wording).
    assert (tmp_path / "a" / "page-front.png").is_file() and (tmp_path / "a" / "page-observations.png").is_file()
    assert (tmp_path / "a" / "page.pdf").is_file()
    again = runner.invoke(issue, [*args, "--out", str(tmp_path / "b")], env=env)
    assert again.exit_code == 1 and f"already issued as document {data['number']}" in again.output
    wrong = runner.invoke(issue, [*args, "--out", str(tmp_path / "c")], env={**secret_env(), "MRTD_DS_PASSPHRASE": "Xq7-not-it"})
    assert wrong.exit_code == 1 and "passphrase" in wrong.output and "Xq7-not-it" not in wrong.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_crash_between_issued_and_rename_is_repaired_on_retry(site: SiteConfig, tmp_path: Path) -> None:
    application = app("chayapa-long-name-td3.json")
    out = tmp_path / "out"
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        receipt = issuer.issue(application, out)
        out.rename(partial_dir(out, receipt.number))  # the records say issued, the folder was not moved yet
        with pytest.raises(AlreadyIssued):
            issuer.issue(application, out)
    assert json.loads((out / "receipt.json").read_text("utf-8"))["number"] == receipt.number
    assert not partial_dir(out, receipt.number).exists()


def test_a_date_of_issue_other_than_today_is_refused_before_a_number_is_drawn(site: SiteConfig, tmp_path: Path) -> None:
    anna = app("anna-eriksson-td3.json")
    stale = dataclasses.replace(anna, document=dataclasses.replace(anna.document, date_of_issue=dt.date(2024, 5, 1)))
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        with pytest.raises(PipelineError) as err:
            issuer.issue(stale, tmp_path / "out")
        assert err.value.step == "validate" and err.value.number is None
        assert "document.date_of_issue: 2024-05-01 is not the day this document is issued (2026-11-23)" in str(err.value)
        assert issuer.store.documents() == []
        today = dataclasses.replace(anna, document=dataclasses.replace(anna.document, date_of_issue=NOW.date()))
        receipt = issuer.issue(today, tmp_path / "out")
    assert receipt.data["document"]["date_of_issue"] == "2026-11-23"


def test_an_inventory_site_issues_the_blank_in_front_of_the_operator(tmp_path: Path) -> None:
    from mrtd.issuance.inventory import BlankState, Inventory

    site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    toml = site.config_path.read_text("utf-8").replace("[numbering]\n", '[numbering]\nsource = "inventory"\n')
    site.config_path.write_text(toml, "utf-8")
    site = load_site(site.root)
    assert site.number_source == "inventory"
    anna = app("anna-eriksson-td1.json")
    anna = dataclasses.replace(anna, document=dataclasses.replace(anna.document, number=None))
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=FAST) as issuer:
        Inventory(issuer.store).receive(["C0000007", "C0000008"], "card", delivery="DN-1", actor="clerk")
        with pytest.raises(PipelineError, match="give the number of the blank"):
            issuer.issue(anna, tmp_path / "a")
        with pytest.raises(PipelineError, match="C0000099 is not a blank in this site's stock"):
            issuer.issue(anna, tmp_path / "b", blank="C0000099")
        receipt = issuer.issue(anna, tmp_path / "c", blank="C0000007")
        assert receipt.number == "C0000007" and "C0000007" in receipt.data["mrz"][0]
        assert Inventory(issuer.store).blank("C0000007").state is BlankState.USED
        leyla = app("leyla-mirza-stateless.json")  # asks for S00481236, which is no blank of this site's
        with pytest.raises(PipelineError, match="S00481236 is not a blank"):
            issuer.issue(leyla, tmp_path / "d")
        with pytest.raises(PipelineError, match="both asked for"):
            issuer.issue(leyla, tmp_path / "e", blank="C0000008")
        assert [d.number for d in issuer.store.documents()] == ["C0000007"]  # the refusals drew nothing
