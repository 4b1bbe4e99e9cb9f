"""Signer certificates of seals, read leniently, and raw r||s ECDSA verification.

Two field facts force a lenient path: the ICAO VDS-NC worked-example signer encodes ecdsa-with-SHA256
with explicit NULL parameters (pyca/cryptography refuses the whole certificate as non-DER), and German
test signers use brainpoolP224r1 (cryptography refuses the curve). In both cases the fields a verifier
needs are read with pyasn1, and the signature is checked with the pure-Python `ecdsa` package.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import ecdsa
import ecdsa.util
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1_modules import rfc5280

from mrtd.errors import EncodingError, InputError, SignatureError
from mrtd.pki.signer import HashName, hash_algorithm

_OID_C = "2.5.4.6"
_OID_CN = "2.5.4.3"


@dataclass(frozen=True, slots=True)
class SignerCertificate:
    """The facts of a signer certificate a seal verifier needs, however leniently it had to be read."""

    der: bytes
    country: str
    common_name: str
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    spki_der: bytes
    subject: str
    issuer: str
    cert: x509.Certificate | None  # None when pyca/cryptography refuses the encoding
    lenient: bool = False

    @property
    def signer_id(self) -> str:
        return self.country + self.common_name

    @property
    def sha1(self) -> bytes:
        return hashlib.sha1(self.der).digest()

    @property
    def idb_reference(self) -> bytes:
        """The IDB certificate reference: the last 5 bytes of SHA-1 over the DER certificate."""
        return self.sha1[-5:]

    def matches_vds_reference(self, signer_id: str, cert_ref: str) -> bool:
        """signer id = C || CN and reference = serial in hex (leading zeros ignored) or, as TR-03171 seals
        write it, the SHA-1 of the certificate in hex."""
        if signer_id != self.signer_id:
            return False
        try:
            if int(cert_ref, 16) == self.serial:
                return True
        except ValueError:
            return False
        return cert_ref.lower() == self.sha1.hex()


def load_certificate(data: bytes) -> SignerCertificate:
    """DER or PEM -> SignerCertificate; falls back to pyasn1 when cryptography refuses the encoding."""
    der = _to_der(data)
    try:
        cert = x509.load_der_x509_certificate(der)
        return _from_cryptography(der, cert)
    except ValueError:
        return _from_pyasn1(der)


def load_certificates(path: Path) -> list[SignerCertificate]:
    """A certificate file (DER or PEM, several PEM blocks allowed) or a folder of them."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    out: list[SignerCertificate] = []
    for f in files:
        if f.suffix.lower() not in (".pem", ".der", ".crt", ".cer") and path.is_dir():
            continue
        raw = f.read_bytes()
        blocks = _pem_blocks(raw) or [raw]
        for block in blocks:
            try:
                out.append(load_certificate(block))
            except EncodingError as exc:
                raise InputError(f"{f}: {exc}") from None
    return out


def _pem_blocks(raw: bytes) -> list[bytes]:
    marker = b"-----BEGIN CERTIFICATE-----"
    parts = raw.split(marker)[1:]
    return [marker + p.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n" for p in parts]


def _to_der(data: bytes) -> bytes:
    if data.lstrip().startswith(b"-----BEGIN"):
        body = b"".join(line.strip() for line in data.strip().splitlines() if not line.startswith(b"-----"))
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise EncodingError("certificate: PEM body is not base64") from None
    return bytes(data)


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    attrs = name.get_attributes_for_oid(oid)
    value = attrs[0].value if attrs else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _from_cryptography(der: bytes, cert: x509.Certificate) -> SignerCertificate:
    try:
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (UnsupportedAlgorithm, ValueError):  # e.g. brainpoolP224r1: take the bytes as they are
        spki = _spki_with_pyasn1(der)
    return SignerCertificate(
        der=der, country=_name_attr(cert.subject, NameOID.COUNTRY_NAME),
        common_name=_name_attr(cert.subject, NameOID.COMMON_NAME), serial=cert.serial_number,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, spki_der=spki,
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(), cert=cert,
    )


def _decode_asn1(der: bytes) -> rfc5280.Certificate:
    try:
        cert, rest = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    except (PyAsn1Error, ValueError, TypeError, IndexError) as exc:
        raise EncodingError(f"certificate: not an X.509 certificate ({type(exc).__name__})") from None
    if rest:
        raise EncodingError("certificate: trailing bytes after the certificate")
    return cert


def _spki_with_pyasn1(der: bytes) -> bytes:
    cert = _decode_asn1(der)
    spki: bytes = der_encoder.encode(cert["tbsCertificate"]["subjectPublicKeyInfo"])
    return spki


def _asn1_time(t: rfc5280.Time) -> dt.datetime:
    choice = t.getName()
    value = t[choice]
    parsed: dt.datetime = value.asDateTime
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _asn1_name(name: rfc5280.Name) -> tuple[str, str, str]:
    c = cn = ""
    parts: list[str] = []
    for rdn in name[0]:
        for atv in rdn:
            oid = str(atv["type"])
            raw = bytes(atv["value"])
            try:
                value_any, _ = der_decoder.decode(raw)
                value = str(value_any)
            except (PyAsn1Error, ValueError, TypeError):
                value = raw.hex()
            if oid == _OID_C:
                c = value
                parts.append(f"C={value}")
            elif oid == _OID_CN:
                cn = value
                parts.append(f"CN={value}")
            else:
                parts.append(f"{oid}={value}")
    return c, cn, ",".join(reversed(parts))


def _from_pyasn1(der: bytes) -> SignerCertificate:
    cert = _decode_asn1(der)
    tbs = cert["tbsCertificate"]
    try:
        c, cn, subject = _asn1_name(tbs["subject"])
        _, _, issuer = _asn1_name(tbs["issuer"])
        validity = tbs["validity"]
        spki: bytes = der_encoder.encode(tbs["subjectPublicKeyInfo"])
        return SignerCertificate(
            der=der, country=c, common_name=cn, serial=int(tbs["serialNumber"]),
            not_before=_asn1_time(validity["notBefore"]), not_after=_asn1_time(validity["notAfter"]),
            spki_der=spki, subject=subject, issuer=issuer, cert=None, lenient=True,
        )
    except (PyAsn1Error, ValueError, TypeError, KeyError) as exc:
        raise EncodingError(f"certificate: unreadable field ({type(exc).__name__})") from None


def curve_bits(spki_der: bytes) -> int:
    """The bit size of the signer key's curve (decides the hash of a VDS signature)."""
    try:
        key = serialization.load_der_public_key(spki_der)
        if isinstance(key, ec.EllipticCurvePublicKey):
            return key.curve.key_size
        raise SignatureError("signer key: not an elliptic-curve key; seal signatures are ECDSA")
    except (UnsupportedAlgorithm, ValueError):
        return int(_ecdsa_key(spki_der).curve.order.bit_length())


def _ecdsa_key(spki_der: bytes) -> ecdsa.VerifyingKey:
    try:
        return ecdsa.VerifyingKey.from_der(spki_der)
    except (ecdsa.der.UnexpectedDER, ecdsa.errors.MalformedPointError, ecdsa.curves.UnknownCurveError, ValueError) as exc:
        raise SignatureError(f"signer key: cannot read the public key ({exc})") from None


def verify_raw_ecdsa(spki_der: bytes, data: bytes, raw_signature: bytes, hash_name: HashName) -> None:
    """Check an r||s signature; raises SignatureError. Curves cryptography lacks go through `ecdsa`."""
    if not raw_signature or len(raw_signature) % 2:
        raise SignatureError(f"signature: {len(raw_signature)} bytes is not an r||s pair")
    half = len(raw_signature) // 2
    r = int.from_bytes(raw_signature[:half], "big")
    s = int.from_bytes(raw_signature[half:], "big")
    try:
        key = serialization.load_der_public_key(spki_der)
    except (UnsupportedAlgorithm, ValueError):
        key = None
    if key is not None:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignatureError("signer key: not an elliptic-curve key; seal signatures are ECDSA")
        size = (key.curve.key_size + 7) // 8
        if half != size:
            raise SignatureError(f"signature: r and s take {half} bytes each, the curve needs {size}")
        try:
            key.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(hash_algorithm(hash_name)))
        except InvalidSignature:
            raise SignatureError("signature: ECDSA verification failed") from None
        return
    vk = _ecdsa_key(spki_der)
    size = (vk.curve.order.bit_length() + 7) // 8
    if half != size:
        raise SignatureError(f"signature: r and s take {half} bytes each, the curve needs {size}")
    hasher = getattr(hashlib, HashName(hash_name).value)
    try:
        vk.verify(raw_signature, data, hashfunc=hasher, sigdecode=ecdsa.util.sigdecode_string)
    except ecdsa.BadSignatureError:
        raise SignatureError("signature: ECDSA verification failed") from None
