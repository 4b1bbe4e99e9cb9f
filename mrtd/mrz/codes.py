"""Three-letter codes (Doc 9303 Part 3 §5) and document codes (Parts 4-7, Part 4 §4.4 Amendment 2)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from mrtd.errors import Finding, Severity
from mrtd.mrz._data import load
from mrtd.mrz.charset import FILLER, LETTERS

if TYPE_CHECKING:  # an annotation only: a chip read asks for country codes, not the document model
    from mrtd.model import DocumentFormat

CLAUSE_CODES = "Doc 9303-3 §5"


@functools.cache
def _states() -> dict[str, dict[str, str]]:
    codes: dict[str, dict[str, str]] = load("states")["codes"]
    return codes


def normalise_state(code: str) -> str:
    """A code as written in a 3-character MRZ field: upper case, padded with `<` (`D` -> `D<<`)."""
    c = code.strip().upper()
    return c + FILLER * (3 - len(c)) if len(c) < 3 else c


def is_known_state(code: str) -> bool:
    """True for ISO 3166-1 alpha-3 codes and every code Doc 9303-3 §5 adds (`D`/`D<<`, `XXA`, `UTO`, ...)."""
    return code.strip().upper().rstrip(FILLER) in _states()


def state_name(code: str) -> str | None:
    """The name of a state or organisation code, or None when unknown."""
    entry = _states().get(code.strip().upper().rstrip(FILLER))
    return entry["name"] if entry else None


def state_kind(code: str) -> str | None:
    """`iso-3166-1`, `icao-a` ... `icao-h`, `deprecated`, `specimen`, or None when unknown."""
    entry = _states().get(code.strip().upper().rstrip(FILLER))
    return entry["kind"] if entry else None


def alpha2_of(code: str) -> str | None:
    """The two-letter code of a state code (`NLD` -> `NL`, `D`/`DEU` -> `DE`, `UTO` -> `UT`), or None.

    ISO 3166-1 alpha-2 for ISO codes; for the Doc 9303-3 §5 codes the 2-letter code Doc 9303 gives
    (`RKS` -> `KS`, `IAO` -> `IA`). Organisations and the other extra codes have none.
    """
    entry = _states().get(code.strip().upper().rstrip(FILLER))
    return entry.get("alpha2") if entry else None


def code_for_alpha2(alpha2: str, *, iso_only: bool = False) -> str | None:
    """The code an MRZ carries for a two-letter code (`NL` -> `NLD`, `DE` -> `D`, `UT` -> `UTO`), or None.

    `iso_only`: accept only ISO 3166-1 alpha-2 codes, not the 2-letter codes Doc 9303 gives UTO, RKS, IAO.
    """
    return _by_alpha2(iso_only).get(alpha2.strip().upper())


@functools.cache
def _by_alpha2(iso_only: bool) -> dict[str, str]:
    iso = {e["alpha2"] for e in _states().values() if e["kind"] == "iso-3166-1" and "alpha2" in e}
    out: dict[str, str] = {}
    for code, entry in _states().items():
        a2 = entry.get("alpha2")
        if a2 is None or (iso_only and a2 not in iso):
            continue
        # Doc 9303-3 §5 replaces an ISO alpha-3 for the same state (Germany: D, never DEU): its code wins.
        if a2 not in out or entry["kind"] != "iso-3166-1":
            out[a2] = code
    return out


def check_state(code: str, field: str) -> list[Finding]:
    """Findings for a three-letter code field (unknown code, deprecated code, malformed)."""
    return list(_state_findings(code, field))


@functools.lru_cache(maxsize=4096)
def _state_findings(code: str, field: str) -> tuple[Finding, ...]:
    return tuple(_check_state(code, field))


def _check_state(code: str, field: str) -> list[Finding]:
    c = normalise_state(code)
    if len(c) != 3 or not all(ch in LETTERS or ch == FILLER for ch in c) or c[0] == FILLER:
        return [Finding(field, "state-code", f"{code!r} is not a three-letter code", CLAUSE_CODES)]
    kind = state_kind(c)
    if kind is None:
        return [
            Finding(field, "unknown-state", f"{c!r} is not a known state or organisation code", CLAUSE_CODES)
        ]
    if kind == "deprecated":
        return [
            Finding(
                field,
                "deprecated-state",
                f"{c!r} ({state_name(c)}) is a deprecated code",
                CLAUSE_CODES,
                Severity.WARNING,
            )
        ]
    return []


@functools.cache
def _doc_rules() -> dict[str, Any]:
    return load("document_codes")


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def harmonised_passport_codes() -> dict[str, str]:
    """Part 4 §4.4 (Amendment 2): PP, PE, PD, PO, PR, PT, PS, PL, PM and their meaning."""
    codes: dict[str, str] = _doc_rules()["TD3"]["harmonised"]
    return dict(codes)


def check_document_code(
    code: str,
    fmt: DocumentFormat,
    date_of_issue: dt.date | None,
    date_of_expiry: dt.date | None,
    field: str = "document_code",
) -> list[Finding]:
    """Every finding about a document code for a format; dates switch on Amendment 2's rules (None: unknown)."""
    rules = _doc_rules()
    c = code.strip().upper()
    c = c + FILLER * (2 - len(c)) if len(c) < 2 else c
    if len(c) != 2 or c[0] not in LETTERS or not (c[1] in LETTERS or c[1] == FILLER):
        return [
            Finding(
                field,
                "document-code",
                f"{code!r} is not a letter followed by a letter or '<'",
                "Doc 9303-3 §4.2",
            )
        ]
    key = "MRV" if fmt.is_visa else fmt.value
    r = rules[key]
    clause = r["clause"]
    out: list[Finding] = []
    if c[0] not in r["first"]:
        allowed = ", ".join(r["first"])
        out.append(
            Finding(
                field, "document-code", f"{c!r}: a {fmt.value} document code starts with {allowed}", clause
            )
        )
        return out
    if key in ("TD1", "TD2"):
        if c[1] in r["forbidden_second"]:
            out.append(Finding(field, "document-code", f"{c!r}: the second character may not be V", clause))
        if c in r["forbidden"]:
            out.append(Finding(field, "document-code", f"{c!r} is not allowed in {fmt.value}", clause))
        if c in r["restricted"]:
            out.append(
                Finding(
                    field,
                    "document-code",
                    f"{c!r} is allowed only for a {r['restricted'][c]}",
                    clause,
                    Severity.WARNING,
                )
            )
    elif key == "TD3":
        harmonised = r["harmonised"]
        if c in harmonised or c in r["other"]:
            return out
        must_from = _date(r["secondary_code_must_be_harmonised_from"])
        mandatory_from = _date(r["harmonised_code_mandatory_from"])
        expire_before = _date(r["non_harmonised_must_expire_before"])
        if c[1] != FILLER and date_of_issue is not None and date_of_issue >= must_from:
            out.append(
                Finding(
                    field,
                    "document-code",
                    f"{c!r}: from {must_from} a passport's second code letter must be one of "
                    f"{', '.join(harmonised)}",
                    clause,
                )
            )
        if date_of_issue is not None and date_of_issue >= mandatory_from:
            out.append(
                Finding(
                    field,
                    "document-code",
                    f"{c!r}: every passport issued from {mandatory_from} carries a harmonised code "
                    f"({', '.join(harmonised)})",
                    clause,
                )
            )
        if date_of_expiry is not None and date_of_expiry >= expire_before:
            out.append(
                Finding(
                    field,
                    "document-code",
                    f"{c!r}: a passport without a harmonised code must expire before {expire_before}",
                    clause,
                )
            )
    return out
