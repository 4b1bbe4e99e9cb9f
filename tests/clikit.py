"""Reading `mrtd ... --json` output in tests: every such output is checked against the envelope's JSON Schema
(mrtd/cli/envelope.schema.json) before a test looks inside it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from mrtd.cli.output import SCHEMA_PATH


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def envelope(output: str | bytes) -> dict[str, Any]:
    """The envelope printed by a --json command, validated (the whole output must be that one object)."""
    data = json.loads(output)
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.path))
    assert not errors, "not the --json envelope: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
    return data


def json_result(output: str | bytes) -> Any:
    """The `result` of a --json command's envelope."""
    return envelope(output)["result"]
