"""Shared helpers for the MRZ tests: the project's vector files and small record builders."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "mrz"

# Two-digit years in the ICAO examples (1934-1995 births, 1994-2012 expiries) resolve unambiguously here.
REFERENCE = dt.date(2000, 1, 1)


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def vectors(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = load(name)["vectors"]
    return items
