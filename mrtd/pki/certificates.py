"""Certificate builders for the Doc 9303 Part 12 profiles, every certificate signed through a `Signer`.

cryptography's `CertificateBuilder` only signs with a private key it holds. We use it to produce the
exact DER of the TBSCertificate (time encodings, extension DER, algorithm identifiers), signing that
draft with a throwaway key of the issuer's key type; then we sign the TBS bytes with the real `Signer`
and assemble Certificate ::= SEQUENCE {tbs, signatureAlgorithm, BIT STRING}. The throwaway signature
is discarded; nothing it signed ever leaves this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mrtd.asn1.der import integer as der_int
from mrtd.asn1.der import seq, sequence_items
from mrtd.asn1.tlv import tlv
from mrtd.errors import InputError, ProfileError, SignatureError
from mrtd.pki.keys import default_hash
from mrtd.pki.profiles import EXTENSION_OIDS, Profile, mrz_code_for, profile
from mrtd.pki.signer import HashName, PublicKey, Signer, hash_algorithm

RandomSource = Callable[[int], bytes]

OID_DOCUMENT_TYPE_LIST = ObjectIdentifier(EXTENSION_OIDS["documentTypeList"])
OID_NAME_CHANGE = ObjectIdentifier(EXTENSION_OIDS["nameChange"])

_PRINTABLE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def make_name(country: str, common_name: str, *, organization: str | None = None,
              organizational_unit: str | None = None, serial_number: str | None = None) -> x509.Name:
    """A Part 12 name: countryName PrintableString upper case; other strings PrintableString when
    they fit its alphabet, else UTF8String."""
    if len(country) != 2 or not country.isascii() or not country.isalpha() or country != country.upper():
        raise InputError(f"country: {country!r} must be 2 upper-case letters (9303-12 Table 5)")
    if not common_name:
        raise InputError("common_name: empty (9303-12 Table 5 requires commonName)")

    def attr(oid: ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
        kind = x509.name._ASN1Type.PrintableString if set(value) <= _PRINTABLE else x509.name._ASN1Type.UTF8String
        return x509.NameAttribute(oid, value, kind)

    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, country, x509.name._ASN1Type.PrintableString)]
    if organization:
        attrs.append(attr(NameOID.ORGANIZATION_NAME, organization))
    if organizational_unit:
        attrs.append(attr(NameOID.ORGANIZATIONAL_UNIT_NAME, organizational_unit))
    if serial_number:
        if not set(serial_number) <= _PRINTABLE:
            raise InputError("serial_number: must be PrintableString (9303-12 Table 5)")
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number, x509.name._ASN1Type.PrintableString))
    attrs.append(attr(NameOID.COMMON_NAME, common_name))
    return x509.Name([x509.RelativeDistinguishedName([a]) for a in attrs])


def country_of(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(values[0].value) if values else None


def new_serial(rng: RandomSource) -> int:
    """A positive, unpredictable serial: 127 random bits (DER <= 16 octets, well under the 20 allowed)."""
    while True:
        raw = bytearray(rng(16))
        if len(raw) != 16:
            raise InputError("rng: random source returned the wrong number of bytes")
        raw[0] &= 0x7F
        value = int.from_bytes(raw, "big")
        if value:
            return value


def whole_seconds(moment: datetime) -> datetime:
    """UTC, no fractional seconds (Table 5: seconds always present, no fractions)."""
    if moment.tzinfo is None:
        raise InputError("time: naive datetime; pass an aware UTC time")
    return moment.astimezone(UTC).replace(microsecond=0)


def encode_document_type_list(doc_types: Sequence[str]) -> bytes:
    """DocumentTypeListSyntax ::= SEQUENCE { version INTEGER (v0), docTypeList SET OF DocumentType }."""
    if not doc_types:
        raise InputError("document_types: at least one document type is needed (9303-12 Table 6)")
    items = []
    for d in doc_types:
        if not 1 <= len(d) <= 2 or not d.isascii() or not d.isalpha() or d != d.upper():
            raise InputError(f"document_types: {d!r} is not 1-2 upper-case letters (9303-12 Table 6 DocumentType)")
        items.append(tlv(0x13, d.encode("ascii")))
    # DER SET OF: elements sorted by their encodings.
    return seq(der_int(0), tlv(0x31, b"".join(sorted(set(items)))))


def directory_alt_name(mrz_code: str, contacts: Sequence[x509.GeneralName] = ()) -> list[x509.GeneralName]:
    """SAN/IAN content: a directoryName holding only localityName = the ICAO MRZ country code."""
    locality = x509.Name([x509.NameAttribute(NameOID.LOCALITY_NAME, mrz_code, x509.name._ASN1Type.PrintableString)])
    return [x509.DirectoryName(locality), *contacts]


def pkd_crl_urls(mrz_code: str) -> list[str]:
    """The ICAO PKD CRL download points for a country (9303-12 Table 6 note on CRLDistributionPoints)."""
    code = mrz_code.ljust(3, "<") if len(mrz_code) < 3 else mrz_code
    code = code.replace("<", "")
    return [f"https://pkddownload1.icao.int/CRLs/{code}.crl", f"https://pkddownload2.icao.int/CRLs/{code}.crl"]


@dataclass(frozen=True)
class Issuer:
    """Who signs: the signer and, except for a self-signed CSCA, the issuer's certificate."""

    signer: Signer
    certificate: x509.Certificate | None = None
    hash_name: HashName | None = None


@dataclass(frozen=True)
class CertificateSpec:
    """Everything a certificate needs beyond its profile."""

    role: str
    subject: x509.Name
    public_key: PublicKey
    not_before: datetime
    not_after: datetime
    mrz_code: str
    private_key_usage: tuple[datetime | None, datetime | None] | None = None
    document_types: tuple[str, ...] = ()
    crl_urls: tuple[str, ...] = ()
    contacts: tuple[x509.GeneralName, ...] = ()
    name_change: bool = False
    extra_extensions: tuple[x509.Extension[x509.ExtensionType], ...] = field(default=())


def issue(spec: CertificateSpec, issuer: Issuer, rng: RandomSource, *, serial: int | None = None) -> x509.Certificate:
    """Build, sign (through `issuer.signer`) and return a certificate for `spec.role`."""
    prof = profile(spec.role)
    _check_spec(prof, spec, issuer)
    issuer_name = spec.subject if prof.self_signed else issuer.certificate.subject  # type: ignore[union-attr]
    not_before = whole_seconds(spec.not_before)
    not_after = whole_seconds(spec.not_after)
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(issuer_name)
        .public_key(spec.public_key)
        .serial_number(serial if serial is not None else new_serial(rng))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in _extensions(prof, spec, issuer):
        builder = builder.add_extension(ext, critical=critical)
    for extra in spec.extra_extensions:
        builder = builder.add_extension(extra.value, critical=extra.critical)
    hash_name = issuer.hash_name or default_hash(issuer.signer.public_key())
    cert = sign_certificate(builder, issuer.signer, hash_name)
    return cert


def _check_spec(prof: Profile, spec: CertificateSpec, issuer: Issuer) -> None:
    if not prof.self_signed and issuer.certificate is None:
        raise InputError(f"issuer: a {prof.title} needs the issuer's certificate")
    if spec.not_after <= spec.not_before:
        raise InputError("validity: notAfter must be after notBefore (9303-12 Table 5)")
    subject_c = country_of(spec.subject)
    if issuer.certificate is not None and country_of(issuer.certificate.subject) != subject_c:
        raise ProfileError(
            f"subject.countryName: {subject_c!r} differs from the issuer's {country_of(issuer.certificate.subject)!r} "
            "(9303-12 Table 5: issuer and subject countryName must match)"
        )
    if "ec" not in prof.key_algorithms and isinstance(spec.public_key, ec.EllipticCurvePublicKey):
        raise ProfileError(f"public_key: {prof.title} does not allow EC keys ({prof.clause})")
    if "rsa" not in prof.key_algorithms and isinstance(spec.public_key, rsa.RSAPublicKey):
        raise ProfileError(f"public_key: {prof.title} must use ECDSA ({prof.clause})")
    if isinstance(spec.public_key, rsa.RSAPublicKey) and spec.public_key.key_size < prof.min_rsa_bits:
        raise ProfileError(f"public_key: RSA {spec.public_key.key_size} bits is below {prof.min_rsa_bits} for a {prof.title}")
    if prof.subject == "c-cn":
        cns = spec.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        other = [a for a in spec.subject if a.oid not in (NameOID.COUNTRY_NAME, NameOID.COMMON_NAME)]
        if other or len(cns) != 1 or (prof.cn_length and len(str(cns[0].value)) != prof.cn_length):
            raise ProfileError(f"subject: a {prof.title} subject holds only C and a {prof.cn_length}-character CN ({prof.clause})")
    if prof.emits("privateKeyUsagePeriod") and spec.private_key_usage is None:
        raise InputError(f"private_key_usage: mandatory for a {prof.title} ({prof.clause})")
    if prof.emits("documentTypeList") and not (spec.document_types or prof.document_types):
        raise InputError(f"document_types: mandatory for a {prof.title} ({prof.clause})")


def _extensions(prof: Profile, spec: CertificateSpec, issuer: Issuer) -> list[tuple[x509.ExtensionType, bool]]:
    out: list[tuple[x509.ExtensionType, bool]] = []

    def crit(name: str) -> bool:
        rule = prof.rule(name)
        return bool(rule and rule.critical)

    own_ski = x509.SubjectKeyIdentifier.from_public_key(spec.public_key)
    if prof.emits("authorityKeyIdentifier"):
        if prof.self_signed:
            key_id = own_ski.digest
        else:
            assert issuer.certificate is not None
            try:
                key_id = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                key_id = x509.SubjectKeyIdentifier.from_public_key(issuer.certificate.public_key()).digest
        out.append((x509.AuthorityKeyIdentifier(key_id, None, None), crit("authorityKeyIdentifier")))
    if prof.emits("subjectKeyIdentifier"):
        out.append((own_ski, crit("subjectKeyIdentifier")))
    if prof.emits("keyUsage"):
        ku = prof.key_usage
        out.append((x509.KeyUsage(
            digital_signature="digital_signature" in ku, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign="key_cert_sign" in ku,
            crl_sign="crl_sign" in ku, encipher_only=False, decipher_only=False), crit("keyUsage")))
    if prof.emits("privateKeyUsagePeriod") and spec.private_key_usage is not None:
        start, end = spec.private_key_usage
        out.append((x509.PrivateKeyUsagePeriod(
            whole_seconds(start).replace(tzinfo=None) if start else None,
            whole_seconds(end).replace(tzinfo=None) if end else None), crit("privateKeyUsagePeriod")))
    san = directory_alt_name(spec.mrz_code, spec.contacts)
    if prof.emits("subjectAltName"):
        out.append((x509.SubjectAlternativeName(san), crit("subjectAltName")))
    if prof.emits("issuerAltName"):
        if prof.self_signed or issuer.certificate is None:
            ian: list[x509.GeneralName] = san  # root: SAN and IAN identical (Table 6 note)
        else:
            try:
                ian = list(issuer.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
            except x509.ExtensionNotFound:
                ian = directory_alt_name(spec.mrz_code)
        out.append((x509.IssuerAlternativeName(ian), crit("issuerAltName")))
    if prof.emits("basicConstraints"):
        out.append((x509.BasicConstraints(ca=True, path_length=prof.path_length), crit("basicConstraints")))
    if prof.emits("extendedKeyUsage"):
        out.append((x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in prof.extended_key_usage]),
                    crit("extendedKeyUsage")))
    if prof.emits("cRLDistributionPoints"):
        urls = spec.crl_urls or tuple(pkd_crl_urls(spec.mrz_code))
        out.append((x509.CRLDistributionPoints([
            x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in urls
        ]), crit("cRLDistributionPoints")))
    if spec.name_change and prof.rule("nameChange") and prof.rule("nameChange").presence != "x":  # type: ignore[union-attr]
        out.append((x509.UnrecognizedExtension(OID_NAME_CHANGE, b"\x05\x00"), crit("nameChange")))
    if prof.emits("documentTypeList") or (spec.document_types and prof.rule("documentTypeList")):
        doc_types = spec.document_types or prof.document_types
        out.append((x509.UnrecognizedExtension(OID_DOCUMENT_TYPE_LIST, encode_document_type_list(doc_types)),
                    crit("documentTypeList")))
    return out


_draft_keys: dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey] = {}
_draft_lock = threading.Lock()


def _draft_key(public_key: PublicKey) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """A process-local throwaway key of the issuer's type, only to make cryptography emit the TBS DER."""
    kind = "ec" if isinstance(public_key, ec.EllipticCurvePublicKey) else "rsa"
    with _draft_lock:
        if kind not in _draft_keys:
            _draft_keys[kind] = (ec.generate_private_key(ec.SECP256R1()) if kind == "ec"
                                 else rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _draft_keys[kind]


def rsa_pss_padding(hash_name: HashName) -> padding.PSS:
    algorithm = hash_algorithm(hash_name)
    return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)


def signed_through(builder: Any, signer: Signer, hash_name: HashName) -> bytes:
    """The DER of what `builder` (a certificate, CRL or request builder of cryptography) makes, signed
    through `signer`: cryptography signs a draft with a throwaway key of the same type, which fixes the
    exact to-be-signed bytes and the signature algorithm; the real signature replaces the draft's."""
    public = signer.public_key()
    pad = rsa_pss_padding(hash_name) if isinstance(public, rsa.RSAPublicKey) else None
    draft = builder.sign(_draft_key(public), hash_algorithm(hash_name), rsa_padding=pad)
    tbs, algorithm_id, _ = sequence_items(draft.public_bytes(serialization.Encoding.DER))
    return seq(tbs, algorithm_id, tlv(0x03, b"\x00" + signer.sign(tbs, hash_name)))


def sign_request(builder: x509.CertificateSigningRequestBuilder, signer: Signer, hash_name: HashName) -> bytes:
    """The DER of a PKCS#10 request for `signer`'s key, signed through it. cryptography puts the key a request
    is signed with into the request, so the draft's CertificationRequestInfo takes the real key's
    SubjectPublicKeyInfo before it is signed (RFC 2986 §4.1); the result must verify (proof of possession)."""
    public = signer.public_key()
    pad = rsa_pss_padding(hash_name) if isinstance(public, rsa.RSAPublicKey) else None
    draft = builder.sign(_draft_key(public), hash_algorithm(hash_name), rsa_padding=pad)  # type: ignore[arg-type]
    info, algorithm_id, _ = sequence_items(draft.public_bytes(serialization.Encoding.DER))
    version, subject, _draft_spki, *attributes = sequence_items(info, "CertificationRequestInfo")
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    tbs = seq(version, subject, spki, *attributes)
    der = seq(tbs, algorithm_id, tlv(0x03, b"\x00" + signer.sign(tbs, hash_name)))
    if not x509.load_der_x509_csr(der).is_signature_valid:
        raise SignatureError("new certificate request: its signature does not verify [RFC 2986]")
    return der


def sign_certificate(builder: x509.CertificateBuilder, signer: Signer, hash_name: HashName) -> x509.Certificate:
    """Sign the builder's TBSCertificate through `signer`; check the result verifies before returning it."""
    cert = x509.load_der_x509_certificate(signed_through(builder, signer, hash_name))
    verify_signature(signer.public_key(), cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_algorithm,
                     cert.signature_algorithm_parameters, what="new certificate")
    return cert


def verify_signature(public: object, signature: bytes, data: bytes, hash_alg: object, params: object,
                     *, what: str) -> None:
    """Verify an X.509/CRL signature: ECDSA, RSA-PSS or RSA PKCS#1 v1.5 (accepted from other issuers)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes

    if not isinstance(hash_alg, hashes.HashAlgorithm):
        raise SignatureError(f"{what}: unsupported signature hash")
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hash_alg))
        elif isinstance(public, rsa.RSAPublicKey):
            pad = params if isinstance(params, padding.PSS | padding.PKCS1v15) else padding.PKCS1v15()
            public.verify(signature, data, pad, hash_alg)
        else:
            raise SignatureError(f"{what}: unsupported public key type {type(public).__name__}")
    except InvalidSignature:
        raise SignatureError(f"{what}: signature does not verify") from None


# Role helpers: thin, named entry points over `issue` for the other engineers.

def _pkup(start: datetime, end: datetime) -> tuple[datetime | None, datetime | None]:
    return (start, end)


def build_csca(signer: Signer, subject: x509.Name, *, not_before: datetime, not_after: datetime,
               key_usage_end: datetime, rng: RandomSource, mrz_code: str | None = None,
               crl_urls: Sequence[str] = ()) -> x509.Certificate:
    code = mrz_code or mrz_code_for(country_of(subject) or "")
    spec = CertificateSpec("csca", subject, signer.public_key(), not_before, not_after, code,
                           _pkup(not_before, key_usage_end), crl_urls=tuple(crl_urls))
    return issue(spec, Issuer(signer), rng)


def build_link(old: Issuer, new_csca: x509.Certificate, *, rng: RandomSource, name_change: bool = False,
               mrz_code: str | None = None) -> x509.Certificate:
    """A link certificate: the old CSCA key certifies the new CSCA's name and key (same validity and PKUP)."""
    try:
        pkup = new_csca.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
        usage: tuple[datetime | None, datetime | None] = (
            pkup.not_before.replace(tzinfo=UTC) if pkup.not_before else None,
            pkup.not_after.replace(tzinfo=UTC) if pkup.not_after else None)
    except x509.ExtensionNotFound:
        usage = (new_csca.not_valid_before_utc, None)
    code = mrz_code or mrz_code_for(country_of(new_csca.subject) or "")
    spec = CertificateSpec("link", new_csca.subject, new_csca.public_key(),  # type: ignore[arg-type]
                           new_csca.not_valid_before_utc, new_csca.not_valid_after_utc, code, usage,
                           crl_urls=tuple(_crl_urls_of(new_csca)), name_change=name_change)
    return issue(spec, old, rng)


def mrz_code_of(cert: x509.Certificate) -> str | None:
    """The ICAO country code in the certificate's SAN directoryName localityName, if any."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    for name in names.get_values_for_type(x509.DirectoryName):
        for attr in name.get_attributes_for_oid(NameOID.LOCALITY_NAME):
            return str(attr.value)
    return None


def _crl_urls_of(cert: x509.Certificate) -> list[str]:
    try:
        dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [str(n.value) for dp in dps for n in (dp.full_name or []) if isinstance(n, x509.UniformResourceIdentifier)]


def build_end_entity(role: str, issuer: Issuer, public_key: PublicKey, subject: x509.Name, *,
                     not_before: datetime, not_after: datetime, rng: RandomSource,
                     private_key_usage: tuple[datetime | None, datetime | None] | None = None,
                     document_types: Sequence[str] = (), mrz_code: str | None = None) -> x509.Certificate:
    """DS, ML/DL signer, barcode signer or VDS-NC signer under `issuer` (a CSCA)."""
    if issuer.certificate is None:
        raise InputError("issuer: the CSCA certificate is needed")
    code = mrz_code or mrz_code_of(issuer.certificate) or mrz_code_for(country_of(subject) or "")
    spec = CertificateSpec(role, subject, public_key, not_before, not_after, code, private_key_usage,
                           tuple(document_types), crl_urls=tuple(_crl_urls_of(issuer.certificate)))
    return issue(spec, issuer, rng)


def build_document_signer(issuer: Issuer, public_key: PublicKey, subject: x509.Name, *, not_before: datetime,
                          usage_end: datetime, not_after: datetime, document_types: Sequence[str],
                          rng: RandomSource) -> x509.Certificate:
    return build_end_entity("ds", issuer, public_key, subject, not_before=not_before, not_after=not_after, rng=rng,
                            private_key_usage=(not_before, usage_end), document_types=document_types)


def build_masterlist_signer(issuer: Issuer, public_key: PublicKey, subject: x509.Name, *, not_before: datetime,
                            not_after: datetime, rng: RandomSource,
                            usage_end: datetime | None = None) -> x509.Certificate:
    return build_end_entity("masterlist-signer", issuer, public_key, subject, not_before=not_before,
                            not_after=not_after, rng=rng, private_key_usage=(not_before, usage_end or not_after))


def build_deviationlist_signer(issuer: Issuer, public_key: PublicKey, subject: x509.Name, *, not_before: datetime,
                               not_after: datetime, rng: RandomSource,
                               usage_end: datetime | None = None) -> x509.Certificate:
    return build_end_entity("deviationlist-signer", issuer, public_key, subject, not_before=not_before,
                            not_after=not_after, rng=rng, private_key_usage=(not_before, usage_end or not_after))


def build_seal_signer(issuer: Issuer, public_key: PublicKey, country: str, signer_cn: str, *,
                      not_before: datetime, not_after: datetime, rng: RandomSource) -> x509.Certificate:
    """Barcode (VDS/IDB) signer: subject C + 2-character CN (the seal's signer identifier is C||CN)."""
    subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, country, x509.name._ASN1Type.PrintableString)]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, signer_cn, x509.name._ASN1Type.PrintableString)]),
    ])
    return build_end_entity("seal-signer", issuer, public_key, subject, not_before=not_before,
                            not_after=not_after, rng=rng)


def build_vdsnc_signer(issuer: Issuer, public_key: PublicKey, country: str, signer_cn: str, *,
                       not_before: datetime, not_after: datetime, rng: RandomSource) -> x509.Certificate:
    """VDS-NC signer: EKU 2.23.136.1.1.14.2 and DocumentTypeList {"NV"}."""
    subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, country, x509.name._ASN1Type.PrintableString)]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, signer_cn, x509.name._ASN1Type.PrintableString)]),
    ])
    return build_end_entity("vdsnc-signer", issuer, public_key, subject, not_before=not_before,
                            not_after=not_after, rng=rng, document_types=("NV",))


__all__ = [
    "CertificateSpec", "ExtendedKeyUsageOID", "Issuer", "build_csca", "build_deviationlist_signer",
    "build_document_signer", "build_end_entity", "build_link", "build_masterlist_signer", "build_seal_signer",
    "build_vdsnc_signer", "country_of", "encode_document_type_list", "issue", "make_name", "new_serial",
    "sign_certificate", "verify_signature",
]
