"""The role table: every role (and no token, and a revoked token) on every endpoint, with the status each
must get; four eyes through the API; a revoked token refused at once."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import SIGNING_SECRETS
from fastapi.testclient import TestClient
from servicekit import USERS, auth, make_site, make_users, now, submission

from mrtd.chip.keytransport import load_or_create_station_key, public_key_text
from mrtd.issuance.office import Office
from mrtd.issuance.roles import PERMISSIONS, Action, Principal, Role
from mrtd.issuance.users import revoke
from mrtd.service.app import create_app

ANONYMOUS = "anonymous"
Ctx = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], Ctx, Office]]:
    root = tmp_path_factory.mktemp("roles")
    site = make_site(root / "site")
    tokens = make_users(site, {"old": Role.SUPERVISOR})
    office = Office(site, clock=now, secrets=SIGNING_SECRETS, lease_seconds=120)
    local = Principal("operator")
    ctx: Ctx = {"key": public_key_text(load_or_create_station_key(root / "st1.key"))}
    for name, label in (("anna-eriksson-td3.json", "n1"), ("anna-eriksson-td1.json", "n2")):
        data = submission(name)
        images = {k: base64.b64decode(v) for k, v in data["images"].items()}
        app_id = office.submit(local, data["application"], images).case.id
        ctx[label] = office.issue_stored(local, app_id, root / label).number
    td1 = submission("anna-eriksson-td1.json")["application"]
    ctx["question"] = {"number": ctx["n2"], "date_of_birth": td1["holder"]["date_of_birth"],
                       "date_of_expiry": td1["document"]["date_of_expiry"]}
    # The module asks the public endpoints some twenty times in a few seconds: more than the default burst,
    # so how many pass would hang on the machine's speed. The limit is tested on its own app below.
    with TestClient(create_app(office, verify_burst=1000)) as client:
        yield client, tokens, ctx, office
    office.close()


# (method, path, body or a function of the context, the action it needs (None: anyone), the success status)
Row = tuple[str, str, Any, Action | None, int]
TABLE: list[Row] = [
    ("POST", "/v1/applications", lambda c: submission("olena-shevchenko-cyrillic.json"), Action.SUBMIT, 201),
    ("GET", "/v1/applications", None, Action.LIST_APPLICATIONS, 200),
    ("GET", "/v1/applications/{app}", None, Action.READ_PERSON, 200),
    ("POST", "/v1/applications/{app}/approve", {}, Action.DECIDE, 200),
    ("POST", "/v1/applications/{app2}/reject", {"reason": "photo too old"}, Action.DECIDE, 200),
    ("POST", "/v1/stations/st1/claim", lambda c: {"formats": ["TD3"], "public_key": c["key"]}, Action.PRODUCE, 200),
    ("POST", "/v1/jobs/{job}/heartbeat", {}, Action.PRODUCE, 200),
    ("POST", "/v1/jobs/{job}/result", {"chip": None, "print_check": None}, Action.PRODUCE, 200),
    ("GET", "/v1/documents/{n1}", None, Action.READ_DOCUMENT, 200),
    ("POST", "/v1/documents/{n1}/reprint", {}, Action.REPRINT, 200),
    ("POST", "/v1/documents/{n1}/report-lost", {"reason": "lost on a train"}, Action.CHANGE_DOCUMENT, 200),
    ("POST", "/v1/documents/{n1}/report-stolen", {"reason": "police report 42"}, Action.CHANGE_DOCUMENT, 200),
    ("POST", "/v1/documents/{n2}/void", {"reason": "damaged"}, Action.CHANGE_DOCUMENT, 200),
    ("POST", "/v1/documents/{n1}/replace", {"changes": {"holder": {"place_of_birth": "MALMO"}}}, Action.REPLACE, 201),
    ("GET", "/v1/search?name=eriksson&reason=fraud+check", None, Action.SEARCH, 200),
    ("GET", "/v1/audit?after=0&limit=5", None, Action.READ_AUDIT, 200),
    ("POST", "/v1/verify/seal", "seal", None, 200),
    ("POST", "/v1/status", lambda c: c["question"], None, 200),
    ("GET", "/v1/whoami", None, None, 200),
    ("GET", "/healthz", None, None, 200),
    ("GET", "/metrics", None, None, 200),
]
PUBLIC = {"/v1/verify/seal", "/v1/status", "/healthz", "/metrics"}


def expected(row: Row, who: str) -> int:
    _method, path, _, action, ok = row
    if path in PUBLIC:
        return ok
    if who == ANONYMOUS:
        return 401
    role = next(r for r, n in USERS.items() if n == who)
    if action is None or role in PERMISSIONS[action]:
        return ok
    return 403


def call(client: TestClient, row: Row, token: str | None, ctx: Ctx) -> Any:
    method, path, body, _, _ = row
    url = path.format(**ctx)
    headers = auth(token) if token else {}
    if body == "seal":
        return client.post(url, content=ctx["seal"], headers={**headers, "Content-Type": "image/png"})
    payload = body(ctx) if callable(body) else body
    return client.request(method, url, json=payload, headers=headers)


def test_every_role_on_every_endpoint(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    client, tokens, ctx, _ = world
    # a second application to reject, submitted through the API by the clerk
    second = client.post("/v1/applications", json=submission("anna-eriksson-td3.json", holder={"place_of_birth": "LUND"}),
                         headers=auth(tokens["carla"]))
    assert second.status_code == 201, second.text
    ctx["app2"] = second.json()["id"]
    seen: list[tuple[str, str, int]] = []
    for row in TABLE:
        # the refused first (they change nothing), then the roles that may, the first of them succeeding
        order = sorted([ANONYMOUS, *USERS.values()], key=lambda w: expected(row, w) < 400)
        for who in order:
            want = expected(row, who)
            response = call(client, row, tokens.get(who), ctx)
            if row[1] == "/v1/applications" and row[0] == "POST" and response.status_code == 201:
                ctx["app"] = response.json()["id"]
            elif row[1].endswith("/claim") and response.status_code == 200:
                ctx["job"] = response.json()["job"]
                ctx["seal"] = base64.b64decode(response.json()["page"]["seal.png"])
            got = response.status_code
            seen.append((f"{row[0]} {row[1]}", who, got))
            assert got == want, f"{row[0]} {row[1]} as {who}: {got} (wanted {want}): {response.text[:300]}"
            if got >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
                problem = response.json()
                assert problem["status"] == got and problem["rule"] and problem["detail"]
    assert len(seen) == len(TABLE) * (len(USERS) + 1)
    verdict = client.post("/v1/verify/seal", content=ctx["seal"], headers={"Content-Type": "image/png"}).json()
    assert verdict["ok"] is True and verdict["verdict"] == "valid", verdict


def test_four_eyes_and_revocation(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    client, tokens, _, office = world
    # "amal" at the counter submits on the command line (as the OS user), then tries to approve via the API
    data = submission("anna-eriksson-td3.json", holder={"place_of_birth": "UPPSALA"})
    images = {k: base64.b64decode(v) for k, v in data["images"].items()}
    own = office.submit(Principal("amal"), data["application"], images).case.id
    refused = client.post(f"/v1/applications/{own}/approve", json={}, headers=auth(tokens["amal"]))
    assert refused.status_code == 403 and refused.json()["rule"] == "four-eyes", refused.text
    # a token revoked is refused on the very next request
    assert client.get("/v1/whoami", headers=auth(tokens["old"])).json() == {"name": "old", "role": "supervisor"}
    revoke(office.store, "old", actor="ada")
    gone = client.get("/v1/whoami", headers=auth(tokens["old"]))
    assert gone.status_code == 401 and gone.headers["www-authenticate"] == "Bearer"


def test_problem_details_name_field_and_rule(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    client, tokens, _, _ = world
    bad = submission("anna-eriksson-td3.json", holder={"sex": "Q"}, document={"date_of_expiry": "2001-01-01"})
    response = client.post("/v1/applications", json=bad, headers=auth(tokens["carla"]))
    assert response.status_code == 422
    problem = response.json()
    fields = {(f["field"], f["rule"]) for f in problem["findings"]}
    assert ("holder.sex", "enum") in fields and any(f == "document.date_of_expiry" for f, _ in fields)
    page = client.get("/v1/applications?cursor=bogus", headers=auth(tokens["amal"]))
    assert page.status_code == 422 and page.json()["field"] == "cursor"
    nothing = client.get("/v1/documents/ZZ0000000", headers=auth(tokens["audra"]))
    assert nothing.status_code == 404 and nothing.json()["field"] == "document.number"


def test_cursor_pagination(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    client, tokens, _, _ = world
    ids: list[int] = []
    cursor: str | None = None
    while True:
        query = f"/v1/applications?limit=2{'&cursor=' + cursor if cursor else ''}"
        page = client.get(query, headers=auth(tokens["sam"])).json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == sorted(ids) and len(ids) == len(set(ids)) >= 4


def test_status_answers_only_who_knows_the_mrz(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    client, _, ctx, office = world
    asked = dict(ctx["question"])
    before = len(office.audit(Principal("audra", Role.AUDITOR), limit=1000))
    assert client.post("/v1/status", json=asked).json() == {"status": "voided"}  # voided in the role table
    for wrong in ({"date_of_birth": "1974-08-13"}, {"date_of_expiry": "2099-01-01"}, {"number": "ZZ9999999"}):
        assert client.post("/v1/status", json={**asked, **wrong}).json() == {"status": "unknown"}, wrong
    entries = office.audit(Principal("audra", Role.AUDITOR), after=0, limit=1000)[before:]
    asked_entries = [e for e in entries if e.action == "document.status-asked"]
    assert len(asked_entries) == 4 and {e.actor for e in asked_entries} == {"anonymous"}
    bad = client.post("/v1/status", json={**asked, "date_of_birth": "12/08/1974"})
    assert bad.status_code == 422 and bad.json()["findings"][0]["field"] == "date_of_birth"


def test_multipart_submission(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    """The application as a form part and its images as file parts, named as the application names them."""
    import json

    client, tokens, _, _ = world
    body = submission("anna-eriksson-td3.json", holder={"place_of_birth": "KIRUNA"})
    files = [("application", (None, json.dumps(body["application"]), "application/json"))]
    files += [(name, (name, base64.b64decode(data), "application/octet-stream")) for name, data in body["images"].items()]
    made = client.post("/v1/applications", files=files, headers=auth(tokens["carla"]))
    assert made.status_code == 201, made.text
    again = client.post("/v1/applications", json=body, headers=auth(tokens["carla"]))
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]  # the same application
    missing = client.post("/v1/applications", files=files[:1], headers=auth(tokens["carla"]))
    assert missing.status_code == 422 and any(f["field"] == "portrait" for f in missing.json()["findings"])


def test_status_is_rate_limited(world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    """`POST /v1/status` shares the public endpoints' bucket per client: past the burst, 429 with Retry-After,
    and the refused question is not answered (nor audited)."""
    _, _, ctx, office = world
    before = len(office.audit(Principal("audra", Role.AUDITOR), limit=1000, action="document.status-asked"))
    with TestClient(create_app(office, verify_rate=0.01, verify_burst=3)) as client:
        answers = [client.post("/v1/status", json=ctx["question"]) for _ in range(4)]
        seal = client.post("/v1/verify/seal", content=b"x", headers={"Content-Type": "text/plain"})
    assert [a.status_code for a in answers] == [200, 200, 200, 429] and seal.status_code == 429
    assert int(answers[-1].headers["Retry-After"]) >= 1 and answers[-1].json()["status"] == 429  # a problem, no answer
    after = office.audit(Principal("audra", Role.AUDITOR), limit=1000, action="document.status-asked")
    assert len(after) == before + 3


def test_metrics_show_how_long_writes_wait_for_and_hold_the_write_lock(
        world: tuple[TestClient, dict[str, str], Ctx, Office]) -> None:
    """Every write transaction of the service's records is timed into two histograms: the wait for the write
    lock (the audit chain's head) and the time it was held through COMMIT."""
    from prometheus_client.parser import text_string_to_metric_families

    client, tokens, _, _ = world

    def written() -> dict[str, float]:
        families = text_string_to_metric_families(client.get("/metrics").text)
        return {s.name: s.value for f in families for s in f.samples
                if s.name.startswith("mrtd_records_write_lock_") and s.name.endswith(("_count", "_sum"))}

    before = written()
    made = client.post("/v1/applications", json=submission("anna-eriksson-td3.json", holder={"place_of_birth": "LULEA"}),
                       headers=auth(tokens["carla"]))
    assert made.status_code == 201, made.text
    after = written()
    for name in ("wait", "held"):
        assert after[f"mrtd_records_write_lock_{name}_seconds_count"] >= before[f"mrtd_records_write_lock_{name}_seconds_count"] + 1
        assert after[f"mrtd_records_write_lock_{name}_seconds_sum"] > before[f"mrtd_records_write_lock_{name}_seconds_sum"]
