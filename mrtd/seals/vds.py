"""ICAO Doc 9303 Part 13 visible digital seals: header (versions 3 and 4), message zone, signature zone.

    seal = 0xDC || version || country || signer+reference || issue date || signature date || feature ref
           || category || message TLVs || [0xFF length r||s]

The signature covers every byte before the 0xFF tag exactly as read. Writers emit version 4 with
minimal lengths only. Readers accept three field quirks in lenient mode and report each as a finding:
a BSI TR-03171 (signer DEZV) reference length written in decimal, the German arrival attestation's
version byte 0x03 carrying a version-3 fixed reference, and non-DER TLV lengths. Strict mode refuses them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1.tlv import SEAL, Tlv, definite_length, encode_length, read_tlv, seal_rules, tlv
from mrtd.errors import EncodingError, Finding, Severity
from mrtd.pki.signer import Signer, hash_for_curve, raw_ecdsa
from mrtd.seals import c40
from mrtd.seals.dates import decode_date, encode_date

MAGIC = 0xDC
SIGNATURE_TAG = 0xFF
CLAUSE = "Doc 9303-13 §2.2 (VDS header)"


class RefLayout(StrEnum):
    """How the header carries the certificate reference."""

    FIXED = "fixed"  # version 3: 4-char signer id + 5-char reference in 6 C40 bytes
    HEX = "hex"  # version 4: signer id + reference length as 2 hex digits, then the reference
    DECIMAL = "decimal"  # TR-03171 (DEZV) quirk: the length as 2 decimal digits


@dataclass(frozen=True, slots=True)
class VdsHeader:
    issuing_country: str  # as decoded: "UTO", "D  ", or "D"
    signer_id: str
    cert_ref: str
    issue_date: dt.date
    signature_date: dt.date
    feature_ref: int
    category: int
    version: int = 4  # the ICAO version: 3 or 4
    layout: RefLayout = RefLayout.HEX
    version_byte: int = 0x03

    def encode(self) -> bytes:
        if len(self.signer_id) != 4:
            raise EncodingError(f"header.signer_id: {self.signer_id!r} is not 4 characters [{CLAUSE}]")
        out = bytearray((MAGIC, self.version_byte))
        country = c40.encode(self.issuing_country, "header.issuing_country")
        if len(country) != 2:
            raise EncodingError(f"header.issuing_country: {self.issuing_country!r} is not 1 to 3 characters [{CLAUSE}]")
        out += country
        if self.layout is RefLayout.FIXED:
            if len(self.cert_ref) != 5:
                raise EncodingError(f"header.cert_ref: a version 3 reference has 5 characters [{CLAUSE}]")
            out += c40.encode(self.signer_id + self.cert_ref, "header.signer")
        else:
            n = len(self.cert_ref)
            length = f"{n:02X}" if self.layout is RefLayout.HEX else f"{n:02d}"
            if len(length) != 2:
                raise EncodingError(f"header.cert_ref: {n} characters do not fit the length field [{CLAUSE}]")
            out += c40.encode(self.signer_id + length, "header.signer")
            out += c40.encode(self.cert_ref, "header.cert_ref")
        out += encode_date(self.issue_date) + encode_date(self.signature_date)
        if not (0 <= self.feature_ref <= 255 and 0 <= self.category <= 255):
            raise EncodingError(f"header: feature reference and category are single bytes [{CLAUSE}]")
        out += bytes((self.feature_ref, self.category))
        return bytes(out)


@dataclass(frozen=True, slots=True)
class VdsSeal:
    header: VdsHeader
    messages: tuple[Tlv, ...]
    signature: bytes | None
    raw: bytes
    signed_length: int  # bytes covered by the signature (everything before the 0xFF tag)
    findings: tuple[Finding, ...] = field(default=())

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[: self.signed_length]

    def message(self, tag: int) -> bytes | None:
        for m in self.messages:
            if m.tag == tag:
                return m.value
        return None

    def encode(self) -> bytes:
        """Re-encode from the fields (minimal lengths); equals `raw` for every conformant seal."""
        body = self.header.encode() + b"".join(tlv(m.tag, m.value, SEAL) for m in self.messages)
        if self.signature is not None:
            body += bytes((SIGNATURE_TAG,)) + encode_length(len(self.signature), SEAL) + self.signature
        return body


def _parse_header(data: bytes, layout: RefLayout) -> tuple[VdsHeader, int]:
    if len(data) < 4:
        raise EncodingError(f"header: {len(data)} bytes is too short for a seal [{CLAUSE}]")
    version_byte = data[1]
    country = c40.decode(data[2:4], "header.issuing_country")
    pos = 4
    if layout is RefLayout.FIXED:
        text = c40.decode(data[pos : pos + 6], "header.signer")
        if len(text) != 9 or len(data) < pos + 6:
            raise EncodingError(f"header.signer: a version 3 signer and reference take 9 characters [{CLAUSE}]")
        signer_id, cert_ref = text[:4], text[4:]
        pos += 6
    else:
        text = c40.decode(data[pos : pos + 4], "header.signer")
        if len(text) != 6 or len(data) < pos + 4:
            raise EncodingError(f"header.signer: signer id and reference length take 6 characters [{CLAUSE}]")
        signer_id = text[:4]
        try:
            n = int(text[4:], 16 if layout is RefLayout.HEX else 10)
        except ValueError:
            raise EncodingError(f"header.signer: reference length {text[4:]!r} is not a number [{CLAUSE}]") from None
        pos += 4
        size = c40.encoded_length(n)
        cert_ref = c40.decode(data[pos : pos + size], "header.cert_ref")
        if len(cert_ref) != n or len(data) < pos + size:
            raise EncodingError(f"header.cert_ref: expected {n} characters [{CLAUSE}]")
        pos += size
    if len(data) < pos + 8:
        raise EncodingError(f"header: cut off after the signer [{CLAUSE}]")
    issue = decode_date(data[pos : pos + 3], "header.issue_date")
    signed = decode_date(data[pos + 3 : pos + 6], "header.signature_date")
    header = VdsHeader(
        issuing_country=country, signer_id=signer_id, cert_ref=cert_ref, issue_date=issue, signature_date=signed,
        feature_ref=data[pos + 6], category=data[pos + 7], version=version_byte + 1, layout=layout,
        version_byte=version_byte,
    )
    return header, pos + 8


def _parse_body(data: bytes, pos: int, strict: bool, findings: list[Finding]) -> tuple[tuple[Tlv, ...], bytes | None, int]:
    messages: list[Tlv] = []
    while pos < len(data) and data[pos] != SIGNATURE_TAG:
        obj, pos = read_tlv(data, pos, what="message", rules=seal_rules(strict), findings=findings)
        messages.append(obj)
    if pos >= len(data):
        return tuple(messages), None, len(data)
    signed_length = pos
    n, start = definite_length(data, pos + 1, what="signature", rules=seal_rules(strict), findings=findings)
    if start + n != len(data):
        raise EncodingError(
            f"signature: length {n} does not end at the end of the seal ({len(data) - start} bytes remain) "
            "[Doc 9303-13 §2.5]"
        )
    if n == 0 or n % 2:
        raise EncodingError(f"signature: {n} bytes is not an r||s pair [Doc 9303-13 §2.5]")
    return tuple(messages), bytes(data[start:]), signed_length


def decode(data: bytes, strict: bool = False) -> VdsSeal:
    """Parse a seal. Lenient by default: the known field quirks are accepted and listed in `findings`."""
    data = bytes(data)
    if len(data) < 2 or data[0] != MAGIC:
        raise EncodingError(f"header.magic: a VDS starts with 0xDC [{CLAUSE}]")
    version_byte = data[1]
    if version_byte == 0x02:
        candidates = [RefLayout.FIXED]
    elif version_byte == 0x03:
        candidates = [RefLayout.HEX]
        if not strict:
            signer = _peek_signer(data)
            candidates = ([RefLayout.DECIMAL] if signer == "DEZV" else []) + [RefLayout.HEX, RefLayout.FIXED]
    else:
        raise EncodingError(f"header.version: byte 0x{version_byte:02X} is neither version 3 (0x02) nor 4 (0x03) [{CLAUSE}]")
    first_error: EncodingError | None = None
    for layout in candidates:
        findings: list[Finding] = []
        try:
            header, pos = _parse_header(data, layout)
            messages, signature, signed_length = _parse_body(data, pos, strict, findings)
        except EncodingError as exc:
            first_error = first_error or exc
            continue
        findings[:0] = _layout_findings(header)
        return VdsSeal(header, messages, signature, data, signed_length, tuple(findings))
    assert first_error is not None
    raise first_error


def _peek_signer(data: bytes) -> str:
    try:
        return c40.decode(data[4:6], "header.signer")[:3] + c40.decode(data[6:8], "header.signer")[:1]
    except EncodingError:
        return ""


def _layout_findings(h: VdsHeader) -> list[Finding]:
    if h.layout is RefLayout.DECIMAL:
        return [Finding("header.cert_ref", "ref-length-decimal",
                        "reference length written in decimal (BSI TR-03171 signer DEZV), not hex as ICAO requires",
                        CLAUSE, Severity.WARNING)]
    if h.layout is RefLayout.FIXED and h.version_byte == 0x03:
        return [Finding("header.version", "v4-with-v3-reference",
                        "version byte 0x03 (version 4) with a version-3 fixed 5-character reference "
                        "(German arrival attestation quirk)", CLAUSE, Severity.WARNING)]
    if h.layout is RefLayout.HEX and h.signer_id == "DEZV":
        return [Finding("header.cert_ref", "dezv-hex-length",
                        "signer DEZV with the ICAO hex reference length; vdstools expects decimal and rejects it",
                        CLAUSE, Severity.INFO)]
    return []


def make(
    header: VdsHeader, messages: tuple[Tlv, ...], signer: Signer
) -> VdsSeal:
    """Build and sign a version-4 seal: hash by curve size, r||s padded to the order size under tag 0xFF."""
    if header.version != 4 or header.layout is not RefLayout.HEX or header.version_byte != 0x03:
        raise EncodingError(f"header: new seals are written as version 4 with a hex reference length [{CLAUSE}]")
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise EncodingError("signature: VDS signatures are ECDSA; the signer key is not EC [Doc 9303-13 §2.5]")
    body = header.encode() + b"".join(tlv(m.tag, m.value, SEAL) for m in messages)
    signature = raw_ecdsa(signer.sign(body, hash_for_curve(key.curve)), key.curve)
    raw = body + bytes((SIGNATURE_TAG,)) + encode_length(len(signature), SEAL) + signature
    return VdsSeal(header, messages, signature, raw, len(body))
