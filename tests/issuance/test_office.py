"""The use cases below both faces, in process: submit -> approve (four eyes) -> claim -> personalise (the
simulated chip, as a station would) -> report -> issued; a lost document replaced; a batch document
reprinted from the records; search in national script and transliteration; lease expiry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS

from mrtd.chip.keytransport import load_or_create_station_key, open_keys, public_key_text
from mrtd.chip.perso import ChipImage, personalise
from mrtd.chip.sim.card import VirtualCard
from mrtd.chip.sim.transport import SimTransport
from mrtd.errors import ChipError, InputError, StateError, ValidationError
from mrtd.issuance import photo
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.casework import CaseState, Casework
from mrtd.issuance.office import Claim, Office
from mrtd.issuance.pipeline import ChipOutcome
from mrtd.issuance.queue import JobState, LeaseLost
from mrtd.issuance.records import RecordsError
from mrtd.issuance.roles import Forbidden, Principal, Role, Unauthenticated
from mrtd.issuance.site import SiteConfig, init_site, load_site
from mrtd.issuance.states import DocumentState
from mrtd.issuance.users import add_user, authenticate, issue_token, revoke

PASS = b"office-test-passphrase"
CLERK = Principal("carla", Role.CLERK)
CLERK2 = Principal("chen", Role.CLERK)
APPROVER = Principal("amal", Role.APPROVER)
SUPERVISOR = Principal("sam", Role.SUPERVISOR)
STATION = Principal("st1", Role.STATION)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(tmp_path: Path, clock: Clock) -> SiteConfig:
    init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    return load_site(tmp_path / "site", {"page.print_check": False})


@pytest.fixture
def office(site: SiteConfig, clock: Clock) -> Any:
    with Office(site, clock=clock, secrets=SIGNING_SECRETS, lease_seconds=30) as o:
        for name in ("st1", "st2"):
            add_user(o.store, name, Role.STATION, actor="admin")
        yield o


def application(name: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    path = EXAMPLES / name
    data = json.loads(path.read_text("utf-8"))
    # The site draws the numbers: a number the application asked for would be its blank's, used once only,
    # and these tests spoil documents and retry them.
    data["document"].pop("number", None)
    images = {}
    for kind in ("portrait", "signature"):
        if kind in data:
            images[Path(data[kind]).name] = (path.parent / data[kind]).read_bytes()
            data[kind] = Path(data[kind]).name
    return data, images


def station_writes(claim: Claim, key: Any) -> ChipOutcome:
    """What a station does with a claim: open the chip keys, personalise a blank chip, read it back."""
    keys = open_keys(claim.keys, key, claim.key_info)
    image = ChipImage(claim.files, keys.aa_key, keys.ca_key, keys.ca_key_id, claim.can)
    report = personalise(image, SimTransport(VirtualCard(claim.chip_profile)), claim.chip_profile)
    return ChipOutcome.of(report, "simulator")


def claimed(office: Office, name: str, fmt: str, key_path: Path) -> tuple[int, Claim, Any]:
    """Example application `name` submitted, approved and claimed by station st1 with the key at `key_path`:
    (application id, claim, station key)."""
    data, images = application(name)
    app_id = office.submit(CLERK, data, images).case.id
    office.approve(APPROVER, app_id)
    key = load_or_create_station_key(key_path)
    claim = office.claim(STATION, "st1", formats=[fmt], public_key=public_key_text(key))
    assert claim is not None
    return app_id, claim, key


def test_claim_to_issued_is_six_write_transactions(office: Office, tmp_path: Path) -> None:
    """Every write transaction takes the one write lock through its COMMIT, so the steps that belong together
    share one: lease; number with its job; validated and approved; the production with its seal and the
    audited read; the chip with personalised and quality-checked; issued with its receipt, case and job.
    (On SQLite two more: the issuing lock's row, taken and given back; PostgreSQL's is an advisory lock.)"""
    data, images = application("anna-eriksson-td3.json")
    app_id = office.submit(CLERK, data, images).case.id
    office.approve(APPROVER, app_id)
    key = load_or_create_station_key(tmp_path / "st1.key")
    assert office.claim(STATION, "st1", formats=["TD1"], public_key=public_key_text(key)) is None  # key registered
    writes: list[float] = []
    office.store.on_write = lambda waited, held: writes.append(held)
    claim = office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key))
    assert claim is not None and len(writes) == 4 + 2, writes
    seals = office.store.document(claim.number).seals
    assert len(seals) == 1 and seals[0].kind == "idb"  # recorded with the production, before any station has it
    office.report(STATION, claim.job.id, station_writes(claim, key), None)
    assert len(writes) == 6 + 2 and office.store.document(claim.number).state is DocumentState.ISSUED
    assert verify_chain(office.store).ok


def test_submit_approve_claim_report_issued(office: Office, tmp_path: Path) -> None:
    data, images = application("olena-shevchenko-cyrillic.json")
    first = office.submit(CLERK, data, images)
    assert first.created and first.case.state is CaseState.RECEIVED
    again = office.submit(CLERK, data, images)
    assert not again.created and again.case.id == first.case.id
    app_id = first.case.id
    with pytest.raises(Forbidden) as four:
        office.approve(Principal("carla", Role.APPROVER), app_id)  # the submitter, though an approver too
    assert four.value.rule == "four-eyes"
    with pytest.raises(Forbidden):
        office.approve(CLERK2, app_id)  # a clerk is no approver
    assert office.approve(APPROVER, app_id).state is CaseState.APPROVED

    key = load_or_create_station_key(tmp_path / "st1.key")
    with pytest.raises(Forbidden):
        office.claim(STATION, "st2", formats=["TD3"], public_key=public_key_text(key))
    assert office.claim(STATION, "st1", formats=["TD1"], public_key=public_key_text(key)) is None
    claim = office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key))
    assert claim is not None and claim.job.state is JobState.LEASED
    assert set(claim.page) == {"page.png", "page.pdf", "seal.png"} and "EF.SOD" in claim.files
    assert office.store.document(claim.number).state is DocumentState.APPROVED
    # a key sealed for this station and job opens for no other job
    with pytest.raises(Exception, match="cannot be opened"):
        open_keys(claim.keys, key, "mrtd chip keys: job 999, document X")
    office.heartbeat(STATION, claim.job.id)
    receipt = office.report(STATION, claim.job.id, station_writes(claim, key), {"status": "pass", "detail": "ok"})
    assert receipt["number"] == claim.number and receipt["approval"]["approved_by"] == "amal"
    assert office.store.document(claim.number).state is DocumentState.ISSUED
    assert office.casework.case(app_id).state is CaseState.ISSUED
    events = office.store.events(claim.number)
    approved = next(e for e in events if e.to_state is DocumentState.APPROVED)
    assert approved.detail["approved_by"] == "amal" and approved.detail["four_eyes"] is True
    with pytest.raises(LeaseLost):
        office.heartbeat(STATION, claim.job.id)
    assert verify_chain(office.store).ok


def test_a_report_whose_last_write_fails_issues_nothing(office: Office, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The receipt kept, the document issued, its case issued and its job done are one transaction: a
    failure at its end leaves none of them, and the document is spoiled and its job queued again, as for
    any failed report."""
    app_id, claim, key = claimed(office, "anna-eriksson-td3.json", "TD3", tmp_path / "st1.key")
    chip = station_writes(claim, key)
    move = Casework.move

    def move_but_not_to_issued(self: Casework, w: Any, application_id: int, to: CaseState, **kw: Any) -> Any:
        if to is CaseState.ISSUED:
            raise RecordsError("records: the database refused the change: disk full")
        return move(self, w, application_id, to, **kw)

    monkeypatch.setattr(Casework, "move", move_but_not_to_issued)
    with pytest.raises(RecordsError, match="disk full"):
        office.report(STATION, claim.job.id, chip, None)
    monkeypatch.undo()
    assert office.store.document(claim.number).state is DocumentState.SPOILED  # from quality-checked
    assert office.casework.files(claim.number) == {}  # no receipt of an issue that did not happen
    assert office.casework.case(app_id).state is CaseState.APPROVED
    assert [j.state for j in office.queue.jobs_of(app_id)] == [JobState.SPOILED, JobState.QUEUED]
    assert verify_chain(office.store).ok


def test_the_photo_is_measured_once_at_intake_and_its_check_kept_for_production(
        office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    measured = []
    real = photo.measure
    monkeypatch.setattr(photo, "measure", lambda *a, **k: measured.append(1) or real(*a, **k))
    data, images = application("olena-shevchenko-cyrillic.json")
    submitted = office.submit(CLERK, data, images)
    assert len(measured) == 1
    kept = office.casework.photo_checks(submitted.case.id)
    assert list(kept) == [photo.photo_sha256(images[data["portrait"]])]
    office.approve(APPROVER, submitted.case.id)
    key = load_or_create_station_key(tmp_path / "st1.key")
    claim = office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key))
    assert claim is not None and len(measured) == 1
    assert claim.receipt["photo"]["eyes"] == next(iter(kept.values())).as_dict()["eyes"]


def test_a_chip_that_differs_is_spoiled_and_requeued(office: Office, tmp_path: Path) -> None:
    _, claim, key = claimed(office, "anna-eriksson-td1.json", "TD1", tmp_path / "k")
    outcome = station_writes(claim, key)
    tampered = dict(outcome.files)
    tampered["DG1"] = tampered["DG1"][:-1] + b"\x00"
    with pytest.raises(ChipError, match="DG1"):
        office.report(STATION, claim.job.id, ChipOutcome(outcome.report, tampered, "simulator"), None)
    assert office.store.document(claim.number).state is DocumentState.SPOILED
    again = office.claim(STATION, "st1", formats=["TD1"], public_key=public_key_text(key))
    assert again is not None and again.number != claim.number and again.job.attempt == 2


def test_an_expired_lease_spoils_the_number_and_requeues(office: Office, clock: Clock, tmp_path: Path) -> None:
    _, first, key = claimed(office, "anna-eriksson-td3.json", "TD3", tmp_path / "k")
    clock.now += dt.timedelta(seconds=31)
    st2 = Principal("st2", Role.STATION)
    key2 = load_or_create_station_key(tmp_path / "k2")
    second = office.claim(st2, "st2", formats=["TD3"], public_key=public_key_text(key2))
    assert second is not None and second.number != first.number
    assert office.store.document(first.number).state is DocumentState.SPOILED
    with pytest.raises(LeaseLost):
        office.report(STATION, first.job.id, station_writes(first, key), None)
    office.report(st2, second.job.id, station_writes(second, key2), None)
    assert office.store.document(second.number).state is DocumentState.ISSUED


def test_invalid_application_gives_every_finding(office: Office) -> None:
    data, images = application("anna-eriksson-td3.json")
    data["holder"]["sex"] = "Q"
    data["document"]["date_of_expiry"] = "2020-01-01"
    with pytest.raises(ValidationError) as bad:
        office.submit(CLERK, data, images)
    fields = {f.field for f in bad.value.findings}
    assert {"holder.sex", "document.date_of_expiry"} <= fields


def test_an_application_and_its_case_are_recorded_together_or_not_at_all(office: Office) -> None:
    """Receipt is one transaction: when the case cannot be made (here an image that is not the one the
    application's digest names), no application is left behind without its case, and the audit chain holds;
    the same application twice is received once, and only the first call made it."""
    data, images = application("anna-eriksson-td3.json")
    first = office.submit(CLERK, data, images)
    again = office.submit(CLERK, data, images)
    assert first.created and not again.created and again.case.id == first.case.id
    # what submit returns (made in its own transaction) is what the records then hold
    assert first.case == again.case == office.casework.case(first.case.id)
    payload = {"document": {"format": "TD3"}, "portrait_sha256": "0" * 64}
    with pytest.raises(InputError, match="portrait: the image is not the one the application names"):
        office.casework.receive("k" * 64, payload, images={"portrait": b"other bytes"}, findings=(),
                                names=office.site.names, actor=CLERK.name)
    assert office.store.application("k" * 64) is None
    assert [c.id for c in office.applications(SUPERVISOR)] == [first.case.id]
    assert verify_chain(office.store).ok


def test_lost_document_replaced_then_search_and_reprint(office: Office, site: SiteConfig, tmp_path: Path) -> None:
    local = Principal("operator")
    data, images = application("olena-shevchenko-cyrillic.json")
    app_id = office.submit(local, data, images).case.id
    receipt = office.issue_stored(local, app_id, tmp_path / "out")
    number = receipt.number
    with pytest.raises(StateError, match="replaced after"):
        office.replace(SUPERVISOR, number)
    office.change(SUPERVISOR, number, DocumentState.REPORTED_LOST, "lost on a train")
    new = office.replace(SUPERVISOR, number, {"holder": {"place_of_birth": "LVIV"}})
    assert new.created and new.case.replaces == number and new.case.id != app_id
    with pytest.raises(Forbidden):
        office.approve(Principal("sam", Role.APPROVER), new.case.id)  # the supervisor who replaced it
    office.approve(APPROVER, new.case.id)
    replacement = office.issue_stored(APPROVER, new.case.id, tmp_path / "out2")
    assert replacement.number != number
    assert office.application(SUPERVISOR, new.case.id).payload["holder"]["place_of_birth"] == "LVIV"

    with pytest.raises(InputError, match="reason"):
        office.search(SUPERVISOR, reason="", name="Шевченко")
    for query in ("Шевченко", "шевченко олена", "SHEVCHENKO", "shevch"):
        found = office.search(SUPERVISOR, reason="identity check at the counter", name=query)
        assert {c.id for c in found} == {app_id, new.case.id}, query
    assert office.search(SUPERVISOR, reason="r", name="Eriksson") == []
    assert [c.id for c in office.search(SUPERVISOR, reason="r", number=replacement.number)] == [new.case.id]
    with pytest.raises(Forbidden):
        office.search(CLERK, reason="curious", name="Шевченко")
    entries = [e for e in office.audit(Principal("audra", Role.AUDITOR)) if e.action == "person.searched"]
    assert entries and entries[0].actor == "sam" and entries[0].detail["reason"] == "identity check at the counter"
    assert verify_chain(office.store).ok


def test_tokens_are_shown_once_stored_hashed_and_revoked_at_once(office: Office) -> None:
    add_user(office.store, "amal", Role.APPROVER, actor="admin")
    token = issue_token(office.store, "amal", actor="admin")
    assert authenticate(office.store, token) == Principal("amal", Role.APPROVER)
    with office.store.reading() as s:
        from mrtd.issuance.users import TokenRow

        stored = [r.sha256 for r in s.query(TokenRow)]
    assert token not in json.dumps(stored) and len(stored) == 1
    assert revoke(office.store, "amal", actor="admin") == 1
    with pytest.raises(Unauthenticated):
        authenticate(office.store, token)
    with pytest.raises(Unauthenticated):
        authenticate(office.store, "mrtd_" + "A" * 43)


def test_a_seal_signed_before_the_page_fails_is_recorded_with_the_spoiled_number(
        office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service records a seal with the production it hands to a station; when the page fails after the
    seal was signed, there is no production, but the signature was made: the records keep it (`signed_by`,
    a revocation's reach, lists the spoiled number)."""
    from mrtd.errors import ConfigurationError
    from mrtd.issuance import pipeline

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ConfigurationError("page: the template's font is missing (test)")

    monkeypatch.setattr(pipeline, "render_page", broken)
    data, images = application("anna-eriksson-td3.json")
    app_id = office.submit(CLERK, data, images).case.id
    office.approve(APPROVER, app_id)
    key = load_or_create_station_key(tmp_path / "st1.key")
    assert office.claim(STATION, "st1", formats=["TD1"], public_key=public_key_text(key)) is None  # key registered
    assert office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key)) is None  # the page failed
    (spoiled,) = office.store.documents(DocumentState.SPOILED)
    assert [seal.kind for seal in spoiled.seals] == ["idb"]
    assert spoiled.number in office.store.signed_by(spoiled.seals[0].signer_key_id)
    assert verify_chain(office.store).ok
