"""EF.SOD (tag 77): the Document Signer's CMS SignedData over the LDSSecurityObject (Doc 9303-10 §4.6.2).

LDSSecurityObject v0 (legacy, LDS 1.7) or v1 (with LDSVersionInfo, LDS 1.8). Every data group hash
covers the complete data group file, tag and length included, exactly as stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography import x509

from mrtd.asn1 import cms, der
from mrtd.asn1.algorithms import DIGEST_OIDS, HashName
from mrtd.asn1.der import AlgorithmIdentifier
from mrtd.asn1.signatures import digest_name
from mrtd.asn1.tlv import BER, Tlv, TlvError, only, read_tag, tlv
from mrtd.asn1.x509 import Certificate, as_certificate
from mrtd.chip.lds.files import dg_tag
from mrtd.errors import Finding, ProfileError, SignatureError

TAG = 0x77
CLAUSE = "Doc 9303-10 §4.6.2"
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"


@dataclass(frozen=True, slots=True)
class LdsSecurityObject:
    version: int  # 0 or 1
    hash_algorithm: AlgorithmIdentifier
    hashes: tuple[tuple[int, bytes], ...]  # (data group number, hash) in stored order
    lds_version: str | None = None  # v1: "0108"
    unicode_version: str | None = None  # v1: "040000"
    raw: bytes = field(default=b"", repr=False)

    @property
    def hash_name(self) -> str:
        return digest_name(self.hash_algorithm, "LDSSecurityObject.hashAlgorithm")

    def hash_of(self, dg: int) -> bytes | None:
        return dict(self.hashes).get(dg)

    @classmethod
    def create(
        cls,
        hash_name: HashName,
        data_groups: Mapping[int, bytes],
        *,
        lds_version: str | None = "0108",
        unicode_version: str | None = "040000",
    ) -> LdsSecurityObject:
        """Hash every data group (complete file bytes); v1 when version info is given, else v0."""
        name = HashName(hash_name).value
        if not 2 <= len(data_groups) <= 16:
            raise TlvError(f"LDSSecurityObject: needs 2 to 16 data group hashes, got {len(data_groups)} [{CLAUSE}]")
        hashes = tuple((n, hashlib.new(name, data_groups[n]).digest()) for n in sorted(data_groups))
        for n, _ in hashes:
            if not 1 <= n <= 16:
                raise TlvError(f"LDSSecurityObject: data group number {n} is not 1..16 [{CLAUSE}]")
        v1 = lds_version is not None or unicode_version is not None
        if v1 and (lds_version is None or unicode_version is None):
            raise TlvError(f"LDSSecurityObject: ldsVersion and unicodeVersion go together [{CLAUSE}]")
        body = der.integer(1 if v1 else 0) + cms.digest_algorithm(name)
        body += der.seq(*(der.seq(der.integer(n), der.octets(h)) for n, h in hashes))
        if v1:
            body += der.seq(der.printable(lds_version or ""), der.printable(unicode_version or ""))
        alg = AlgorithmIdentifier(DIGEST_OIDS[name])
        return cls(1 if v1 else 0, alg, hashes, lds_version, unicode_version, der.seq(body))

    @classmethod
    def decode(cls, data: bytes) -> LdsSecurityObject:
        what = "LDSSecurityObject"
        parts = der.children(only(data, der.SEQUENCE, what, CLAUSE, rules=BER), der.SEQUENCE, what, CLAUSE)
        if len(parts) not in (3, 4):
            raise TlvError(f"{what}: expected 3 or 4 elements, found {len(parts)} [{CLAUSE}]")
        version = der.read_int(parts[0], f"{what}.version")
        if version not in (0, 1):
            raise TlvError(f"{what}.version: {version} is not v0 or v1 [{CLAUSE}]")
        alg = AlgorithmIdentifier.read(parts[1], f"{what}.hashAlgorithm")
        hashes = []
        for item in der.children(parts[2], der.SEQUENCE, f"{what}.dataGroupHashValues", CLAUSE):
            pair = der.children(item, der.SEQUENCE, f"{what}.DataGroupHash", CLAUSE)
            if len(pair) != 2:
                raise TlvError(f"{what}.DataGroupHash: needs a number and a hash [{CLAUSE}]")
            n = der.read_int(pair[0], f"{what}.dataGroupNumber")
            if not 1 <= n <= 16:
                raise TlvError(f"{what}.dataGroupNumber: {n} is not 1..16 [{CLAUSE}]")
            hashes.append((n, der.read_octets(pair[1], f"{what}.dataGroupHashValue")))
        if len({n for n, _ in hashes}) != len(hashes):
            raise TlvError(f"{what}.dataGroupHashValues: a data group is hashed twice [{CLAUSE}]")
        lds = uni = None
        if len(parts) == 4:
            info = der.children(parts[3], der.SEQUENCE, f"{what}.ldsVersionInfo", CLAUSE)
            if len(info) != 2:
                raise TlvError(f"{what}.ldsVersionInfo: needs ldsVersion and unicodeVersion [{CLAUSE}]")
            lds = der.read_string(info[0], f"{what}.ldsVersionInfo.ldsVersion")
            uni = der.read_string(info[1], f"{what}.ldsVersionInfo.unicodeVersion")
            if version != 1:
                raise TlvError(f"{what}: ldsVersionInfo present, so the version must be v1 [{CLAUSE}]")
        return cls(version, alg, tuple(hashes), lds, uni, bytes(data))


@dataclass(frozen=True, slots=True)
class Sod:
    signed_data: cms.SignedData
    security_object: LdsSecurityObject
    raw: bytes = field(repr=False)

    @property
    def content_info(self) -> bytes:
        """The CMS ContentInfo inside tag 77 (what `openssl cms` reads)."""
        return self.signed_data.raw

    @property
    def signer_info(self) -> cms.SignerInfo:
        return self.signed_data.signer_infos[0]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """What reading tolerated (BER lengths): the hashes and the signature still cover the stored bytes."""
        return self.signed_data.findings

    def ds_certificate(self) -> Certificate | None:
        return self.signed_data.signer_certificate(self.signer_info)

    def verify(self, certificate: Certificate | x509.Certificate | None = None) -> str:
        """Verify the signature with the embedded DS certificate (or `certificate`). Raises SignatureError."""
        cert = as_certificate(certificate) if certificate is not None else self.ds_certificate()
        if cert is None:
            raise SignatureError("EF.SOD: no Document Signer certificate matches the SignerInfo [Table 37]")
        return cms.verify_signer(self.signed_data, self.signer_info, cert)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(
        cls,
        data_groups: Mapping[int, bytes],
        signer: cms.DataSigner,
        certificate: Certificate | x509.Certificate,
        *,
        hash_name: HashName = HashName.SHA256,
        lds_version: str | None = "0108",
        unicode_version: str | None = "040000",
        signing_time: dt.datetime | None = None,
        extra_certificates: Sequence[Certificate | x509.Certificate] = (),
    ) -> Sod:
        name = HashName(hash_name).value
        if name not in ("sha256", "sha384", "sha512"):
            raise ProfileError(f"SOD hash {name}: this issuer writes SHA-256, SHA-384 or SHA-512 [Doc 9303-12 §5]")
        for n, data in data_groups.items():
            if not 1 <= n <= 16:
                raise TlvError(f"EF.SOD: data group number {n} is not 1..16 [{CLAUSE}]")
            Tlv.decode(data, what=f"DG{n}")
            if read_tag(data, 0)[0] != dg_tag(n):
                raise TlvError(f"EF.SOD: the bytes given as DG{n} do not start with its tag {dg_tag(n):X} [Doc 9303-10 §4.6]")
        lso = LdsSecurityObject.create(hash_name, data_groups, lds_version=lds_version, unicode_version=unicode_version)
        cert = as_certificate(certificate)
        ci = cms.sign(
            ID_LDS_SECURITY_OBJECT, lso.raw, signer, cert, HashName(name), signing_time=signing_time,
            certificates=[cert, *(as_certificate(c) for c in extra_certificates)],
        )  # fmt: skip
        return cls.decode(tlv(TAG, ci))

    @classmethod
    def decode(cls, data: bytes) -> Sod:
        return _decode(bytes(data))


# One personalisation decodes its EF.SOD in the plan check and again reading it back; few are kept, as a
# station holds no more of the booklets before than it needs.
@lru_cache(maxsize=8)
def _decode(data: bytes) -> Sod:
    top = only(data, TAG, "EF.SOD", CLAUSE, rules=BER)
    sd = cms.SignedData.decode(top.value, "EF.SOD.ContentInfo")
    if sd.content_type != ID_LDS_SECURITY_OBJECT:
        raise TlvError(f"EF.SOD: eContentType is {sd.content_type}, not {ID_LDS_SECURITY_OBJECT} [{CLAUSE}]")
    if len(sd.signer_infos) != 1:
        raise TlvError(f"EF.SOD: {len(sd.signer_infos)} SignerInfos; exactly one is expected [Table 37]")
    return Sod(sd, LdsSecurityObject.decode(sd.content), data)
