"""EF.CardSecurity: SecurityInfos signed by the Document Signer, eContentType id-SecurityObject
(Doc 9303-11 §9.2.13, Doc 9303-10 §4.6.2). Holds what EF.CardAccess holds plus the Chip Authentication
public keys (needed for PACE-CAM)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from mrtd.asn1 import cms
from mrtd.asn1.algorithms import HashName
from mrtd.asn1.tlv import TlvError
from mrtd.asn1.x509 import Certificate, as_certificate
from mrtd.chip.lds.securityinfos import SecurityInfo, SecurityInfos
from mrtd.errors import SignatureError

CLAUSE = "Doc 9303-11 §9.2.13"
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"


@dataclass(frozen=True, slots=True)
class CardSecurity:
    signed_data: cms.SignedData
    security_infos: SecurityInfos
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    def verify(self, certificate: Certificate | x509.Certificate | None = None) -> str:
        signer = self.signed_data.signer_infos[0]
        cert = as_certificate(certificate) if certificate is not None else self.signed_data.signer_certificate(signer)
        if cert is None:
            raise SignatureError(f"EF.CardSecurity: the DS certificate is not included [{CLAUSE}]")
        return cms.verify_signer(self.signed_data, signer, cert)

    @classmethod
    def create(
        cls, infos: Sequence[SecurityInfo], signer: cms.DataSigner, certificate: Certificate | x509.Certificate,
        *, hash_name: HashName = HashName.SHA256,
    ) -> CardSecurity:  # fmt: skip
        si = SecurityInfos.create(infos)
        cert = as_certificate(certificate)
        return cls.decode(cms.sign(ID_SECURITY_OBJECT, si.raw, signer, cert, hash_name))

    @classmethod
    def decode(cls, data: bytes) -> CardSecurity:
        sd = cms.SignedData.decode(data, "EF.CardSecurity")
        if sd.content_type != ID_SECURITY_OBJECT:
            raise TlvError(f"EF.CardSecurity: eContentType is {sd.content_type}, not {ID_SECURITY_OBJECT} [{CLAUSE}]")
        return cls(sd, SecurityInfos.decode(sd.content, "EF.CardSecurity.SecurityInfos"), bytes(data))
