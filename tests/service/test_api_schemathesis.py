"""schemathesis against the running service's /openapi.json: generated requests (valid and invalid) to
every operation, with a supervisor's token; no answer may be a 5xx, and every answer must match the
schema (status documented, content type, body). `mrtd serve` runs for real under uvicorn.

A short run in CI (a few examples per operation, derandomised there); MRTD_SCHEMATHESIS_EXAMPLES=200
for a long one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from conftest import REQUIRE_ALL
from hypothesis import HealthCheck, settings
from schemathesis import checks
from servicekit import make_site, make_users, serving

# No 5xx, and every answer as the schema says (status, content type, headers, body). Not schemathesis'
# "positive data accepted": an application that is valid JSON of the documented shape may still break
# a rule of Doc 9303, and is then rightly refused with 422 and its findings.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]
EXAMPLES = int(os.environ.get("MRTD_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("schemathesis")
    site = make_site(root / "site")
    tokens = make_users(site)
    with serving(site, "--no-print-check", "--verify-rate", "1000") as url:
        yield url, tokens


def who_for(path: str, method: str) -> str:
    """A user whose role may call the operation, so that the generated input reaches the use case."""
    if path.startswith(("/v1/stations", "/v1/jobs")):
        return "st1"
    if path.startswith("/v1/applications/") and path.endswith(("/approve", "/reject")):
        return "amal"
    if path.startswith("/v1/applications"):
        return "carla"
    if path.startswith("/v1/audit"):
        return "audra"
    return "sam"


def test_every_operation_answers_within_its_schema(running: tuple[str, dict[str, str]]) -> None:
    """Each operation of the schema, `EXAMPLES` generated cases (schemathesis' strategies, driven here by
    hypothesis directly: its pytest plugin does not load on this pytest)."""
    url, tokens = running
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        run(operation, url, {"Authorization": f"Bearer {tokens[who_for(operation.path, operation.method)]}"})


def run(operation: schemathesis.APIOperation, url: str, headers: dict[str, str]) -> None:
    from hypothesis import given

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=REQUIRE_ALL, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    check()
