"""Blank stock on SQLite and PostgreSQL: a blank is used once only, a number not in stock is refused, a
spoiled blank is recorded and never issued; how a sequence site honours or refuses a requested number;
`mrtd inventory receive|list|spoil`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from mrtd.cli import main
from mrtd.errors import InputError, MrtdError, StateError
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.inventory import (
    BlankKind,
    BlankState,
    Inventory,
    draw_number,
    number_range,
    requested_numbers,
)
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore
from mrtd.issuance.states import DocumentState

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures (SQLite, PostgreSQL)

POLICY = NumberPolicy("U", start=10000001)


def _application(store: RecordStore, n: int) -> tuple[int, str]:
    key = f"{n:064x}"
    record = store.receive_application(key, {"n": n})
    return record.id, record.key


def _draw(store: RecordStore, n: int, requested: str | None, source: str = "inventory") -> str:
    app_id, key = _application(store, n)
    return draw_number(store, source=source, policy=POLICY, application_id=app_id, application_key=key,
                       requested=requested, actor="clerk")


def _stock(store: RecordStore) -> Inventory:
    inventory = Inventory(store)
    inventory.receive(number_range("P0000101", "P0000105"), BlankKind.BOOKLET, delivery="DN-7", actor="clerk")
    return inventory


def test_a_blank_is_used_once_only(store: RecordStore) -> None:
    inventory = _stock(store)
    assert _draw(store, 1, "P0000102") == "P0000102"
    blank = inventory.blank("P0000102")
    assert blank.state is BlankState.USED and blank.note.startswith("application ")
    assert store.document("P0000102").state is DocumentState.RECEIVED
    with pytest.raises(StateError, match="P0000102 was already used"):
        _draw(store, 2, "P0000102")
    assert [d.number for d in store.documents()] == ["P0000102"]  # nothing half-made for the second
    assert store.application(f"{2:064x}").documents == ()  # type: ignore[union-attr]
    assert verify_chain(store).ok


def test_two_stations_racing_for_one_blank_get_it_once(store: RecordStore) -> None:
    _stock(store)
    apps = [_application(store, n) for n in range(10, 14)]
    won: list[str] = []
    lost: list[MrtdError] = []

    def take(app: tuple[int, str]) -> None:
        try:
            won.append(draw_number(store, source="inventory", policy=POLICY, application_id=app[0],
                                   application_key=app[1], requested="P0000104", actor="station"))
        except MrtdError as exc:
            lost.append(exc)

    threads = [threading.Thread(target=take, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won == ["P0000104"] and len(lost) == 3 and all(isinstance(e, StateError) for e in lost)


def test_a_number_not_in_stock_is_refused(store: RecordStore) -> None:
    _stock(store)
    with pytest.raises(InputError, match="P0000999 is not a blank in this site's stock"):
        _draw(store, 1, "P0000999")
    with pytest.raises(InputError, match="give the number of the blank"):
        _draw(store, 2, None)
    assert store.documents() == []


def test_spoiled_blanks_are_recorded_and_never_issued(store: RecordStore) -> None:
    inventory = _stock(store)
    spoiled = inventory.spoil("P0000103", reason="page 3  torn in the feeder", actor="clerk")
    assert spoiled.state is BlankState.SPOILED and spoiled.note == "page 3 torn in the feeder"
    assert [b.number for b in inventory.blanks(state=BlankState.SPOILED)] == ["P0000103"]
    with pytest.raises(StateError, match="blank P0000103 is spoiled \\(page 3 torn in the feeder\\)"):
        _draw(store, 1, "P0000103")
    with pytest.raises(StateError, match="not in stock"):
        inventory.spoil("P0000103", reason="again", actor="clerk")
    _draw(store, 2, "P0000101")
    with pytest.raises(StateError, match="not in stock"):
        inventory.spoil("P0000101", reason="used already", actor="clerk")
    counts = {s: len(inventory.blanks(state=s)) for s in BlankState}
    assert counts == {BlankState.IN_STOCK: 3, BlankState.USED: 1, BlankState.SPOILED: 1}
    with store.audit_chain() as (_head, entries):
        actions = [e.action for e in entries]
    assert actions.count("inventory.spoiled") == 1 and "inventory.received" in actions
    assert verify_chain(store).ok


def test_a_delivery_is_received_whole_or_not_at_all(store: RecordStore) -> None:
    inventory = _stock(store)
    with pytest.raises(StateError, match="P0000105 is already known"):
        inventory.receive(["P0000106", "P0000105"], "booklet", delivery="DN-8", actor="clerk")
    with pytest.raises(InputError, match="given twice"):
        inventory.receive(["P0000107", "P0000107"], "card", delivery="DN-8", actor="clerk")
    with pytest.raises(InputError, match="not 1 to 9 characters"):
        inventory.receive(["P-0000108"], "card", delivery="DN-8", actor="clerk")
    assert [b.number for b in inventory.blanks()] == number_range("P0000101", "P0000105")
    _draw(store, 1, "Q12345678", source="sequence")  # a document's number can never be received as a blank
    with pytest.raises(StateError, match="Q12345678 is already known"):
        inventory.receive(["Q12345678"], "card", delivery="DN-9", actor="clerk")


def test_a_sequence_site_honours_a_requested_number_or_refuses_it(store: RecordStore) -> None:
    assert _draw(store, 1, None, source="sequence") == "U10000001"
    assert _draw(store, 2, "L898902C3", source="sequence") == "L898902C3"  # the blank's number, checked
    with pytest.raises(StateError, match="already used"):
        _draw(store, 3, "L898902C3", source="sequence")
    with pytest.raises(InputError, match="this site's own sequence"):
        _draw(store, 4, "U10000005", source="sequence")  # the sequence would reach it later
    assert _draw(store, 5, None, source="sequence") == "U10000002"


def test_number_ranges_and_requests() -> None:
    assert number_range("P0000098", "P0000101") == ["P0000098", "P0000099", "P0000100", "P0000101"]
    for first, last in (("P0000101", "Q0000105"), ("P101", "P0000105"), ("P0000105", "P0000101")):
        with pytest.raises(InputError):
            number_range(first, last)
    assert requested_numbers([None, "P1"]) == "P1" and requested_numbers(["P1", "P1"]) == "P1"
    assert requested_numbers([None, ""]) is None
    with pytest.raises(InputError, match="both asked for"):
        requested_numbers(["P1", "P2"])


def test_cli_receive_list_spoil(store: RecordStore, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "mrtd.toml").write_text(f'[site]\ncountry = "UTO"\n[records]\nurl = "{store_url}"\n', encoding="utf-8")
    monkeypatch.delenv("MRTD_RECORDS_URL", raising=False)
    run = CliRunner()
    result = run.invoke(main, ["inventory", "receive", "--site", str(site), "--kind", "card", "--delivery", "DN-1",
                               "--from", "C0000001", "--to", "C0000010", "C0000020"])
    assert result.exit_code == 0, result.output
    assert "received 11 card blanks (C0000001 .. C0000020), delivery DN-1" in result.output
    result = run.invoke(main, ["inventory", "spoil", "C0000002", "--site", str(site), "--reason", "misprinted"])
    assert result.exit_code == 0 and "C0000002: spoiled (misprinted)" in result.output
    result = run.invoke(main, ["inventory", "list", "--site", str(site)])
    assert "C0000002\tcard\tspoiled\tDN-1\tmisprinted" in result.stdout.splitlines()
    assert result.stdout.splitlines()[0] == "number\tkind\tstate\tdelivery\tnote"
    assert result.output.rstrip().endswith("10 in-stock, 0 used, 1 spoiled")
    result = run.invoke(main, ["inventory", "spoil", "C0000999", "--site", str(site), "--reason", "x", "--json"])
    assert result.exit_code == 1 and "not in this site's inventory" in result.output
    result = run.invoke(main, ["inventory", "receive", "C0000001", "--site", str(site), "--kind", "card",
                               "--delivery", "DN-2"])
    assert result.exit_code == 1 and "already known" in result.output
