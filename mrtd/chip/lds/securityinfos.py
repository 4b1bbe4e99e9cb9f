"""SecurityInfos (Doc 9303-11 §9.2): the SET OF SecurityInfo in EF.CardAccess, EF.CardSecurity and DG14.

Known kinds are decoded (PACEInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
ActiveAuthenticationInfo, TerminalAuthenticationInfo); any other SecurityInfo (domain parameters, ...)
is kept as `OtherSecurityInfo`. Each keeps its exact bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from mrtd.asn1 import der
from mrtd.asn1.keys import PublicKey, load_spki, spki
from mrtd.asn1.tlv import Tlv, TlvError, expect

T = TypeVar("T")

CLAUSE = "Doc 9303-11 §9.2"

BSI_DE = "0.4.0.127.0.7"
ID_PK = f"{BSI_DE}.2.2.1"  # .1 DH, .2 ECDH
ID_PK_DH = f"{ID_PK}.1"
ID_PK_ECDH = f"{ID_PK}.2"
ID_TA = f"{BSI_DE}.2.2.2"
ID_CA = f"{BSI_DE}.2.2.3"  # .1 DH / .2 ECDH, then .1 3DES, .2 AES-128, .3 AES-192, .4 AES-256
ID_PACE = f"{BSI_DE}.2.2.4"  # .1 DH-GM .2 ECDH-GM .3 DH-IM .4 ECDH-IM .6 ECDH-CAM, then cipher suffix
ID_CA_ECDH_3DES = f"{ID_CA}.2.1"
ID_CA_ECDH_AES_128 = f"{ID_CA}.2.2"
ID_PACE_ECDH_GM_AES_128 = f"{ID_PACE}.2.2"
ID_AA = "2.23.136.1.1.5"  # aaProtocolObject
ECDSA_PLAIN = f"{BSI_DE}.1.1.4.1"  # .2 SHA-224 .3 SHA-256 .4 SHA-384 .5 SHA-512 (BSI TR-03111)
ECDSA_PLAIN_SHA256 = f"{ECDSA_PLAIN}.3"
ECDSA_PLAIN_BY_HASH = {"sha224": f"{ECDSA_PLAIN}.2", "sha256": f"{ECDSA_PLAIN}.3", "sha384": f"{ECDSA_PLAIN}.4", "sha512": f"{ECDSA_PLAIN}.5"}


@dataclass(frozen=True, slots=True)
class OtherSecurityInfo:
    protocol: str
    raw: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class PaceInfo:
    protocol: str
    version: int = 2
    parameter_id: int | None = None
    raw: bytes = field(default=b"", repr=False)

    @classmethod
    def create(cls, protocol: str, parameter_id: int | None, version: int = 2) -> PaceInfo:
        if not protocol.startswith(ID_PACE + "."):
            raise TlvError(f"PACEInfo.protocol: {protocol} is not an id-PACE OID [Doc 9303-11 §9.2.1]")
        body = der.oid(protocol) + der.integer(version)
        if parameter_id is not None:
            body += der.integer(parameter_id)
        return cls(protocol, version, parameter_id, der.seq(body))


@dataclass(frozen=True, slots=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int = 1
    key_id: int | None = None
    raw: bytes = field(default=b"", repr=False)

    @classmethod
    def create(cls, protocol: str, key_id: int | None = None, version: int = 1) -> ChipAuthenticationInfo:
        if not protocol.startswith(ID_CA + "."):
            raise TlvError(f"ChipAuthenticationInfo.protocol: {protocol} is not an id-CA OID [Doc 9303-11 §9.2.5]")
        body = der.oid(protocol) + der.integer(version)
        if key_id is not None:
            body += der.integer(_key_id(key_id, "ChipAuthenticationInfo"))
        return cls(protocol, version, key_id, der.seq(body))


@dataclass(frozen=True, slots=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str
    subject_public_key_info: bytes = field(repr=False)
    key_id: int | None = None
    raw: bytes = field(default=b"", repr=False)

    def public_key(self) -> PublicKey:
        return load_spki(self.subject_public_key_info, "ChipAuthenticationPublicKeyInfo.chipAuthenticationPublicKey")

    @classmethod
    def create(cls, key: PublicKey, key_id: int | None = None) -> ChipAuthenticationPublicKeyInfo:
        protocol = ID_PK_ECDH
        info = spki(key)
        body = der.oid(protocol) + info
        if key_id is not None:
            body += der.integer(_key_id(key_id, "ChipAuthenticationPublicKeyInfo"))
        return cls(protocol, info, key_id, der.seq(body))


@dataclass(frozen=True, slots=True)
class ActiveAuthenticationInfo:
    signature_algorithm: str
    version: int = 1
    protocol: str = ID_AA
    raw: bytes = field(default=b"", repr=False)

    @classmethod
    def create(cls, signature_algorithm: str = ECDSA_PLAIN_SHA256) -> ActiveAuthenticationInfo:
        raw = der.seq(der.oid(ID_AA) + der.integer(1) + der.oid(signature_algorithm))
        return cls(signature_algorithm, 1, ID_AA, raw)


@dataclass(frozen=True, slots=True)
class TerminalAuthenticationInfo:
    """TerminalAuthenticationInfo ::= SEQUENCE { protocol id-TA, version 1 } [Doc 9303-11 §9.2.8]."""

    protocol: str = ID_TA
    version: int = 1
    raw: bytes = field(default=b"", repr=False)

    @classmethod
    def create(cls) -> TerminalAuthenticationInfo:
        return cls(ID_TA, 1, der.seq(der.oid(ID_TA) + der.integer(1)))


SecurityInfo = (
    PaceInfo | ChipAuthenticationInfo | ChipAuthenticationPublicKeyInfo | ActiveAuthenticationInfo
    | TerminalAuthenticationInfo | OtherSecurityInfo
)


def _optional_int(parts: tuple[Tlv, ...], i: int, what: str) -> int | None:
    return der.read_int(parts[i], what) if len(parts) > i else None


def _key_id(key_id: int, what: str) -> int:
    """A keyId names the chip's private key in MSE:Set AT (DO'84, an unsigned reference) [Doc 9303-11 §9.2.5]."""
    if key_id < 0:
        raise TlvError(f"{what}: keyId {key_id} is negative; it names a key in MSE:Set AT [Doc 9303-11 §9.2.5]")
    return key_id


def _optional_key_id(parts: tuple[Tlv, ...], what: str) -> int | None:
    key_id = _optional_int(parts, 2, f"{what}.keyId")
    return None if key_id is None else _key_id(key_id, what)


def decode_info(obj: Tlv) -> SecurityInfo:
    what = "SecurityInfo"
    parts = der.children(obj, der.SEQUENCE, what, CLAUSE)
    if len(parts) < 2:
        raise TlvError(f"{what}: needs a protocol OID and required data [{CLAUSE}]")
    protocol = der.read_oid(parts[0], f"{what}.protocol")
    if len(parts) > 3:
        raise TlvError(f"{what} {protocol}: more than three elements [{CLAUSE}]")
    if protocol.startswith(ID_PACE + ".") and len(protocol.split(".")) == 11:
        return PaceInfo(protocol, der.read_int(parts[1], "PACEInfo.version"), _optional_int(parts, 2, "PACEInfo.parameterId"), obj.raw)
    if protocol.startswith(ID_CA + ".") and len(protocol.split(".")) == 11:
        return ChipAuthenticationInfo(
            protocol, der.read_int(parts[1], "ChipAuthenticationInfo.version"), _optional_key_id(parts, "ChipAuthenticationInfo"), obj.raw
        )
    if protocol in (ID_PK_DH, ID_PK_ECDH):
        expect(parts[1], der.SEQUENCE, "ChipAuthenticationPublicKeyInfo.chipAuthenticationPublicKey", CLAUSE)
        return ChipAuthenticationPublicKeyInfo(protocol, parts[1].raw, _optional_key_id(parts, "ChipAuthenticationPublicKeyInfo"), obj.raw)
    if protocol == ID_TA:
        return TerminalAuthenticationInfo(protocol, der.read_int(parts[1], "TerminalAuthenticationInfo.version"), obj.raw)
    if protocol == ID_AA:
        version = der.read_int(parts[1], "ActiveAuthenticationInfo.version")
        if len(parts) != 3:
            raise TlvError("ActiveAuthenticationInfo: signatureAlgorithm is missing [Doc 9303-11 §9.2.7]")
        return ActiveAuthenticationInfo(der.read_oid(parts[2], "ActiveAuthenticationInfo.signatureAlgorithm"), version, protocol, obj.raw)
    return OtherSecurityInfo(protocol, obj.raw)


@dataclass(frozen=True, slots=True)
class SecurityInfos:
    infos: tuple[SecurityInfo, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    def of_type(self, kind: type[T]) -> tuple[T, ...]:
        return tuple(i for i in self.infos if isinstance(i, kind))

    @classmethod
    def create(cls, infos: Sequence[SecurityInfo]) -> SecurityInfos:
        if not infos:
            raise TlvError(f"SecurityInfos: must not be empty [{CLAUSE}]")
        return cls(tuple(infos), der.set_of(*(i.raw for i in infos)))

    @classmethod
    def decode(cls, data: bytes, what: str = "SecurityInfos") -> SecurityInfos:
        top = Tlv.decode(data, what=what)
        parts = der.children(top, der.SET, what, CLAUSE)
        return cls(tuple(decode_info(p) for p in parts), bytes(data))
