"""CMS SignedData (RFC 5652) as EF.SOD and EF.CardSecurity use it (Doc 9303-10 §4.6.2, Table 37).

Written on `tlv`/`der` rather than through pyasn1 or cryptography's PKCS#7 API because verification must
run over the exact bytes read from a chip (signed attributes, eContent) and because signing must not
need the private key: everything signs through a `Signer`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mrtd.chip.lds import der
from mrtd.chip.lds.der import AlgorithmIdentifier
from mrtd.chip.lds.keys import PublicKey, load_spki
from mrtd.chip.lds.tlv import Tlv, TlvError, tlv
from mrtd.errors import EncodingError, MrtdError, ProfileError, SignatureError
from mrtd.pki.signer import HashName, Signer

CLAUSE = "RFC 5652 §5"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"

# What cryptography raises on a malformed certificate (lazily, when a part is first read).
CERTIFICATE_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.InvalidVersion,
    x509.UnsupportedGeneralNameType,
)  # fmt: skip
READ_ERRORS: tuple[type[Exception], ...] = (MrtdError, *CERTIFICATE_ERRORS)

DIGESTS: dict[str, str] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
DIGEST_OIDS: dict[str, str] = {v: k for k, v in DIGESTS.items()}

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
MGF1 = "1.2.840.113549.1.1.8"
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_RSA_PKCS1: dict[str, str] = {
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
_ECDSA: dict[str, str] = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
ECDSA_OIDS: dict[str, str] = {v: k for k, v in _ECDSA.items()}
_ECDSA_PLAIN: dict[str, str] = {  # BSI TR-03111 plain r||s signatures
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
_HASH_OBJECTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def digest_name(alg: AlgorithmIdentifier, what: str) -> str:
    """The hash of a DigestAlgorithmIdentifier; absent and NULL parameters are both accepted (§4.6.2.2)."""
    name = DIGESTS.get(alg.oid)
    if name is None:
        raise EncodingError(f"{what}: digest algorithm {alg.oid} is not SHA-1/224/256/384/512 [Doc 9303-12 §5]")
    if alg.parameters not in (None, b"\x05\x00"):
        raise EncodingError(f"{what}: digest algorithm parameters must be absent or NULL [RFC 5754 §2]")
    return name


def digest_algorithm(name: str) -> bytes:
    """A DigestAlgorithmIdentifier without parameters, as Doc 9303-10 §4.6.2.2 asks."""
    return der.seq(der.oid(DIGEST_OIDS[name]))


@dataclass(frozen=True, slots=True)
class SignerInfo:
    version: int
    issuer: bytes | None  # the raw issuer Name of issuerAndSerialNumber
    serial: int | None
    subject_key_identifier: bytes | None
    digest_algorithm: AlgorithmIdentifier
    signed_attrs: bytes | None  # the raw [0] IMPLICIT element exactly as stored (tag A0)
    signature_algorithm: AlgorithmIdentifier
    signature: bytes
    raw: bytes = field(repr=False)

    def signed_attrs_der(self) -> bytes:
        """What the signature covers: the signed attributes with the SET OF tag (RFC 5652 §5.4)."""
        if self.signed_attrs is None:
            raise EncodingError(f"SignerInfo: no signed attributes [{CLAUSE}]")
        return b"\x31" + self.signed_attrs[1:]

    def attributes(self) -> dict[str, tuple[Tlv, ...]]:
        if self.signed_attrs is None:
            return {}
        out: dict[str, tuple[Tlv, ...]] = {}
        for attr in Tlv.decode(self.signed_attrs, what="signedAttrs").children():
            parts = der.children(attr, der.SEQUENCE, "signedAttrs.Attribute", CLAUSE)
            if len(parts) != 2:
                raise TlvError(f"signedAttrs.Attribute: needs a type and a SET of values [{CLAUSE}]")
            kind = der.read_oid(parts[0], "signedAttrs.Attribute.attrType")
            if kind in out:
                raise TlvError(f"signedAttrs: attribute {kind} appears twice [RFC 5652 §5.3]")
            out[kind] = der.children(parts[1], der.SET, "signedAttrs.Attribute.attrValues", CLAUSE)
        return out

    def matches(self, cert: x509.Certificate) -> bool:
        if self.issuer is not None:
            issuer, serial = issuer_and_serial(cert.public_bytes(_DER))
            return issuer == self.issuer and serial == self.serial
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            return False
        except CERTIFICATE_ERRORS:
            return False
        return ski == self.subject_key_identifier


@dataclass(frozen=True, slots=True)
class SignedData:
    version: int
    digest_algorithms: tuple[AlgorithmIdentifier, ...]
    content_type: str
    content: bytes  # the eContent octets, as stored
    certificates: tuple[bytes, ...]  # each certificate's DER, as stored
    crls: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]
    raw: bytes = field(repr=False)  # the whole ContentInfo

    def certificate_objects(self) -> tuple[x509.Certificate, ...]:
        out = []
        for c in self.certificates:
            try:
                _check_certificate_frame(c)
                out.append(x509.load_der_x509_certificate(c))
            except TlvError:
                continue
            except CERTIFICATE_ERRORS:
                continue  # not a certificate we can read; the signer lookup reports it missing
        return tuple(out)

    def signer_certificate(self, signer: SignerInfo) -> x509.Certificate | None:
        return next((c for c in self.certificate_objects() if signer.matches(c)), None)

    @classmethod
    def decode(cls, data: bytes, what: str = "ContentInfo") -> SignedData:
        ci = der.children(Tlv.decode(data, what=what), der.SEQUENCE, what, CLAUSE)
        if len(ci) != 2 or der.read_oid(ci[0], f"{what}.contentType") != ID_SIGNED_DATA:
            raise TlvError(f"{what}: not a CMS ContentInfo holding SignedData [RFC 5652 §3]")
        wrapped = der.children(ci[1], 0xA0, f"{what}.content", CLAUSE)
        if len(wrapped) != 1:
            raise TlvError(f"{what}.content: expected one SignedData [{CLAUSE}]")
        parts = list(der.children(wrapped[0], der.SEQUENCE, "SignedData", CLAUSE))
        if len(parts) < 4:
            raise TlvError(f"SignedData: needs version, digestAlgorithms, encapContentInfo, signerInfos [{CLAUSE}]")
        version = der.read_int(parts[0], "SignedData.version")
        digests = tuple(
            AlgorithmIdentifier.read(a, "SignedData.digestAlgorithms")
            for a in der.children(parts[1], der.SET, "SignedData.digestAlgorithms", CLAUSE)
        )
        encap = der.children(parts[2], der.SEQUENCE, "SignedData.encapContentInfo", CLAUSE)
        if len(encap) != 2:
            raise TlvError("SignedData.encapContentInfo: eContent is required [Doc 9303-10 §4.6.2]")
        content_type = der.read_oid(encap[0], "SignedData.encapContentInfo.eContentType")
        econtent = der.children(encap[1], 0xA0, "SignedData.eContent", CLAUSE)
        if len(econtent) != 1:
            raise TlvError(f"SignedData.eContent: expected one OCTET STRING [{CLAUSE}]")
        content = der.read_octets(econtent[0], "SignedData.eContent")
        rest = parts[3:]
        certs: tuple[bytes, ...] = ()
        crls: tuple[bytes, ...] = ()
        if rest and rest[0].tag == 0xA0:
            certs = tuple(c.raw for c in rest.pop(0).children())
        if rest and rest[0].tag == 0xA1:
            crls = tuple(c.raw for c in rest.pop(0).children())
        if len(rest) != 1:
            raise TlvError(f"SignedData: unexpected elements after the certificates [{CLAUSE}]")
        signers = tuple(
            _signer_info(s) for s in der.children(rest[0], der.SET, "SignedData.signerInfos", CLAUSE)
        )
        if not signers:
            raise TlvError("SignedData.signerInfos: no SignerInfo [Doc 9303-10 §4.6.2]")
        return cls(version, digests, content_type, content, certs, crls, signers, bytes(data))


def _signer_info(obj: Tlv) -> SignerInfo:
    what = "SignerInfo"
    parts = list(der.children(obj, der.SEQUENCE, what, CLAUSE))
    if len(parts) < 5:
        raise TlvError(f"{what}: too few elements [{CLAUSE}]")
    version = der.read_int(parts[0], f"{what}.version")
    sid = parts[1]
    issuer: bytes | None = None
    serial: int | None = None
    ski: bytes | None = None
    if sid.tag == der.SEQUENCE:
        ias = sid.children()
        if len(ias) != 2:
            raise TlvError(f"{what}.sid: issuerAndSerialNumber needs issuer and serial [{CLAUSE}]")
        if ias[0].tag != der.SEQUENCE:
            raise TlvError(f"{what}.sid.issuer: not a Name [{CLAUSE}]")
        issuer = ias[0].raw
        serial = der.read_int(ias[1], f"{what}.sid.serialNumber")
    elif sid.tag == 0x80:
        ski = sid.value
    else:
        raise TlvError(f"{what}.sid: neither issuerAndSerialNumber nor subjectKeyIdentifier [{CLAUSE}]")
    digest = AlgorithmIdentifier.read(parts[2], f"{what}.digestAlgorithm")
    idx = 3
    signed_attrs = None
    if parts[idx].tag == 0xA0:
        signed_attrs = parts[idx].raw
        idx += 1
    if len(parts) < idx + 2:
        raise TlvError(f"{what}: signatureAlgorithm or signature missing [{CLAUSE}]")
    sig_alg = AlgorithmIdentifier.read(parts[idx], f"{what}.signatureAlgorithm")
    signature = der.read_octets(parts[idx + 1], f"{what}.signature")
    tail = parts[idx + 2 :]
    if tail and (len(tail) > 1 or tail[0].tag != 0xA1):
        raise TlvError(f"{what}: unexpected elements after the signature [{CLAUSE}]")
    return SignerInfo(version, issuer, serial, ski, digest, signed_attrs, sig_alg, signature, obj.raw)


_DER = Encoding.DER


def _check_certificate_frame(cert_der: bytes) -> None:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } with no
    unused bits in the signature: cryptography ignores that byte, a conformant DER certificate does not."""
    parts = der.children(Tlv.decode(cert_der, what="certificate"), der.SEQUENCE, "certificate", "RFC 5280 §4.1")
    if len(parts) != 3 or parts[2].tag != der.BIT_STRING or parts[2].value[:1] != b"\x00":
        raise TlvError("certificate: signatureValue must be a BIT STRING with no unused bits [RFC 5280 §4.1.1.3]")


def _tbs_fields(cert_der: bytes, needed: int) -> list[Tlv]:
    """The tbsCertificate fields after the optional [0] version (serialNumber first), at least `needed`."""
    cert = der.children(Tlv.decode(cert_der, what="certificate"), der.SEQUENCE, "certificate", "RFC 5280 §4.1")
    tbs = list(der.children(cert[0], der.SEQUENCE, "tbsCertificate", "RFC 5280 §4.1"))
    if tbs and tbs[0].tag == 0xA0:
        tbs.pop(0)
    if len(tbs) < needed:
        raise TlvError("tbsCertificate: too short [RFC 5280 §4.1]")
    return tbs


@lru_cache(maxsize=64)
def issuer_and_serial(cert_der: bytes) -> tuple[bytes, int]:
    """The raw issuer Name and the serial number of a certificate, from its own bytes."""
    tbs = _tbs_fields(cert_der, 3)
    return tbs[2].raw, der.read_int(tbs[0], "tbsCertificate.serialNumber")


@lru_cache(maxsize=64)
def _spki_of(cert_der: bytes) -> bytes:
    return _tbs_fields(cert_der, 6)[5].raw


def certificate_key(cert: x509.Certificate) -> PublicKey:
    """The certificate's public key, also when its EC parameters are explicit (Doc 9303-12 §5)."""
    try:
        key = cert.public_key()
    except CERTIFICATE_ERRORS:
        return load_spki(_spki_of(cert.public_bytes(_DER)), "certificate.subjectPublicKeyInfo")
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise EncodingError("certificate: only RSA and EC keys sign LDS objects [Doc 9303-12 §5]")
    return key


def _pss_params(params: bytes | None) -> tuple[str, str, int]:
    """(hash, MGF1 hash, salt length) from RSASSA-PSS-params, with RFC 4055's defaults."""
    hash_name, mgf_hash, salt = "sha1", "sha1", 20
    if params is None or params == b"\x05\x00":
        return hash_name, mgf_hash, salt
    for obj in der.children(Tlv.decode(params, what="RSASSA-PSS-params"), der.SEQUENCE, "RSASSA-PSS-params", "RFC 4055 §3.1"):
        inner = obj.children()
        if len(inner) != 1:
            raise TlvError("RSASSA-PSS-params: each field holds one value [RFC 4055 §3.1]")
        if obj.tag == 0xA0:
            hash_name = digest_name(AlgorithmIdentifier.read(inner[0], "RSASSA-PSS-params.hashAlgorithm"), "RSASSA-PSS-params.hashAlgorithm")
        elif obj.tag == 0xA1:
            mgf = AlgorithmIdentifier.read(inner[0], "RSASSA-PSS-params.maskGenAlgorithm")
            if mgf.oid != MGF1 or mgf.parameters is None:
                raise EncodingError("RSASSA-PSS-params: only MGF1 is supported [RFC 4055 §3.1]")
            mgf_hash = digest_name(AlgorithmIdentifier.read(Tlv.decode(mgf.parameters), "MGF1 hash"), "MGF1 hash")
        elif obj.tag == 0xA2:
            salt = der.read_int(inner[0], "RSASSA-PSS-params.saltLength")
        elif obj.tag == 0xA3:
            if der.read_int(inner[0], "RSASSA-PSS-params.trailerField") != 1:
                raise EncodingError("RSASSA-PSS-params: trailerField must be 1 [RFC 4055 §3.1]")
        else:
            raise TlvError(f"RSASSA-PSS-params: unknown field {obj.tag:X} [RFC 4055 §3.1]")
    return hash_name, mgf_hash, salt


def verify_signature(key: PublicKey, alg: AlgorithmIdentifier, digest: str, message: bytes, signature: bytes) -> str:
    """Verify `signature` over `message`; returns a short description of the scheme. Raises SignatureError."""
    try:
        if alg.oid == RSA_PSS:
            hash_name, mgf_hash, salt = _pss_params(alg.parameters)
            scheme = f"RSASSA-PSS {hash_name.upper()} salt {salt}"
            if not isinstance(key, rsa.RSAPublicKey):
                raise SignatureError(f"signature: {scheme} but the certificate key is not RSA")
            pad = padding.PSS(mgf=padding.MGF1(_HASH_OBJECTS[mgf_hash]()), salt_length=salt)
            key.verify(signature, message, pad, _HASH_OBJECTS[hash_name]())
        elif alg.oid == RSA_ENCRYPTION or alg.oid in _RSA_PKCS1:
            hash_name = _RSA_PKCS1.get(alg.oid, digest)
            scheme = f"RSA PKCS#1 v1.5 {hash_name.upper()}"
            if not isinstance(key, rsa.RSAPublicKey):
                raise SignatureError(f"signature: {scheme} but the certificate key is not RSA")
            key.verify(signature, message, padding.PKCS1v15(), _HASH_OBJECTS[hash_name]())
        elif alg.oid in _ECDSA or alg.oid == ID_EC_PUBLIC_KEY or alg.oid in _ECDSA_PLAIN:
            hash_name = _ECDSA.get(alg.oid) or _ECDSA_PLAIN.get(alg.oid) or digest
            scheme = f"ECDSA {hash_name.upper()}"
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise SignatureError(f"signature: {scheme} but the certificate key is not EC")
            sig = signature
            if alg.oid in _ECDSA_PLAIN:
                if not sig or len(sig) % 2:
                    raise SignatureError("signature: plain ECDSA signature of odd length [BSI TR-03111 §5.2.1]")
                half = len(sig) // 2
                sig = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
            key.verify(sig, message, ec.ECDSA(_HASH_OBJECTS[hash_name]()))
        else:
            raise SignatureError(f"signature: algorithm {alg.oid} is not RSA, RSA-PSS or ECDSA [Doc 9303-12 §5]")
    except InvalidSignature:
        raise SignatureError(f"signature: the {scheme} signature does not verify") from None
    except CERTIFICATE_ERRORS as exc:
        raise SignatureError(f"signature: cannot be checked ({exc.__class__.__name__}: {exc})") from None
    return scheme


def verify_signer(sd: SignedData, signer: SignerInfo, cert: x509.Certificate) -> str:
    """Check contentType and messageDigest, then the signature with `cert`'s key. Raises SignatureError."""
    digest = digest_name(signer.digest_algorithm, "SignerInfo.digestAlgorithm")
    if sd.version != 3:
        raise SignatureError(f"SignedData.version: {sd.version}, must be v3 [Doc 9303-10 Table 37, RFC 5652 §5.1]")
    if (signer.version, signer.issuer is not None) not in ((1, True), (3, False)):
        raise SignatureError(f"SignerInfo.version: {signer.version} does not match its sid choice [RFC 5652 §5.3]")
    if signer.digest_algorithm.oid not in {a.oid for a in sd.digest_algorithms}:
        raise SignatureError(f"SignedData.digestAlgorithms: does not list the signer's {signer.digest_algorithm.oid} [RFC 5652 §5.1]")
    if signer.signed_attrs is None:
        raise SignatureError("SignerInfo: signedAttrs are required [Doc 9303-10 §4.6.2, Table 37]")
    attrs = signer.attributes()
    ctype = attrs.get(ID_CONTENT_TYPE)
    if not ctype or len(ctype) != 1 or der.read_oid(ctype[0], "contentType") != sd.content_type:
        raise SignatureError(f"signedAttrs.contentType: missing or not {sd.content_type} [RFC 5652 §11.1]")
    md = attrs.get(ID_MESSAGE_DIGEST)
    if not md or len(md) != 1:
        raise SignatureError("signedAttrs.messageDigest: missing [RFC 5652 §11.2]")
    if der.read_octets(md[0], "messageDigest") != hashlib.new(digest, sd.content).digest():
        raise SignatureError("signedAttrs.messageDigest: does not match the hash of eContent [RFC 5652 §11.2]")
    return verify_signature(certificate_key(cert), signer.signature_algorithm, digest, signer.signed_attrs_der(), signer.signature)


def _signature_algorithm(key: PublicKey, hash_name: str) -> bytes:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return der.seq(der.oid(ECDSA_OIDS[hash_name]))
    h = der.seq(der.oid(DIGEST_OIDS[hash_name]), b"\x05\x00")
    salt = _HASH_OBJECTS[hash_name]().digest_size
    params = der.seq(der.context(0, h), der.context(1, der.seq(der.oid(MGF1), h)), der.context(2, der.integer(salt)))
    return der.seq(der.oid(RSA_PSS), params)


@lru_cache(maxsize=16)
def _same_key(signer_key_der: bytes, cert_der: bytes) -> bool:
    cert = x509.load_der_x509_certificate(cert_der)
    return certificate_key(cert).public_bytes(_DER, PublicFormat.SubjectPublicKeyInfo) == signer_key_der


def sign(
    content_type: str,
    content: bytes,
    signer: Signer,
    certificate: x509.Certificate,
    hash_name: HashName,
    *,
    signing_time: dt.datetime | None = None,
    extra_certificates: Sequence[x509.Certificate] = (),
) -> bytes:
    """A DER ContentInfo/SignedData v3 over `content`: one SignerInfo (issuerAndSerialNumber),
    signed attributes contentType + messageDigest (+ signingTime), the signer's certificate included."""
    name = HashName(hash_name).value
    if name not in ("sha256", "sha384", "sha512"):
        raise ProfileError(f"SOD hash {name}: this issuer writes SHA-256, SHA-384 or SHA-512 [Doc 9303-12 §5]")
    key = signer.public_key()

    cert_der = certificate.public_bytes(_DER)
    if not _same_key(key.public_bytes(_DER, PublicFormat.SubjectPublicKeyInfo), cert_der):
        raise ProfileError(f"signer {signer.key_id}: its key is not the key of the certificate given")
    issuer, serial = issuer_and_serial(cert_der)
    attrs = [
        der.seq(der.oid(ID_CONTENT_TYPE), der.set_of(der.oid(content_type))),
        der.seq(der.oid(ID_MESSAGE_DIGEST), der.set_of(der.octets(hashlib.new(name, content).digest()))),
    ]
    if signing_time is not None:
        attrs.append(der.seq(der.oid(ID_SIGNING_TIME), der.set_of(der.utc_time(signing_time))))
    signed_attrs = der.set_of(*attrs)
    signature = signer.sign(signed_attrs, HashName(name))
    digest_alg = digest_algorithm(name)
    signer_info = der.seq(
        der.integer(1),
        der.seq(issuer, der.integer(serial)),
        digest_alg,
        b"\xa0" + signed_attrs[1:],
        _signature_algorithm(key, name),
        der.octets(signature),
    )
    # certificates is a SET OF: DER orders the members by their encodings (X.690 §11.6)
    certs = b"".join(sorted([cert_der, *(c.public_bytes(_DER) for c in extra_certificates)]))
    signed_data = der.seq(
        der.integer(3),
        der.set_of(digest_alg),
        der.seq(der.oid(content_type), der.context(0, der.octets(content))),
        tlv(0xA0, certs),
        der.set_of(signer_info),
    )
    return der.seq(der.oid(ID_SIGNED_DATA), der.context(0, signed_data))
