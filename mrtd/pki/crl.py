"""CRLs to the Doc 9303 Part 12 profile (§7.1.4, Tables 9 and 10), signed through a `Signer`.

Profile: v2; authorityKeyIdentifier (= the CSCA's SKI) and cRLNumber in crlExtensions; nextUpdate
always present; one full CRL per CSCA (no delta or partitioned CRLs); revokedCertificates only when
something is revoked. Part 12 forbids every CRL *entry* extension (reasonCode, invalidityDate, ...),
so the reason for a revocation is kept in the site's records and key-operation log, not in the CRL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from mrtd.errors import InputError
from mrtd.pki.certificates import signed_through, verify_signature, whole_seconds
from mrtd.pki.keys import default_hash
from mrtd.pki.signer import HashName, Signer

MAX_CRL_NUMBER = (1 << 159) - 1  # at most 20 octets, non-negative


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime


def build_crl(issuer_cert: x509.Certificate, signer: Signer, *, number: int, this_update: datetime,
              next_update: datetime, revoked: Iterable[Revocation] = (),
              hash_name: HashName | None = None) -> x509.CertificateRevocationList:
    if not 0 <= number <= MAX_CRL_NUMBER:
        raise InputError(f"crl_number: {number} is outside 0..2^159-1 (9303-12 Table 9: at most 20 octets)")
    if next_update <= this_update:
        raise InputError("next_update: must be after this_update (9303-12 Table 9)")
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = x509.SubjectKeyIdentifier.from_public_key(issuer_cert.public_key()).digest
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(whole_seconds(this_update))
        .next_update(whole_seconds(next_update))
        .add_extension(x509.AuthorityKeyIdentifier(ski, None, None), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for r in sorted(revoked, key=lambda r: r.serial):
        # No entry extensions: Part 12 Table 10 forbids reasonCode and the rest.
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(r.serial).revocation_date(whole_seconds(r.revoked_at)).build()
        )
    hname = hash_name or default_hash(signer.public_key())
    public = signer.public_key()
    crl = x509.load_der_x509_crl(signed_through(builder, signer, hname))
    verify_signature(public, crl.signature, crl.tbs_certlist_bytes, crl.signature_hash_algorithm,
                     crl.signature_algorithm_parameters, what="new CRL")
    return crl


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None
