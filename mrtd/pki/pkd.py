"""LDIF in the ICAO PKD's layout: CSCAs, Document Signer certificates, CRLs, master lists, deviation lists.

The layout is data (profiles/pkd.toml): each kind has its branch (`o=dsc`, `o=crl`, `o=ml`, ...) under
`c=<country>` and the PKD base, its object classes, the attribute holding the DER and how its entry is
named. LDIF itself (RFC 2849: base64 values, folded lines) is read and written by the `ldif` package; we
never follow `:<` URL values (a file from outside must not make us read local files or the network).
Reading only sorts entries into kinds by their DN and checks that each value is what its kind says (a
certificate, a CRL, a master or deviation list); whether any of it is trusted is the importer's decision
(mrtd.pki.site verifies every entry against CSCAs already trusted).
"""

from __future__ import annotations

import hashlib
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import ldif
from cryptography.x509.oid import NameOID

from mrtd.asn1.foreign import reading
from mrtd.asn1.x509 import Certificate, Crl, read_certificate, read_crl
from mrtd.errors import EncodingError, InputError, MrtdError

KINDS = ("csca", "dsc", "crl", "ml", "dl")
CLAUSE = "ICAO PKD LDIF layout"


@cache
def layout() -> dict[str, Any]:
    return tomllib.loads(resources.files("mrtd.pki.profiles").joinpath("pkd.toml").read_text("utf-8"))


@dataclass(frozen=True)
class PkdObject:
    """One PKD object: its kind, its country (alpha-2, upper case) and its DER exactly as carried."""

    kind: str
    country: str
    der: bytes
    dn: str = ""
    conformant: bool = True  # False for entries under dc=nc-data

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


def escape_dn_value(value: str) -> str:
    """An RFC 4514 attribute value, with `=` escaped as the PKD writes its cn values."""
    out = "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def _naming(obj: PkdObject) -> tuple[str, str | None, bool]:
    """The entry's cn and sn values (unescaped), and whether sn is part of the entry's RDN."""
    kind = layout()["kinds"][obj.kind]["naming"]
    if kind == "subject":
        cert = read_certificate(obj.der, f"{obj.kind} certificate")
        return cert.subject_text, f"{cert.serial:X}", True
    if kind == "issuer":
        return read_crl(obj.der).issuer.rfc4514_string(), None, False
    return _list_signer(obj), layout()["list_sn"], False


def _list_signer(obj: PkdObject) -> str:
    from mrtd.asn1 import cms

    sd = cms.SignedData.decode(obj.der, f"{obj.kind} list")
    info = sd.signer_infos[0]
    cert = sd.signer_certificate(info)
    if cert is None:
        raise EncodingError(f"{obj.kind}: the list's signer certificate is not inside it [RFC 5652 §5.3]")
    return cert.subject_text


def dn_of(obj: PkdObject) -> str:
    table = layout()
    base = table["base"] if obj.conformant else table["nc_base"]
    cn, sn, in_rdn = _naming(obj)
    rdn = f"cn={escape_dn_value(cn)}" + (f"+sn={sn}" if sn and in_rdn else "")
    return f"{rdn},o={table['kinds'][obj.kind]['branch']},c={obj.country},{base}"


def export(objects: Iterable[PkdObject]) -> bytes:
    """The LDIF (version 1) of `objects`, one entry each, in the PKD's layout."""
    out = io.BytesIO()
    out.write(b"version: 1\n")  # followed directly by the first record, as RFC 2849's examples do
    writer = ldif.LDIFWriter(out, cols=76)
    seen: set[str] = set()
    for obj in objects:
        if obj.kind not in KINDS:
            raise InputError(f"pkd: kind {obj.kind!r} is none of {', '.join(KINDS)}")
        spec = layout()["kinds"][obj.kind]
        dn = dn_of(obj)
        if dn in seen:
            continue
        seen.add(dn)
        cn, sn, _ = _naming(obj)
        record: dict[str, list[Any]] = {"objectClass": list(spec["object_classes"]), "cn": [cn]}
        if sn:
            record["sn"] = [sn]
        record[spec["attribute"]] = [obj.der]
        writer.unparse(dn, record)
    return out.getvalue()


def _kind_of(dn: str) -> tuple[str | None, str | None, bool]:
    """(kind, country, conformant) from an entry's DN; kind None for the tree's own entries."""
    table = layout()
    parts = [p.strip() for p in _split_dn(dn)]
    lowered = [p.lower() for p in parts]
    branch = next((p[2:] for p in lowered if p.startswith("o=")), None)
    country = next((p[2:].upper() for p in parts if p.lower().startswith("c=")), None)
    conformant = "dc=nc-data" not in lowered
    if not lowered[0].startswith("cn="):
        return None, country, conformant  # the branch entries themselves (o=dsc,c=XX,...; c=XX,...; dc=...)
    for kind, spec in table["kinds"].items():
        if branch in (spec["branch"], *spec.get("aliases", [])):
            return kind, country, conformant
    return None, country, conformant


def _split_dn(dn: str) -> list[str]:
    """RDNs of a DN at unescaped commas."""
    out, current, escaped = [], [], False
    for c in dn:
        if escaped:
            current.append(c)
            escaped = False
        elif c == "\\":
            current.append(c)
            escaped = True
        elif c == ",":
            out.append("".join(current))
            current = []
        else:
            current.append(c)
    out.append("".join(current))
    return out


@dataclass(frozen=True)
class Skipped:
    dn: str
    reason: str


def read(data: bytes, source: str = "LDIF") -> tuple[list[PkdObject], list[Skipped]]:
    """The PKD objects of an LDIF file, and the entries that are not (the tree's own entries, unknown
    branches, values that are not what their branch says). Raises EncodingError for text that is not LDIF."""
    objects: list[PkdObject] = []
    skipped: list[Skipped] = []
    with reading(source):
        parser = ldif.LDIFParser(io.BytesIO(data), encoding=None, strict=True)
        entries = list(parser.parse())
    for dn, entry in entries:
        if dn is None and not entry:
            continue  # how the parser hands over a `version: 1` line that stands alone
        if dn is None:
            raise EncodingError(f"{source}: an entry without dn: [RFC 2849]")
        kind, country, conformant = _kind_of(dn)
        if kind is None:
            continue  # dc=..., c=XX and o=... entries that only make the tree
        attribute = layout()["kinds"][kind]["attribute"]
        values = _values(entry, attribute)
        if not values or len(values) != 1 or not isinstance(values[0], bytes) or not values[0]:
            skipped.append(Skipped(dn, f"no single {attribute} value [{CLAUSE}]"))
            continue
        if not country or len(country) != 2:
            skipped.append(Skipped(dn, f"no c=<country> in the DN [{CLAUSE}]"))
            continue
        obj = PkdObject(kind, country, values[0], dn, conformant)
        try:
            check(obj)
        except MrtdError as exc:
            skipped.append(Skipped(dn, str(exc)))
            continue
        objects.append(obj)
    return objects, skipped


def _values(entry: dict[str, list[Any]], attribute: str) -> list[Any] | None:
    """The entry's values of `attribute`, with or without the `;binary` option (both occur in PKD files)."""
    base = attribute.lower().split(";")[0]
    return next((v for k, v in entry.items() if k.lower().split(";")[0] == base), None)


def check(obj: PkdObject) -> Certificate | Crl | None:
    """That the value is what its kind says, and that its country is the entry's."""
    if obj.kind in ("csca", "dsc"):
        cert = read_certificate(obj.der, f"{obj.kind} certificate")
        if cert.country.upper() != obj.country:
            raise EncodingError(f"{obj.kind}: subject country {cert.country!r} is not the entry's c={obj.country}")
        return cert
    if obj.kind == "crl":
        crl = read_crl(obj.der)
        values = crl.issuer.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        issuer_country = str(values[0].value).upper() if values else ""
        if issuer_country != obj.country:
            raise EncodingError(f"crl: issuer country {issuer_country!r} is not the entry's c={obj.country}")
        return crl
    if obj.kind == "ml":
        from mrtd.pki import masterlist

        masterlist.parse(obj.der)
        return None
    from mrtd.pki import deviationlist

    deviationlist.parse(obj.der)
    return None
