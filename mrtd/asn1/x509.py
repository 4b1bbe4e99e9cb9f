"""The one reader of certificates and CRLs from outside (RFC 5280, Doc 9303-12).

A `Certificate` keeps the bytes exactly as received, the tbsCertificate bytes its signature covers and the
fields read from those bytes (serial, names, key); `x509` is cryptography's view for everything else
(extensions, names), made from the original or, when cryptography refuses the original, from a DER copy.
The copy is only ever read: signatures are checked over the original bytes.

Known defects of real issuers are read and reported as findings rather than refused: BER lengths
(indefinite, non-minimal), non-DER BOOLEAN and INTEGER encodings, ECDSA AlgorithmIdentifiers with NULL
parameters (the ICAO VDS-NC worked-example signer), an explicitly encoded DEFAULT `critical FALSE`,
and serial numbers that are zero, negative or longer than 20 octets.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import CertificateRevocationList as X509Crl
from cryptography.x509 import ExtensionType, Name
from cryptography.x509.oid import NameOID

from mrtd.asn1 import der
from mrtd.asn1.algorithms import ECDSA
from mrtd.asn1.der import AlgorithmIdentifier
from mrtd.asn1.foreign import reading
from mrtd.asn1.keys import VerifyKey, load_verify_key
from mrtd.asn1.signatures import verify
from mrtd.asn1.tlv import BER, Tlv, TlvError, encode_length, encode_tag, string_value
from mrtd.errors import EncodingError, Finding, Severity, SignatureError

CERT_CLAUSE = "RFC 5280 §4.1"
CRL_CLAUSE = "RFC 5280 §5.1"
E = TypeVar("E", bound=ExtensionType)

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def pem_blocks(data: bytes, what: str = "PEM") -> list[tuple[str, bytes]]:
    """(label, DER) of every PEM block in `data`; text around the blocks (as `openssl pkcs7 -print_certs`
    writes it) is ignored."""
    out = []
    for m in _PEM.finditer(data):
        try:
            body = base64.b64decode(re.sub(rb"\s+", b"", m.group(2)), validate=True)
        except (binascii.Error, ValueError):
            raise EncodingError(f"{what}: bad base64 in a PEM {m.group(1).decode()} block at offset {m.start()}") from None
        out.append((m.group(1).decode(), body))
    return out


# --- DER copies of BER and of known defects --------------------------------------------------------


def _warn(findings: list[Finding], where: str, rule: str, message: str, clause: str = "X.690 §10-11") -> None:
    if not any(f.rule == rule for f in findings):
        findings.append(Finding(where, rule, message, clause, Severity.WARNING))


def _der_copy(obj: Tlv, where: str, findings: list[Finding]) -> bytes:
    """DER re-encoding of `obj` with the known defects mended, each reported once."""
    number = obj.raw[0] & 0x1F
    universal = obj.raw[0] & 0xC0 == 0
    if obj.constructed and universal and number in (0x03, 0x04, 0x0C, 0x13, 0x16):
        _warn(findings, where, "ber-constructed-string", f"constructed string at offset {obj.offset} (BER)")
        value = string_value(obj, where)
        return encode_tag(number) + encode_length(len(value)) + value
    if not obj.constructed:
        value = obj.value
        if obj.tag == der.BOOLEAN and value not in (b"\x00", b"\xff") and len(value) == 1:
            _warn(findings, where, "boolean-not-der", f"BOOLEAN TRUE encoded as {value.hex()} at offset {obj.offset}")
            value = b"\xff"
        elif obj.tag == der.INTEGER and _redundant(value):
            _warn(findings, where, "integer-not-minimal", f"INTEGER with a redundant leading octet at offset {obj.offset}")
            while _redundant(value):
                value = value[1:]
        return encode_tag(obj.tag) + encode_length(len(value)) + value
    kids = list(obj.children(what=where))
    if obj.tag == der.SEQUENCE and len(kids) == 2 and kids[0].tag == der.OID and kids[1].raw == der.NULL_DER \
            and der.oid_text(kids[0].value) in ECDSA:
        _warn(findings, where, "ecdsa-null-params",
              "ecdsa-with-SHA* AlgorithmIdentifier with NULL parameters (must be absent)", "RFC 5758 §3.2")
        kids = kids[:1]
    if obj.tag == der.SEQUENCE and len(kids) == 3 and kids[0].tag == der.OID and kids[1].raw == b"\x01\x01\x00" \
            and kids[2].tag == der.OCTET_STRING:
        _warn(findings, where, "default-encoded", "extension with critical FALSE encoded (DEFAULT must be omitted)",
              "X.690 §11.5")
        kids = [kids[0], kids[2]]
    inner = b"".join(_der_copy(k, where, findings) for k in kids)
    return encode_tag(obj.tag) + encode_length(len(inner)) + inner


def _redundant(value: bytes) -> bool:
    return len(value) > 1 and ((value[0] == 0 and value[1] < 0x80) or (value[0] == 0xFF and value[1] >= 0x80))


def _serial_findings(value: bytes, findings: list[Finding]) -> None:
    serial = int.from_bytes(value, "big", signed=True)
    if serial <= 0:
        findings.append(Finding("serialNumber", "serial-not-positive", f"serial number {serial} is not positive",
                                "RFC 5280 §4.1.2.2, Doc 9303-12 Table 5", Severity.WARNING))
    if len(value) > 20:
        findings.append(Finding("serialNumber", "serial-too-long", f"serial number of {len(value)} octets (at most 20)",
                                "RFC 5280 §4.1.2.2", Severity.WARNING))


def _signed_frame(data: bytes, what: str, findings: list[Finding]) -> tuple[Tlv, Tlv, der.AlgorithmIdentifier, bytes]:
    """SIGNED{ToBeSigned} ::= SEQUENCE { toBeSigned, algorithm, signature BIT STRING }."""
    top = Tlv.decode(data, what=what, rules=BER, findings=findings)
    parts = der.children(top, der.SEQUENCE, what, CERT_CLAUSE)
    if len(parts) != 3:
        raise TlvError(f"{what}: expected toBeSigned, signatureAlgorithm and signatureValue [{CERT_CLAUSE}]")
    tbs, alg_obj, bits = parts
    if tbs.tag != der.SEQUENCE:
        raise TlvError(f"{what}: toBeSigned at offset {tbs.offset} is not a SEQUENCE [{CERT_CLAUSE}]")
    alg = der.AlgorithmIdentifier.read(alg_obj, f"{what}.signatureAlgorithm")
    value = string_value(bits, f"{what}.signatureValue") if bits.tag in (der.BIT_STRING, 0x23) else None
    if value is None or not value or value[0] != 0:
        raise TlvError(f"{what}.signatureValue: at offset {bits.offset} must be a BIT STRING with no unused bits "
                       f"[{CERT_CLAUSE}.1.3]")
    return top, tbs, alg, value[1:]


def _load(kind: str, what: str, top: Tlv, findings: list[Finding], load: Any, force: Any) -> Any:
    """cryptography's view of the original bytes, or of a DER copy when it refuses them."""
    if not findings:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = load(top.raw)
                force(obj)
            return obj
        except (ValueError, TypeError):
            pass  # try a DER copy below; a refusal of the copy is what gets reported
    mended = _der_copy(top, what, findings)
    with reading(f"{what} ({kind})"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = load(mended)
        force(obj)
    return obj


# --- certificates ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Certificate:
    der: bytes  # exactly as received
    tbs: bytes  # the tbsCertificate bytes the signature covers, as received
    signature_algorithm: AlgorithmIdentifier
    signature: bytes
    serial: int
    issuer_der: bytes
    subject_der: bytes
    spki: bytes
    x509: x509.Certificate  # cryptography's view (of `der`, or of its DER copy)
    findings: tuple[Finding, ...] = field(default=())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, x509.Certificate):  # the same certificate as cryptography holds it
            return other.public_bytes(serialization.Encoding.DER) == self.der
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    @property
    def subject(self) -> Name:
        return self.x509.subject

    @property
    def issuer(self) -> Name:
        return self.x509.issuer

    @cached_property
    def subject_text(self) -> str:
        return _name_text(self.x509.subject)

    @cached_property
    def issuer_text(self) -> str:
        return _name_text(self.x509.issuer)

    @property
    def country(self) -> str:
        return _attribute(self.subject, NameOID.COUNTRY_NAME)

    @property
    def common_name(self) -> str:
        return _attribute(self.subject, NameOID.COMMON_NAME)

    @property
    def not_before(self) -> dt.datetime:
        return self.x509.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.x509.not_valid_after_utc

    @property
    def sha1(self) -> bytes:
        return hashlib.sha1(self.der).digest()

    @property
    def self_issued(self) -> bool:
        return self.subject_der == self.issuer_der or self.subject == self.issuer

    def extension(self, kind: type[E]) -> E | None:
        """The value of one extension, None when absent; a malformed one is an EncodingError."""
        with reading(f"certificate {self.serial:X} extension {kind.__name__}"):
            try:
                return self.x509.extensions.get_extension_for_class(kind).value
            except x509.ExtensionNotFound:
                return None

    def extension_by_oid(self, dotted: str) -> ExtensionType | None:
        with reading(f"certificate {self.serial:X} extension {dotted}"):
            try:
                return self.x509.extensions.get_extension_for_oid(x509.ObjectIdentifier(dotted)).value
            except x509.ExtensionNotFound:
                return None

    @property
    def ski(self) -> bytes | None:
        try:
            ext = self.extension(x509.SubjectKeyIdentifier)
        except EncodingError:
            return None
        return ext.digest if ext is not None else None

    @property
    def aki(self) -> bytes | None:
        try:
            ext = self.extension(x509.AuthorityKeyIdentifier)
        except EncodingError:
            return None
        return ext.key_identifier if ext is not None else None

    @cached_property
    def public_key(self) -> VerifyKey:
        """The subject's key on any curve issuers use (explicit parameters included)."""
        return load_verify_key(self.spki, f"certificate {self.serial:X} subjectPublicKeyInfo")

    def verify_signed_by(self, issuer_key: VerifyKey) -> str:
        """Check this certificate's signature over its original tbsCertificate; raises SignatureError."""
        return verify(issuer_key, self.signature_algorithm, self.tbs, self.signature,
                      what=f"certificate {self.serial:X} signature")

    def signed_by(self, issuer: Certificate) -> bool:
        try:
            self.verify_signed_by(issuer.public_key)
        except (SignatureError, EncodingError):
            return False
        return True

    def pem(self) -> bytes:
        """The certificate as received, in PEM."""
        body = base64.encodebytes(self.der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"

    def der_copy(self) -> bytes:
        """The DER bytes cryptography read (equal to `der` unless a defect was mended)."""
        return self.x509.public_bytes(serialization.Encoding.DER)


def _name_text(name: Name) -> str:
    try:
        return name.rfc4514_string()
    except (ValueError, TypeError, KeyError):
        return "(unprintable name)"


def _attribute(name: Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _force_certificate(cert: x509.Certificate) -> None:
    """cryptography parses lazily: touch every part a verifier uses so that errors surface here."""
    _ = (cert.serial_number, cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc,
         cert.version, cert.extensions, cert.signature_algorithm_oid)
    for ext in cert.extensions:
        _ = ext.value
    _name_text(cert.subject)
    _name_text(cert.issuer)


def read_certificate(data: bytes, what: str = "certificate") -> Certificate:
    """A certificate from DER or BER bytes; what was tolerated is in `findings`. Raises EncodingError."""
    findings: list[Finding] = []
    data = bytes(data)
    with reading(what):
        top, tbs, alg, signature = _signed_frame(data, what, findings)
        fields = list(tbs.children(what=f"{what}.tbsCertificate"))
        if fields and fields[0].tag == 0xA0:
            fields.pop(0)
        if len(fields) < 6:
            raise TlvError(f"{what}.tbsCertificate: too short [{CERT_CLAUSE}]")
        serial = der.read_int(fields[0], f"{what}.tbsCertificate.serialNumber")
        issuer, subject, spki = fields[2], fields[4], fields[5]
        _serial_findings(fields[0].value, findings)
        tolerated = [f for f in findings if not f.rule.startswith("serial-")]
        cert = _load("X.509 certificate", what, top, tolerated, x509.load_der_x509_certificate, _force_certificate)
        findings = [*tolerated, *(f for f in findings if f.rule.startswith("serial-"))]
        return Certificate(data, tbs.raw, alg, signature, serial, issuer.raw, subject.raw, spki.raw, cert,
                           tuple(findings))


def as_certificate(cert: Certificate | x509.Certificate | bytes, what: str = "certificate") -> Certificate:
    if isinstance(cert, Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return read_certificate(cert.public_bytes(serialization.Encoding.DER), what)
    return read_certificate(cert, what)


def read_certificates(data: bytes, what: str = "certificates") -> list[Certificate]:
    """Every certificate of a PEM bundle (text around the blocks ignored), or the one DER/BER certificate."""
    blocks = pem_blocks(data, what)
    if not blocks:
        return [read_certificate(data, what)]
    return [read_certificate(body, f"{what}[{i}]") for i, (label, body) in enumerate(blocks)
            if label in ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")]


# --- CRLs -------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Crl:
    der: bytes
    tbs: bytes
    signature_algorithm: AlgorithmIdentifier
    signature: bytes
    issuer_der: bytes
    x509: X509Crl
    findings: tuple[Finding, ...] = field(default=())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Crl) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    @property
    def issuer(self) -> Name:
        return self.x509.issuer

    @property
    def this_update(self) -> dt.datetime:
        return self.x509.last_update_utc

    @property
    def next_update(self) -> dt.datetime | None:
        return self.x509.next_update_utc

    @property
    def number(self) -> int | None:
        with reading("CRL cRLNumber"):
            try:
                return self.x509.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            except x509.ExtensionNotFound:
                return None

    def revoked_at(self, serial: int) -> dt.datetime | None:
        with reading("CRL revokedCertificates"):
            entry = self.x509.get_revoked_certificate_by_serial_number(serial)
            return entry.revocation_date_utc if entry is not None else None

    def signed_by(self, issuer: Certificate) -> bool:
        try:
            verify(issuer.public_key, self.signature_algorithm, self.tbs, self.signature, what="CRL signature")
        except (SignatureError, EncodingError):
            return False
        return True


def _force_crl(crl: X509Crl) -> None:
    _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, crl.extensions, crl.signature_algorithm_oid)
    for ext in crl.extensions:
        _ = ext.value
    for entry in crl:
        _ = (entry.serial_number, entry.revocation_date_utc, entry.extensions)


def read_crl(data: bytes, what: str = "CRL") -> Crl:
    findings: list[Finding] = []
    data = bytes(data)
    with reading(what):
        top, tbs, alg, signature = _signed_frame(data, what, findings)
        fields = list(tbs.children(what=f"{what}.tbsCertList"))
        if fields and fields[0].tag == der.INTEGER:
            fields.pop(0)
        if len(fields) < 3:
            raise TlvError(f"{what}.tbsCertList: too short [{CRL_CLAUSE}]")
        crl = _load("X.509 CRL", what, top, findings, x509.load_der_x509_crl, _force_crl)
        return Crl(data, tbs.raw, alg, signature, fields[1].raw, crl, tuple(findings))


def load_certificate(data: bytes, what: str = "certificate") -> Certificate:
    """One certificate given as DER, BER or PEM (the first CERTIFICATE block, text around it ignored)."""
    found = read_certificates(data, what)
    if not found:
        raise EncodingError(f"{what}: no CERTIFICATE block in the PEM text")
    return found[0]
