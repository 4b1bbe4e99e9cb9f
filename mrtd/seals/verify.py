"""Verify a seal from whatever the verifier holds: an image, raw bytes, hex, an IDB string or VDS-NC JSON.

    input -> decode -> signer certificate (embedded, or by signer id + reference among the trusted
    certificates) -> signature -> signer chains to a CSCA (mrtd.pki.trust) or is itself trusted -> report

`check_seal` returns a `SealReport` with the content, every check and the verdict; `verify_seal` raises
unless the verdict is `valid`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from mrtd.asn1.keys import key_bits
from mrtd.asn1.signatures import verify_raw_ecdsa
from mrtd.asn1.x509 import Certificate, load_certificate, read_certificates
from mrtd.errors import (
    ChainError,
    EncodingError,
    Finding,
    InputError,
    MrtdError,
    Severity,
    SignatureError,
    VerificationError,
)
from mrtd.limits import pdf_pages, read_file
from mrtd.pki.signer import HashName, hash_for_bits
from mrtd.pki.trust import TrustStore
from mrtd.seals import barcode, idb, vds, vdsnc
from mrtd.seals.profiles import (
    FeatureValue,
    Profile,
    decode_features,
    find_vds_profile,
    idb_messages,
    idb_nested,
    jsonable,
    tr03171_document_profiles,
)
from mrtd.seals.signers import idb_reference, matches_vds_reference

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"\x00\x00\x00\x0cjP")


class Verdict(StrEnum):
    VALID = "valid"  # signature verifies and the signer chains to a trusted CSCA or is itself trusted
    UNTRUSTED = "untrusted"  # signature verifies, the signer is not trusted
    INVALID = "invalid"  # the signature does not verify
    UNSIGNED = "unsigned"
    UNKNOWN_SIGNER = "unknown-signer"  # signed, but no certificate for the signer is at hand


@dataclass(frozen=True, slots=True)
class SealCheck:
    name: str
    passed: bool
    reason: str
    required: bool = True  # False: reported for information, the verdict does not depend on it

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason, "required": self.required}


@dataclass(frozen=True)
class SealReport:
    format: str  # vds | idb | vdsnc
    document_type: str
    header: dict[str, Any]
    content: dict[str, Any]
    checks: tuple[SealCheck, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict
    signer: dict[str, Any] | None = None
    barcode: dict[str, Any] | None = None
    # What a person checks first: holder, date of birth, document number and type, expiry, issuing state
    # and signer (from the MRZ the seal carries, or a VDS-NC's person identification).
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID


    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "format": self.format,
            "document_type": self.document_type,
            "header": jsonable(self.header),
            "content": jsonable(self.content),
            "checks": [c.as_dict() for c in self.checks],
            "findings": [f.as_dict() for f in self.findings],
            "signer": self.signer,
            "barcode": self.barcode,
        }


@dataclass
class Trust:
    """Certificates a verifier trusts or may look a signer up in.

    `store`: the trust store (CSCAs, master lists, CRLs and any signer certificate given in the trust
    path, which is then "itself trusted"). `lookup`: signer certificates that are only looked up by
    reference (e.g. from a PKD download); they are trusted only through a path to a CSCA.
    A file in the trust path that cannot be read is an error, never skipped.
    """

    store: TrustStore
    lookup: list[Certificate] = field(default_factory=list)
    _candidates: list[Certificate] | None = field(default=None, init=False, repr=False)

    @classmethod
    def load(cls, path: Path, lookup: Path | None = None) -> Trust:
        if not path.exists():
            raise InputError(f"trust: {path} does not exist")
        if lookup is not None and not lookup.exists():
            raise InputError(f"certificates: {lookup} does not exist")
        return cls(TrustStore.load(path), _certificates(lookup) if lookup is not None else [])

    @classmethod
    def of(cls, certificates: Sequence[bytes | Certificate], lookup: Sequence[bytes | Certificate] = ()) -> Trust:
        """Trust exactly these certificates (DER or PEM); `lookup` ones only serve to find a signer."""
        store = TrustStore()
        for c in certificates:
            store.add_certificate(c if isinstance(c, Certificate) else load_certificate(c))
        return cls(store, [c if isinstance(c, Certificate) else load_certificate(c) for c in lookup])

    def candidates(self) -> list[Certificate]:
        """Every certificate a signer may be looked up in (computed once)."""
        if self._candidates is None:
            self._candidates = list(dict.fromkeys([*self.store.certificates(), *self.lookup]))
        return self._candidates

    def is_listed(self, cert: Certificate) -> bool:
        """The certificate itself is in the trust path."""
        return self.store.holds(cert)


def _certificates(path: Path) -> list[Certificate]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out: list[Certificate] = []
    for f in files:
        out.extend(read_certificates(read_file(f), str(f)))
    return out


# --- input ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealInput:
    kind: str  # vds | idb | vdsnc
    payload: bytes
    barcode: barcode.DecodedBarcode | None = None


def read_input(data: bytes) -> SealInput:
    """Tell what the bytes are: an image of a barcode, a binary VDS, hex text, an IDB string or JSON."""
    if not data:
        raise InputError("input: empty")
    if data.startswith(_IMAGE_MAGIC):
        return _from_barcodes(barcode.decode_retrying(barcode.open_image(data)), "image")
    if data.startswith(b"%PDF-"):
        for page in pdf_pages(data, "PDF"):
            found = barcode.decode_retrying(page)
            if found:
                return _from_barcodes(found, "PDF")
        raise InputError("PDF: no QR code or DataMatrix found on any page")
    kind = _classify(data)
    if kind is not None:
        return SealInput(kind, data)
    text = data.decode("ascii", "replace").strip()
    compact = "".join(text.split())
    if compact and all(c in "0123456789abcdefABCDEF" for c in compact) and len(compact) % 2 == 0:
        raw = bytes.fromhex(compact)
        if _classify(raw) == "vds":
            return SealInput("vds", raw)
    raise InputError("input: not a seal image or PDF, VDS bytes (0xDC...), hex, an IDB string (RDB1...) or VDS-NC JSON")


def _from_barcodes(found: list[barcode.DecodedBarcode], where: str) -> SealInput:
    seals = [(kind, b) for b in found if (kind := _classify(b.data)) is not None]
    if not found:
        raise InputError(f"{where}: no QR code or DataMatrix found (also tried upscaled and binarized)")
    if not seals:
        raise InputError(f"{where}: the barcode holds neither a VDS (0xDC), an IDB string nor VDS-NC JSON")
    if len(seals) > 1:
        raise InputError(f"{where}: {len(seals)} seals found; give one seal at a time")
    kind, one = seals[0]
    return SealInput(kind, one.data, one)


def _classify(data: bytes) -> str | None:
    if data[:1] == b"\xdc":
        return "vds"
    stripped = data.strip()
    if stripped[:3] in (b"RDB", b"NDB"):
        return "idb"
    if stripped[:1] == b"{":
        return "vdsnc"
    return None


# --- content --------------------------------------------------------------------------------------


def vds_content(seal: vds.VdsSeal, findings: list[Finding]) -> tuple[str, dict[str, FeatureValue]]:
    profile = find_vds_profile(seal.header.feature_ref, seal.header.category)
    content = decode_features(profile, seal.messages, "message", findings)
    if profile is None:
        return f"UNKNOWN (feature ref 0x{seal.header.feature_ref:02X}, category 0x{seal.header.category:02X})", content
    uuid = content.get("DOCUMENT_PROFILE_UUID")
    if isinstance(uuid, bytes) and uuid.hex() in tr03171_document_profiles():
        sub = tr03171_document_profiles()[uuid.hex()]
        merged = Profile(sub.key, sub.name, profile.features + sub.features, profile.feature_ref, profile.category,
                         default_coding=profile.default_coding)
        return f"{sub.name} ({profile.name})", decode_features(merged, seal.messages, "message", [])
    return profile.name, content


def idb_content(seal: idb.IdbSeal, findings: list[Finding]) -> tuple[str, dict[str, FeatureValue]]:
    nested = {k: idb_nested(k) for k in ("idb-visa", "idb-etd")}
    content = decode_features(idb_messages(), seal.messages, "message", findings, nested)
    names = [n for n in content if not n.startswith("tag_")]
    return "IDB " + "+".join(names[:1] or ["(no known message)"]), content


# --- verification ---------------------------------------------------------------------------------


def check_seal(
    data: bytes, trust: Trust, now: dt.datetime, strict: bool = False, signer_certificate: bytes | None = None
) -> SealReport:
    """Decode and check a seal; raises only when the input cannot be decoded (EncodingError/InputError).

    `signer_certificate` (DER or PEM), when given, is used instead of looking the signer up: the report
    says whether it matches the seal's signer reference. `now` is the verifier's clock: VDS-NC seals,
    which carry no signature date, are checked at that time.
    """
    given = load_certificate(signer_certificate) if signer_certificate is not None else None
    source = read_input(data)
    findings: list[Finding] = []
    bc_info: dict[str, Any] | None = None
    if source.barcode is not None:
        bc_info = {"symbology": source.barcode.symbology.value, "eci": source.barcode.has_eci}
        if source.barcode.has_eci:
            if strict:
                raise EncodingError("barcode: the symbol carries an ECI designator; a VDS reader expects 0xDC first")
            findings.append(Finding("barcode.eci", "eci-present", "the symbol carries an ECI designator",
                                    "seals.md §1.9", Severity.WARNING))
    if source.kind == "vds":
        report = _check_vds(vds.decode(source.payload, strict), trust, now, findings, bc_info, given)
    elif source.kind == "idb":
        try:
            text = source.payload.decode("ascii")
        except UnicodeDecodeError:
            raise EncodingError("barcode: an IDB string is ASCII") from None
        report = _check_idb(idb.decode(text, strict), trust, now, findings, bc_info, given)
    else:
        report = _check_vdsnc(vdsnc.decode(source.payload, strict), trust, now, findings, bc_info, given)
    return dataclasses.replace(report, summary=holder_summary(report, now.date()))


def verify_seal(
    data: bytes, trust: Trust, now: dt.datetime, strict: bool = False, signer_certificate: bytes | None = None
) -> SealReport:
    """Like `check_seal`, but raises SignatureError/ChainError/VerificationError unless the seal is valid."""
    report = check_seal(data, trust, now, strict, signer_certificate)
    if report.verdict is Verdict.INVALID:
        raise SignatureError(_first_failure(report))
    if report.verdict is Verdict.UNTRUSTED:
        raise ChainError(_first_failure(report))
    if report.verdict is not Verdict.VALID:
        raise VerificationError(f"seal: {report.verdict.value}")
    return report


def _first_failure(report: SealReport) -> str:
    failed = [c for c in report.checks if not c.passed and c.required]
    return f"{failed[0].name}: {failed[0].reason}" if failed else report.verdict.value


def _signed_at(day: dt.date | None, now: dt.datetime) -> dt.datetime:
    """The moment to check the signer at: seals date their signature to the day, so noon of that day."""
    if day is None:
        return now
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def _moment_in_day(at: dt.datetime, cert: Certificate) -> dt.datetime:
    """A day-precision signature date is within the validity when any moment of that day is: move
    noon into the validity period if that keeps the day."""
    moved = min(max(at, cert.not_before), cert.not_after)
    return moved if moved.date() == at.date() else at


def _check_vds(seal: vds.VdsSeal, trust: Trust, now: dt.datetime, findings: list[Finding],
               bc_info: dict[str, Any] | None, given: Certificate | None) -> SealReport:
    findings.extend(seal.findings)
    h = seal.header
    doc_type, content = vds_content(seal, findings)
    header = {
        "version": h.version, "issuing_country": h.issuing_country, "signer_id": h.signer_id,
        "cert_ref": h.cert_ref, "issue_date": h.issue_date, "signature_date": h.signature_date,
        "feature_ref": h.feature_ref, "category": h.category, "reference_layout": h.layout.value,
    }
    checks: list[SealCheck] = []
    if seal.signature is None:
        checks.append(SealCheck("signature", False, "the seal carries no signature zone"))
        return SealReport("vds", doc_type, header, content, tuple(checks), tuple(findings), Verdict.UNSIGNED,
                          barcode=bc_info)
    if given is not None:
        matches = matches_vds_reference(given, h.signer_id, h.cert_ref)
        checks.append(SealCheck("signer", True, f"given: {given.subject_text} serial {given.serial:X}"
                                + ("" if matches else f" (the seal names {h.signer_id}/{h.cert_ref})")))
        return _finish("vds", doc_type, header, content, checks, findings, bc_info, given, trust,
                       seal.signed_bytes, seal.signature, None, _signed_at(h.signature_date, now), "seal")
    cert = next((c for c in trust.candidates() if matches_vds_reference(c, h.signer_id, h.cert_ref)), None)
    if cert is None:
        checks.append(SealCheck("signer", False, f"no certificate for signer {h.signer_id} reference {h.cert_ref}"))
        return SealReport("vds", doc_type, header, content, tuple(checks), tuple(findings), Verdict.UNKNOWN_SIGNER,
                          barcode=bc_info)
    checks.append(SealCheck("signer", True, f"{cert.subject_text} serial {cert.serial:X}"))
    return _finish("vds", doc_type, header, content, checks, findings, bc_info, cert, trust,
                   seal.signed_bytes, seal.signature, None, _signed_at(h.signature_date, now), "seal")


def _check_idb(seal: idb.IdbSeal, trust: Trust, now: dt.datetime, findings: list[Finding],
               bc_info: dict[str, Any] | None, given: Certificate | None) -> SealReport:
    findings.extend(seal.findings)
    h = seal.header
    doc_type, content = idb_content(seal, findings)
    header = {
        "prefix": seal.prefix, "signed": seal.signed, "compressed": seal.compressed, "country": h.country,
        "algorithm": h.algorithm, "cert_ref": h.cert_ref.hex() if h.cert_ref else None,
        "signature_date": h.signature_date, "signature_date_bytes": h.date_width or None,
        "embedded_certificate": seal.certificate is not None,
    }
    checks: list[SealCheck] = []
    if seal.signature is None:
        checks.append(SealCheck("signature", False, "the IDB is unsigned (flag A/C)"))
        return SealReport("idb", doc_type, header, content, tuple(checks), tuple(findings), Verdict.UNSIGNED,
                          barcode=bc_info)
    cert: Certificate | None
    if given is not None:
        cert = given
        matches = h.cert_ref == idb_reference(given)
        checks.append(SealCheck("signer", True, f"given: {given.subject_text} serial {given.serial:X}"
                                + ("" if matches else " (its SHA-1 does not end in the seal's reference)")))
    elif seal.certificate is not None:
        cert = load_certificate(seal.certificate)
        if h.cert_ref is not None and idb_reference(cert) != h.cert_ref:
            checks.append(SealCheck("signer", False, "the embedded certificate does not match the header reference"))
            return SealReport("idb", doc_type, header, content, tuple(checks), tuple(findings), Verdict.INVALID,
                              barcode=bc_info)
        checks.append(SealCheck("signer", True, f"embedded: {cert.subject_text} serial {cert.serial:X}"))
    else:
        cert = next((c for c in trust.candidates() if idb_reference(c) == h.cert_ref), None)
        if cert is None:
            ref = h.cert_ref.hex() if h.cert_ref else "?"
            checks.append(SealCheck("signer", False, f"no certificate whose SHA-1 ends in {ref}"))
            return SealReport("idb", doc_type, header, content, tuple(checks), tuple(findings),
                              Verdict.UNKNOWN_SIGNER, barcode=bc_info)
        checks.append(SealCheck("signer", True, f"{cert.subject_text} serial {cert.serial:X}"))
    signed_day: dt.date | None = None
    if h.signature_date and "x" not in h.signature_date:
        signed_day = dt.date.fromisoformat(h.signature_date)
    return _finish("idb", doc_type, header, content, checks, findings, bc_info, cert, trust, seal.signed_bytes,
                   seal.signature, h.hash_name, _signed_at(signed_day, now), "seal")


def _check_vdsnc(seal: vdsnc.VdsNcSeal, trust: Trust, now: dt.datetime, findings: list[Finding],
                 bc_info: dict[str, Any] | None, given: Certificate | None) -> SealReport:
    findings.extend(seal.findings)
    header = {"type": seal.use_case, "version": seal.data["hdr"]["v"], "issuing_state": seal.issuing_state,
              "alg": seal.alg}
    content: dict[str, Any] = dict(seal.data["msg"])
    checks = []
    cert = load_certificate(seal.certificate)
    if given is not None and given.der != cert.der:
        checks.append(SealCheck("signer", False, "the given certificate is not the embedded signer certificate"))
        return SealReport("vdsnc", seal.use_case, header, content, tuple(checks), tuple(findings),
                          Verdict.INVALID, barcode=bc_info)
    checks.append(SealCheck("signer", True, f"embedded: {cert.subject_text} serial {cert.serial:X}"
                                            + (" (read with defects: see findings)" if cert.findings else "")))
    return _finish("vdsnc", seal.use_case, header, content, checks, findings, bc_info, cert, trust,
                   seal.signed_bytes, seal.signature, seal.hash_name, now, "vdsnc")


def _finish(fmt: str, doc_type: str, header: dict[str, Any], content: dict[str, Any], checks: list[SealCheck],
            findings: list[Finding], bc_info: dict[str, Any] | None, cert: Certificate, trust: Trust,
            signed: bytes, signature: bytes, hash_name: HashName | None, at: dt.datetime,
            purpose: str) -> SealReport:
    signer_info = {"subject": cert.subject_text, "issuer": cert.issuer_text, "serial": f"{cert.serial:X}",
                   "sha1": cert.sha1.hex(), "lenient": bool(cert.findings)}
    findings.extend(Finding(f"signer.{f.field}", f.rule, f.message, f.clause, f.severity) for f in cert.findings)
    try:
        used = hash_name or hash_for_bits(key_bits(cert.public_key))
        verify_raw_ecdsa(cert.public_key, signed, signature, used)
        checks.append(SealCheck("signature", True, f"ECDSA with {used.value.upper()} over {len(signed)} bytes"))
    except MrtdError as exc:
        checks.append(SealCheck("signature", False, str(exc)))
        return SealReport(fmt, doc_type, header, content, tuple(checks), tuple(findings), Verdict.INVALID,
                          signer_info, bc_info)
    trusted = _trust_checks(cert, trust, at, purpose, checks, findings)
    verdict = Verdict.VALID if trusted else Verdict.UNTRUSTED
    return SealReport(fmt, doc_type, header, content, tuple(checks), tuple(findings), verdict, signer_info, bc_info)


def _trust_checks(cert: Certificate, trust: Trust, at: dt.datetime, purpose: str,
                  checks: list[SealCheck], findings: list[Finding]) -> bool:
    at = _moment_in_day(at, cert)
    in_period = cert.not_before <= at <= cert.not_after
    checks.append(SealCheck("signer-validity", in_period,
                            f"signer valid {cert.not_before:%Y-%m-%d} .. {cert.not_after:%Y-%m-%d}, "
                            f"signed {at:%Y-%m-%d}"))
    listed = trust.is_listed(cert)
    if listed:
        checks.append(SealCheck("trusted-signer", True, "the signer certificate itself is in the trust path"))
    report = trust.store.validate(cert, at, purpose=purpose)
    chained = report.ok
    reason = "; ".join(f"{c.name}: {c.reason}" for c in (report.checks if report.ok else report.failed()))
    checks.append(SealCheck("chain", chained, reason, required=not listed))
    findings.extend(Finding(f"chain.{c.name}", "crl-missing" if "CRL" in c.reason else "chain-warning", c.reason,
                            "Doc 9303-12 §7.1.4", Severity.WARNING) for c in report.warnings())
    return in_period and (chained or listed)


# --- what a person checks first -------------------------------------------------------------------

_MRZ_SHAPES = {90: (30, 30, 30), 72: (36, 36), 88: (44, 44)}  # TD1, TD2/MRV-B, TD3/MRV-A


def _mrz_of(value: Any) -> list[str] | None:
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    if isinstance(value, str):
        text = value.replace("\n", "")
        widths = _MRZ_SHAPES.get(len(text))
        if widths and set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"):
            out, pos = [], 0
            for w in widths:
                out.append(text[pos : pos + w])
                pos += w
            return out
    return None


def _mrz_record(content: Any, today: dt.date) -> Any:
    from mrtd.mrz.formats import decode as decode_mrz

    values = list(content.values()) if isinstance(content, dict) else []
    while values:
        value = values.pop(0)
        if isinstance(value, dict):
            values.extend(value.values())
            continue
        lines = _mrz_of(value)
        if lines:
            record, _ = decode_mrz(lines, today)
            if record is not None:
                return record
    return None


def holder_summary(report: SealReport, today: dt.date) -> dict[str, str]:
    content, header, signer = report.content, report.header, report.signer
    out: dict[str, str] = {}
    record = _mrz_record(content, today)
    if record is not None:
        out = {"holder": record.holder_name, "date_of_birth": record.date_of_birth.iso(),
               "document_number": record.document_number,
               "document_type": f"{record.document_code.rstrip('<')} ({record.format.value})",
               "date_of_expiry": record.date_of_expiry.iso(), "issuing_state": record.issuing_state.rstrip("<")}
    else:
        found = content.get("pid")
        pid: dict[str, Any] = found if isinstance(found, dict) else {}
        for key, name in (("n", "holder"), ("dob", "date_of_birth"), ("i", "document_number")):
            if isinstance(pid.get(key), str | int):
                out[name] = str(pid[key])
        state = header.get("issuing_state") or header.get("issuing_country") or header.get("country")
        if state:
            out["issuing_state"] = str(state).strip()
    if signer:
        out["signer"] = f"{signer['subject']} (serial {signer['serial']})"
    return out
