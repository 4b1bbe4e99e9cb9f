"""CMS SignedData (RFC 5652) as ICAO objects use it: EF.SOD and EF.CardSecurity (Doc 9303-10 §4.6.2,
Table 37), CSCA master lists (Doc 9303-12 §9) and deviation lists. One reader, one writer.

Written on `tlv`/`der` rather than through pyasn1 or cryptography's PKCS#7 API because verification must
run over the exact bytes received (signed attributes, eContent), because real EF.SODs use BER (indefinite
lengths, segmented eContent) and the reader must say so, and because signing must not need the private key:
everything signs through a `DataSigner` (pki's `Signer`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mrtd.asn1 import der
from mrtd.asn1.algorithms import DIGEST_OIDS, ECDSA_OIDS, MGF1, RSA_PSS, HashName, hash_object
from mrtd.asn1.der import AlgorithmIdentifier
from mrtd.asn1.keys import CurveKey, VerifyKey
from mrtd.asn1.signatures import digest_name, verify
from mrtd.asn1.tlv import BER, Tlv, TlvError, tlv, to_der
from mrtd.asn1.x509 import Certificate, read_certificate
from mrtd.errors import EncodingError, Finding, MrtdError, ProfileError, Severity, SignatureError

CLAUSE = "RFC 5652 §5"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"


class DataSigner(Protocol):
    """What signs a SignedData: `mrtd.pki.signer.Signer` (a key file or an HSM) fits."""

    def public_key(self) -> VerifyKey: ...

    def sign(self, data: bytes, hash_name: HashName) -> bytes: ...


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
        """What the signature covers: the DER SET OF the signed attributes (RFC 5652 §5.4)."""
        if self.signed_attrs is None:
            raise EncodingError(f"SignerInfo: no signed attributes [{CLAUSE}]")
        tolerated: list[Finding] = []
        element = Tlv.decode(self.signed_attrs, what="signedAttrs", rules=BER, findings=tolerated)
        return b"\x31" + (to_der(element) if tolerated else self.signed_attrs)[1:]

    def attributes(self) -> dict[str, tuple[Tlv, ...]]:
        if self.signed_attrs is None:
            return {}
        out: dict[str, tuple[Tlv, ...]] = {}
        for attr in Tlv.decode(self.signed_attrs, what="signedAttrs", rules=BER).children(what="signedAttrs"):
            parts = der.children(attr, der.SEQUENCE, "signedAttrs.Attribute", CLAUSE)
            if len(parts) != 2:
                raise TlvError(f"signedAttrs.Attribute: needs a type and a SET of values (offset {attr.offset}) [{CLAUSE}]")
            kind = der.read_oid(parts[0], "signedAttrs.Attribute.attrType")
            if kind in out:
                raise TlvError(f"signedAttrs: attribute {kind} appears twice [RFC 5652 §5.3]")
            out[kind] = der.children(parts[1], der.SET, "signedAttrs.Attribute.attrValues", CLAUSE)
        return out

    def signing_time(self) -> dt.datetime | None:
        values = self.attributes().get(ID_SIGNING_TIME)
        return der.read_time(values[0], "signedAttrs.signingTime") if values else None

    def matches(self, cert: Certificate) -> bool:
        if self.issuer is not None:
            return cert.issuer_der == self.issuer and cert.serial == self.serial
        return cert.ski is not None and cert.ski == self.subject_key_identifier


@dataclass(frozen=True, slots=True)
class SignedData:
    version: int
    digest_algorithms: tuple[AlgorithmIdentifier, ...]
    content_type: str
    content: bytes  # the eContent octets, as stored (segments of a BER OCTET STRING joined)
    certificates: tuple[bytes, ...]  # each certificate's bytes, as stored
    crls: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]
    raw: bytes = field(repr=False)  # the whole ContentInfo
    findings: tuple[Finding, ...] = field(default=())  # what a BER reading tolerated

    def certificate_objects(self) -> tuple[Certificate, ...]:
        """Every certificate that can be read; the others are left for the signer lookup to report missing."""
        out = []
        for i, c in enumerate(self.certificates):
            try:
                out.append(read_certificate(c, f"SignedData.certificates[{i}]"))
            except MrtdError:
                continue
        return tuple(out)

    def signer_certificate(self, signer: SignerInfo, extra: Sequence[Certificate] = ()) -> Certificate | None:
        return next((c for c in (*self.certificate_objects(), *extra) if signer.matches(c)), None)

    @classmethod
    def decode(cls, data: bytes, what: str = "ContentInfo") -> SignedData:
        """A ContentInfo holding SignedData, DER or BER (reported in `findings`). Raises EncodingError."""
        findings: list[Finding] = []
        ci = der.children(Tlv.decode(data, what=what, rules=BER, findings=findings), der.SEQUENCE, what, CLAUSE)
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
            certs = tuple(c.raw for c in rest.pop(0).children(what="SignedData.certificates"))
        if rest and rest[0].tag == 0xA1:
            crls = tuple(c.raw for c in rest.pop(0).children(what="SignedData.crls"))
        if len(rest) != 1:
            raise TlvError(f"SignedData: unexpected elements after the certificates [{CLAUSE}]")
        signers = tuple(
            _signer_info(s) for s in der.children(rest[0], der.SET, "SignedData.signerInfos", CLAUSE)
        )
        if not signers:
            raise TlvError("SignedData.signerInfos: no SignerInfo [Doc 9303-10 §4.6.2]")
        if any(f.rule.startswith(("ber-", "length-")) for f in findings):
            findings = [Finding(what, "ber-encoding", "encoded with BER (" + "; ".join(f.message for f in findings)
                                + "), not DER: hashed and verified over the bytes as stored", "Doc 9303-10 §4.6.2, X.690 §10",
                                Severity.WARNING)]
        return cls(version, digests, content_type, content, certs, crls, signers, bytes(data), tuple(findings))


def _signer_info(obj: Tlv) -> SignerInfo:
    what = "SignerInfo"
    parts = list(der.children(obj, der.SEQUENCE, what, CLAUSE))
    if len(parts) < 5:
        raise TlvError(f"{what}: too few elements (offset {obj.offset}) [{CLAUSE}]")
    version = der.read_int(parts[0], f"{what}.version")
    sid = parts[1]
    issuer: bytes | None = None
    serial: int | None = None
    ski: bytes | None = None
    if sid.tag == der.SEQUENCE:
        ias = sid.children(what=f"{what}.sid")
        if len(ias) != 2:
            raise TlvError(f"{what}.sid: issuerAndSerialNumber needs issuer and serial [{CLAUSE}]")
        if ias[0].tag != der.SEQUENCE:
            raise TlvError(f"{what}.sid.issuer: not a Name at offset {ias[0].offset} [{CLAUSE}]")
        issuer = ias[0].raw
        serial = der.read_int(ias[1], f"{what}.sid.serialNumber")
    elif sid.tag == 0x80:
        ski = sid.value
    else:
        raise TlvError(f"{what}.sid: neither issuerAndSerialNumber nor subjectKeyIdentifier (offset {sid.offset}) [{CLAUSE}]")
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


def verify_signer(sd: SignedData, signer: SignerInfo, cert: Certificate) -> str:
    """Check contentType and messageDigest, then the signature with `cert`'s key. Raises SignatureError."""
    try:
        digest = digest_name(signer.digest_algorithm, "SignerInfo.digestAlgorithm")
        if sd.version != 3:
            raise SignatureError(f"SignedData.version: {sd.version}, must be v3 [Doc 9303-10 Table 37, RFC 5652 §5.1]")
        if (signer.version, signer.issuer is not None) not in ((1, True), (3, False)):
            raise SignatureError(f"SignerInfo.version: {signer.version} does not match its sid choice [RFC 5652 §5.3]")
        if signer.digest_algorithm.oid not in {a.oid for a in sd.digest_algorithms}:
            raise SignatureError(f"SignedData.digestAlgorithms: does not list the signer's {signer.digest_algorithm.oid} "
                                 "[RFC 5652 §5.1]")
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
        return verify(cert.public_key, signer.signature_algorithm, signer.signed_attrs_der(), signer.signature,
                      digest=digest, what="SignerInfo.signature")
    except SignatureError:
        raise
    except MrtdError as exc:
        raise SignatureError(f"SignerInfo: cannot be checked: {exc}") from None


def _identity(key: VerifyKey) -> object:
    if isinstance(key, CurveKey):
        return key
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def signature_algorithm(key: VerifyKey, hash_name: str) -> bytes:
    """ecdsa-with-SHA* (no parameters), or RSASSA-PSS with MGF1 of the same hash and salt = hash length."""
    if isinstance(key, ec.EllipticCurvePublicKey | CurveKey):
        return der.seq(der.oid(ECDSA_OIDS[hash_name]))
    h = der.seq(der.oid(DIGEST_OIDS[hash_name]), der.NULL_DER)
    salt = hash_object(hash_name).digest_size
    params = der.seq(der.context(0, h), der.context(1, der.seq(der.oid(MGF1), h)), der.context(2, der.integer(salt)))
    return der.seq(der.oid(RSA_PSS), params)


def sign(
    content_type: str,
    content: bytes,
    signer: DataSigner,
    certificate: Certificate,
    hash_name: HashName,
    *,
    signing_time: dt.datetime | None = None,
    certificates: Sequence[Certificate] | None = None,
    sid: str = "issuer-serial",
) -> bytes:
    """A DER ContentInfo/SignedData v3 over `content` with one SignerInfo (sid issuerAndSerialNumber or
    subjectKeyIdentifier), signed attributes contentType + messageDigest (+ signingTime), and
    `certificates` (default: the signer's) in the certificates SET."""
    name = HashName(hash_name).value
    if _identity(signer.public_key()) != _identity(certificate.public_key):
        raise ProfileError(f"SignerInfo: the signer's key is not the key of the certificate given "
                           f"(serial {certificate.serial:X})")
    attrs = [
        der.seq(der.oid(ID_CONTENT_TYPE), der.set_of(der.oid(content_type))),
        der.seq(der.oid(ID_MESSAGE_DIGEST), der.set_of(der.octets(hashlib.new(name, content).digest()))),
    ]
    if signing_time is not None:
        attrs.append(der.seq(der.oid(ID_SIGNING_TIME), der.set_of(der.time(signing_time))))
    signed_attrs = der.set_of(*attrs)
    signature = signer.sign(signed_attrs, HashName(name))
    if sid == "ski":
        if certificate.ski is None:
            raise EncodingError("SignerInfo.sid: the signer certificate has no subjectKeyIdentifier")
        sid_der, version = der.context(0, certificate.ski, constructed=False), 3
    else:
        sid_der, version = der.seq(certificate.issuer_der, der.integer(certificate.serial)), 1
    digest_alg = digest_algorithm(name)
    signer_info = der.seq(
        der.integer(version), sid_der, digest_alg, b"\xa0" + signed_attrs[1:],
        signature_algorithm(signer.public_key(), name), der.octets(signature),
    )
    included = [certificate] if certificates is None else list(certificates)
    # certificates is a SET OF: DER orders the members by their encodings (X.690 §11.6)
    certs = b"".join(sorted({c.der for c in included}))
    signed_data = der.seq(
        der.integer(3),
        der.set_of(digest_alg),
        der.seq(der.oid(content_type), der.context(0, der.octets(content))),
        tlv(0xA0, certs),
        der.set_of(signer_info),
    )
    return der.seq(der.oid(ID_SIGNED_DATA), der.context(0, signed_data))
