"""What a finding means, in the person's language: a short sentence per rule (the rules' identifiers are
stable; their English messages carry the detail - the value, the limit - and are shown after it, marked as
English). A rule without a sentence here shows its English message alone."""

from __future__ import annotations

from typing import Any

from mrtd.errors import Finding
from mrtd.service.pages import i18n
from mrtd.service.pages.web import ENV, N_, _gettext, _language

# The rules an enrolment form and its images can break (mrtd.issuance.application, .images, .photo,
# mrtd.mrz), as data.
RULES = {
    "required": N_("This field is required."),
    "empty": N_("This field is empty."),
    "not-a-date": N_("This is not a date."),
    "enum": N_("This is not one of the allowed values."),
    "type": N_("This value has the wrong form."),
    "too-long": N_("This is too long."),
    "control-character": N_("This contains a control character."),
    "unknown-field": N_("This is not a field of an application."),
    "expired": N_("The date of expiry has passed."),
    "birth-in-future": N_("The date of birth is in the future."),
    "birth-after-expiry": N_("The date of birth is after the date of expiry."),
    "birth-after-issue": N_("The date of birth is after the date of issue."),
    "expiry-not-after-issue": N_("The date of expiry is not after the date of issue."),
    "expiry-before-issue": N_("The date of expiry is before the date of issue."),
    "latin-not-needed": N_("A Latin form is only for a name written in another script."),
    "transliteration": N_("This name cannot be written in the machine readable zone."),
    "name": N_("This name does not fit the machine readable zone as it is."),
    "bad-character": N_("This contains a character the machine readable zone does not allow."),
    "state-code": N_("This is not a three-letter state code."),
    "unknown-state": N_("This is not a known state or organisation code."),
    "deprecated-state": N_("This state code is no longer in use."),
    "document-code": N_("This document code is not allowed for this format."),
    "sex": N_("This is not F, M or X."),
    "mrz": N_("The machine readable zone cannot be made from this application."),
    "image-missing": N_("The image is missing."),
    "image-format": N_("The image is not a JPEG, PNG or JPEG 2000 file."),
    "image-undecodable": N_("The image is damaged or cannot be read."),
    "image-too-large": N_("The image file is too large."),
    "image-too-many-pixels": N_("The image has too many pixels."),
    "image-too-small": N_("The image is too small."),
    "portrait-orientation": N_("The portrait must be upright (taller than wide)."),
    # the photo check (mrtd/issuance/photo/rules.toml): rule photo-NAME
    "photo-face": N_("The portrait must show exactly one face."),
    "photo-eyes": N_("The eyes were not found in the portrait."),
    "photo-token-resolution": N_("The portrait's resolution is too low."),
    "photo-eye-distance": N_("The eyes are too close together or too far apart for the portrait's size."),
    "photo-tilt": N_("The head is tilted."),
    "photo-horizontal-position": N_("The face is not centred in the portrait."),
    "photo-vertical-position": N_("The eyes are too high or too low in the portrait."),
    "photo-head-width": N_("The head is too narrow or too wide in the portrait."),
    "photo-head-length": N_("The head is too small or too large in the portrait."),
    "photo-background": N_("The background is not plain enough."),
    "photo-sharpness": N_("The portrait is not sharp enough."),
    "photo-exposure": N_("The portrait is too dark, too bright or too flat."),
}


def summary(rule: str) -> str:
    """The rule's sentence in the page's language; '' when there is none, or in English (where the
    message itself says it)."""
    return _gettext(RULES[rule]) if rule in RULES and _language.get() != i18n.DEFAULT else ""


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding for the page's scripts: the record's fields and the sentence of its rule."""
    return {**finding.as_dict(), "summary": summary(finding.rule)}


ENV.globals["finding_summary"] = summary
