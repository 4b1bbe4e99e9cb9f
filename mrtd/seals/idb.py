"""ICAO Datastructure for Barcode (IDB): `RDB1` + flag + base32 (RFC 4648, no padding) payload.

    flag   = 'A' + (1 if signed) + (2 if zlib-compressed)
    payload = header || 0x61 message group || [0x7E signer certificate] || [0x7F r||s]
    header  = country (C40, 2 bytes) [|| signature algorithm (1) || certificate reference (5) || date]

The certificate reference is the last 5 bytes of SHA-1 over the DER signer certificate. The IDB TR's table
gives the signature date 3 bytes; every real IDB we hold and both independent readers (vdstools, li0ard/vds)
use the 4-byte masked date, and those readers cannot parse the 3-byte form. Readers accept both; writers use
4 bytes unless a site asks for the TR's 3 (`seal.idb_date_bytes`). The signature covers header || message
group; the certificate TLV is not signed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1.tlv import SEAL, Tlv, read_tlv, seal_rules, tlv
from mrtd.errors import EncodingError, Finding, Severity
from mrtd.pki.signer import HashName, Signer, raw_ecdsa
from mrtd.seals import c40
from mrtd.seals.dates import decode_date, decode_masked_date, encode_date, encode_masked_date

CLAUSE = "ICAO TR Datastructure for Barcode"
PREFIXES = ("RDB", "NDB")
MESSAGE_GROUP = 0x61
CERTIFICATE = 0x7E
SIGNATURE = 0x7F
ALGORITHMS = {1: HashName.SHA256, 2: HashName.SHA384, 3: HashName.SHA512}
_ALGORITHM_OF = {v: k for k, v in ALGORITHMS.items()}
_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@dataclass(frozen=True, slots=True)
class IdbHeader:
    country: str
    algorithm: int | None = None  # 1 SHA256withECDSA, 2 SHA384, 3 SHA512; None when unsigned
    cert_ref: bytes | None = None
    date_bytes: bytes | None = None  # 3 bytes (MMDDYYYY) or 4 (mask + MMDDYYYY), as read or written

    @property
    def date_width(self) -> int:
        return len(self.date_bytes) if self.date_bytes else 0

    @property
    def signature_date(self) -> str | None:
        """ISO date; a masked date keeps `x` for unknown digits."""
        if self.date_bytes is None:
            return None
        if len(self.date_bytes) == 3:
            return decode_date(self.date_bytes, "header.signature_date").isoformat()
        return decode_masked_date(self.date_bytes, "header.signature_date")

    @property
    def hash_name(self) -> HashName | None:
        return ALGORITHMS.get(self.algorithm) if self.algorithm is not None else None

    def encode(self) -> bytes:
        out = c40.encode(self.country, "header.country")
        if len(out) != 2:
            raise EncodingError(f"header.country: {self.country!r} is not 1 to 3 characters [{CLAUSE}]")
        if self.algorithm is None:
            return out
        if self.algorithm not in ALGORITHMS or self.cert_ref is None or len(self.cert_ref) != 5:
            raise EncodingError(f"header: a signed IDB needs algorithm 1..3 and a 5-byte reference [{CLAUSE}]")
        if self.date_bytes is None or len(self.date_bytes) not in (3, 4):
            raise EncodingError(f"header.signature_date: missing [{CLAUSE}]")
        return out + bytes((self.algorithm,)) + self.cert_ref + self.date_bytes


@dataclass(frozen=True, slots=True)
class IdbSeal:
    prefix: str  # "RDB1"
    signed: bool
    compressed: bool
    header: IdbHeader
    messages: tuple[Tlv, ...]
    certificate: bytes | None
    signature: bytes | None
    payload: bytes  # decompressed binary payload, as read
    signed_length: int
    text: str
    findings: tuple[Finding, ...] = field(default=())

    @property
    def signed_bytes(self) -> bytes:
        return self.payload[: self.signed_length]

    def encode(self) -> str:
        """Re-encode from the fields; equals `text` for every conformant barcode string."""
        body = _signed_part(self.header, self.messages)
        if self.certificate is not None:
            body += tlv(CERTIFICATE, self.certificate, SEAL)
        if self.signature is not None:
            body += tlv(SIGNATURE, self.signature, SEAL)
        return _wrap(self.prefix, self.signed, self.compressed, body)


def _signed_part(header: IdbHeader, messages: tuple[Tlv, ...]) -> bytes:
    """What the signature covers: header || message group."""
    return header.encode() + tlv(MESSAGE_GROUP, b"".join(tlv(m.tag, m.value, SEAL) for m in messages), SEAL)


def _wrap(prefix: str, signed: bool, compressed: bool, payload: bytes) -> str:
    flag = chr(ord("A") + (1 if signed else 0) + (2 if compressed else 0))
    data = zlib.compress(payload, 9) if compressed else payload
    return prefix + flag + base64.b32encode(data).decode("ascii").rstrip("=")


def is_idb_text(text: str) -> bool:
    return len(text) >= 5 and text[:3] in PREFIXES


def decode(text: str, strict: bool = False) -> IdbSeal:
    text = text.strip()
    findings: list[Finding] = []
    if not is_idb_text(text):
        raise EncodingError(f"barcode: an IDB string starts with RDB or NDB [{CLAUSE}]")
    prefix = text[:4]
    if prefix[3] != "1":
        raise EncodingError(f"barcode.version: {prefix[3]!r} is not IDB version 1 [{CLAUSE}]")
    if prefix.startswith("NDB"):
        if strict:
            raise EncodingError(f"barcode.prefix: NDB is a draft prefix, RDB is current [{CLAUSE}]")
        findings.append(Finding("barcode.prefix", "draft-prefix", "NDB draft prefix", CLAUSE, Severity.WARNING))
    flag = ord(text[4]) - ord("A")
    if not 0 <= flag <= 3:
        raise EncodingError(f"barcode.flag: {text[4]!r} is not A, B, C or D [{CLAUSE}]")
    signed, compressed = bool(flag & 1), bool(flag & 2)
    body = text[5:]
    if body.endswith("="):
        if strict:
            raise EncodingError(f"barcode.payload: base32 padding is not used in IDB [{CLAUSE}]")
        findings.append(Finding("barcode.payload", "base32-padding", "base32 padding present", CLAUSE, Severity.WARNING))
        body = body.rstrip("=")
    if any(ch not in _B32 for ch in body):
        raise EncodingError(f"barcode.payload: not upper-case base32 (RFC 4648) [{CLAUSE}]")
    if len(body) % 8 in (1, 3, 6):
        raise EncodingError(f"barcode.payload: {len(body)} base32 characters cannot be whole bytes [{CLAUSE}]")
    try:
        payload = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise EncodingError(f"barcode.payload: not base32 [{CLAUSE}]") from None
    if compressed:
        try:
            payload = zlib.decompress(payload)
        except zlib.error:
            raise EncodingError(f"barcode.payload: flag says zlib-compressed, data does not inflate [{CLAUSE}]") from None
    header, pos = _parse_header(payload, signed)
    if pos >= len(payload) or payload[pos] != MESSAGE_GROUP:
        raise EncodingError(f"message_group: expected tag 0x61 at offset {pos} [{CLAUSE}]")
    rules = seal_rules(strict)
    group, pos = read_tlv(payload, pos, what="message_group", rules=rules, findings=findings)
    signed_length = pos
    messages: list[Tlv] = []
    mpos = 0
    while mpos < len(group.value):
        m, mpos = read_tlv(group.value, mpos, what="message", rules=rules, findings=findings, base=group.value_offset)
        messages.append(m)
    certificate = signature = None
    while pos < len(payload):
        t, pos = read_tlv(payload, pos, what="trailer", rules=rules, findings=findings)
        if t.tag == CERTIFICATE and certificate is None and signature is None:
            certificate = t.value
        elif t.tag == SIGNATURE and signature is None:
            signature = t.value
        else:
            raise EncodingError(f"trailer: unexpected tag 0x{t.tag:02X} after the message group [{CLAUSE}]")
    if signed and signature is None:
        raise EncodingError(f"signature: the flag says signed but there is no 0x7F signature [{CLAUSE}]")
    if not signed and (signature is not None or certificate is not None):
        raise EncodingError(f"signature: the flag says unsigned but a signature or certificate follows [{CLAUSE}]")
    return IdbSeal(prefix, signed, compressed, header, tuple(messages), certificate, signature, payload,
                   signed_length, text, tuple(findings))


def _parse_header(payload: bytes, signed: bool) -> tuple[IdbHeader, int]:
    if len(payload) < 2:
        raise EncodingError(f"header: payload of {len(payload)} bytes is too short [{CLAUSE}]")
    country = c40.decode(payload[:2], "header.country")
    if not signed:
        return IdbHeader(country), 2
    if len(payload) < 11:
        raise EncodingError(f"header: a signed header takes at least 11 bytes [{CLAUSE}]")
    algorithm = payload[2]
    if algorithm not in ALGORITHMS:
        raise EncodingError(f"header.algorithm: {algorithm} is not 1, 2 or 3 [{CLAUSE}]")
    ref = payload[3:8]
    # The message group (0x61) follows the date: 3 bytes (TR) or 4 (masked date, as vdstools writes).
    # Both widths are in use in the field (vdstools issue #19), so strict mode accepts both too.
    for width in (3, 4):
        end = 8 + width
        if end < len(payload) and payload[end] == MESSAGE_GROUP:
            header = IdbHeader(country, algorithm, ref, payload[8:end])
            try:
                header.signature_date  # noqa: B018 - validates the date
            except EncodingError:
                continue
            return header, end
    raise EncodingError(f"header.signature_date: no valid 3- or 4-byte date before the message group [{CLAUSE}]")


def make(
    country: str,
    messages: tuple[Tlv, ...],
    signer: Signer | None,
    signature_date: dt.date,
    certificate_der: bytes | None = None,
    cert_ref: bytes | None = None,
    embed_certificate: bool = False,
    compress: bool = False,
    date_bytes: int = 4,
) -> IdbSeal:
    """Build an IDB string; signed when a signer is given (hash by curve size: 256 -> SHA-256, ...). The
    signature date takes `date_bytes`: 4 (masked date, what readers read) or 3 (the TR's table)."""
    if date_bytes not in (3, 4):
        raise EncodingError(f"header.signature_date: {date_bytes} bytes; the IDB date takes 3 or 4 [{CLAUSE}]")
    if signer is None:
        header = IdbHeader(country)
        body = _signed_part(header, messages)
        text = _wrap("RDB1", False, compress, body)
        return IdbSeal("RDB1", False, compress, header, messages, None, None, body, len(body), text)
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise EncodingError(f"signature: IDB signatures are ECDSA; the signer key is not EC [{CLAUSE}]")
    if key.curve.key_size < 256:
        raise EncodingError(f"header.algorithm: IDB signs with SHA-256/384/512 ECDSA; a {key.curve.key_size}-bit "
                            f"curve is too small [{CLAUSE}]")
    hash_name = HashName.SHA256 if key.curve.key_size <= 256 else HashName.SHA384 if key.curve.key_size <= 384 else HashName.SHA512
    if cert_ref is None:
        if certificate_der is None:
            raise EncodingError(f"header.cert_ref: give the signer certificate or its reference [{CLAUSE}]")
        cert_ref = hashlib.sha1(certificate_der).digest()[-5:]
    date = encode_masked_date(signature_date) if date_bytes == 4 else encode_date(signature_date)
    header = IdbHeader(country, _ALGORITHM_OF[hash_name], cert_ref, date)
    signed_part = _signed_part(header, messages)
    signature = raw_ecdsa(signer.sign(signed_part, hash_name), key.curve)
    certificate = certificate_der if embed_certificate else None
    body = signed_part
    if certificate is not None:
        body += tlv(CERTIFICATE, certificate, SEAL)
    body += tlv(SIGNATURE, signature, SEAL)
    text = _wrap("RDB1", True, compress, body)
    return IdbSeal("RDB1", True, compress, header, messages, certificate, signature, body, len(signed_part), text)
