"""Custody by role: a site whose CSCA lives elsewhere asks for its signers' certificates.

`make_request` (at the signing site) makes the key (a file under its own secret, or in a token) and a PKCS#10
request signed by it; `sign_request` (at the CSCA's site) checks the request against the Part 12 profile of
the role asked for (proof of possession, the subject's form and country, the key's algorithm) and certifies
the key with the CSCA's usual usage periods; `install_certificate` (back at the signing site) accepts only a
certificate that the site's CSCA signed, for a key it asked for, that lints clean for its role.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from mrtd.asn1.foreign import reading
from mrtd.asn1.x509 import as_certificate, load_certificate
from mrtd.errors import InputError, ProfileError, Severity, SignatureError, StateError
from mrtd.pki import certificates as certs
from mrtd.pki.keys import algorithm_of, default_hash
from mrtd.pki.lint import lint_certificate
from mrtd.pki.profiles import profile
from mrtd.pki.signer import PublicKey
from mrtd.pki.site import END_ENTITY_ROLES, CertRecord, Pkcs11Config, PkiSite, _iso, usage_of

CLAUSE = "RFC 2986; Doc 9303-12 Tables 5 and 6"


def _fingerprint(public_key: PublicKey) -> str:
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def make_request(site: PkiSite, role: str, key_secret: bytes | None, *, token: Pkcs11Config | None = None,
                 common_name: str | None = None, algorithm: str | None = None) -> bytes:
    """A new `role` key here and its certificate request (DER), kept pending until `install_certificate`."""
    if role not in END_ENTITY_ROLES:
        raise InputError(f"role: {role!r} is not one of {', '.join(END_ENTITY_ROLES)}")
    own = token.pin if token is not None else key_secret
    if not own:
        raise InputError(f"{role} key: no secret of its own given (its passphrase, or a token and its PIN)")
    state = site._load()
    now = site.now()
    alg = site.default_algorithm(role, algorithm)
    country = state["country"]
    if role in ("seal-signer", "vdsnc-signer"):
        if not common_name or len(common_name) != 2:
            raise InputError(f"common_name: a {profile(role).title} needs a 2-character CN (seal signer identifier)")
        subject = certs.make_name(country, common_name.upper())
    else:
        default = {"ds": f"DS {country} {now:%Y%m%d}", "masterlist-signer": f"Master List Signer {country}",
                   "deviationlist-signer": f"Deviation List Signer {country}"}[role]
        subject = certs.make_name(country, common_name or default, organization=state.get("organization"))
    signer, ref = site._new_key(state, alg, site._label(role, now), own, token)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    der = certs.sign_request(builder, signer, default_hash(signer.public_key()))
    state.setdefault("requests", []).append({
        "role": role, "key": ref, "subject": subject.rfc4514_string(), "created": _iso(now),
        "public_key_sha256": _fingerprint(signer.public_key()), "algorithm": alg})
    site._save(state)
    site._log("request", role=role, key=signer.key_id, subject=subject.rfc4514_string())
    return der


def read_request(data: bytes) -> x509.CertificateSigningRequest:
    """A PKCS#10 request (PEM or DER) whose signature verifies (the requester holds the key)."""
    with reading("certificate request"):
        csr = (x509.load_pem_x509_csr(data) if data.lstrip().startswith(b"-----")
               else x509.load_der_x509_csr(data))
        _ = (csr.subject, csr.public_key(), csr.signature_hash_algorithm)
        valid = csr.is_signature_valid
    if not valid:
        raise SignatureError(f"certificate request: its signature does not verify (no proof of possession) [{CLAUSE}]")
    return csr


def sign_request(site: PkiSite, request: bytes, role: str, csca_secret: bytes, *,
                 document_types: tuple[str, ...] = ("P",), usage_months: int | None = None,
                 document_validity_years: int | None = None, validity_years: int | None = None) -> CertRecord:
    """Certify the key of `request` for `role` with the current CSCA key, after checking the request
    against the role's profile. The certificate is kept in the site's records (no private key here)."""
    if role not in END_ENTITY_ROLES:
        raise InputError(f"role: {role!r} is not one of {', '.join(END_ENTITY_ROLES)}")
    csr = read_request(request)
    state = site._load()
    if state.get("csca") == "external":
        raise StateError("sign-csr: this site's CSCA lives elsewhere; sign the request at the CSCA's site")
    public = csr.public_key()
    if not isinstance(public, PublicKey):
        raise ProfileError(f"certificate request: key type {type(public).__name__} is not allowed [{CLAUSE}]")
    site.default_algorithm(role, algorithm_of(public))  # refuses what the role's format forbids
    country = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)]
    if country != [state["country"]]:
        raise ProfileError(f"certificate request: subject country {country} is not this CSCA's {state['country']!r} "
                           "(9303-12 Table 5: issuer and subject countryName must match)")
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cns) != 1:
        raise ProfileError(f"certificate request: the subject needs exactly one commonName [{CLAUSE}]")
    common_name = str(cns[0].value)
    now = site.now()
    csca_rec = site._current(state, "csca", now)
    csca_cert = site.certificate(csca_rec)
    csca_signer = site._open_key(csca_rec.key, csca_secret, "csca")
    allowed = {NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
               NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER}
    if any(a.oid not in allowed for a in csr.subject):
        raise ProfileError(f"certificate request: subject attributes beyond C, O, OU, serialNumber and CN [{CLAUSE}]")
    cert, usage = site._certify(state, role, public, csca_signer, csca_cert, now, common_name=common_name,
                                document_types=document_types, usage_months=usage_months,
                                document_validity_years=document_validity_years, validity_years=validity_years,
                                requested=csr.subject)
    rec = site._store_cert(state, role, cert, {"store": "elsewhere"}, usage, csca_rec.serial)
    site._save(state)
    site._log("sign-csr", role=role, serial=rec.serial, subject=rec.subject, issuer_key=csca_signer.key_id,
              issuer_serial=csca_rec.serial)
    return rec


def install_certificate(site: PkiSite, data: bytes) -> CertRecord:
    """Install a certificate for a key this site asked for: signed by the site's CSCA, clean for its role."""
    cert = load_certificate(data, "certificate")
    state = site._load()
    fingerprint = _fingerprint(cert.x509.public_key())  # type: ignore[arg-type]
    pending = [r for r in state.get("requests", []) if r["public_key_sha256"] == fingerprint]
    if not pending:
        raise InputError("certificate: its key is none this site asked for (`mrtd pki csr`); nothing installed")
    request = pending[0]
    role = request["role"]
    cscas = [c for c in site._records(state) if c.role in ("csca", "link")]
    issuer = next((c for c in cscas if cert.signed_by(as_certificate(site.certificate(c)))), None)
    if issuer is None:
        raise SignatureError("certificate: no CSCA of this site signed it (import the CSCA's new certificate first)")
    errors = [f for f in lint_certificate(cert.der, role) if f.severity is Severity.ERROR]
    if errors:
        raise ProfileError(f"certificate: not a clean {role} certificate: {errors[0]}")
    if cert.x509.subject.rfc4514_string() != request["subject"] and role in ("seal-signer", "vdsnc-signer"):
        raise ProfileError(f"certificate: subject {cert.subject_text} is not the requested {request['subject']}")
    rec = site._record_issued(state, role, cert.x509, request["key"], usage_of(cert.x509), issuer)
    state["requests"] = [r for r in state["requests"] if r is not request]
    site._save(state)
    site._log("import-cert", role=role, serial=rec.serial, issuer_serial=issuer.serial)
    return rec


def pending(site: PkiSite) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = site._load().get("requests", [])
    return requests


def request_pem(der: bytes) -> bytes:
    with reading("certificate request"):
        return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM)

