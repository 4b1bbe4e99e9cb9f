"""Reading MRZ lines: `parse` (a record, or every finding as a `ValidationError`) and `check` (every finding)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mrtd.errors import Finding, Severity, ValidationError
from mrtd.mrz.formats import decode
from mrtd.mrz.record import MrzRecord


def parse(lines: Sequence[str], reference: dt.date) -> MrzRecord:
    """The record in `lines`; two-digit years are resolved against `reference` (see `mrtd.mrz.dates`).

    Raises `ValidationError` with every finding when any of them is an error (warnings alone do not).
    """
    record, findings = decode(lines, reference)
    if record is None or any(f.severity is Severity.ERROR for f in findings):
        raise ValidationError(findings or [Finding("lines", "unreadable", "not an MRZ")], source="mrz")
    return record


def check(lines: Sequence[str], reference: dt.date | None = None) -> list[Finding]:
    """Every finding about `lines` (wrong length, bad character, each wrong check digit by name and
    position, impossible date, unknown code, bad document code); an empty list when the MRZ is sound.

    With a `reference`, dates are resolved to a century and the document-code date rules apply.
    """
    return decode(lines, reference)[1]
