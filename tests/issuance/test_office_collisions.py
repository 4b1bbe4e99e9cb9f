"""A station and a direct run (`application issue`) of the same application never spoil each other's
document: the direct run stops while a station holds the job's lease, and a station's claim waits while a
direct run holds the issuing lock (its job goes back to the queue, the same attempt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_office import (  # noqa: F401
    APPROVER,
    CLERK,
    STATION,
    application,
    claimed,
    clock,
    office,
    site,
    station_writes,
)

from mrtd.chip.keytransport import load_or_create_station_key, public_key_text
from mrtd.issuance.office import Office
from mrtd.issuance.queue import JobState
from mrtd.issuance.records import AlreadyBeingIssued
from mrtd.issuance.states import DocumentState

# The fixtures clock, site and office are imported, not registered as a plugin: a plugin's fixtures are
# global and test_office's clock would replace the records tests' clock.


def test_a_direct_run_stops_while_a_station_holds_the_document(office: Office, tmp_path: Path) -> None:  # noqa: F811
    app_id, claim, key = claimed(office, "anna-eriksson-td3.json", "TD3", tmp_path / "k")
    with pytest.raises(AlreadyBeingIssued, match=f"already being issued by station st1 \\(job {claim.job.id},"):
        office.issue_stored(APPROVER, app_id, tmp_path / "direct")
    assert office.store.document(claim.number).state is DocumentState.APPROVED  # not spoiled under the station
    office.report(STATION, claim.job.id, station_writes(claim, key), None)
    assert [(d.number, d.state) for d in office.store.documents()] == [(claim.number, DocumentState.ISSUED)]
    assert not (tmp_path / "direct").exists()


def test_a_station_waits_while_a_direct_run_holds_the_application(office: Office, tmp_path: Path) -> None:  # noqa: F811
    data, images = application("anna-eriksson-td3.json")
    app_id = office.submit(CLERK, data, images).case.id
    office.approve(APPROVER, app_id)
    key = load_or_create_station_key(tmp_path / "k")
    record = office.store.application(office.casework.case(app_id).key)
    assert record is not None
    with office.store.issuing(record):  # a direct run of the application is under way
        assert office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key)) is None
    assert [(j.state, j.attempt) for j in office.queue.jobs_of(app_id)] == [(JobState.QUEUED, 1)]
    assert office.store.documents() == []  # nothing drawn, nothing spoiled
    claim = office.claim(STATION, "st1", formats=["TD3"], public_key=public_key_text(key))
    assert claim is not None and claim.job.attempt == 1
    office.report(STATION, claim.job.id, station_writes(claim, key), None)
    assert office.store.document(claim.number).state is DocumentState.ISSUED
