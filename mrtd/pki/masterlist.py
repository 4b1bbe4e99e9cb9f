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

from mrtd.asn1 import cms, der
from mrtd.asn1.foreign import reading
from mrtd.asn1.tlv import BER, Tlv, TlvError
from mrtd.asn1.x509 import Certificate, as_certificate, read_certificate
from mrtd.errors import ChainError, EncodingError, MrtdError, SignatureError
from mrtd.pki.keys import default_hash
from mrtd.pki.signer import HashName, Signer

if TYPE_CHECKING:
    from mrtd.pki.trust import TrustStore

OID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
OID_ML_SIGNER_EKU = "2.23.136.1.1.3"
CLAUSE = "Doc 9303-12 §9"


@dataclass(frozen=True)
class MasterList:
    der: bytes
    signed_data: cms.SignedData
    version: int
    csca_der: tuple[bytes, ...]  # the certList entries, exact bytes
    signing_time: datetime | None

    def csca_certificates(self) -> list[Certificate]:
        """Every entry that can be read (the others are reported by `pki lint`)."""
        out = []
        for i, raw in enumerate(self.csca_der):
            try:
                out.append(read_certificate(raw, f"masterlist.certList[{i}]"))
            except MrtdError:
                continue
        return out


def encode_content(cscas: Sequence[Certificate | x509.Certificate]) -> bytes:
    return der.seq(der.integer(0), der.set_of(*sorted({as_certificate(c).der for c in cscas})))


def build(cscas: Sequence[Certificate | x509.Certificate], signer: Signer, signer_cert: Certificate | x509.Certificate,
          signing_time: datetime, *, include: Sequence[Certificate | x509.Certificate] = (),
          hash_name: HashName | None = None) -> bytes:
    """A DER master list of `cscas`, signed by the ML signer; `include` adds certificates (our CSCA)."""
    if not cscas:
        raise EncodingError(f"masterlist: certList must not be empty [{CLAUSE}]")
    signer_c = as_certificate(signer_cert)
    certs = [signer_c, *(as_certificate(c) for c in include)]
    return cms.sign(OID_CSCA_MASTER_LIST, encode_content(cscas), signer, signer_c,
                    hash_name or default_hash(signer.public_key()), signing_time=signing_time,
                    certificates=certs, sid="ski")


def parse(data: bytes) -> MasterList:
    """Parse a master list (DER or BER); raises EncodingError for anything that is not one."""
    with reading("masterlist"):
        sd = cms.SignedData.decode(data, "masterlist")
        if sd.content_type != OID_CSCA_MASTER_LIST:
            raise EncodingError(f"masterlist: eContentType {sd.content_type} is not {OID_CSCA_MASTER_LIST} [{CLAUSE}]")
        items = der.children(Tlv.decode(sd.content, what="CscaMasterList", rules=BER), der.SEQUENCE, "CscaMasterList", CLAUSE)
        if len(items) != 2 or items[1].tag != der.SET:
            raise TlvError(f"CscaMasterList: must be {{version INTEGER, certList SET OF}} [{CLAUSE}]")
        version = der.read_int(items[0], "CscaMasterList.version")
        certs = tuple(c.raw for c in items[1].children(what="CscaMasterList.certList"))
        signing_time = sd.signer_infos[0].signing_time() if sd.signer_infos else None
        return MasterList(bytes(data), sd, version, certs, signing_time)


def signer_certificate(ml: MasterList) -> tuple[cms.SignerInfo, Certificate]:
    sd = ml.signed_data
    if len(sd.signer_infos) != 1:
        raise SignatureError(f"masterlist: expected one SignerInfo, found {len(sd.signer_infos)} [{CLAUSE}]")
    info = sd.signer_infos[0]
    cert = sd.signer_certificate(info)
    if cert is None:
        raise SignatureError("masterlist: the signer's certificate is not in the SignedData [RFC 5652 §5.3]")
    return info, cert


def verify(ml: MasterList | bytes, trust: TrustStore, at: datetime) -> Certificate:
    """Verify the list's signature, its signingTime, and the ML signer's path to a CSCA that `trust`
    already holds (never to a CSCA taken from the list itself). Returns the signer certificate."""
    if isinstance(ml, bytes):
        ml = parse(ml)
    info, signer_cert = signer_certificate(ml)
    cms.verify_signer(ml.signed_data, info, signer_cert)
    if ml.signing_time is None:
        raise SignatureError(f"masterlist: signingTime signed attribute missing [{CLAUSE}]")
    try:
        trust.verify(signer_cert, at, purpose="masterlist")
    except ChainError as exc:
        raise ChainError(f"masterlist signer: {exc}") from None
    return signer_cert
