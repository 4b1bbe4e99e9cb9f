"""Loads the MRZ data tables shipped in `mrtd/mrz/data/` (once per process)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The parsed JSON table `data/<name>.json`."""
    text = resources.files("mrtd.mrz").joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
