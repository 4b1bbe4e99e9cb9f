"""Trust store and certification path validation (Doc 9303 Part 11 passive authentication, Part 12).

A `TrustStore` holds CSCA certificates (roots and link certificates), CRLs and imported master lists
of any number of countries, keeping each item's exact bytes. `validate` builds the path
end-entity -> (link certificates) -> self-signed CSCA and reports every check; `verify` raises
`ChainError` naming the first failed check.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from mrtd.errors import ChainError, EncodingError, InputError, MrtdError, SignatureError
from mrtd.pki._der import read_tlv, seq, sequence_items
from mrtd.pki.certificates import country_of, verify_signature
from mrtd.pki.signer import PublicKey

# Leaf purposes: (keyUsage digitalSignature required, EKU required or None, EKU required only if present)
PURPOSES: dict[str, tuple[str | None, bool]] = {
    "ds": (None, False),
    "seal": ("2.23.136.1.1.11.1", True),  # test signers in the wild carry no EKU; if present it must match
    "vdsnc": ("2.23.136.1.1.14.2", False),
    "masterlist": ("2.23.136.1.1.3", False),
    "deviationlist": ("2.23.136.1.1.8", False),
}

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


def public_key_of(cert: x509.Certificate) -> PublicKey:
    """The certificate's public key; EC keys with explicit domain parameters (which Part 12 asks for
    and cryptography cannot load) are matched to their named curve with the `ecdsa` package."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return _explicit_ec_key(cert.public_bytes(serialization.Encoding.DER))
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SignatureError(f"certificate {cert.serial_number:X}: unsupported key type {type(key).__name__}")
    return key


_ECDSA_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "NIST256p": ec.SECP256R1, "NIST384p": ec.SECP384R1, "NIST521p": ec.SECP521R1, "NIST224p": ec.SECP224R1,
    "BRAINPOOLP256r1": ec.BrainpoolP256R1, "BRAINPOOLP384r1": ec.BrainpoolP384R1,
    "BRAINPOOLP512r1": ec.BrainpoolP512R1,
}


def _explicit_ec_key(cert_der: bytes) -> PublicKey:
    import ecdsa
    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5280

    try:
        cert, _ = decoder.decode(cert_der, asn1Spec=rfc5280.Certificate())
        spki = encoder.encode(cert["tbsCertificate"]["subjectPublicKeyInfo"])
        vk = ecdsa.VerifyingKey.from_der(spki, valid_curve_encodings=["explicit", "named_curve"])
    except Exception as exc:  # ecdsa and pyasn1 raise many types on foreign input
        raise SignatureError(f"public key: cannot load ({type(exc).__name__})") from None
    curve_type = _ECDSA_CURVES.get(vk.curve.name)
    if curve_type is None:
        raise SignatureError(f"public key: EC curve {vk.curve.name} is not supported")
    return ec.EllipticCurvePublicKey.from_encoded_point(curve_type(), vk.to_string("uncompressed"))


def _ski(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def _aki(obj: x509.Certificate | x509.CertificateRevocationList) -> bytes | None:
    try:
        return obj.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        return None


# Certificates read leniently (see `read_certificate`): normalised DER -> the TBS bytes actually signed.
_ORIGINAL_TBS: dict[bytes, bytes] = {}
_ECDSA_SIG_OIDS = {"1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}


def read_certificate(data: bytes) -> tuple[x509.Certificate, tuple[str, ...]]:
    """Read a DER certificate from another issuer, tolerating what real signers get wrong.

    Tolerated (and reported): ecdsa-with-SHAxxx AlgorithmIdentifiers with explicit NULL parameters (the
    ICAO VDS-NC worked-example signer does this; OpenSSL accepts it, cryptography does not). The returned
    certificate is a normalised copy for reading fields; signature checks by `TrustStore` still use
    the original signed bytes.
    """
    try:
        cert = x509.load_der_x509_certificate(data)
        cert.subject  # noqa: B018
        return cert, ()
    except ValueError as exc:
        first_error = exc
    try:
        tbs, alg, sig = sequence_items(data)
        tbs_items = sequence_items(tbs)
        idx = 1 if tbs_items and tbs_items[0][:1] == b"\xa0" else 0
        fixed_inner = _drop_ecdsa_null(tbs_items[idx + 1])
        fixed_outer = _drop_ecdsa_null(alg)
        if fixed_inner is None and fixed_outer is None:
            raise EncodingError(f"certificate: not DER X.509: {first_error}")
        tbs_items[idx + 1] = fixed_inner or tbs_items[idx + 1]
        new_tbs = seq(*tbs_items)
        normalised = seq(new_tbs, fixed_outer or alg, sig)
        cert = x509.load_der_x509_certificate(normalised)
        cert.subject  # noqa: B018
    except (ValueError, IndexError):
        raise EncodingError(f"certificate: not DER X.509: {first_error}") from None
    _ORIGINAL_TBS[normalised] = tbs
    return cert, ("ecdsa signature AlgorithmIdentifier with NULL parameters",)


def _drop_ecdsa_null(alg: bytes) -> bytes | None:
    from mrtd.pki.cms import decode_oid

    items = sequence_items(alg)
    if len(items) == 2 and items[1] == b"\x05\x00" and items[0][:1] == b"\x06":
        _, s, e = read_tlv(items[0])
        if decode_oid(items[0][s:e]) in _ECDSA_SIG_OIDS:
            return seq(items[0])
    return None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    tbs = _ORIGINAL_TBS.get(cert.public_bytes(serialization.Encoding.DER), cert.tbs_certificate_bytes)
    try:
        verify_signature(public_key_of(issuer), cert.signature, tbs,
                         cert.signature_hash_algorithm, cert.signature_algorithm_parameters, what="certificate")
    except (SignatureError, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer and _signed_by(cert, cert)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason}


@dataclass(frozen=True)
class PathReport:
    checks: tuple[Check, ...]
    path: tuple[x509.Certificate, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checks": [c.as_dict() for c in self.checks],
            "path": [{"subject": c.subject.rfc4514_string(), "serial": f"{c.serial_number:X}"} for c in self.path],
        }


@dataclass(frozen=True)
class StoredItem:
    der: bytes
    source: str


class TrustStore:
    """CSCA certificates (roots and links), CRLs and master lists of many countries."""

    def __init__(self) -> None:
        self._certs: dict[bytes, tuple[x509.Certificate, StoredItem]] = {}
        self._crls: dict[bytes, tuple[x509.CertificateRevocationList, StoredItem]] = {}
        self._masterlists: list[StoredItem] = []

    # Loading

    @classmethod
    def load(cls, path: Path) -> TrustStore:
        """A CSCA certificate (PEM/DER), a CRL, a master list, or a folder of these."""
        store = cls()
        store.add_path(path)
        return store

    def add_path(self, path: Path) -> None:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file():
                    self.add_file(child)
        elif path.is_file():
            self.add_file(path)
        else:
            raise InputError(f"{path}: no such file or folder")

    def add_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
        self.add_bytes(data, source=str(path))

    def add_bytes(self, data: bytes, source: str = "") -> None:
        blocks = list(_PEM.finditer(data))
        if blocks:
            for m in blocks:
                kind = m.group(1).decode()
                try:
                    der = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
                except ValueError:
                    raise EncodingError(f"{source}: bad base64 in a PEM {kind} block") from None
                if kind in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
                    self.add_certificate(der, source=source)
                elif kind == "X509 CRL":
                    self.add_crl(der, source=source)
                elif kind in ("CMS", "PKCS7"):
                    self.add_masterlist(der, source=source)
            return
        self._add_der(data, source)

    def _add_der(self, data: bytes, source: str) -> None:
        try:
            self.add_certificate(data, source=source)
            return
        except EncodingError:
            pass
        try:
            self.add_crl(data, source=source)
            return
        except EncodingError:
            pass
        self.add_masterlist(data, source=source)

    def add_certificate(self, cert: x509.Certificate | bytes, source: str = "") -> x509.Certificate:
        original = cert if isinstance(cert, bytes) else cert.public_bytes(serialization.Encoding.DER)
        if isinstance(cert, bytes):
            try:
                parsed, _ = read_certificate(cert)
            except EncodingError as exc:
                raise EncodingError(f"{source or 'certificate'}: {exc}") from None
        else:
            parsed = cert
        # keyed by the (normalised) DER; the StoredItem keeps the bytes exactly as received
        self._certs.setdefault(parsed.public_bytes(serialization.Encoding.DER), (parsed, StoredItem(original, source)))
        return parsed

    def add_crl(self, crl: x509.CertificateRevocationList | bytes, source: str = "") -> x509.CertificateRevocationList:
        der = crl if isinstance(crl, bytes) else crl.public_bytes(serialization.Encoding.DER)
        try:
            parsed = x509.load_der_x509_crl(der) if isinstance(crl, bytes) else crl
            parsed.issuer  # noqa: B018
        except ValueError as exc:
            raise EncodingError(f"{source or 'CRL'}: not a DER CRL: {exc}") from None
        self._crls.setdefault(der, (parsed, StoredItem(der, source)))
        return parsed

    def add_masterlist(self, der: bytes, source: str = "", *, at: datetime | None = None,
                       verify: bool = False) -> int:
        """Import the CSCA certificates of a master list (exact bytes kept). With `verify`, the list's
        signature and its signer's chain to a CSCA in the list or in this store are checked first."""
        from mrtd.pki import masterlist

        ml = masterlist.parse(der)
        if verify:
            masterlist.verify(ml, self, at or datetime.now(UTC))
        for cert_der in ml.csca_der:
            try:
                self.add_certificate(cert_der, source=f"{source}#masterlist")
            except EncodingError:
                continue  # a certificate we cannot parse is kept out; the lint reports it
        self._masterlists.append(StoredItem(der, source))
        return len(ml.csca_der)

    # Queries

    def certificates(self, country: str | None = None) -> list[x509.Certificate]:
        certs = [c for c, _ in self._certs.values()]
        return [c for c in certs if country is None or country_of(c.subject) == country.upper()]

    def crls(self) -> list[x509.CertificateRevocationList]:
        return [c for c, _ in self._crls.values()]

    def countries(self) -> list[str]:
        return sorted({country_of(c.subject) or "?" for c in self.certificates()})

    def der_of(self, cert: x509.Certificate) -> bytes:
        """The exact bytes the certificate was received as."""
        key = cert.public_bytes(serialization.Encoding.DER)
        return self._certs[key][1].der if key in self._certs else key

    def _issuers_of(self, cert: x509.Certificate) -> Iterator[x509.Certificate]:
        aki = _aki(cert)
        for candidate, _ in self._certs.values():
            if candidate.subject != cert.issuer:
                continue
            ski = _ski(candidate)
            if aki is not None and ski is not None and aki != ski:
                continue
            if _signed_by(cert, candidate):
                yield candidate

    def _build(self, cert: x509.Certificate, depth: int = 0) -> list[x509.Certificate] | None:
        """[cert, ..., self-signed anchor] or None. Anchors are self-signed certificates in the store."""
        if depth > 6:
            return None
        der = cert.public_bytes(serialization.Encoding.DER)
        if der in self._certs and _self_signed(cert):
            return [cert]
        for issuer in self._issuers_of(cert):
            if issuer.public_bytes(serialization.Encoding.DER) == der:
                continue
            rest = self._build(issuer, depth + 1)
            if rest is not None:
                return [cert, *rest]
        return None

    # Validation

    def validate(self, cert: x509.Certificate, at: datetime, *, purpose: str | None = None,
                 require_crl: bool = False) -> PathReport:
        """Every check of the path from `cert` to a trusted CSCA at time `at`."""
        if purpose is not None and purpose not in PURPOSES:
            raise InputError(f"purpose: {purpose!r} is not one of {', '.join(PURPOSES)}")
        path = self._build(cert)
        if path is None:
            return PathReport((Check("signature", False,
                                     f"no trusted CSCA signs {cert.issuer.rfc4514_string()} "
                                     f"(AKI {(_aki(cert) or b'').hex()})"),))
        checks = [Check("signature", True, f"path of {len(path)} verified up to {path[-1].subject.rfc4514_string()}")]
        checks.append(_validity(path, at))
        checks.append(self._revocation(path, at, require_crl))
        checks.append(_country(path))
        checks.append(_usage(path, purpose))
        return PathReport(tuple(checks), tuple(path))

    def verify(self, cert: x509.Certificate, at: datetime, *, purpose: str | None = None,
               require_crl: bool = False) -> PathReport:
        report = self.validate(cert, at, purpose=purpose, require_crl=require_crl)
        for check in report.checks:
            if not check.passed:
                raise ChainError(f"{check.name}: {check.reason}")
        return report

    def crl_for(self, issuer: x509.Certificate, at: datetime) -> x509.CertificateRevocationList | None:
        """The newest CRL (by thisUpdate, not in the future) issued by `issuer`'s name and verified by a
        CSCA key of that name."""
        best: x509.CertificateRevocationList | None = None
        keys = [c for c, _ in self._certs.values() if c.subject == issuer.subject]
        for crl, _ in self._crls.values():
            if crl.issuer != issuer.subject or crl.last_update_utc > at:
                continue
            if not any(_crl_signed_by(crl, k) for k in keys):
                continue
            if best is None or crl.last_update_utc > best.last_update_utc:
                best = crl
        return best

    def _revocation(self, path: Sequence[x509.Certificate], at: datetime, require_crl: bool) -> Check:
        notes = []
        for cert, issuer in itertools.pairwise(path):
            crl = self.crl_for(issuer, at)
            label = f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:X})"
            if crl is None:
                if require_crl:
                    return Check("crl", False, f"no CRL from {issuer.subject.rfc4514_string()} for {label}")
                notes.append(f"no CRL for {label}")
                continue
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None and entry.revocation_date_utc <= at:
                return Check("crl", False, f"{label} revoked on {entry.revocation_date_utc:%Y-%m-%d}")
            next_update = crl.next_update_utc
            if next_update is not None and next_update < at:
                if require_crl:
                    return Check("crl", False, f"the CRL for {label} expired on {next_update:%Y-%m-%d}")
                notes.append(f"CRL for {label} is past its nextUpdate")
        return Check("crl", True, "; ".join(notes) or "not revoked")


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        verify_signature(public_key_of(issuer), crl.signature, crl.tbs_certlist_bytes,
                         crl.signature_hash_algorithm, crl.signature_algorithm_parameters, what="CRL")
    except (MrtdError, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _validity(path: Sequence[x509.Certificate], at: datetime) -> Check:
    for cert in path:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return Check("validity", False,
                         f"{cert.subject.rfc4514_string()} is valid {cert.not_valid_before_utc:%Y-%m-%d} .. "
                         f"{cert.not_valid_after_utc:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M:%S}")
    return Check("validity", True, f"every certificate valid at {at:%Y-%m-%d %H:%M:%S}")


def _country(path: Sequence[x509.Certificate]) -> Check:
    countries = set()
    for cert in path:
        s, i = country_of(cert.subject), country_of(cert.issuer)
        if s is None or s != i:
            return Check("country", False, f"{cert.subject.rfc4514_string()}: subject country {s!r} "
                                           f"differs from issuer country {i!r} (9303-12 Table 5)")
        countries.add(s)
    if len(countries) != 1:
        return Check("country", False, f"countries differ along the path: {sorted(countries)}")
    return Check("country", True, f"country {countries.pop()}")


def _usage(path: Sequence[x509.Certificate], purpose: str | None) -> Check:
    for cert in path[1:]:
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return Check("key-usage", False, f"{cert.subject.rfc4514_string()}: CA without basicConstraints/keyUsage")
        if not bc.ca or not ku.key_cert_sign:
            return Check("key-usage", False, f"{cert.subject.rfc4514_string()}: not a CA (cA/keyCertSign)")
    if purpose is None:
        return Check("key-usage", True, "CA certificates may sign certificates")
    leaf = path[0]
    eku_oid, only_if_present = PURPOSES[purpose]
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            return Check("key-usage", False, "leaf keyUsage lacks digitalSignature")
    except x509.ExtensionNotFound:
        if purpose == "ds":
            return Check("key-usage", False, "Document Signer without keyUsage (9303-12 Table 6)")
    try:
        bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca and len(path) > 1:
            return Check("key-usage", False, "leaf is a CA certificate")
    except x509.ExtensionNotFound:
        pass
    if eku_oid is not None:
        try:
            eku = [o.dotted_string for o in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
        except x509.ExtensionNotFound:
            if not only_if_present:
                return Check("key-usage", False, f"extendedKeyUsage {eku_oid} missing for purpose {purpose}")
            return Check("key-usage", True, f"no extendedKeyUsage (tolerated for {purpose})")
        if eku_oid not in eku:
            return Check("key-usage", False, f"extendedKeyUsage {eku} lacks {eku_oid} for purpose {purpose}")
    return Check("key-usage", True, f"usable for {purpose}")


def name_country(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(values[0].value) if values else None


__all__ = ["PURPOSES", "Check", "ObjectIdentifier", "PathReport", "TrustStore", "public_key_of", "read_certificate"]
