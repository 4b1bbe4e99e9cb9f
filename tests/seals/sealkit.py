"""Seal test plumbing: a small PKI (CSCA -> barcode signer, CSCA -> VDS-NC signer) made in memory,
and the shared third-party seal vectors read by path."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import SHARED, shared_path
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.pki.certificates import Issuer, build_csca, build_seal_signer, build_vdsnc_signer, make_name
from mrtd.pki.signer import MemorySigner

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
TODAY = NOW.date()


@dataclass(frozen=True)
class SealPki:
    csca: x509.Certificate
    csca_signer: MemorySigner
    seal_signer: MemorySigner
    seal_cert: x509.Certificate
    vdsnc_signer: MemorySigner
    vdsnc_cert: x509.Certificate

    @property
    def seal_der(self) -> bytes:
        return self.seal_cert.public_bytes(serialization.Encoding.DER)

    @property
    def vdsnc_der(self) -> bytes:
        return self.vdsnc_cert.public_bytes(serialization.Encoding.DER)

    @property
    def csca_pem(self) -> bytes:
        return self.csca.public_bytes(serialization.Encoding.PEM)


def make_pki(country: str = "DE", curve: ec.EllipticCurve | None = None) -> SealPki:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    csca_signer = MemorySigner(ec.generate_private_key(ec.SECP384R1()), "csca")
    csca = build_csca(csca_signer, make_name(country, "CSCA Test"), not_before=start,
                      not_after=start + dt.timedelta(days=365 * 12), key_usage_end=start + dt.timedelta(days=365 * 3),
                      rng=os.urandom)
    issuer = Issuer(csca_signer, csca)
    seal_signer = MemorySigner(ec.generate_private_key(curve or ec.BrainpoolP256R1()), "seal")
    seal_cert = build_seal_signer(issuer, seal_signer.public_key(), country, "TS", not_before=start,
                                  not_after=start + dt.timedelta(days=365 * 2), rng=os.urandom)
    nc_signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "vdsnc")
    nc_cert = build_vdsnc_signer(issuer, nc_signer.public_key(), country, "NC", not_before=start,
                                 not_after=start + dt.timedelta(days=365 * 2), rng=os.urandom)
    return SealPki(csca, csca_signer, seal_signer, seal_cert, nc_signer, nc_cert)


@functools.cache
def pki() -> SealPki:
    """One PKI per test session (key generation is the slow part)."""
    return make_pki()


def seals_dir() -> Path:
    return shared_path("vectors", "seals")


def seal_index() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((seals_dir() / "index.json").read_text(encoding="utf-8"))
    return data


def vectors(kind_prefix: str) -> list[dict[str, Any]]:
    """index.json entries whose kind starts with `kind_prefix` (read at collection time: [] when absent)."""
    index = SHARED / "vectors" / "seals" / "index.json"
    if not index.exists():
        return []
    entries: list[dict[str, Any]] = json.loads(index.read_text(encoding="utf-8"))["vectors"]
    return [e for e in entries if e["kind"].startswith(kind_prefix)]


def cert_path(name: str) -> Path:
    """The certificate index.json names (`UTTS5B` -> certs/vdstools_UTTS5B.pem)."""
    for c in seal_index()["certificates"]:
        if Path(c["file"]).stem.endswith(name):
            return seals_dir() / str(c["file"])
    raise KeyError(name)
