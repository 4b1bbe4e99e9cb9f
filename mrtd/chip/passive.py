"""Passive authentication (Doc 9303-11 §5.1, Doc 9303-12): is the chip's data what the issuer signed?

Works on any issuer's files: RSA PKCS#1 v1.5, RSA-PSS and ECDSA (DER or plain) signatures, digest
algorithm identifiers with or without NULL, EC keys with named or explicit parameters. Every check is
reported with its reason; nothing stops at the first failure except what cannot be checked without a
readable EF.SOD.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from cryptography import x509
from cryptography.x509.oid import NameOID

from mrtd.asn1 import der
from mrtd.asn1.tlv import Tlv
from mrtd.asn1.x509 import Certificate
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.files import by_name, dg_name
from mrtd.chip.lds.sod import Sod
from mrtd.errors import Finding, InputError, MrtdError, Severity
from mrtd.mrz.codes import alpha2_of

OID_DOCUMENT_TYPE_LIST = "2.23.136.1.1.6.2"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not-applicable"  # nothing to compare (say, an older DS profile without the extension)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    why: str
    warning: bool = False  # passed, but the verdict shows it (no CRL at hand)

    @property
    def passed(self) -> bool:
        return self.status is not Status.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "status": self.status.value, "why": self.why,
                "warning": self.warning}


@dataclass(frozen=True, slots=True)
class PassiveReport:
    checks: tuple[Check, ...]
    at: dt.datetime
    ds_subject: str | None = None
    findings: tuple[Finding, ...] = ()  # what was tolerated (BER encoding, certificate defects) or only warned of

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": self.at.isoformat(),
            "ds_subject": self.ds_subject,
            "checks": [c.as_dict() for c in self.checks],
            "findings": [f.as_dict() for f in self.findings],
        }


class _PathCheck(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def warning(self) -> bool: ...


class _PathReport(Protocol):
    @property
    def checks(self) -> tuple[_PathCheck, ...]: ...


class Trust(Protocol):
    """What passive authentication needs of a trust store (`mrtd.pki.trust.TrustStore`)."""

    def validate(self, cert: Certificate, at: dt.datetime, *, purpose: str | None = None) -> _PathReport: ...


def _ok(name: str, why: str) -> Check:
    return Check(name, Status.PASSED, why)


def _fail(name: str, why: str) -> Check:
    return Check(name, Status.FAILED, why)


def _na(name: str, why: str) -> Check:
    return Check(name, Status.NOT_APPLICABLE, why)


def passive_authentication(files: Mapping[str, bytes], trust: Trust, at: dt.datetime) -> PassiveReport:
    """Every passive-authentication check on `files` (by short name: `EF.SOD`, `DG1`, ...) at time `at`."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    for name in files:
        by_name(name)
    checks: list[Check] = []
    raw_sod = files.get("EF.SOD")
    if raw_sod is None:
        checks.append(_fail("sod-structure", "EF.SOD is missing [Doc 9303-10 §4.6.2]"))
        return PassiveReport(tuple(checks), at)
    try:
        sod = Sod.decode(raw_sod)
        lso = sod.security_object
        hash_name = lso.hash_name
    except MrtdError as exc:
        checks.append(_fail("sod-structure", f"EF.SOD cannot be read: {exc}"))
        return PassiveReport(tuple(checks), at)
    checks.append(
        _ok(
            "sod-structure",
            f"LDSSecurityObject v{lso.version}, {hash_name.upper()}, data groups "
            f"{', '.join(str(n) for n, _ in lso.hashes)}"
            + (f", LDS {lso.lds_version} Unicode {lso.unicode_version}" if lso.lds_version else ""),
        )
    )

    findings: list[Finding] = list(sod.findings)
    ds: Certificate | None = None
    try:
        ds = sod.ds_certificate()
    except MrtdError as exc:
        checks.append(_fail("sod-signature", f"the DS certificate cannot be read: {exc}"))
    if ds is None and not any(c.name == "sod-signature" for c in checks):
        checks.append(_fail("sod-signature", "EF.SOD carries no DS certificate matching its SignerInfo [Table 37]"))
    elif ds is not None:
        findings.extend(Finding(f"dsCertificate.{f.field}", f.rule, f.message, f.clause, f.severity) for f in ds.findings)
        try:
            scheme = sod.verify(ds)
            checks.append(_ok("sod-signature", f"{scheme} signature by {_subject(ds)} verifies"))
        except MrtdError as exc:
            checks.append(_fail("sod-signature", str(exc)))
        chain = _chain(ds, trust, at)
        checks.extend(chain)
        findings.extend(Finding(c.name, "crl-missing" if "CRL" in c.why else "chain-warning", c.why,
                                "Doc 9303-11 §5.1, Doc 9303-12 §7.1.4", Severity.WARNING)
                        for c in chain if c.warning)

    present = {f.dg: name for name in files if (f := by_name(name)).dg is not None}
    for n in sorted(present):
        expected = lso.hash_of(n)
        check = f"dg-hash:{dg_name(n)}"
        if expected is None:
            continue  # reported by dg-coverage
        actual = hashlib.new(hash_name, files[present[n]]).digest()
        if actual == expected:
            checks.append(_ok(check, f"{hash_name.upper()} of {dg_name(n)} matches EF.SOD"))
        else:
            checks.append(_fail(check, f"{hash_name.upper()} of {dg_name(n)} is {actual.hex()[:16]}..., EF.SOD says {expected.hex()[:16]}..."))
    uncovered = sorted(n for n in present if lso.hash_of(n) is None)
    if uncovered:
        checks.append(_fail("dg-coverage", f"present but not covered by EF.SOD: {', '.join(dg_name(n) for n in uncovered)}"))
    else:
        missing = [dg_name(n) for n, _ in lso.hashes if n not in present]
        tail = f" (covered but not read: {', '.join(missing)})" if missing else ""
        checks.append(_ok("dg-coverage", f"every data group present is covered by EF.SOD{tail}"))

    dg1 = None
    if "DG1" in files:
        try:
            dg1 = Dg1.decode(files["DG1"])
        except MrtdError as exc:
            checks.append(_fail("dg1-structure", f"DG1 cannot be read: {exc}"))
    if ds is not None:
        checks.append(_guarded("document-type", lambda: _document_type(ds, dg1)))
        checks.append(_guarded("issuer-country", lambda: _issuer_country(ds, dg1)))
        checks.append(_guarded("ds-usage-period", lambda: _usage_period(ds, files.get("DG12"))))
    if "EF.CardSecurity" in files:
        checks.append(_card_security(files["EF.CardSecurity"], files.get("EF.CardAccess"), trust, at))
    return PassiveReport(tuple(checks), at, _subject(ds) if ds is not None else None, tuple(findings))


def _card_security(raw: bytes, card_access: bytes | None, trust: Trust, at: dt.datetime) -> Check:
    """EF.CardSecurity (read after PACE) is signed by a Document Signer, and holds every SecurityInfo of the
    unsigned EF.CardAccess [Doc 9303-11 §9.2.13]: its signature and signer's chain, then that inclusion."""
    from mrtd.chip.lds.cardsecurity import CardSecurity  # only chips with PACE-CAM carry one
    from mrtd.chip.lds.securityinfos import SecurityInfos

    name = "card-security"
    try:
        cs = CardSecurity.decode(raw)
        signer = cs.signed_data.signer_certificate(cs.signed_data.signer_infos[0])
        if signer is None:
            return _fail(name, "EF.CardSecurity carries no DS certificate matching its SignerInfo [Doc 9303-11 §9.2.13]")
        scheme = cs.verify(signer)
    except MrtdError as exc:
        return _fail(name, f"EF.CardSecurity: {exc}")
    failed = [c.why for c in _chain(signer, trust, at) if not c.passed]
    if failed:
        return _fail(name, f"EF.CardSecurity's signer {_subject(signer)}: {'; '.join(failed)}")
    if card_access is not None:
        try:
            unsigned = SecurityInfos.decode(card_access, "EF.CardAccess").infos
        except MrtdError as exc:
            return _fail(name, f"EF.CardAccess cannot be read to compare with EF.CardSecurity: {exc}")
        signed = {i.raw for i in cs.security_infos.infos}
        if any(i.raw not in signed for i in unsigned):
            return _fail(name, "EF.CardAccess holds a SecurityInfo the signed EF.CardSecurity does not: it was "
                         "altered [Doc 9303-11 §9.2.13]")
    return _ok(name, f"{scheme} signature by {_subject(signer)} verifies"
               + ("; EF.CardAccess is part of it" if card_access is not None else ""))


def _subject(cert: Certificate) -> str:
    return cert.subject_text


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check on the DS certificate's extensions: a malformed extension fails the check, it does not crash."""
    try:
        return check()
    except MrtdError as exc:
        return _fail(name, f"the DS certificate cannot be read for this check: {exc}")


def _chain(ds: Certificate, trust: Trust, at: dt.datetime) -> list[Check]:
    try:
        report = trust.validate(ds, at, purpose="ds")
    except MrtdError as exc:
        return [_fail("ds-chain", f"the DS certificate cannot be validated: {exc}")]
    out = [Check(f"ds-chain:{c.name}", Status.PASSED if c.passed else Status.FAILED, c.reason, c.passed and c.warning)
           for c in report.checks]
    return out or [_fail("ds-chain", "the trust store reported no check")]


def _document_types(ds: Certificate) -> tuple[str, ...] | None:
    ext = ds.extension_by_oid(OID_DOCUMENT_TYPE_LIST)
    if ext is None:
        return None
    value = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
    parts = der.children(Tlv.decode(value, what="DocumentTypeList"), der.SEQUENCE, "DocumentTypeList", "Doc 9303-12 §7.1.1.3")
    if len(parts) != 2:
        raise InputError("DocumentTypeList: needs version and docTypeList [Doc 9303-12 §7.1.1.3]")
    return tuple(der.read_string(t, "DocumentTypeList.docTypeList") for t in der.children(parts[1], der.SET, "docTypeList"))


def _document_type(ds: Certificate, dg1: Dg1 | None) -> Check:
    name = "document-type"
    try:
        types = _document_types(ds)
    except MrtdError as exc:
        return _fail(name, f"the DS DocumentType extension cannot be read: {exc}")
    if types is None:
        return _na(name, "the DS certificate has no DocumentType extension (older profile): nothing to compare")
    if dg1 is None:
        return _na(name, f"DS allows {', '.join(types)}; no DG1 to compare with")
    code = dg1.document_code
    base = code.rstrip("<")
    if any(base == t or (len(t) == 1 and code.startswith(t)) for t in types):
        return _ok(name, f"DG1 document code {code} is among the DS document types {', '.join(types)}")
    return _fail(name, f"DG1 document code {code} is not among the DS document types {', '.join(types)} [Doc 9303-12 §7.1.1.3]")


def _ds_country_codes(ds: Certificate) -> set[str]:
    """The MRZ codes the DS certificate names: SAN/IAN localityName, and its countryName as alpha-3."""
    codes: set[str] = set()
    alt_names = [n for n in (ds.extension(x509.SubjectAlternativeName), ds.extension(x509.IssuerAlternativeName))
                 if n is not None]
    for names in alt_names:
        for dn in names.get_values_for_type(x509.DirectoryName):
            codes.update(str(a.value) for a in dn.get_attributes_for_oid(NameOID.LOCALITY_NAME))
    return codes


def _issuer_country(ds: Certificate, dg1: Dg1 | None) -> Check:
    name = "issuer-country"
    countries = ds.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    c = str(countries[0].value).upper() if countries else None
    if dg1 is None:
        return _na(name, "no DG1 to compare with")
    state = dg1.issuing_state.rstrip("<")
    expected_c = alpha2_of(state)
    named = _ds_country_codes(ds)
    if state in named:
        return _ok(name, f"DG1 issuing state {state} is the DS alternative name's country code")
    if c is not None and expected_c is not None:
        if c == expected_c:
            return _ok(name, f"DG1 issuing state {state} matches the DS countryName {c}")
        return _fail(name, f"DG1 issuing state {state} is not the DS countryName {c} [Doc 9303-11 §5.1]")
    if named:
        return _fail(name, f"DG1 issuing state {state} is not the DS alternative name's {', '.join(sorted(named))}")
    return _na(name, f"DG1 issuing state {state} has no ISO 3166 equivalent and the DS names no MRZ code")


def _usage_period(ds: Certificate, dg12_raw: bytes | None) -> Check:
    name = "ds-usage-period"
    if dg12_raw is None:
        return _na(name, "no DG12 date of issue to compare with the DS private key usage period")
    from mrtd.chip.lds.dg12 import Dg12  # DG12 is optional: its codec (and the model it needs) loads with it

    try:
        issued = Dg12.decode(dg12_raw).fields.date_of_issue
    except MrtdError as exc:
        return _fail(name, f"DG12 cannot be read: {exc}")
    if issued is None or not issued.is_complete:
        return _na(name, "DG12 has no complete date of issue")
    pkup = ds.extension(x509.PrivateKeyUsagePeriod)
    if pkup is None:
        return _na(name, "the DS certificate has no PrivateKeyUsagePeriod")
    day = issued.to_date()
    start = pkup.not_before.date() if pkup.not_before else None
    end = pkup.not_after.date() if pkup.not_after else None
    if (start and day < start) or (end and day > end):
        return _fail(name, f"date of issue {day} is outside the DS key usage period {start}..{end} [Doc 9303-11 §5.1]")
    return _ok(name, f"date of issue {day} is inside the DS key usage period {start}..{end}")
