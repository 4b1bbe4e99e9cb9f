"""Shared test plumbing: where the shared reference data is, and how a missing real component is handled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
VECTORS = Path(__file__).resolve().parent / "vectors"
EXAMPLES = ROOT / "examples" / "applications"

settings.register_profile(
    "default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REQUIRE_ALL = os.environ.get("MRTD_REQUIRE_ALL") == "1"


def require(available: bool, what: str) -> None:
    """Skip when a real component is missing on a developer's machine; fail in CI (MRTD_REQUIRE_ALL=1)."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {what} (MRTD_REQUIRE_ALL=1)")
    pytest.skip(f"component missing: {what}")


def shared_path(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    require(p.exists(), f"../shared/{'/'.join(parts)}")
    return p
