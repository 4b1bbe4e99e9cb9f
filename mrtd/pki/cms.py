"""The small part of CMS SignedData (RFC 5652) that ICAO objects use, encoded and walked by hand.

Written by hand (not cryptography's PKCS7 builder) because that builder only signs with a private key it
holds and always adds S/MIME attributes; here every byte is chosen to the Part 12 profile and the
signature comes from a `Signer`. Parsing keeps exact byte spans (signed attributes, certificates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from mrtd.errors import EncodingError, SignatureError
from mrtd.pki._der import children, der_int, der_oid, octets, read_tlv, seq, tlv
from mrtd.pki.signer import HashName, Signer

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_MGF1 = "1.2.840.113549.1.1.8"

HASH_OIDS = {
    HashName.SHA224: "2.16.840.1.101.3.4.2.4",
    HashName.SHA256: "2.16.840.1.101.3.4.2.1",
    HashName.SHA384: "2.16.840.1.101.3.4.2.2",
    HashName.SHA512: "2.16.840.1.101.3.4.2.3",
}
HASH_BY_OID = {v: k for k, v in HASH_OIDS.items()}
ECDSA_OIDS = {
    HashName.SHA224: "1.2.840.10045.4.3.1",
    HashName.SHA256: "1.2.840.10045.4.3.2",
    HashName.SHA384: "1.2.840.10045.4.3.3",
    HashName.SHA512: "1.2.840.10045.4.3.4",
}
RSA_PKCS1_OIDS = {
    "1.2.840.113549.1.1.14": HashName.SHA224,
    "1.2.840.113549.1.1.11": HashName.SHA256,
    "1.2.840.113549.1.1.12": HashName.SHA384,
    "1.2.840.113549.1.1.13": HashName.SHA512,
}
_HASH_OBJECTS: dict[HashName, type[hashes.HashAlgorithm]] = {
    HashName.SHA224: hashes.SHA224, HashName.SHA256: hashes.SHA256,
    HashName.SHA384: hashes.SHA384, HashName.SHA512: hashes.SHA512,
}


def decode_oid(value: bytes) -> str:
    if not value:
        raise EncodingError("DER: empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    acc = 0
    for b in value:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(acc)
            acc = 0
    if value[-1] & 0x80:
        raise EncodingError("DER: truncated OBJECT IDENTIFIER")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def digest_algorithm_id(hash_name: HashName) -> bytes:
    """DigestAlgorithmIdentifier without NULL parameters (9303-10 §4.6.2)."""
    return seq(der_oid(HASH_OIDS[hash_name]))


def signature_algorithm_id(public: object, hash_name: HashName) -> bytes:
    if isinstance(public, ec.EllipticCurvePublicKey):
        return seq(der_oid(ECDSA_OIDS[hash_name]))
    h = seq(der_oid(HASH_OIDS[hash_name]), b"\x05\x00")
    salt = _HASH_OBJECTS[hash_name]().digest_size
    params = seq(tlv(0xA0, h), tlv(0xA1, seq(der_oid(OID_MGF1), h)), tlv(0xA2, der_int(salt)))
    return seq(der_oid(OID_RSA_PSS), params)


def encode_time(moment: datetime) -> bytes:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment.year < 2050:
        return tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def decode_time(tag: int, value: bytes) -> datetime:
    text = value.decode("ascii", "replace")
    try:
        if tag == 0x17:
            t = datetime.strptime(text, "%y%m%d%H%M%SZ")
            if t.year >= 2050:  # RFC 5280 4.1.2.5.1 window
                t = t.replace(year=t.year - 100)
        elif tag == 0x18:
            t = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise EncodingError(f"DER: tag 0x{tag:02X} is not a time")
    except ValueError:
        raise EncodingError(f"DER: bad time {text!r}") from None
    return t.replace(tzinfo=UTC)


def sign_data(content_type: str, content: bytes, signer: Signer, signer_cert: x509.Certificate,
              certificates: Sequence[x509.Certificate], hash_name: HashName, signing_time: datetime | None,
              *, sid: str = "ski") -> bytes:
    """ContentInfo(SignedData v3) over `content`, signer identified by SKI (or issuerAndSerialNumber)."""
    digest = hashlib.new(hash_name.value, content).digest()
    attrs = [
        seq(der_oid(OID_CONTENT_TYPE), tlv(0x31, der_oid(content_type))),
        seq(der_oid(OID_MESSAGE_DIGEST), tlv(0x31, octets(digest))),
    ]
    if signing_time is not None:
        attrs.append(seq(der_oid(OID_SIGNING_TIME), tlv(0x31, encode_time(signing_time))))
    attrs_body = b"".join(sorted(attrs))  # DER SET OF
    signature = signer.sign(tlv(0x31, attrs_body), hash_name)
    if sid == "ski":
        ski = signer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        sid_der, version = tlv(0x80, ski), 3
    else:
        issuer = signer_cert.issuer.public_bytes()
        sid_der, version = seq(issuer, der_int(signer_cert.serial_number)), 1
    signer_info = seq(
        der_int(version), sid_der, digest_algorithm_id(hash_name), tlv(0xA0, attrs_body),
        signature_algorithm_id(signer.public_key(), hash_name), octets(signature),
    )
    certs = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certificates)
    signed_data = seq(
        der_int(3), tlv(0x31, digest_algorithm_id(hash_name)),
        seq(der_oid(content_type), tlv(0xA0, octets(content))),
        tlv(0xA0, certs), tlv(0x31, signer_info),
    )
    return seq(der_oid(OID_SIGNED_DATA), tlv(0xA0, signed_data))


@dataclass(frozen=True)
class SignerInfo:
    version: int
    sid_ski: bytes | None
    sid_issuer: bytes | None
    sid_serial: int | None
    digest_oid: str
    signed_attrs: bytes  # re-tagged as SET (0x31): the bytes the signature covers
    attributes: dict[str, list[tuple[int, bytes]]]  # oid -> values (tag, value bytes)
    signature_algorithm: bytes  # DER AlgorithmIdentifier
    signature_oid: str
    signature: bytes


@dataclass(frozen=True)
class SignedData:
    der: bytes
    content_type: str
    content: bytes
    certificates: tuple[bytes, ...]  # exact bytes
    crls_present: bool
    digest_oids: tuple[str, ...]
    version: int
    signer_infos: tuple[SignerInfo, ...]


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big", signed=True)


def parse_signed_data(der: bytes) -> SignedData:
    """Walk a DER ContentInfo(SignedData). Raises EncodingError on anything malformed."""
    try:
        return _parse(der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise EncodingError(f"CMS: malformed SignedData ({type(exc).__name__})") from None


def _expect(tag: int, want: int, what: str) -> None:
    if tag != want:
        raise EncodingError(f"CMS: {what}: expected tag 0x{want:02X}, found 0x{tag:02X}")


def _parse(der: bytes) -> SignedData:
    tag, start, end = read_tlv(der)
    _expect(tag, 0x30, "ContentInfo")
    if end != len(der):
        raise EncodingError(f"CMS: {len(der) - end} trailing bytes after ContentInfo")
    ci = children(der, start, end)
    if len(ci) != 2:
        raise EncodingError("CMS: ContentInfo must have 2 elements")
    _expect(ci[0][0], 0x06, "contentType")
    if decode_oid(der[ci[0][2]:ci[0][3]]) != OID_SIGNED_DATA:
        raise EncodingError("CMS: contentType is not signedData")
    _expect(ci[1][0], 0xA0, "content")
    inner = children(der, ci[1][2], ci[1][3])
    if len(inner) != 1:
        raise EncodingError("CMS: [0] content must hold one SignedData")
    _expect(inner[0][0], 0x30, "SignedData")
    sd = children(der, inner[0][2], inner[0][3])
    if len(sd) < 4:
        raise EncodingError("CMS: SignedData too short")
    _expect(sd[0][0], 0x02, "version")
    version = _int(der[sd[0][2]:sd[0][3]])
    _expect(sd[1][0], 0x31, "digestAlgorithms")
    digest_oids = []
    for t, _s, vs, e in children(der, sd[1][2], sd[1][3]):
        _expect(t, 0x30, "DigestAlgorithmIdentifier")
        alg = children(der, vs, e)
        _expect(alg[0][0], 0x06, "digest algorithm")
        digest_oids.append(decode_oid(der[alg[0][2]:alg[0][3]]))
    _expect(sd[2][0], 0x30, "encapContentInfo")
    enc = children(der, sd[2][2], sd[2][3])
    _expect(enc[0][0], 0x06, "eContentType")
    content_type = decode_oid(der[enc[0][2]:enc[0][3]])
    if len(enc) != 2:
        raise EncodingError("CMS: eContent missing (detached content is not used by ICAO)")
    _expect(enc[1][0], 0xA0, "eContent")
    oc = children(der, enc[1][2], enc[1][3])
    if len(oc) != 1 or oc[0][0] != 0x04:
        raise EncodingError("CMS: eContent must be one primitive OCTET STRING (DER)")
    content = der[oc[0][2]:oc[0][3]]
    certs: list[bytes] = []
    crls_present = False
    idx = 3
    if idx < len(sd) and sd[idx][0] == 0xA0:
        certs = [der[s:e] for t, s, _, e in children(der, sd[idx][2], sd[idx][3]) if t == 0x30]
        idx += 1
    if idx < len(sd) and sd[idx][0] == 0xA1:
        crls_present = True
        idx += 1
    if idx >= len(sd):
        raise EncodingError("CMS: signerInfos missing")
    _expect(sd[idx][0], 0x31, "signerInfos")
    infos = tuple(_signer_info(der, vs, e) for t, _, vs, e in children(der, sd[idx][2], sd[idx][3]))
    return SignedData(der, content_type, content, tuple(certs), crls_present, tuple(digest_oids), version, infos)


def _signer_info(der: bytes, start: int, end: int) -> SignerInfo:
    el = children(der, start, end)
    if len(el) < 5:
        raise EncodingError("CMS: SignerInfo too short")
    version = _int(der[el[0][2]:el[0][3]])
    ski = issuer = None
    serial = None
    if el[1][0] == 0x80:
        ski = der[el[1][2]:el[1][3]]
    elif el[1][0] == 0x30:
        ias = children(der, el[1][2], el[1][3])
        issuer = der[ias[0][1]:ias[0][3]]
        serial = _int(der[ias[1][2]:ias[1][3]])
    else:
        raise EncodingError("CMS: unknown SignerIdentifier")
    dig = children(der, el[2][2], el[2][3])
    digest_oid = decode_oid(der[dig[0][2]:dig[0][3]])
    i = 3
    attrs_bytes = b""
    attributes: dict[str, list[tuple[int, bytes]]] = {}
    if el[i][0] == 0xA0:
        attrs_bytes = b"\x31" + der[el[i][1] + 1:el[i][3]]
        for _, _, avs, ae in children(der, el[i][2], el[i][3]):
            a = children(der, avs, ae)
            oid = decode_oid(der[a[0][2]:a[0][3]])
            attributes[oid] = [(t, der[vs:ve]) for t, _, vs, ve in children(der, a[1][2], a[1][3])]
        i += 1
    sig_alg = der[el[i][1]:el[i][3]]
    sa = children(der, el[i][2], el[i][3])
    sig_oid = decode_oid(der[sa[0][2]:sa[0][3]])
    _expect(el[i + 1][0], 0x04, "signature")
    signature = der[el[i + 1][2]:el[i + 1][3]]
    return SignerInfo(version, ski, issuer, serial, digest_oid, attrs_bytes, attributes, sig_alg, sig_oid, signature)


def verify_signer_info(sd: SignedData, info: SignerInfo, cert: x509.Certificate, public: object) -> None:
    """Check messageDigest and contentType attributes and the signature over the signed attributes."""
    hash_name = HASH_BY_OID.get(info.digest_oid)
    if hash_name is None:
        raise SignatureError(f"CMS: digest algorithm {info.digest_oid} is not SHA-224/256/384/512 (9303-12)")
    if not info.signed_attrs:
        raise SignatureError("CMS: signedAttrs missing")
    md = info.attributes.get(OID_MESSAGE_DIGEST)
    if not md or md[0][1] != hashlib.new(hash_name.value, sd.content).digest():
        raise SignatureError("CMS: messageDigest does not match the content")
    ct = info.attributes.get(OID_CONTENT_TYPE)
    if not ct or decode_oid(ct[0][1]) != sd.content_type:
        raise SignatureError("CMS: contentType attribute does not match eContentType")
    from cryptography.exceptions import InvalidSignature

    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            sig_hash = {v: k for k, v in ECDSA_OIDS.items()}.get(info.signature_oid)
            if sig_hash is None:
                raise SignatureError(f"CMS: signature algorithm {info.signature_oid} does not fit an EC key")
            public.verify(info.signature, info.signed_attrs, ec.ECDSA(_HASH_OBJECTS[sig_hash]()))
        elif isinstance(public, rsa.RSAPublicKey):
            if info.signature_oid == OID_RSA_PSS:
                h = _HASH_OBJECTS[hash_name]()
                try:
                    public.verify(info.signature, info.signed_attrs,
                                  padding.PSS(padding.MGF1(h), padding.PSS.AUTO), h)
                except InvalidSignature:
                    raise
            else:
                pk1_hash = RSA_PKCS1_OIDS.get(info.signature_oid, hash_name
                                              if info.signature_oid == "1.2.840.113549.1.1.1" else None)
                if pk1_hash is None:
                    raise SignatureError(f"CMS: unsupported RSA signature algorithm {info.signature_oid}")
                public.verify(info.signature, info.signed_attrs, padding.PKCS1v15(), _HASH_OBJECTS[pk1_hash]())
        else:
            raise SignatureError("CMS: unsupported signer key type")
    except InvalidSignature:
        raise SignatureError("CMS: signature over the signed attributes does not verify") from None


def find_signer_certificate(sd: SignedData, info: SignerInfo, extra: Sequence[x509.Certificate] = ()) -> x509.Certificate:
    candidates = []
    for raw in sd.certificates:
        try:
            candidates.append(x509.load_der_x509_certificate(raw))
        except ValueError:
            continue
    candidates.extend(extra)
    for cert in candidates:
        if info.sid_ski is not None:
            try:
                if cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == info.sid_ski:
                    return cert
            except (x509.ExtensionNotFound, ValueError):
                continue
        elif cert.serial_number == info.sid_serial and cert.issuer.public_bytes() == info.sid_issuer:
            return cert
    raise SignatureError("CMS: the signer's certificate is not in the SignedData")
