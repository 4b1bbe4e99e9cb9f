"""Trust store and certification path validation (Doc 9303 Part 11 passive authentication, Part 12).

A `TrustStore` holds CSCA certificates (roots and link certificates), CRLs and imported master lists
of any number of countries, each read by `mrtd.asn1.x509` (exact bytes kept, known defects reported).
`validate` builds the path end-entity -> (link certificates) -> self-signed CSCA and reports every check,
signatures checked over the bytes as received; `verify` raises `ChainError` naming the first failed check.
A missing CRL passes with a warning unless a CRL is required; a file that cannot be read is an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from mrtd.asn1.x509 import Certificate, Crl, as_certificate, pem_blocks, read_certificate, read_crl
from mrtd.errors import ChainError, EncodingError, InputError, MrtdError
from mrtd.limits import read_file

# Leaf purposes: (EKU required or None, EKU required only if present)
PURPOSES: dict[str, tuple[str | None, bool]] = {
    "ds": (None, False),
    "seal": ("2.23.136.1.1.11.1", True),  # test signers in the wild carry no EKU; if present it must match
    "vdsnc": ("2.23.136.1.1.14.2", False),
    "masterlist": ("2.23.136.1.1.3", False),
    "deviationlist": ("2.23.136.1.1.8", False),
}
MAX_PATH = 6


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str
    warning: bool = False  # passed, but the verdict must show it (a missing CRL)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason, "warning": self.warning}


@dataclass(frozen=True)
class PathReport:
    checks: tuple[Check, ...]
    path: tuple[Certificate, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.passed and c.warning]

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checks": [c.as_dict() for c in self.checks],
            "path": [{"subject": c.subject_text, "serial": f"{c.serial:X}"} for c in self.path],
        }


@dataclass(frozen=True)
class StoredItem:
    der: bytes
    source: str


class TrustStore:
    """CSCA certificates (roots and links), CRLs and master lists of many countries."""

    def __init__(self) -> None:
        self._certs: dict[bytes, tuple[Certificate, StoredItem]] = {}
        self._crls: dict[bytes, tuple[Crl, StoredItem]] = {}
        self._masterlists: list[StoredItem] = []
        self.skipped: list[str] = []  # master list entries that could not be read (reported, not trusted)
        self.require_crl = False  # the verifier's policy: no current CRL fails the path instead of warning

    # Loading

    @classmethod
    def load(cls, path: Path, *, require_crl: bool = False) -> TrustStore:
        """A CSCA certificate (PEM/DER), a CRL, a master list, or a folder of these; `require_crl`, the
        verifier's policy (see `__init__`)."""
        store = cls()
        store.add_path(path)
        store.require_crl = require_crl
        return store

    def add_path(self, path: Path) -> None:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith("."):
                    self.add_file(child)
        elif path.exists():
            self.add_file(path)
        else:
            raise InputError(f"{path}: no such file or folder")

    def add_file(self, path: Path) -> None:
        self.add_bytes(read_file(path, "trust file"), source=str(path))

    def add_bytes(self, data: bytes, source: str = "") -> None:
        """Certificates, CRLs and master lists, PEM (text around the blocks ignored) or DER/BER.
        Bytes that are none of these are an error naming the source, never skipped."""
        blocks = pem_blocks(data, source or "PEM")
        if blocks:
            for kind, der in blocks:
                if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                    self.add_certificate(der, source=source)
                elif kind == "X509 CRL":
                    self.add_crl(der, source=source)
                elif kind in ("CMS", "PKCS7"):
                    self.add_masterlist(der, source=source)
            return
        errors = []
        for add in (self.add_certificate, self.add_crl, self.add_masterlist):
            try:
                add(data, source=source)
                return
            except EncodingError as exc:
                errors.append(str(exc))
        raise EncodingError(f"{source or 'trust'}: neither a certificate, a CRL nor a master list "
                            f"({'; '.join(errors)})")

    def add_certificate(self, cert: Certificate | x509.Certificate | bytes, source: str = "") -> Certificate:
        parsed = as_certificate(cert, source or "certificate")
        self._certs.setdefault(parsed.der, (parsed, StoredItem(parsed.der, source)))
        return parsed

    def add_crl(self, crl: Crl | x509.CertificateRevocationList | bytes, source: str = "") -> Crl:
        if isinstance(crl, x509.CertificateRevocationList):
            from cryptography.hazmat.primitives.serialization import Encoding

            crl = crl.public_bytes(Encoding.DER)
        parsed = crl if isinstance(crl, Crl) else read_crl(crl, source or "CRL")
        self._crls.setdefault(parsed.der, (parsed, StoredItem(parsed.der, source)))
        return parsed

    def add_masterlist(self, der: bytes, source: str = "", *, at: datetime | None = None,
                       verify: bool = False) -> int:
        """Import the CSCA certificates of a master list (exact bytes kept). With `verify`, the list's
        signature and its signer's chain to a CSCA already in this store are checked first."""
        from mrtd.pki import masterlist

        ml = masterlist.parse(der)
        if verify:
            masterlist.verify(ml, self, at or datetime.now(UTC))
        for i, cert_der in enumerate(ml.csca_der):
            try:
                self.add_certificate(read_certificate(cert_der, f"{source}#masterlist[{i}]"), source=f"{source}#masterlist")
            except MrtdError as exc:
                self.skipped.append(str(exc))  # not trusted; `pki lint` reports why
        self._masterlists.append(StoredItem(der, source))
        return len(ml.csca_der)

    # Queries

    def certificates(self, country: str | None = None) -> list[Certificate]:
        certs = [c for c, _ in self._certs.values()]
        return [c for c in certs if country is None or c.country.upper() == country.upper()]

    def holds(self, cert: Certificate) -> bool:
        return cert.der in self._certs

    def crls(self) -> list[Crl]:
        return [c for c, _ in self._crls.values()]

    def countries(self) -> list[str]:
        return sorted({c.country or "?" for c in self.certificates()})

    def der_of(self, cert: Certificate | x509.Certificate) -> bytes:
        """The exact bytes the certificate was received as."""
        return as_certificate(cert).der

    def _issuers_of(self, cert: Certificate) -> Iterator[Certificate]:
        aki = cert.aki
        for candidate, _ in self._certs.values():
            if candidate.subject != cert.issuer:
                continue
            ski = candidate.ski
            if aki is not None and ski is not None and aki != ski:
                continue
            if cert.signed_by(candidate):
                yield candidate

    def _build(self, cert: Certificate, depth: int = 0) -> list[Certificate] | None:
        """[cert, ..., self-signed anchor] or None. Anchors are self-signed certificates in the store."""
        if depth > MAX_PATH:
            return None
        if self.holds(cert) and cert.self_issued and cert.signed_by(cert):
            return [cert]
        for issuer in self._issuers_of(cert):
            if issuer.der == cert.der:
                continue
            rest = self._build(issuer, depth + 1)
            if rest is not None:
                return [cert, *rest]
        return None

    # Validation

    def validate(self, cert: Certificate | x509.Certificate, at: datetime, *, purpose: str | None = None,
                 require_crl: bool | None = None) -> PathReport:
        """Every check of the path from `cert` to a trusted CSCA at time `at`."""
        if purpose is not None and purpose not in PURPOSES:
            raise InputError(f"purpose: {purpose!r} is not one of {', '.join(PURPOSES)}")
        leaf = as_certificate(cert)
        path = self._build(leaf)
        if path is None:
            return PathReport((Check("signature", False,
                                     f"no trusted CSCA signs {leaf.issuer_text} (AKI {(leaf.aki or b'').hex()})"),))
        checks = [Check("signature", True, f"path of {len(path)} verified up to {path[-1].subject_text}")]
        checks.append(_validity(path, at))
        checks.append(self._revocation(path, at, self.require_crl if require_crl is None else require_crl))
        checks.append(_country(path))
        checks.append(_usage(path, purpose))
        return PathReport(tuple(checks), tuple(path))

    def verify(self, cert: Certificate | x509.Certificate, at: datetime, *, purpose: str | None = None,
               require_crl: bool | None = None) -> PathReport:
        report = self.validate(cert, at, purpose=purpose, require_crl=require_crl)
        for check in report.checks:
            if not check.passed:
                raise ChainError(f"{check.name}: {check.reason}")
        return report

    def crl_for(self, issuer: Certificate, at: datetime) -> Crl | None:
        """The newest CRL (by thisUpdate, not in the future) issued by `issuer`'s name and verified by a
        CSCA key of that name."""
        best: Crl | None = None
        keys = [c for c, _ in self._certs.values() if c.subject == issuer.subject]
        for crl, _ in self._crls.values():
            if crl.issuer != issuer.subject or crl.this_update > at:
                continue
            if not any(crl.signed_by(k) for k in keys):
                continue
            if best is None or crl.this_update > best.this_update:
                best = crl
        return best

    def _revocation(self, path: Sequence[Certificate], at: datetime, require_crl: bool) -> Check:
        notes = []
        for cert, issuer in itertools.pairwise(path):
            crl = self.crl_for(issuer, at)
            label = f"{cert.subject_text} (serial {cert.serial:X})"
            if crl is None:
                if require_crl:
                    return Check("crl", False, f"no CRL from {issuer.subject_text} for {label}")
                notes.append(f"no CRL from {issuer.subject_text}: revocation of {label} not checked")
                continue
            revoked = crl.revoked_at(cert.serial)
            if revoked is not None and revoked <= at:
                return Check("crl", False, f"{label} revoked on {revoked:%Y-%m-%d}")
            next_update = crl.next_update
            if next_update is not None and next_update < at:
                if require_crl:
                    return Check("crl", False, f"the CRL for {label} expired on {next_update:%Y-%m-%d}")
                notes.append(f"the CRL for {label} is past its nextUpdate {next_update:%Y-%m-%d}")
        return Check("crl", True, "; ".join(notes) or "not revoked", warning=bool(notes))


def _validity(path: Sequence[Certificate], at: datetime) -> Check:
    for cert in path:
        if not cert.not_before <= at <= cert.not_after:
            return Check("validity", False,
                         f"{cert.subject_text} is valid {cert.not_before:%Y-%m-%d} .. "
                         f"{cert.not_after:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M:%S}")
    return Check("validity", True, f"every certificate valid at {at:%Y-%m-%d %H:%M:%S}")


def _country(path: Sequence[Certificate]) -> Check:
    countries = set()
    for cert in path:
        s, i = name_country(cert.subject), name_country(cert.issuer)
        if s is None or s != i:
            return Check("country", False, f"{cert.subject_text}: subject country {s!r} "
                                           f"differs from issuer country {i!r} (9303-12 Table 5)")
        countries.add(s)
    if len(countries) != 1:
        return Check("country", False, f"countries differ along the path: {sorted(countries)}")
    return Check("country", True, f"country {countries.pop()}")


def _usage(path: Sequence[Certificate], purpose: str | None) -> Check:
    try:
        return _usage_checked(path, purpose)
    except EncodingError as exc:
        return Check("key-usage", False, str(exc))


def _usage_checked(path: Sequence[Certificate], purpose: str | None) -> Check:
    for cert in path[1:]:
        bc = cert.extension(x509.BasicConstraints)
        ku = cert.extension(x509.KeyUsage)
        if bc is None or ku is None:
            return Check("key-usage", False, f"{cert.subject_text}: CA without basicConstraints/keyUsage")
        if not bc.ca or not ku.key_cert_sign:
            return Check("key-usage", False, f"{cert.subject_text}: not a CA (cA/keyCertSign)")
    if purpose is None:
        return Check("key-usage", True, "CA certificates may sign certificates")
    leaf = path[0]
    eku_oid, only_if_present = PURPOSES[purpose]
    leaf_ku = leaf.extension(x509.KeyUsage)
    if leaf_ku is not None and not leaf_ku.digital_signature:
        return Check("key-usage", False, "leaf keyUsage lacks digitalSignature")
    if leaf_ku is None and purpose == "ds":
        return Check("key-usage", False, "Document Signer without keyUsage (9303-12 Table 6)")
    leaf_bc = leaf.extension(x509.BasicConstraints)
    if leaf_bc is not None and leaf_bc.ca and len(path) > 1:
        return Check("key-usage", False, "leaf is a CA certificate")
    if eku_oid is not None:
        eku_ext = leaf.extension(x509.ExtendedKeyUsage)
        if eku_ext is None:
            if not only_if_present:
                return Check("key-usage", False, f"extendedKeyUsage {eku_oid} missing for purpose {purpose}")
            return Check("key-usage", True, f"no extendedKeyUsage (tolerated for {purpose})")
        eku = [o.dotted_string for o in eku_ext]
        if eku_oid not in eku:
            return Check("key-usage", False, f"extendedKeyUsage {eku} lacks {eku_oid} for purpose {purpose}")
    return Check("key-usage", True, f"usable for {purpose}")


def name_country(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
    return str(values[0].value) if values else None


__all__ = ["PURPOSES", "Check", "PathReport", "TrustStore"]
