"""Lint certificates, CRLs and master lists (ours or anyone's) against Doc 9303 Part 12 and the ICAO PKD
upload checks. Returns findings, each naming the clause it breaks; never raises on bad input bytes.

The extension rules come from the same profile data the builders use (`profiles/certificates.toml`).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1_modules import rfc5280

from mrtd.asn1 import cms
from mrtd.asn1.der import children
from mrtd.asn1.tlv import BER, DER, Tlv
from mrtd.asn1.x509 import pem_blocks, read_certificate
from mrtd.errors import Finding, MrtdError, Severity
from mrtd.pki.profiles import EXTENSION_OIDS, OID_NAMES, ROLES, Profile, common, crl_profile, profile

T5 = "9303-12 §7.1.1 Table 5"
T6 = "9303-12 §7.1.1 Table 6"
CRL = "9303-12 §7.1.4 Tables 9-10"
ML = "9303-12 §9 (CSCA Master List)"
PKD = "ICAO PKD upload check"

__all__ = ["ROLES", "assumed_role", "guess_role", "lint_certificate", "lint_crl", "lint_file", "lint_masterlist"]

_ALLOWED_HASHES = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)


def guess_role(cert: x509.Certificate) -> str:
    return assumed_role(cert)[0]


def assumed_role(cert: x509.Certificate) -> tuple[str, str]:
    """The profile a certificate's own extensions point to, and why: the extendedKeyUsage of the signer
    roles, cA for CSCA and link, a DocumentTypeList for a Document Signer, and a subject of only C and a
    2-character CN for a barcode signer (test signers in the wild carry no EKU)."""
    eku: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound, ValueError):
        eku = [o.dotted_string for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    for oid, role in (("2.23.136.1.1.11.1", "seal-signer"), ("2.23.136.1.1.14.2", "vdsnc-signer"),
                      ("2.23.136.1.1.3", "masterlist-signer"), ("2.23.136.1.1.8", "deviationlist-signer")):
        if oid in eku:
            return role, f"extendedKeyUsage {oid}"
    with contextlib.suppress(x509.ExtensionNotFound, ValueError):
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            if cert.subject == cert.issuer and _own_key_signed(cert):
                return "csca", "cA, self-issued, authorityKeyIdentifier = subjectKeyIdentifier"
            return "link", "cA, signed by another CSCA key"
    with contextlib.suppress(x509.ExtensionNotFound, ValueError):
        cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(EXTENSION_OIDS["documentTypeList"]))
        return "ds", "a DocumentTypeList extension"
    oids = {a.oid for a in cert.subject}
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if oids == {NameOID.COUNTRY_NAME, NameOID.COMMON_NAME} and len(cns) == 1 and len(str(cns[0].value)) == 2:
        return "seal-signer", "no DocumentTypeList and a subject of C and a 2-character CN"
    return "ds", "none of the signer EKUs, not a CA"


def _own_key_signed(cert: x509.Certificate) -> bool:
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        return True  # no key identifiers to tell: self-issued is taken as self-signed
    return aki is None or aki == ski


def lint_file(data: bytes, role: str | None = None, *, at: datetime | None = None) -> list[Finding]:
    """Findings for one file: PEM (certificates and CRLs; text around the blocks, as `openssl pkcs7
    -print_certs` writes it, is ignored) or DER/BER (a certificate, a CRL or a master list)."""
    blocks = pem_blocks(data, "PEM")
    if blocks:
        out: list[Finding] = []
        for i, (label, der) in enumerate(blocks):
            found = lint_crl(der) if label == "X509 CRL" else lint_masterlist(der, at=at) if label in ("CMS", "PKCS7") \
                else lint_certificate(der, role)
            out.extend(Finding(f"[{i}].{f.field}", f.rule, f.message, f.clause, f.severity) if len(blocks) > 1 else f
                       for f in found)
        return out
    kind = _kind(data)
    if kind == "masterlist":
        return lint_masterlist(data, at=at)
    return lint_crl(data) if kind == "crl" else lint_certificate(data, role)


def _kind(data: bytes) -> str:
    """What the DER/BER bytes are by their shape, so that a broken one is linted as what it is meant to be:
    a ContentInfo starts with an OID; a CRL's TBSCertList has a time where a certificate has a Name."""
    try:
        first = Tlv.decode(data, what="file", rules=BER).children()[0]
        if first.tag == 0x06:
            return "masterlist"
        items = first.children()
        at = 3 if items and items[0].tag == 0x02 else 2  # [version,] signature, issuer, thisUpdate
        return "crl" if len(items) > at and items[at].tag in (0x17, 0x18) else "certificate"
    except (MrtdError, IndexError):
        return "certificate"


def lint_certificate(der: bytes, role: str | None = None) -> list[Finding]:
    """Findings for one DER certificate against the profile of `role` (guessed when None)."""
    try:
        return _lint_certificate(der, role)
    except MrtdError:
        raise
    except Exception as exc:  # foreign bytes can trip any parser; report, never crash
        return [Finding("certificate", "der", f"cannot be checked: {type(exc).__name__}: {exc}", T5)]


def _lint_certificate(der: bytes, role: str | None) -> list[Finding]:
    try:
        read = read_certificate(der)
    except MrtdError as exc:
        broken = [Finding("certificate", "der", f"not a DER X.509 certificate: {exc}", T5)]
        try:  # say which Table 5 rule a strict parser tripped over, when pyasn1 can still read it
            raw, _ = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
            if int(raw["tbsCertificate"]["version"]) != 2:
                broken.append(Finding("version", "version", "certificate must be X.509 v3", T5))
            for which in ("notBefore", "notAfter"):
                broken.extend(_lint_time(raw["tbsCertificate"]["validity"][which], f"validity.{which}", T5))
        except Exception:  # pyasn1 raises its own hierarchy on foreign bytes
            pass
        return broken
    # what the reader tolerated is a conformance error here; the serial is judged below
    out = [Finding(f.field, f.rule, f.message, f.clause) for f in read.findings if not f.rule.startswith("serial-")]
    cert = read.x509
    try:
        raw, _rest = der_decoder.decode(read.der_copy(), asn1Spec=rfc5280.Certificate())
    except Exception as exc:  # pyasn1 raises its own hierarchy on foreign bytes
        return [*out, Finding("certificate", "der", f"not decodable: {type(exc).__name__}", T5)]
    if role is None:
        role, why = assumed_role(cert)
        out.append(Finding("role", "role-assumed", f"linted as {role} ({why}); give --role to choose", T6,
                           Severity.INFO))
    prof = profile(role)
    tbs = raw["tbsCertificate"]
    if int(tbs["version"]) != 2:
        out.append(Finding("version", "version", "certificate must be X.509 v3", T5))
    serial = read.serial
    if serial <= 0:
        out.append(Finding("serialNumber", "serial-positive", "serial number must be positive", T5))
    if len(bytes(_int_octets(serial))) > 20:
        out.append(Finding("serialNumber", "serial-length", "serial number longer than 20 octets", T5))
    for which in ("issuer", "subject"):
        out.extend(_lint_name(getattr(cert, which), tbs[which], which, prof if which == "subject" else None))
    if _country(cert.subject) != _country(cert.issuer):
        out.append(Finding("subject.countryName", "country-mismatch",
                           f"subject country {_country(cert.subject)!r} differs from issuer {_country(cert.issuer)!r}", T5))
    for which in ("notBefore", "notAfter"):
        out.extend(_lint_time(tbs["validity"][which], f"validity.{which}", T5))
    if tbs["issuerUniqueID"].isValue or tbs["subjectUniqueID"].isValue:
        out.append(Finding("uniqueID", "unique-id", "issuer/subject unique identifiers must not be present", T5))
    try:
        hash_alg = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        hash_alg = None
    if not isinstance(hash_alg, _ALLOWED_HASHES):
        out.append(Finding("signatureAlgorithm", "signature-hash",
                           f"hash {getattr(hash_alg, 'name', None)} is not SHA-224/256/384/512", "9303-12 §6"))
    try:
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < prof.min_rsa_bits:
            out.append(Finding("subjectPublicKeyInfo", "rsa-size",
                               f"RSA {key.key_size} bits below {prof.min_rsa_bits} for a {prof.title}", "9303-12 §6",
                               Severity.WARNING))
        if "rsa" not in prof.key_algorithms and isinstance(key, rsa.RSAPublicKey):
            out.append(Finding("subjectPublicKeyInfo", "key-algorithm", f"a {prof.title} must use ECDSA", prof.clause))
    except Exception:  # explicit EC parameters and other keys cryptography cannot load: not a profile issue
        pass
    out.extend(_lint_extensions(cert, prof))
    return out


def _int_octets(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True) if value >= 0 else b"\x80"


def _country(name: x509.Name) -> str | None:
    v = name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(v[0].value) if v else None


def _lint_name(name: x509.Name, raw: object, which: str, prof: Profile | None) -> list[Finding]:
    out = []
    countries = name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    if not countries:
        out.append(Finding(f"{which}.countryName", "name-country", "countryName missing", T5))
    else:
        c = countries[0]
        value = str(c.value)
        if len(value) != 2 or value != value.upper() or not value.isalpha():
            out.append(Finding(f"{which}.countryName", "name-country", f"{value!r} is not 2 upper-case letters", T5))
        if c._type != x509.name._ASN1Type.PrintableString:
            out.append(Finding(f"{which}.countryName", "name-country-type", "countryName must be PrintableString", T5))
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns:
        out.append(Finding(f"{which}.commonName", "name-common-name", "commonName missing", T5))
    for attr in name:
        if attr.oid == NameOID.SERIAL_NUMBER and attr._type != x509.name._ASN1Type.PrintableString:
            out.append(Finding(f"{which}.serialNumber", "name-string-type", "serialNumber must be PrintableString", T5))
        elif attr.oid != NameOID.COUNTRY_NAME and attr._type not in (
                x509.name._ASN1Type.PrintableString, x509.name._ASN1Type.UTF8String):
            out.append(Finding(f"{which}.{attr.oid._name}", "name-string-type",
                               "DirectoryString must be PrintableString or UTF8String", T5))
    if prof is not None and prof.subject == "c-cn":
        others = [a for a in name if a.oid not in (NameOID.COUNTRY_NAME, NameOID.COMMON_NAME)]
        cn_off = len(cns) == 1 and bool(prof.cn_length) and len(str(cns[0].value)) != prof.cn_length
        if others or len(cns) != 1 or cn_off:
            # a production VDS-NC signer uses CN=DFAT: the 2-character CN is a warning there, not an error
            lenient = prof.role == "vdsnc-signer" and not others and len(cns) == 1
            out.append(Finding("subject", "subject-form",
                               f"a {prof.title} subject holds only C and a {prof.cn_length}-character CN", prof.clause,
                               Severity.WARNING if lenient else Severity.ERROR))
    return out


def _lint_time(choice: object, field: str, clause: str) -> list[Finding]:
    name = choice.getName()  # type: ignore[attr-defined]
    text = str(choice.getComponent())  # type: ignore[attr-defined]
    out = []
    if name == "utcTime":
        if len(text) != 13 or not text.endswith("Z"):
            out.append(Finding(field, "time-format", f"UTCTime {text!r} is not YYMMDDHHMMSSZ", clause))
        elif int(text[:2]) >= 50:
            out.append(Finding(field, "time-encoding", f"UTCTime {text!r} encodes a year from 2050 (use GeneralizedTime)", clause))
    else:
        if len(text) != 15 or not text.endswith("Z"):
            out.append(Finding(field, "time-format", f"GeneralizedTime {text!r} is not YYYYMMDDHHMMSSZ (no fractions)", clause))
        elif text[:4].isdigit() and int(text[:4]) < 2050:
            out.append(Finding(field, "time-encoding", f"GeneralizedTime {text!r} before 2050 (use UTCTime)", clause))
    return out


def _lint_extensions(cert: x509.Certificate, prof: Profile) -> list[Finding]:
    out: list[Finding] = []
    present = {e.oid.dotted_string: e for e in cert.extensions}
    forbidden = set(common()["always_forbidden"])
    for oid, ext in present.items():
        name = OID_NAMES.get(oid, oid)
        if oid in forbidden:
            out.append(Finding(f"extensions.{name}", "extension-forbidden", f"{name} is never allowed", T6))
            continue
        rule = prof.rule(name) if oid in OID_NAMES else None
        if rule is None:
            if prof.other_extensions == "forbidden" or ext.critical:
                out.append(Finding(f"extensions.{name}", "extension-not-allowed",
                                   f"{name} is not allowed in a {prof.title}", prof.clause))
            continue
        if rule.presence == "x":
            out.append(Finding(f"extensions.{name}", "extension-forbidden", f"{name} is forbidden in a {prof.title}", T6))
        elif ext.critical != rule.critical:
            sev = Severity.WARNING if name == "extendedKeyUsage" and prof.role == "vdsnc-signer" else Severity.ERROR
            out.append(Finding(f"extensions.{name}", "extension-critical",
                               f"{name} must be {'critical' if rule.critical else 'non-critical'} in a {prof.title}",
                               PKD if name == "extendedKeyUsage" and prof.role == "masterlist-signer" else T6, sev))
    for name, rule in prof.extensions.items():
        if rule.presence == "m" and EXTENSION_OIDS[name] not in present:
            out.append(Finding(f"extensions.{name}", "extension-missing", f"{name} is mandatory in a {prof.title}", T6))
    ext = cert.extensions
    try:
        ku = ext.get_extension_for_class(x509.KeyUsage).value
        want = prof.key_usage
        have = {n for n in ("digital_signature", "key_cert_sign", "crl_sign", "content_commitment",
                            "key_encipherment", "data_encipherment", "key_agreement") if getattr(ku, n)}
        if want and have != set(want):
            out.append(Finding("extensions.keyUsage", "key-usage",
                               f"keyUsage {sorted(have)} should be exactly {sorted(want)}", T6))
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        bc = ext.get_extension_for_class(x509.BasicConstraints).value
        if prof.ca and (not bc.ca or bc.path_length != prof.path_length):
            out.append(Finding("extensions.basicConstraints", "basic-constraints",
                               f"basicConstraints must be cA TRUE, pathLen {prof.path_length}", T6))
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        eku = [o.dotted_string for o in ext.get_extension_for_class(x509.ExtendedKeyUsage).value]
        if prof.extended_key_usage and set(eku) != set(prof.extended_key_usage):
            out.append(Finding("extensions.extendedKeyUsage", "eku",
                               f"extendedKeyUsage {eku} should be {list(prof.extended_key_usage)}", prof.clause))
    except (x509.ExtensionNotFound, ValueError):
        pass
    for cls, field in ((x509.SubjectAlternativeName, "subjectAltName"), (x509.IssuerAlternativeName, "issuerAltName")):
        try:
            names = list(ext.get_extension_for_class(cls).value)  # type: ignore[call-overload]
        except (x509.ExtensionNotFound, ValueError):
            continue
        dirs = [n.value for n in names if isinstance(n, x509.DirectoryName)]
        if not any(d.get_attributes_for_oid(NameOID.LOCALITY_NAME) for d in dirs):
            out.append(Finding(f"extensions.{field}", "alt-name",
                               "must hold a directoryName with localityName = the ICAO country code", T6))
    try:
        dtl = ext.get_extension_for_oid(x509.ObjectIdentifier(EXTENSION_OIDS["documentTypeList"])).value
        problem = _check_doc_type_list(dtl.value)  # type: ignore[attr-defined]
        if problem:
            out.append(Finding("extensions.documentTypeList", "document-type-list", problem, T6))
        elif prof.document_types:
            got = _doc_types(dtl.value)  # type: ignore[attr-defined]
            if set(got) != set(prof.document_types):
                out.append(Finding("extensions.documentTypeList", "document-type-list",
                                   f"document types {got} should be {list(prof.document_types)}", prof.clause))
    except x509.ExtensionNotFound:
        pass
    try:
        ext.get_extension_for_class(x509.PrivateKeyUsagePeriod)
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        out.append(Finding("extensions.privateKeyUsagePeriod", "pkup", "malformed PrivateKeyUsagePeriod", T6))
    return out


def _doc_type_entries(value: bytes) -> tuple[Tlv, Tlv]:
    top = Tlv.decode(value, what="DocumentTypeListSyntax", rules=DER)
    items = children(top, 0x30, "DocumentTypeListSyntax") if top.tag == 0x30 else ()
    if len(items) != 2 or items[0].tag != 0x02 or items[1].tag != 0x31:
        raise MrtdError("DocumentTypeListSyntax must be SEQUENCE {version INTEGER, docTypeList SET OF}")
    return items[0], items[1]


def _doc_types(value: bytes) -> list[str]:
    return [e.value.decode("ascii", "replace") for e in _doc_type_entries(value)[1].children()]


def _check_doc_type_list(value: bytes) -> str | None:
    try:
        version, types = _doc_type_entries(value)
        if version.value != b"\x00":
            return "DocumentTypeListSyntax version must be v0"
        entries = types.children()
        if not entries:
            return "docTypeList is empty"
        if any(e.tag != 0x13 or not 1 <= len(e.value) <= 2 for e in entries):
            return "each DocumentType is a PrintableString of 1-2 characters"
    except MrtdError as exc:
        return f"DocumentTypeListSyntax not DER: {exc}"
    return None


def lint_crl(der: bytes) -> list[Finding]:
    """Findings for a DER CRL against Part 12 Tables 9 and 10."""
    try:
        return _lint_crl(der)
    except MrtdError:
        raise
    except Exception as exc:  # foreign bytes can trip any parser; report, never crash
        return [Finding("crl", "der", f"cannot be checked: {type(exc).__name__}: {exc}", CRL)]


def _lint_crl(der: bytes) -> list[Finding]:
    try:
        crl = x509.load_der_x509_crl(der)
        crl.extensions  # noqa: B018
        raw, _ = der_decoder.decode(der, asn1Spec=rfc5280.CertificateList())
    except Exception as exc:
        return [Finding("crl", "der", f"not a DER CRL: {type(exc).__name__}", CRL)]
    out: list[Finding] = []
    tbs = raw["tbsCertList"]
    if not tbs["version"].isValue or int(tbs["version"]) != 1:
        out.append(Finding("version", "crl-version", "CRL must be v2", CRL))
    out.extend(_lint_time(tbs["thisUpdate"], "thisUpdate", CRL))
    if not tbs["nextUpdate"].isValue:
        out.append(Finding("nextUpdate", "crl-next-update", "nextUpdate is mandatory", CRL))
    else:
        out.extend(_lint_time(tbs["nextUpdate"], "nextUpdate", CRL))
    if tbs["revokedCertificates"].isValue and len(tbs["revokedCertificates"]) == 0:
        out.append(Finding("revokedCertificates", "crl-empty-revoked", "revokedCertificates present but empty", CRL))
    present = {e.oid.dotted_string: e for e in crl.extensions}
    for oid, name in (("2.5.29.35", "authorityKeyIdentifier"), ("2.5.29.20", "cRLNumber")):
        if oid not in present:
            out.append(Finding(f"crlExtensions.{name}", "crl-extension-missing", f"{name} is mandatory", CRL))
        elif present[oid].critical:
            out.append(Finding(f"crlExtensions.{name}", "crl-extension-critical", f"{name} must be non-critical", CRL))
    for oid in crl_profile()["forbidden_crl_extensions"]:
        if oid in present:
            out.append(Finding(f"crlExtensions.{oid}", "crl-extension-forbidden", f"extension {oid} is forbidden (no delta/partitioned CRLs)", CRL))
    try:
        n = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        if n < 0 or n >= 1 << 159:
            out.append(Finding("crlExtensions.cRLNumber", "crl-number", "cRLNumber must be 0..20 octets", CRL))
    except x509.ExtensionNotFound:
        pass
    for entry in crl:
        if len(entry.extensions):
            out.append(Finding(f"revokedCertificates[{entry.serial_number:X}]", "crl-entry-extension",
                               "CRL entry extensions (reasonCode, invalidityDate, ...) are forbidden", CRL))
    try:
        crl_hash = crl.signature_hash_algorithm
    except UnsupportedAlgorithm:
        crl_hash = None
    if not isinstance(crl_hash, _ALLOWED_HASHES):
        out.append(Finding("signatureAlgorithm", "signature-hash", "hash is not SHA-224/256/384/512", "9303-12 §6"))
    return out


def lint_masterlist(der: bytes, *, at: datetime | None = None) -> list[Finding]:
    """Findings for a master list: CMS profile, signingTime, signer certificate and its profile."""
    try:
        return _lint_masterlist(der, at)
    except MrtdError as exc:
        return [Finding("masterlist", "der", str(exc), ML)]
    except Exception as exc:  # foreign bytes can trip any parser; report, never crash
        return [Finding("masterlist", "der", f"cannot be checked: {type(exc).__name__}", ML)]


def _lint_masterlist(der: bytes, at: datetime | None) -> list[Finding]:
    from mrtd.pki import masterlist

    try:
        ml = masterlist.parse(der)
    except MrtdError as exc:
        return [Finding("masterlist", "der", str(exc), ML)]
    out: list[Finding] = [Finding(f"masterlist.{f.field}", f.rule, f.message, f.clause) for f in ml.signed_data.findings]
    sd = ml.signed_data
    if sd.version != 3:
        out.append(Finding("signedData.version", "ml-version", "SignedData version must be v3", ML))
    if ml.version != 0:
        out.append(Finding("cscaMasterList.version", "ml-version", "CscaMasterList version must be v0", ML))
    if not ml.csca_der:
        out.append(Finding("cscaMasterList.certList", "ml-empty", "certList is empty", ML))
    for i, raw in enumerate(ml.csca_der):
        try:
            read_certificate(raw, f"certList[{i}]")
        except MrtdError as exc:
            out.append(Finding(f"cscaMasterList.certList[{i}]", "ml-entry", f"cannot be read: {exc}", ML))
    if sd.crls:
        out.append(Finding("signedData.crls", "ml-crls", "crls are not used in a master list", ML))
    if len(sd.signer_infos) != 1:
        out.append(Finding("signedData.signerInfos", "ml-signer-infos", "exactly one SignerInfo expected", ML))
        return out
    info = sd.signer_infos[0]
    if cms.ID_SIGNING_TIME not in info.attributes():
        out.append(Finding("signerInfo.signedAttrs", "ml-signing-time", "signingTime signed attribute missing", ML))
    if info.subject_key_identifier is None:
        out.append(Finding("signerInfo.sid", "ml-sid", "subjectKeyIdentifier is the recommended sid", ML, Severity.INFO))
    try:
        _, signer_cert = masterlist.signer_certificate(ml)
    except MrtdError as exc:
        out.append(Finding("signedData.certificates", "ml-signer-cert", str(exc), ML))
        return out
    try:
        cms.verify_signer(sd, info, signer_cert)
    except MrtdError as exc:
        out.append(Finding("signerInfo.signature", "ml-signature", str(exc), ML))
    for f in lint_certificate(signer_cert.der, "masterlist-signer"):
        out.append(Finding(f"signerCertificate.{f.field}", f.rule, f.message, f.clause, f.severity))
    when = at or datetime.now(UTC)
    if not signer_cert.not_before <= when <= signer_cert.not_after:
        out.append(Finding("signerCertificate.validity", "ml-signer-expired",
                           f"signer certificate not valid at {when:%Y-%m-%d}", ML, Severity.WARNING))
    return out
