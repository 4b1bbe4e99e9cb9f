"""Shared test plumbing: where the shared reference data is, and how a missing real component is handled."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
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
# CI draws the same examples every run (a failure there is a bug to fix, never a roll of the dice);
# developers' runs explore new ones.
settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
REQUIRE_ALL = os.environ.get("MRTD_REQUIRE_ALL") == "1"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if REQUIRE_ALL else "default"))


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


def _seal_symbologies() -> object:
    import zxingcpp

    return zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix])


# Seals are 2D symbols. Reading an image with every zxing-cpp reader can also "find" a linear code in a
# QR's modules (an ITF of 4 bytes was seen once in 300 random QR seals), so tests read the 2D formats.
SEAL_SYMBOLOGIES = _seal_symbologies()


def _have_pyscard() -> bool:
    try:
        import smartcard.scard  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def pcscd_stack() -> Iterator[None]:
    """pcscd running with vpcd's two slots (started by scripts/pcscd.sh, and stopped again if it was not
    running before), and pyscard to reach it; a missing part skips (fails in CI)."""
    script = ROOT / "scripts" / "pcscd.sh"
    require(shutil.which("pcscd") is not None or Path("/usr/sbin/pcscd").exists(), "pcscd")
    require(Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists(), "vsmartcard-vpcd")
    require(_have_pyscard(), "pyscard")
    was_running = subprocess.run([str(script), "status"], capture_output=True, check=False).returncode == 0
    subprocess.run([str(script), "start"], check=True, capture_output=True)
    try:
        yield
    finally:
        if not was_running:
            subprocess.run([str(script), "stop"], check=False, capture_output=True)


# Every key its own secret (mrtd.pki.keys.KEY_ROLES): what the test sites are made and opened with.
KEY_SECRETS = {"csca": b"test csca passphrase", "ds": b"test ds passphrase", "seal-signer": b"test seal passphrase",
               "vdsnc-signer": b"test vdsnc passphrase", "masterlist-signer": b"test ml passphrase",
               "deviationlist-signer": b"test dl passphrase", "cvca": b"test cvca passphrase",
               "audit": b"test audit passphrase"}
SIGNING_SECRETS = {role: KEY_SECRETS[role] for role in ("ds", "seal-signer")}


def secret_env(secrets: dict[str, bytes] | None = None) -> dict[str, str]:
    """The environment variables that hand each key's own secret to a command."""
    from mrtd.pki.keys import secret_env as name

    return {name(role, False): value.decode() for role, value in (secrets or KEY_SECRETS).items()}
