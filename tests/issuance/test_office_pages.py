"""The use cases the web pages call beside the API's: preview while filling in, the photo check of an upload,
the page preview, a document's view, production figures, audit filters, the offline verifier's trust list.
The same rights as everywhere: each is refused to the roles that may not take it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, SIGNING_SECRETS
from servicekit import make_site, make_users, now

from mrtd.issuance.office import Office
from mrtd.issuance.roles import Forbidden, Principal, Role
from mrtd.issuance.states import DocumentState
from mrtd.issuance.stored import stored_application

CLERK, APPROVER = Principal("carla", Role.CLERK), Principal("amal", Role.APPROVER)
SUPERVISOR, AUDITOR = Principal("sam", Role.SUPERVISOR), Principal("audra", Role.AUDITOR)


def _data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text("utf-8"))
    data["document"].pop("number", None)
    return data


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Office, str, Path]]:
    root = tmp_path_factory.mktemp("office-pages")
    site = make_site(root / "site")
    make_users(site)
    with Office(site, clock=now, secrets=SIGNING_SECRETS) as office:
        case = office.submit(CLERK, _data("abubakr-alrazi-arabic.json"), base_dir=EXAMPLES).case
        office.approve(APPROVER, case.id)
        receipt = office.issue_stored(Principal("operator"), case.id, root / "doc")
        yield office, str(receipt.number), root


def test_preview_follows_the_intake_rules(issued: tuple[Office, str, Path]) -> None:
    office, _, _ = issued
    data = _data("olena-shevchenko-cyrillic.json")
    preview = office.preview(CLERK, data)
    assert preview.as_dict()["ok"] and preview.mrz[0].startswith("PPUTOSHEVCHENKO<<OLENA<IVANIVNA")
    assert preview.mrz[1].startswith("X00000000")  # the specimen number: the real one is drawn at production
    assert preview.names["surname"] == "ШЕВЧЕНКО" and preview.names["surname_latin"] == "SHEVCHENKO"
    data["holder"]["date_of_birth"] = "1988-02-30"
    data["document"]["format"] = "TD9"
    found = {(f.field, f.rule) for f in office.preview(CLERK, data).findings}
    assert ("holder.date_of_birth", "not-a-date") in found and ("document.format", "enum") in found
    for who in (APPROVER, SUPERVISOR, AUDITOR):
        with pytest.raises(Forbidden):
            office.preview(who, data)


def test_image_check_is_the_intake_photo_check(issued: tuple[Office, str, Path]) -> None:
    office, _, _ = issued
    good = office.check_image(CLERK, "portrait", (EXAMPLES / "portraits" / "olena.jpg").read_bytes())
    assert not [f for f in good if f.severity.value == "error"]
    bad = office.check_image(CLERK, "portrait", b"not an image at all")
    assert bad and bad[0].field == "portrait" and bad[0].severity.value == "error"
    with pytest.raises(Forbidden):
        office.check_image(APPROVER, "portrait", b"x")


def test_stored_application_keeps_latin_forms(issued: tuple[Office, str, Path]) -> None:
    office, number, _ = issued
    application_id = office.casework.application_of(number)
    case = office.casework.case(application_id, with_payload=True)
    assert case.payload["holder"]["place_of_birth_latin"] == "RAY"
    with stored_application(case.payload, office.casework.images(application_id), names=office.site.names,
                            source="test") as app:
        assert app.document.holder.place_of_birth_latin == "RAY"
    # an application without them keeps the key it always had (no empty fields added to the payload)
    plain = office.submit(CLERK, _data("anna-eriksson-td3.json"), base_dir=EXAMPLES).case
    payload = office.casework.case(plain.id, with_payload=True).payload
    assert "place_of_birth_latin" not in payload["holder"] and "observations" not in payload["document"]


def test_page_preview_and_document_view(issued: tuple[Office, str, Path]) -> None:
    office, number, _ = issued
    application_id = office.casework.application_of(number)
    png = office.page_preview(APPROVER, application_id)
    assert png.startswith(b"\x89PNG")
    view = office.document_view(SUPERVISOR, number)
    assert view.record.state is DocumentState.ISSUED and view.page_png and view.page_png.startswith(b"\x89PNG")
    assert view.seal is not None and view.seal.ok and view.seal_png
    assert [c["name"] for c in view.receipt["checks"]][:2] == ["photo", "mrz"]
    reads = office.audit(AUDITOR, action="person.read", limit=1000)
    assert {"page-preview", "document"} <= {e.detail["what"] for e in reads}
    with pytest.raises(Forbidden):
        office.document_view(AUDITOR, number)  # no personal data for auditors
    with pytest.raises(Forbidden):
        office.page_preview(AUDITOR, application_id)


def test_production_report_and_its_rights(issued: tuple[Office, str, Path]) -> None:
    office, _, _ = issued
    report = office.production(SUPERVISOR)
    assert sum(b.issued for b in report.hours) == sum(b.issued for b in report.days) == report.totals["day_issued"] >= 1
    assert len(report.hours) == 24 and len(report.days) == 7 and report.hours[-1].issued >= 1
    assert [s.name for s in report.stations] == ["st1"]
    assert office.production(AUDITOR).totals == report.totals
    for who in (CLERK, APPROVER):
        with pytest.raises(Forbidden):
            office.production(who)


def test_audit_filters_and_chain(issued: tuple[Office, str, Path]) -> None:
    office, number, _ = issued
    mine = office.audit(AUDITOR, subject=number, limit=1000)
    assert mine and all(e.subject == number for e in mine)
    documents = office.audit(AUDITOR, action="document.", limit=1000)
    assert documents and all(e.action.startswith("document.") for e in documents)
    newest = office.audit(AUDITOR, newest_first=True, limit=3)
    assert [e.seq for e in newest] == sorted((e.seq for e in newest), reverse=True)
    older = office.audit(AUDITOR, newest_first=True, after=newest[-1].seq, limit=3)
    assert all(e.seq < newest[-1].seq for e in older)
    assert office.audit(AUDITOR, actor="nobody-at-all") == []
    assert office.verify_audit(AUDITOR).ok
    with pytest.raises(Forbidden):
        office.verify_audit(SUPERVISOR)


def test_verifier_trust_list(issued: tuple[Office, str, Path]) -> None:
    office, _, _ = issued
    trust = office.verifier_trust()
    assert trust["issuer"] == "UTO" and len(trust["cscas"]) == 1
    (signer,) = trust["signers"]
    assert signer["purposes"] == ["seal"] and signer["curve"] == "secp256r1" and signer["hash"] == "sha256"
    assert len(signer["point"]) == 2 + 128 and signer["point"].startswith("04")
    assert signer["idb_ref"] == signer["sha1"][-10:] and signer["signer_id"] == "UT01"
