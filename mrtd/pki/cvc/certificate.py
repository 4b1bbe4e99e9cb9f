"""The CV certificate codec and lint (BSI TR-03110-3 §C, Doc 9303-12 §7.2.2-7.2.3).

    7F21 { 7F4E { 5F29 profile(0), 42 CAR, 7F49 public key, 5F20 CHR, 7F4C CHAT, 5F25 effective,
                  5F24 expiration, [65 extensions] },
           5F37 signature }

The signature is ECDSA in the plain r||s format (TR-03111) over the encoded body, tag and length
included, with the hash of the public key's id-TA-ECDSA OID. CVCA certificates carry the domain
parameters (p, a, b, G, r, f); DV and terminal certificates inherit them. Decoding keeps the exact
bytes. The framing is the asn1 floor's BER-TLV (two-byte tags such as 7F21 and 5F37).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1 import der
from mrtd.asn1.keys import curve_named
from mrtd.asn1.tlv import parse_all, tlv
from mrtd.errors import EncodingError, Finding, Severity, SignatureError
from mrtd.pki.signer import HashName, Signer, der_ecdsa, hash_algorithm, raw_ecdsa

CLAUSE = "TR-03110-3 §C.1, Doc 9303-12 §7.2.2"
ID_TA_ECDSA = "0.4.0.127.0.7.2.2.2.2"
TA_ECDSA_HASH = {f"{ID_TA_ECDSA}.2": HashName.SHA224, f"{ID_TA_ECDSA}.3": HashName.SHA256,
                 f"{ID_TA_ECDSA}.4": HashName.SHA384, f"{ID_TA_ECDSA}.5": HashName.SHA512}
ID_IS = "0.4.0.127.0.7.3.1.2.1"  # id-roles 1: inspection systems [TR-03110-3 §C.4.1]
READ_DG3 = 0x01
READ_DG4 = 0x02
RIGHTS = {"dg3": READ_DG3, "dg4": READ_DG4}

# curves TR-03110 allows for TA (224 to 512 bits) that OpenSSL computes on (asn1.keys has their parameters)
_CURVES = ("secp224r1", "secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1",
           "brainpoolP512r1")


class Role(IntEnum):
    """The two high bits of the CHAT's relative authorization [TR-03110-3 §C.4.1, Table C.4]."""

    IS = 0b00
    DV_FOREIGN = 0b01
    DV_DOMESTIC = 0b10
    CVCA = 0b11


# -- framing (the asn1 floor's BER-TLV, two-byte tags) -------------------------------------------------------


def objects(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(tag, value, raw) of each TLV in `data`, in order."""
    for obj in parse_all(data, what="CV certificate"):
        yield obj.tag, obj.value, obj.raw


def _one(data: bytes, tag: int, what: str) -> tuple[bytes, bytes]:
    items = list(objects(data))
    if len(items) != 1 or items[0][0] != tag:
        raise EncodingError(f"{what}: not one {tag:X} object [{CLAUSE}]")
    return items[0][1], items[0][2]


def _oid_body(dotted: str) -> bytes:
    return der.oid(dotted)[2:]  # the value of the 06 object (a TA OID is shorter than 128 bytes)


def bcd_date(day: dt.date) -> bytes:
    """YYMMDD as six unpacked BCD digits [Doc 9303-12 §7.2.3.1.3]."""
    if not 2000 <= day.year <= 2099:
        raise EncodingError(f"CV certificate date {day}: the year must be 2000-2099 [Doc 9303-12 §7.2.3.1.3]")
    return bytes(int(c) for c in day.strftime("%y%m%d"))


def parse_bcd_date(value: bytes, what: str) -> dt.date:
    if len(value) != 6 or any(b > 9 for b in value):
        raise EncodingError(f"{what}: not six unpacked BCD digits [Doc 9303-12 §7.2.3.1.3]")
    try:
        return dt.date(2000 + value[0] * 10 + value[1], value[2] * 10 + value[3], value[4] * 10 + value[5])
    except ValueError:
        raise EncodingError(f"{what}: not a calendar date") from None


# -- public keys -------------------------------------------------------------------------------------------


def _curve_name(curve: ec.EllipticCurve) -> str:
    if curve.name not in _CURVES:
        raise EncodingError(f"{curve.name}: not a curve for Terminal Authentication here (224-512 bits) "
                            "[Doc 9303-11 §7.1.4.2.2]")
    return curve.name


def _uint(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")


@dataclass(frozen=True, slots=True)
class CvPublicKey:
    """7F49 { 06 OID, [81 p, 82 a, 83 b, 84 G, 85 r,] 86 Y [, 87 f] } [Doc 9303-12 Table 16]."""

    oid: str
    point: bytes
    curve: ec.EllipticCurve | None  # None: the domain parameters are inherited from the CVCA
    raw: bytes = field(repr=False)

    @classmethod
    def create(cls, key: ec.EllipticCurvePublicKey, oid: str, *, with_parameters: bool) -> CvPublicKey:
        from cryptography.hazmat.primitives import serialization

        point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        body = tlv(0x06, _oid_body(oid))
        if with_parameters:
            p, a, b, g, r, f = curve_named(_curve_name(key.curve)).explicit()  # [TR-03110-3 §D.3.3]
            body += tlv(0x81, _uint(p)) + tlv(0x82, _uint(a)) + tlv(0x83, _uint(b)) + tlv(0x84, g) + tlv(0x85, _uint(r))
            body += tlv(0x86, point) + tlv(0x87, _uint(f))
        else:
            body += tlv(0x86, point)
        return cls(oid, point, key.curve if with_parameters else None, tlv(0x7F49, body))

    @classmethod
    def decode(cls, raw: bytes) -> CvPublicKey:
        value, raw = _one(raw, 0x7F49, "public key")
        objs = {t: v for t, v, _ in objects(value)}
        if 0x06 not in objs or 0x86 not in objs:
            raise EncodingError(f"CV public key: needs 06 (OID) and 86 (public point) [{CLAUSE}]")
        curve = None
        if 0x81 in objs:
            found = (int.from_bytes(objs.get(0x81, b""), "big"), int.from_bytes(objs.get(0x82, b""), "big"),
                     int.from_bytes(objs.get(0x83, b""), "big"), objs.get(0x84, b""), int.from_bytes(objs.get(0x85, b""), "big"))
            for name in _CURVES:
                known = curve_named(name)
                if known.explicit()[:5] == found and known.library is not None:
                    curve = known.library()
                    break
            else:
                raise EncodingError("CV public key: domain parameters match no supported curve [Doc 9303-11 §7.1.4.2.2]")
        return cls(der.oid_text(objs[0x06]), objs[0x86], curve, raw)

    @property
    def has_parameters(self) -> bool:
        return self.curve is not None

    def key(self, curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePublicKey:
        """The cryptography key; DV and terminal keys take the CVCA's `curve`."""
        use = self.curve or curve
        if use is None:
            raise EncodingError("CV public key: no domain parameters, and none inherited from the CVCA [Doc 9303-12 §7.2.2.3]")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(use, self.point)
        except ValueError:
            raise EncodingError(f"CV public key: the point is not on {use.name}") from None


# -- the certificate ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chat:
    """Certificate Holder Authorization Template: id-IS and the relative authorization byte."""

    role: Role
    rights: int  # READ_DG3 | READ_DG4 (bits 6..3 RFU)
    oid: str = ID_IS

    def encode(self) -> bytes:
        return tlv(0x7F4C, tlv(0x06, _oid_body(self.oid)) + tlv(0x53, bytes(((self.role << 6) | (self.rights & 0x3F),))))

    @classmethod
    def decode(cls, value: bytes) -> Chat:
        objs = {t: v for t, v, _ in objects(value)}
        if 0x06 not in objs or len(objs.get(0x53, b"")) != 1:
            raise EncodingError(f"CHAT: needs 06 (terminal type) and a one-byte 53 [{CLAUSE}]")
        b = objs[0x53][0]
        return cls(Role(b >> 6), b & 0x3F, der.oid_text(objs[0x06]))


@dataclass(frozen=True, slots=True)
class CvCertificate:
    profile_id: int
    car: str
    public_key: CvPublicKey
    chr: str
    chat: Chat
    effective: dt.date
    expiration: dt.date
    extensions: bytes  # the raw 65 object, or b""
    signature: bytes
    body: bytes = field(repr=False)  # the exact 7F4E object, what the signature covers
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @property
    def hash_name(self) -> HashName:
        try:
            return TA_ECDSA_HASH[self.public_key.oid]
        except KeyError:
            raise EncodingError(f"CV certificate {self.chr}: {self.public_key.oid} is not an id-TA-ECDSA OID "
                                "(RSA terminal keys are not supported here) [Doc 9303-11 §9.2.9]") from None

    @property
    def is_self_signed(self) -> bool:
        return self.car == self.chr

    @classmethod
    def create(
        cls, *, car: str, chr: str, public_key: ec.EllipticCurvePublicKey, chat: Chat, effective: dt.date,
        expiration: dt.date, signer: Signer, signer_curve: ec.EllipticCurve, hash_name: HashName = HashName.SHA256,
        with_parameters: bool = False,
    ) -> CvCertificate:  # fmt: skip
        oid = next(o for o, h in TA_ECDSA_HASH.items() if h is hash_name)
        key = CvPublicKey.create(public_key, oid, with_parameters=with_parameters)
        body = tlv(0x7F4E, tlv(0x5F29, b"\x00") + tlv(0x42, _ascii(car)) + key.raw + tlv(0x5F20, _ascii(chr))
                   + chat.encode() + tlv(0x5F25, bcd_date(effective)) + tlv(0x5F24, bcd_date(expiration)))
        signature = raw_ecdsa(signer.sign(body, hash_name), signer_curve)
        return cls.decode(tlv(0x7F21, body + tlv(0x5F37, signature)))

    @classmethod
    def decode(cls, data: bytes) -> CvCertificate:
        value, raw = _one(bytes(data), 0x7F21, "CV certificate")
        parts = list(objects(value))
        if [t for t, _, _ in parts] != [0x7F4E, 0x5F37]:
            raise EncodingError(f"CV certificate: must be 7F4E (body) then 5F37 (signature) [{CLAUSE}]")
        body_value, body = parts[0][1], parts[0][2]
        fields = list(objects(body_value))
        tags = [t for t, _, _ in fields]
        if tags[:7] != [0x5F29, 0x42, 0x7F49, 0x5F20, 0x7F4C, 0x5F25, 0x5F24] or tags[7:] not in ([], [0x65]):
            raise EncodingError(f"CV certificate body: data objects missing or out of order [{CLAUSE}]")
        v = [f[1] for f in fields]
        try:
            car, chr_ = v[1].decode("latin-1"), v[3].decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise EncodingError("CV certificate: CAR/CHR are not ISO 8859-1") from None
        return cls(
            profile_id=int.from_bytes(v[0], "big"), car=car, public_key=CvPublicKey.decode(fields[2][2]), chr=chr_,
            chat=Chat.decode(v[4]), effective=parse_bcd_date(v[5], "5F25"), expiration=parse_bcd_date(v[6], "5F24"),
            extensions=fields[7][2] if len(fields) > 7 else b"", signature=parts[1][1], body=body, raw=raw,
        )

    def verify(self, issuer_key: ec.EllipticCurvePublicKey) -> None:
        """SignatureError unless the issuer's key signed this body."""
        try:
            issuer_key.verify(der_ecdsa(self.signature), self.body, ec.ECDSA(hash_algorithm(self.hash_name)))
        except (InvalidSignature, EncodingError, ValueError) as exc:
            raise SignatureError(f"CV certificate {self.chr}: the signature of {self.car} does not verify [{CLAUSE}]") from exc


def _ascii(text: str) -> bytes:
    data = text.encode("latin-1")
    if any(b < 0x20 or 0x7F <= b <= 0x9F for b in data):
        raise EncodingError(f"CV certificate reference {text!r}: control characters are not allowed [Doc 9303-12 §7.2.3.1.4]")
    return data


def split_certificates(data: bytes) -> list[CvCertificate]:
    """Every 7F21 in a file (a chain is the certificates one after another)."""
    return [CvCertificate.decode(raw) for _, _, raw in objects(data)]


_REF = re.compile(r"^[A-Z]{2}[\x20-\x7E]{1,9}[0-9A-Z]{5}$")


def lint_cv_certificate(cert: CvCertificate, issuer: CvCertificate | None = None) -> list[Finding]:
    """Profile findings for one CV certificate (and its link to `issuer` when given)."""
    out: list[Finding] = []

    def add(fld: str, rule: str, msg: str, sev: Severity = Severity.ERROR) -> None:
        out.append(Finding(fld, rule, msg, CLAUSE, sev))

    if cert.profile_id != 0:
        add("profile_id", "profile-identifier", f"{cert.profile_id}: version 1 is identified by 0")
    for name, ref in (("car", cert.car), ("chr", cert.chr)):
        if not _REF.match(ref):
            add(name, "holder-reference", f"{ref!r}: country code (2), holder mnemonic (up to 9), sequence "
                "number (5 of 0-9 A-Z) [Doc 9303-12 Table 12]")
    if cert.expiration < cert.effective:
        add("expiration", "validity", f"expires {cert.expiration} before its effective date {cert.effective}")
    if cert.chat.oid != ID_IS:
        add("chat.oid", "terminal-type", f"{cert.chat.oid}: only inspection systems (id-IS) are defined for the eMRTD", Severity.WARNING)
    if cert.chat.rights & ~(READ_DG3 | READ_DG4):
        add("chat.rights", "rfu-bits", "RFU bits of the relative authorization are set", Severity.WARNING)
    cvca = cert.chat.role is Role.CVCA
    if cvca and cert.is_self_signed and not cert.public_key.has_parameters:
        add("public_key", "domain-parameters", "a self-signed CVCA certificate must carry the domain parameters")
    if not cvca and cert.public_key.has_parameters:
        add("public_key", "domain-parameters", "DV and terminal certificates must not carry domain parameters")
    try:
        cert.hash_name  # noqa: B018 - raises for an unknown OID
    except EncodingError as exc:
        add("public_key.oid", "algorithm", str(exc))
    if issuer is not None:
        if cert.car != issuer.chr:
            add("car", "issuer", f"{cert.car} is not the issuer's CHR {issuer.chr}")
        order = {Role.CVCA: 3, Role.DV_DOMESTIC: 2, Role.DV_FOREIGN: 2, Role.IS: 1}
        if order[cert.chat.role] > order[issuer.chat.role] or (cvca and issuer.chat.role is not Role.CVCA):
            add("chat.role", "role-chain", f"a {cert.chat.role.name} certificate cannot be issued by a {issuer.chat.role.name}")
        if cert.chat.role is not Role.CVCA and cert.expiration > issuer.expiration:
            add("expiration", "outlives-issuer", f"expires {cert.expiration}, after its issuer ({issuer.expiration})", Severity.WARNING)
    return out
