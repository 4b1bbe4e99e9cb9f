"""CSCA Master Lists (Doc 9303 Part 12 §9): build ours, parse, verify and import anyone's.

CscaMasterList ::= SEQUENCE { version CscaMasterListVersion (v0), certList SET OF Certificate },
carried in CMS SignedData with eContentType 2.23.136.1.1.2, signed by a master list signer (EKU
2.23.136.1.1.3) whose certificate is included; signedAttrs hold contentType, messageDigest and
signingTime; the signer is identified by subjectKeyIdentifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.errors import ChainError, EncodingError, MrtdError, SignatureError
from mrtd.pki import cms
from mrtd.pki._der import children, der_int, read_tlv, seq, tlv
from mrtd.pki.keys import default_hash
from mrtd.pki.signer import HashName, Signer

if TYPE_CHECKING:
    from mrtd.pki.trust import TrustStore

OID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
OID_ML_SIGNER_EKU = "2.23.136.1.1.3"


@dataclass(frozen=True)
class MasterList:
    der: bytes
    signed_data: cms.SignedData
    version: int
    csca_der: tuple[bytes, ...]  # the certList entries, exact bytes
    signing_time: datetime | None

    def csca_certificates(self) -> list[x509.Certificate]:
        out = []
        for raw in self.csca_der:
            try:
                out.append(x509.load_der_x509_certificate(raw))
            except ValueError:
                continue
        return out


def encode_content(cscas: Sequence[x509.Certificate]) -> bytes:
    ders = sorted({c.public_bytes(serialization.Encoding.DER) for c in cscas})  # DER SET OF order
    return seq(der_int(0), tlv(0x31, b"".join(ders)))


def build(cscas: Sequence[x509.Certificate], signer: Signer, signer_cert: x509.Certificate,
          signing_time: datetime, *, include: Sequence[x509.Certificate] = (),
          hash_name: HashName | None = None) -> bytes:
    """A DER master list of `cscas`, signed by the ML signer; `include` adds certificates (our CSCA)."""
    if not cscas:
        raise EncodingError("masterlist: certList must not be empty")
    certs = [signer_cert, *[c for c in include if c != signer_cert]]
    return cms.sign_data(OID_CSCA_MASTER_LIST, encode_content(cscas), signer, signer_cert, certs,
                         hash_name or default_hash(signer.public_key()), signing_time)


def parse(der: bytes) -> MasterList:
    """Parse a master list (DER); raises EncodingError for anything that is not one."""
    try:
        return _parse(der)
    except MrtdError:
        raise
    except Exception as exc:  # outside bytes: any parser slip becomes an EncodingError
        raise EncodingError(f"masterlist: cannot parse ({type(exc).__name__})") from None


def _parse(der: bytes) -> MasterList:
    sd = cms.parse_signed_data(der)
    if sd.content_type != OID_CSCA_MASTER_LIST:
        raise EncodingError(f"masterlist: eContentType {sd.content_type} is not 2.23.136.1.1.2 (9303-12 §9)")
    content = sd.content
    try:
        tag, start, end = read_tlv(content)
        if tag != 0x30 or end != len(content):
            raise EncodingError("masterlist: CscaMasterList is not one SEQUENCE")
        items = children(content, start, end)
        if len(items) != 2 or items[0][0] != 0x02 or items[1][0] != 0x31:
            raise EncodingError("masterlist: CscaMasterList must be {version INTEGER, certList SET OF}")
        version = int.from_bytes(content[items[0][2]:items[0][3]], "big", signed=True)
        certs = tuple(content[s:e] for t, s, _, e in children(content, items[1][2], items[1][3]))
    except IndexError:
        raise EncodingError("masterlist: malformed CscaMasterList") from None
    signing_time = None
    if sd.signer_infos:
        st = sd.signer_infos[0].attributes.get(cms.OID_SIGNING_TIME)
        if st:
            signing_time = cms.decode_time(*st[0])
    return MasterList(der, sd, version, certs, signing_time)


def verify(ml: MasterList | bytes, trust: TrustStore, at: datetime) -> x509.Certificate:
    """Verify the list's signature, its signingTime, and the ML signer's path to a CSCA that `trust`
    already holds (never to a CSCA taken from the list itself). Returns the signer certificate."""
    if isinstance(ml, bytes):
        ml = parse(ml)
    sd = ml.signed_data
    if len(sd.signer_infos) != 1:
        raise SignatureError(f"masterlist: expected one SignerInfo, found {len(sd.signer_infos)}")
    info = sd.signer_infos[0]
    signer_cert = cms.find_signer_certificate(sd, info)
    from mrtd.pki.trust import public_key_of

    cms.verify_signer_info(sd, info, signer_cert, public_key_of(signer_cert))
    if ml.signing_time is None:
        raise SignatureError("masterlist: signingTime signed attribute missing (9303-12 §9)")
    try:
        trust.verify(signer_cert, at, purpose="masterlist")
    except ChainError as exc:
        raise ChainError(f"masterlist signer: {exc}") from None
    return signer_cert


def safe_parse(der: bytes) -> MasterList:
    """Alias of `parse` (kept for callers that want to say so explicitly)."""
    return parse(der)
