"""DG15 (tag 6F): the Active Authentication public key as a SubjectPublicKeyInfo (Doc 9303-10 §4.7.15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from mrtd.asn1.keys import PublicKey, load_spki, spki
from mrtd.asn1.tlv import Tlv, only, tlv

TAG = 0x6F
CLAUSE = "Doc 9303-10 §4.7.15"


@dataclass(frozen=True, slots=True)
class Dg15:
    subject_public_key_info: bytes
    raw: bytes = field(repr=False)

    def public_key(self) -> PublicKey:
        return load_spki(self.subject_public_key_info, "DG15.SubjectPublicKeyInfo")

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, key: PublicKey) -> Dg15:
        info = spki(key)
        return cls(info, tlv(TAG, info))

    @classmethod
    def decode(cls, data: bytes) -> Dg15:
        return _decode(bytes(data))


@lru_cache(maxsize=8)  # a personalisation reads DG15 in its plan check and for Active Authentication
def _decode(data: bytes) -> Dg15:
    top = only(data, TAG, "DG15", CLAUSE)
    Tlv.decode(top.value, what="DG15.SubjectPublicKeyInfo")
    dg = Dg15(top.value, data)
    dg.public_key()  # refuse what is not a usable RSA or EC key
    return dg
