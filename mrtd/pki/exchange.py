"""What a site exchanges with other countries and the ICAO PKD: master lists that carry other countries'
CSCAs, deviation lists, and LDIF import/export in the PKD's layout.

Nothing foreign is trusted unless it was verified: a master list we sign includes another country's CSCA
only when it came in through a verified import (a master list whose signer chains to a CSCA we already
trusted); an LDIF import verifies every entry (master lists first, so that the CSCAs they carry can verify
the rest) and refuses what it cannot verify, naming the entry and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.asn1.x509 import Certificate, read_certificate, read_crl
from mrtd.errors import InputError, MrtdError, StateError
from mrtd.pki import deviationlist as dlmod
from mrtd.pki import masterlist as mlmod
from mrtd.pki import pkd
from mrtd.pki.site import PkiSite
from mrtd.pki.trust import TrustStore


def foreign_cscas(site: PkiSite, countries: Sequence[str]) -> list[Certificate]:
    """CSCA (and link) certificates of `countries` (alpha-2, or "all") from verified imports only."""
    own = site._load()["country"]
    wanted = {c.upper() for c in countries}
    found: dict[bytes, Certificate] = {}
    for kind, der in site.verified_imports():
        certs: Iterable[Certificate]
        if kind == "ml":
            certs = mlmod.parse(der).csca_certificates()
        elif kind == "csca":
            certs = [read_certificate(der, "imported CSCA")]
        else:
            continue
        for cert in certs:
            if cert.country.upper() != own and ("ALL" in wanted or cert.country.upper() in wanted):
                found.setdefault(cert.der, cert)
    missing = sorted(wanted - {"ALL"} - {c.country.upper() for c in found.values()})
    if missing:
        raise StateError(f"--include: no verified CSCA of {', '.join(missing)} (import a master list that holds "
                         "them with `mrtd pki masterlist import` or `mrtd pki pkd import`; unverified imports never "
                         "go into a master list)")
    return sorted(found.values(), key=lambda c: (c.country, c.not_before))


def build_masterlist(site: PkiSite, ml_secret: bytes, include: Sequence[str] = ()) -> tuple[bytes, int]:
    """Our master list (our CSCAs and links, plus verified foreign CSCAs of `include`); entries count."""
    extra = [c.x509 for c in foreign_cscas(site, include)] if include else []
    der = site.masterlist(ml_secret, extra=tuple(extra))
    return der, len(mlmod.parse(der).csca_der)


def build_deviationlist(site: PkiSite, dl_secret: bytes, deviations: Sequence[dlmod.Deviation]) -> bytes:
    """A deviation list signed by the site's Deviation List Signer (its CSCA certificate included)."""
    signer, signer_cert = site.signer_for("deviationlist-signer", dl_secret)
    state = site._load()
    csca = site.certificate(site._current(state, "csca", site.now()))
    der = dlmod.build(deviations, signer, signer_cert, site.now(), include=[csca])
    site.publish("dl", der)
    site._log("deviationlist", role="deviationlist-signer", key=signer.key_id, entries=len(deviations))
    return der


def deviations_from(site: PkiSite, spec: object) -> list[dlmod.Deviation]:
    """Deviations from plain data (a deviation list request file):
    [{"documents": {"document_type", "signer" (a DS serial of this site), "signer_ski", "issued": [from, to],
    "numbers": [...]}, "descriptions": [{"type": name or OID, "text", "parameter"}]}]."""
    if not isinstance(spec, list) or not spec:
        raise InputError("deviations: expected a non-empty list of {documents, descriptions}")
    records = {r.serial: r for r in site.list()}
    out = []
    for i, item in enumerate(spec):
        if not isinstance(item, dict) or not isinstance(item.get("documents"), dict):
            raise InputError(f"deviations[{i}]: needs documents and descriptions")
        docs = item["documents"]
        values: dict[str, object] = {}
        if "document_type" in docs:
            values["document_type"] = str(docs["document_type"])
        if "signer" in docs:
            serial = str(docs["signer"]).upper()
            rec = records.get(serial)
            if rec is None or rec.role != "ds":
                raise InputError(f"deviations[{i}].documents.signer: {serial} is no Document Signer of this site")
            cert = site.certificate(rec)
            values.update(signer_issuer=read_certificate(cert.public_bytes(serialization.Encoding.DER)).issuer_der,
                          signer_serial=cert.serial_number)
        if "signer_ski" in docs:
            values["signer_ski"] = bytes.fromhex(str(docs["signer_ski"]))
        if "issued" in docs:
            first, last = (dt.datetime.fromisoformat(str(d)).replace(tzinfo=dt.UTC) for d in docs["issued"])
            values["issued"] = (first, last)
        if "numbers" in docs:
            values["numbers"] = tuple(str(n) for n in docs["numbers"])
        descriptions = []
        for d in item.get("descriptions") or []:
            kind = dlmod.type_oid(str(d["type"]))
            params = dlmod.parameter(kind, str(d["parameter"])) if "parameter" in d else None
            descriptions.append(dlmod.Description(kind, d.get("text"), params))
        out.append(dlmod.Deviation(dlmod.Documents(**values), tuple(descriptions)))  # type: ignore[arg-type]
    return out


# The ICAO PKD


def pkd_objects(site: PkiSite, kinds: Sequence[str] = pkd.KINDS) -> list[pkd.PkdObject]:
    """What this site publishes: its CSCAs and links, its Document Signer certificates, its latest CRL, and
    the latest master and deviation lists it signed."""
    state = site._load()
    country = state["country"]
    out: list[pkd.PkdObject] = []

    def der(rec_cert: x509.Certificate) -> bytes:
        return rec_cert.public_bytes(serialization.Encoding.DER)

    for rec in site.list():
        kind = {"csca": "csca", "link": "csca", "ds": "dsc"}.get(rec.role, "")
        if kind in kinds:
            out.append(pkd.PkdObject(kind, country, der(site.certificate(rec))))
    if "crl" in kinds:
        latest = site.latest_crl()
        if latest is not None:
            out.append(pkd.PkdObject("crl", country, latest.public_bytes(serialization.Encoding.DER)))
    for kind in ("ml", "dl"):
        data = site.published(kind)
        if kind in kinds and data is not None:
            out.append(pkd.PkdObject(kind, country, data))
    return out


@dataclass
class ImportReport:
    imported: dict[str, int] = field(default_factory=dict)
    already: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (dn, reason)

    def as_dict(self) -> dict[str, object]:
        return {"imported": self.imported, "already_present": self.already,
                "refused": [{"dn": dn, "reason": why} for dn, why in self.refused]}


ORDER = ("ml", "csca", "crl", "dsc", "dl")  # master lists first: their CSCAs verify what follows


def import_ldif(site: PkiSite, data: bytes, *, verify_with: TrustStore | None = None, at: dt.datetime | None = None,
                unverified: bool = False, source: str = "LDIF") -> ImportReport:
    """Import a PKD LDIF: every entry verified against CSCAs already trusted (the site's, plus
    `verify_with`), master lists first. `unverified` keeps everything without checking (logged)."""
    objects, skipped = pkd.read(data, source)
    report = ImportReport(refused=[(s.dn, s.reason) for s in skipped])
    store = site.trust_store()
    if verify_with is not None:
        for cert in verify_with.certificates():
            store.add_certificate(cert)
    when = at or site.now()
    known = {i["file"] for i in site._load().get("imports", [])}
    for kind in ORDER:
        for obj in (o for o in objects if o.kind == kind):
            try:
                if not unverified:
                    _verify(obj, store, when)
            except MrtdError as exc:
                report.refused.append((obj.dn, str(exc)))
                continue
            name = site.keep_import(kind, obj.der, verified=not unverified, source=source)
            _learn(store, obj)
            if name in known:
                report.already += 1
                continue
            known.add(name)
            report.imported[kind] = report.imported.get(kind, 0) + 1
    site._log("pkd-import", source=source, imported=report.imported, refused=len(report.refused),
              verified=not unverified)
    return report


def _verify(obj: pkd.PkdObject, store: TrustStore, when: dt.datetime) -> None:
    if obj.kind == "ml":
        mlmod.verify(mlmod.parse(obj.der), store, when)
    elif obj.kind == "dl":
        dlmod.verify(dlmod.parse(obj.der), store, when)
    elif obj.kind == "csca":
        cert = read_certificate(obj.der, "CSCA")
        if not store.holds(cert) and store._build(cert) is None:
            raise InputError("a CSCA from an LDIF is no trust anchor: it must come in a verified master list, or be "
                             "a link certificate signed by a CSCA already trusted")
    elif obj.kind == "crl":
        crl = read_crl(obj.der)
        if not any(crl.signed_by(c) for c in store.certificates() if c.subject == crl.issuer):
            raise InputError("no trusted CSCA signed this CRL")
    else:
        report = store.validate(read_certificate(obj.der, "DSC"), when, purpose="ds")
        signature = next(c for c in report.checks if c.name == "signature")
        if not signature.passed:
            raise InputError(f"Document Signer certificate: {signature.reason}")


def _learn(store: TrustStore, obj: pkd.PkdObject) -> None:
    """What a verified entry adds to the working store for the entries after it."""
    if obj.kind == "ml":
        store.add_masterlist(obj.der, source=obj.dn)
    elif obj.kind == "csca":
        store.add_certificate(obj.der, source=obj.dn)
    elif obj.kind == "crl":
        store.add_crl(obj.der, source=obj.dn)
