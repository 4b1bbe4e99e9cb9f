"""From an application-level `Document` to its `MrzRecord` and MRZ lines."""

from __future__ import annotations

import datetime as dt

from mrtd.errors import Finding, InputError, Severity, ValidationError
from mrtd.model import Document, PartialDate
from mrtd.mrz.charset import FILLER, finding_parts
from mrtd.mrz.codes import check_document_code, normalise_state
from mrtd.mrz.formats import NAME_WIDTH, build, record_problems
from mrtd.mrz.names import fit_name, split_name_field
from mrtd.mrz.record import MrzRecord
from mrtd.mrz.transliteration import DEFAULT_NAME_OPTIONS, NameOptions, components

# Record attribute -> the application field it comes from, for error paths.
_PATHS = {
    "document_code": "document.code",
    "issuing_state": "document.issuing_state",
    "nationality": "holder.nationality",
    "primary_identifier": "holder.primary_identifier",
    "secondary_identifier": "holder.secondary_identifier",
    "document_number": "document.number",
    "date_of_birth": "holder.date_of_birth",
    "date_of_expiry": "document.date_of_expiry",
    "sex": "holder.sex",
    "optional_data": "document.optional_data",
    "optional_data_2": "document.optional_data_2",
    "format": "document.format",
}

_ASCII_SPECIAL = frozenset(" -/.,:;'_()#+*&")


def _mrz_value(text: str) -> str:
    """A number or optional data as written in the VIZ -> MRZ form: upper case, spaces and special
    characters replaced by `<` (Part 4 §4.2.2.2), trailing fillers dropped."""
    t = text.strip().upper()
    return "".join(FILLER if c in _ASCII_SPECIAL else c for c in t).rstrip(FILLER)


def record_from_document(document: Document, options: NameOptions = DEFAULT_NAME_OPTIONS) -> MrzRecord:
    """The MRZ facts of `document`: names transliterated (and truncated only if they do not fit),
    codes padded, number and optional data in MRZ form.

    Raises `ValidationError` listing every problem, with application field paths (`holder.primary_identifier`).
    The optional data is `document.optional_data`, or the holder's personal number when that is empty.
    """
    findings: list[Finding] = []
    holder = document.holder
    fmt = document.format
    width = NAME_WIDTH[fmt]
    p_parts: list[str] = []
    s_parts: list[str] = []
    try:
        p_parts = components(holder.primary_identifier, options)
        if not p_parts:
            findings.append(
                Finding(
                    "holder.primary_identifier",
                    "missing",
                    "the primary identifier is empty",
                    "Doc 9303-3 §4.6",
                )
            )
    except InputError as exc:
        findings.append(
            Finding("holder.primary_identifier", "transliteration", *finding_parts(str(exc), "Doc 9303-3 §6"))
        )
    try:
        s_parts = components(holder.secondary_identifier, options)
    except InputError as exc:
        findings.append(
            Finding(
                "holder.secondary_identifier", "transliteration", *finding_parts(str(exc), "Doc 9303-3 §6")
            )
        )
    primary = secondary = ""
    if p_parts:
        try:
            primary, secondary = split_name_field(fit_name(p_parts, s_parts, width))
        except InputError as exc:
            findings.append(
                Finding("holder.primary_identifier", "name", *finding_parts(str(exc), "Doc 9303-3 §4.6"))
            )
    number = _mrz_value(document.number) if document.number is not None else ""
    if document.number is None:
        findings.append(Finding("document.number", "missing", "no document number has been allocated"))
    optional = _mrz_value(document.optional_data) or _mrz_value(holder.personal_number)
    issue = document.date_of_issue
    expiry = document.date_of_expiry
    record = MrzRecord(
        format=fmt,
        document_code=document.code.value,
        issuing_state=normalise_state(document.issuing_state),
        primary_identifier=primary,
        secondary_identifier=secondary,
        document_number=number,
        nationality=normalise_state(holder.nationality),
        date_of_birth=holder.date_of_birth,
        sex=holder.sex,
        date_of_expiry=PartialDate.of(expiry) if isinstance(expiry, dt.date) else expiry,
        optional_data=optional,
        optional_data_2=_mrz_value(document.optional_data_2),
    )
    skip = {"primary_identifier"} if not p_parts else set()
    if document.number is None:
        skip.add("document_number")
    for f in record_problems(record):
        if f.field in skip or f.severity is not Severity.ERROR:
            continue
        if f.field == "document_code":
            continue  # checked below with the date of issue
        findings.append(Finding(_PATHS.get(f.field, f.field), f.rule, f.message, f.clause, f.severity))
    findings += [
        f
        for f in check_document_code(document.code.value, fmt, issue, expiry, field="document.code")
        if f.severity is Severity.ERROR
    ]
    if issue is not None and issue > expiry:
        findings.append(
            Finding(
                "document.date_of_expiry",
                "expiry-before-issue",
                f"the date of expiry {expiry} is before the date of issue {issue}",
            )
        )
    if findings:
        raise ValidationError(findings, source="document")
    return record


def mrz_lines(document: Document, options: NameOptions = DEFAULT_NAME_OPTIONS) -> tuple[str, ...]:
    """The MRZ lines of `document` (`record_from_document` then `build`)."""
    return build(record_from_document(document, options))


__all__ = ["mrz_lines", "record_from_document"]
