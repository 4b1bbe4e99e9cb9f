"""The production queue under concurrent claims, on SQLite and on PostgreSQL (SELECT ... FOR UPDATE SKIP
LOCKED): eight stations claiming at once each get a different job and a different number, nothing is
leased twice, and a ninth finds the queue empty."""

from __future__ import annotations

import base64
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import SIGNING_SECRETS
from servicekit import make_site, submission

from mrtd.chip.keytransport import load_or_create_station_key, public_key_text
from mrtd.issuance.office import Claim, Office
from mrtd.issuance.roles import Principal, Role
from mrtd.issuance.users import add_user

pytest_plugins = ["test_records_backends"]  # store_url: SQLite, and PostgreSQL in a schema of its own


def test_concurrent_claims_get_distinct_jobs(store_url: str, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", store_url)
    stations = [f"st{i}" for i in range(8)]
    keys = {s: public_key_text(load_or_create_station_key(tmp_path / f"{s}.key")) for s in stations}
    with Office(site, clock=lambda: dt.datetime.now(dt.UTC), secrets=SIGNING_SECRETS) as office:
        for s in stations:
            add_user(office.store, s, Role.STATION, actor="admin")
        for i in range(len(stations)):
            body = submission("anna-eriksson-td1.json", holder={"secondary_identifier": f"ANNA {'ABCDEFGH'[i]}"})
            images = {k: base64.b64decode(v) for k, v in body["images"].items()}
            case = office.submit(Principal("clerk", Role.CLERK), body["application"], images).case
            office.approve(Principal("amal", Role.APPROVER), case.id)

        def claim(station: str) -> Claim | None:
            return office.claim(Principal(station, Role.STATION), station, formats=["TD1"], public_key=keys[station])

        with ThreadPoolExecutor(len(stations)) as pool:
            claims = [c for c in pool.map(claim, stations) if c is not None]
        assert len(claims) == len(stations)
        assert len({c.job.id for c in claims}) == len({c.number for c in claims}) == len(stations)
        assert len({c.job.application_id for c in claims}) == len(stations)
        assert claim("st0") is None
        assert office.queue.depth() == {"leased": len(stations)}
