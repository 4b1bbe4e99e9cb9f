"""Deviation Lists (Doc 9303-12 §10): build ours, parse and verify anyone's.

DeviationList ::= SEQUENCE { version (v0), digestAlgorithm OPTIONAL, deviations SET OF Deviation } in CMS
SignedData v3 (eContentType 2.23.136.1.1.7), signed by a Deviation List Signer (EKU 2.23.136.1.1.8) whose
certificate is included; signedAttrs carry signingTime; sid subjectKeyIdentifier (Table 19). The module
uses IMPLICIT TAGS: documentType [0], the signer identifier [1] issuerAndSerialNumber / [2] SKI /
[3] digest, issuingDate [4], documentNumbers [5]; the open types parameters [0] and nationalUse [1] are
tagged explicitly (X.680 §31.2.7). The deviation types are data (profiles/deviations.toml).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from cryptography import x509

from mrtd.asn1 import cms, der
from mrtd.asn1.foreign import reading
from mrtd.asn1.tlv import BER, Tlv, TlvError, tlv
from mrtd.asn1.x509 import Certificate, as_certificate
from mrtd.errors import ChainError, EncodingError, InputError, SignatureError
from mrtd.pki.keys import default_hash
from mrtd.pki.signer import HashName, Signer

if TYPE_CHECKING:
    from mrtd.pki.trust import TrustStore

OID_DEVIATION_LIST = "2.23.136.1.1.7"
OID_DL_SIGNER_EKU = "2.23.136.1.1.8"
CLAUSE = "Doc 9303-12 §10"


@cache
def _table() -> dict[str, Any]:
    text = resources.files("mrtd.pki.profiles").joinpath("deviations.toml").read_text("utf-8")
    return tomllib.loads(text)


def deviation_types() -> dict[str, dict[str, str]]:
    """name -> {"oid", "parameter", "meaning"}."""
    types: dict[str, dict[str, str]] = _table()["types"]
    return types


def type_oid(name_or_oid: str) -> str:
    types = deviation_types()
    if name_or_oid in types:
        return types[name_or_oid]["oid"]
    if any(t["oid"] == name_or_oid for t in types.values()):
        return name_or_oid
    raise InputError(f"deviation type: {name_or_oid!r} is none of {', '.join(types)} [{CLAUSE}.2]")


def type_name(oid: str) -> str:
    return next((name for name, t in deviation_types().items() if t["oid"] == oid), oid)


def parameter(type_: str, value: str) -> bytes:
    """The DER of a deviation's parameter: CertField (a body field name or an extension OID), Datagroup or
    MRZField, whichever the type carries."""
    kind = next(t["parameter"] for t in deviation_types().values() if t["oid"] == type_oid(type_))
    if not kind:
        raise InputError(f"deviation parameter: {type_name(type_oid(type_))} takes none [{CLAUSE}.2]")
    values: dict[str, int] = _table()["parameters"][kind]
    if value in values:
        return der.integer(values[value])
    if kind == "CertField" and value[:1].isdigit():
        return der.oid(value)  # CertField.extension
    raise InputError(f"deviation parameter: {value!r} is not a {kind} ({', '.join(values)}) [{CLAUSE}.2]")


@dataclass(frozen=True)
class Description:
    deviation_type: str  # dotted OID
    text: str | None = None
    parameters: bytes | None = None  # DER of the parameter value
    national_use: bytes | None = None

    def encode(self) -> bytes:
        if self.text is not None and not set(self.text) <= _PRINTABLE:
            raise InputError(f"deviation description: {self.text!r} is not a PrintableString [{CLAUSE}.2]")
        return der.seq(der.printable(self.text) if self.text is not None else b"", der.oid(self.deviation_type),
                       der.context(0, self.parameters) if self.parameters is not None else b"",
                       der.context(1, self.national_use) if self.national_use is not None else b"")


@dataclass(frozen=True)
class Documents:
    """Which documents deviate: any combination of a document type, their Document Signer, an issuing
    period and document numbers."""

    document_type: str | None = None
    signer_issuer: bytes | None = None  # the DS's issuer Name (DER) with `signer_serial`
    signer_serial: int | None = None
    signer_ski: bytes | None = None
    signer_digest: bytes | None = None
    issued: tuple[dt.datetime, dt.datetime] | None = None
    numbers: tuple[str, ...] = ()

    def encode(self) -> bytes:
        if not (self.document_type or self.signer_issuer or self.signer_ski or self.signer_digest or self.issued
                or self.numbers):
            raise InputError(f"deviation documents: name at least one of document type, Document Signer, "
                             f"issuing period or document numbers [{CLAUSE}]")
        parts = []
        if self.document_type is not None:
            if len(self.document_type) != 2 or not set(self.document_type) <= _PRINTABLE:
                raise InputError(f"deviation documentType: {self.document_type!r} must be 2 characters [{CLAUSE}.2]")
            parts.append(tlv(0x80, self.document_type.encode("ascii")))
        if self.signer_issuer is not None and self.signer_serial is not None:
            parts.append(tlv(0xA1, self.signer_issuer + der.integer(self.signer_serial)))
        elif self.signer_ski is not None:
            parts.append(tlv(0x82, self.signer_ski))
        elif self.signer_digest is not None:
            parts.append(tlv(0x83, self.signer_digest))
        if self.issued is not None:
            first, last = self.issued
            if last < first:
                raise InputError(f"deviation issuingDate: lastIssued is before firstIssued [{CLAUSE}.2]")
            parts.append(tlv(0xA4, der.generalized_time(first) + der.generalized_time(last)))
        if self.numbers:
            bad = [n for n in self.numbers if not n or not set(n) <= _PRINTABLE]
            if bad:
                raise InputError(f"deviation documentNumbers: {bad[0]!r} is not a PrintableString [{CLAUSE}.2]")
            parts.append(tlv(0xA5, b"".join(sorted(der.printable(n) for n in self.numbers))))
        return der.seq(*parts)


@dataclass(frozen=True)
class Deviation:
    documents: Documents
    descriptions: tuple[Description, ...]

    def encode(self) -> bytes:
        if not self.descriptions:
            raise InputError(f"deviation: at least one description is needed [{CLAUSE}.2]")
        return der.seq(self.documents.encode(), der.set_of(*(d.encode() for d in self.descriptions)))


_PRINTABLE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def encode_content(deviations: Sequence[Deviation]) -> bytes:
    if not deviations:
        raise InputError(f"deviation list: no deviation to list [{CLAUSE}]")
    return der.seq(der.integer(0), der.set_of(*(d.encode() for d in deviations)))


def signer_identifier(cert: Certificate | x509.Certificate) -> Documents:
    """The documents signed by one Document Signer, identified by its issuer and serial number."""
    c = as_certificate(cert)
    return Documents(signer_issuer=c.issuer_der, signer_serial=c.serial)


def build(deviations: Sequence[Deviation], signer: Signer, signer_cert: Certificate | x509.Certificate,
          signing_time: dt.datetime, *, include: Sequence[Certificate | x509.Certificate] = (),
          hash_name: HashName | None = None) -> bytes:
    """A DER deviation list signed by the DL signer; `include` adds certificates (our CSCA, Table 19)."""
    signer_c = as_certificate(signer_cert)
    eku = signer_c.extension(x509.ExtendedKeyUsage)
    if eku is None or OID_DL_SIGNER_EKU not in [o.dotted_string for o in eku]:
        raise InputError(f"deviation list signer: its certificate lacks EKU {OID_DL_SIGNER_EKU} [{CLAUSE}]")
    certs = [signer_c, *(as_certificate(c) for c in include)]
    return cms.sign(OID_DEVIATION_LIST, encode_content(deviations), signer, signer_c,
                    hash_name or default_hash(signer.public_key()), signing_time=signing_time,
                    certificates=certs, sid="ski")


@dataclass(frozen=True)
class DeviationList:
    der: bytes
    signed_data: cms.SignedData
    version: int
    deviations: tuple[Deviation, ...]
    signing_time: dt.datetime | None
    raw_entries: tuple[bytes, ...] = field(default=(), repr=False)


def _documents(obj: Tlv) -> Documents:
    what = "DeviationDocuments"
    values: dict[str, Any] = {}
    for part in der.children(obj, der.SEQUENCE, what, CLAUSE):
        if part.tag == 0x80:
            values["document_type"] = part.value.decode("ascii", "replace")
        elif part.tag == 0xA1:
            inner = part.children(what=f"{what}.issuerAndSerialNumber")
            if len(inner) != 2 or inner[0].tag != der.SEQUENCE:
                raise TlvError(f"{what}.issuerAndSerialNumber: needs issuer and serial [{CLAUSE}.2]")
            values["signer_issuer"] = inner[0].raw
            values["signer_serial"] = der.read_int(inner[1], f"{what}.serialNumber")
        elif part.tag == 0x82:
            values["signer_ski"] = part.value
        elif part.tag == 0x83:
            values["signer_digest"] = part.value
        elif part.tag == 0xA4:
            times = part.children(what=f"{what}.issuingDate")
            if len(times) != 2:
                raise TlvError(f"{what}.issuingDate: needs firstIssued and lastIssued [{CLAUSE}.2]")
            values["issued"] = (der.read_time(times[0], "firstIssued"), der.read_time(times[1], "lastIssued"))
        elif part.tag == 0xA5:
            values["numbers"] = tuple(der.read_string(n, f"{what}.documentNumbers")
                                      for n in part.children(what=f"{what}.documentNumbers"))
        else:
            raise TlvError(f"{what}: unexpected tag {part.tag:X} at offset {part.offset} [{CLAUSE}.2]")
    return Documents(**values)


def _description(obj: Tlv) -> Description:
    what = "DeviationDescription"
    parts = list(der.children(obj, der.SEQUENCE, what, CLAUSE))
    text = der.read_string(parts.pop(0), f"{what}.description") if parts and parts[0].tag == der.PRINTABLE_STRING else None
    if not parts:
        raise TlvError(f"{what}: deviationType missing [{CLAUSE}.2]")
    kind = der.read_oid(parts.pop(0), f"{what}.deviationType")
    params = national = None
    for part in parts:
        if part.tag == 0xA0 and params is None and national is None:
            params = part.value
        elif part.tag == 0xA1 and national is None:
            national = part.value
        else:
            raise TlvError(f"{what}: unexpected tag {part.tag:X} at offset {part.offset} [{CLAUSE}.2]")
    return Description(kind, text, params, national)


def parse(data: bytes) -> DeviationList:
    """Parse a deviation list (DER or BER); anything else is an EncodingError."""
    with reading("deviation list"):
        sd = cms.SignedData.decode(data, "deviation list")
        if sd.content_type != OID_DEVIATION_LIST:
            raise EncodingError(f"deviation list: eContentType {sd.content_type} is not {OID_DEVIATION_LIST} [{CLAUSE}]")
        items = list(der.children(Tlv.decode(sd.content, what="DeviationList", rules=BER), der.SEQUENCE,
                                  "DeviationList", CLAUSE))
        if len(items) not in (2, 3) or items[-1].tag != der.SET:
            raise TlvError(f"DeviationList: must be {{version, digestAlgorithm OPTIONAL, deviations SET OF}} [{CLAUSE}.2]")
        version = der.read_int(items[0], "DeviationList.version")
        entries = items[-1].children(what="DeviationList.deviations")
        deviations = []
        for entry in entries:
            parts = der.children(entry, der.SEQUENCE, "Deviation", CLAUSE)
            if len(parts) != 2:
                raise TlvError(f"Deviation: needs documents and descriptions (offset {entry.offset}) [{CLAUSE}.2]")
            descriptions = tuple(_description(d) for d in der.children(parts[1], der.SET, "Deviation.descriptions"))
            deviations.append(Deviation(_documents(parts[0]), descriptions))
        signing_time = sd.signer_infos[0].signing_time() if sd.signer_infos else None
        return DeviationList(bytes(data), sd, version, tuple(deviations), signing_time,
                             tuple(e.raw for e in entries))


def verify(dl: DeviationList | bytes, trust: TrustStore, at: dt.datetime) -> Certificate:
    """Verify the list's signature, its signingTime, and the DL signer's path to a CSCA that `trust`
    already holds. Returns the signer certificate."""
    if isinstance(dl, bytes):
        dl = parse(dl)
    sd = dl.signed_data
    if len(sd.signer_infos) != 1:
        raise SignatureError(f"deviation list: expected one SignerInfo, found {len(sd.signer_infos)} [{CLAUSE}.1]")
    info = sd.signer_infos[0]
    cert = sd.signer_certificate(info)
    if cert is None:
        raise SignatureError("deviation list: the signer's certificate is not in the SignedData [Table 19]")
    cms.verify_signer(sd, info, cert)
    if dl.signing_time is None:
        raise SignatureError(f"deviation list: signingTime signed attribute missing [{CLAUSE}.1, Table 19]")
    try:
        trust.verify(cert, at, purpose="deviationlist")
    except ChainError as exc:
        raise ChainError(f"deviation list signer: {exc}") from None
    return cert


def describe(deviation: Deviation) -> dict[str, Any]:
    """A deviation as plain values (for --json and the text report)."""
    d = deviation.documents
    docs: dict[str, Any] = {}
    if d.document_type:
        docs["document_type"] = d.document_type
    if d.signer_serial is not None:
        docs["signer_serial"] = f"{d.signer_serial:X}"
    if d.signer_ski:
        docs["signer_ski"] = d.signer_ski.hex()
    if d.signer_digest:
        docs["signer_digest"] = d.signer_digest.hex()
    if d.issued:
        docs["issued"] = [d.issued[0].date().isoformat(), d.issued[1].date().isoformat()]
    if d.numbers:
        docs["numbers"] = list(d.numbers)
    return {"documents": docs, "descriptions": [
        {"type": type_name(x.deviation_type), "oid": x.deviation_type, "text": x.text,
         **({"parameters": x.parameters.hex()} if x.parameters is not None else {})} for x in deviation.descriptions]}
