"""PKI test kit (imported by the tests, like tests/seals/sealkit.py): a fixed clock, a SoftHSM2 token in a
temporary folder, and sites on both key stores."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY_SECRETS, require

from mrtd.pki.site import CertRecord, Pkcs11Config, PkiSite

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "mrtd-test"
PIN = b"246810"
# The signing keys of a token site live in a token of their own (their PIN is not the CSCA's).
SIGNER_TOKEN = "mrtd-test-signers"
SIGNER_PIN = b"975310"
START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def softhsm_available() -> bool:
    return shutil.which("softhsm2-util") is not None and Path(SOFTHSM_MODULE).exists()


@dataclass(frozen=True)
class Hsm:
    module: str
    token: str
    pin: bytes
    signer_token: str = SIGNER_TOKEN
    signer_pin: bytes = SIGNER_PIN

    def csca(self) -> Pkcs11Config:
        return Pkcs11Config(self.module, self.token, self.pin)

    def signers(self) -> Pkcs11Config:
        return Pkcs11Config(self.module, self.signer_token, self.signer_pin)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    """One SoftHSM2 token for the session, in a temporary folder (the PKCS#11 library is loaded once per
    process, so SOFTHSM2_CONF is fixed before first use)."""
    require(softhsm_available(), "SoftHSM2 (softhsm2-util and libsofthsm2.so)")
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label, pin in ((TOKEN, PIN), (SIGNER_TOKEN, SIGNER_PIN)):
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin.decode(),
                        "--so-pin", "13579135"], check=True, capture_output=True)
    yield Hsm(SOFTHSM_MODULE, TOKEN, PIN)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@dataclass
class SiteKit:
    site: PkiSite
    clock: Clock
    secret: bytes  # the CSCA key's secret: its passphrase (file keys) or its token's PIN
    backend: str
    path: Path
    hsm: Hsm | None = None

    def key(self, role: str) -> bytes:
        """The secret that opens the `role` key: its own passphrase, or the signers' token PIN."""
        return self.hsm.signer_pin if self.hsm is not None else KEY_SECRETS[role]

    def own(self, role: str) -> dict[str, Any]:
        """Where a new `role` key goes: its own passphrase, or the signers' token."""
        return {"token": self.hsm.signers()} if self.hsm is not None else {"key_secret": KEY_SECRETS[role]}

    def issue(self, role: str, **kwargs: Any) -> CertRecord:
        """A new `role` key with its own secret, certified by the CSCA."""
        return self.site.issue(role, self.secret, **self.own(role), **kwargs)


SiteFactory = Callable[..., SiteKit]


@pytest.fixture(params=["file", pytest.param("softhsm", marks=pytest.mark.softhsm)])
def make_site(request: pytest.FixtureRequest, tmp_path: Path) -> SiteFactory:
    """Build an initialised site with file keys or with keys in the SoftHSM2 token."""
    backend: str = request.param
    counter = [0]

    def factory(country: str = "NL", algorithm: str = "ecdsa-p256") -> SiteKit:
        counter[0] += 1
        path = tmp_path / f"site{counter[0]}"
        clock = Clock()
        site = PkiSite(path, clock=clock, actor="test-officer", kdf_log2n=12,
                       rng=os.urandom)
        if backend == "file":
            site.init(country, algorithm, KEY_SECRETS["csca"])
            return SiteKit(site, clock, KEY_SECRETS["csca"], backend, path)
        hsm: Hsm = request.getfixturevalue("softhsm")
        site.init(country, algorithm, b"", pkcs11=hsm.csca(), signer_token=hsm.signers())
        return SiteKit(site, clock, hsm.pin, backend, path, hsm)

    return factory


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def pem(obj: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return obj.public_bytes(serialization.Encoding.PEM)  # type: ignore[attr-defined,no-any-return]


def der(obj: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return obj.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined,no-any-return]


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the system openssl (software we did not write)."""
    require(openssl_available(), "openssl CLI")
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def attime(moment: datetime) -> str:
    return str(int(moment.timestamp()))
