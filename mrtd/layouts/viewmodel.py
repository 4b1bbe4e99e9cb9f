"""From a Document to the plain values a page prints (`PageData`), through the MRZ floor.

Dates take their VIZ form (Doc 9303-3 §3.8): the month abbreviated in the national language when that
is English, French or Spanish; for any other language the numeric form `DD MM YYYY`, which §3.8 allows
and which needs no translation. Names print as written (upper case) with their transliteration beside
them when the letters differ.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from mrtd.layouts.labels import language_for_state
from mrtd.layouts.page import PageData
from mrtd.layouts.template import Template
from mrtd.model import Document, PartialDate
from mrtd.mrz import NameOptions, mrz_lines, transliterate
from mrtd.mrz.codes import state_name
from mrtd.mrz.dates import viz_date

_VIZ_MONTH_LANGUAGES = ("en", "fr", "es")


def viz_date_for(d: PartialDate | dt.date, language: str) -> str:
    """Month names in EN/FR/ES; for any other language the numeric form (Doc 9303-3 §3.8)."""
    return viz_date(d, language, numeric=language not in _VIZ_MONTH_LANGUAGES)


def latin_form(name: str, options: NameOptions) -> str:
    """The transliterated (MRZ-alphabet) form of a name, with spaces for the fillers."""
    return " ".join(p for p in transliterate(name, options).split("<") if p)


def _differs(national: str, latin: str) -> bool:
    return [c for c in national.upper() if c.isalpha()] != [c for c in latin.upper() if c.isalpha()]


def page_from_document(
    document: Document,
    template: Template,
    *,
    portrait: bytes | None = None,
    signature: bytes | None = None,
    seal: bytes | None = None,
    language: str | None = None,
    names: NameOptions | None = None,
) -> PageData:
    """The page values of `document` in `template`'s format (the MRZ is built for that format; the MRZ
    floor refuses a document code the format does not allow)."""
    names = names or NameOptions()
    doc = document if document.format is template.format else dataclasses.replace(document, format=template.format)
    lines = mrz_lines(doc, names)
    h = doc.holder
    lang = language or language_for_state(doc.issuing_state)
    surname, given = h.primary_identifier.upper(), h.secondary_identifier.upper()
    surname_latin, given_latin = latin_form(h.primary_identifier, names), latin_form(h.secondary_identifier, names)
    return PageData(
        document_code=str(doc.code),
        issuing_state=doc.issuing_state,
        issuing_state_name=state_name(doc.issuing_state) or doc.issuing_state,
        document_number=doc.number or "",
        surname=surname,
        given_names=given,
        surname_latin=surname_latin if _differs(surname, surname_latin) else "",
        given_names_latin=given_latin if _differs(given, given_latin) else "",
        name_national=h.name_in_national_characters,
        nationality=h.nationality,
        date_of_birth=viz_date_for(h.date_of_birth, lang),
        sex=h.sex.value,
        date_of_expiry=viz_date_for(doc.date_of_expiry, lang),
        date_of_issue=viz_date_for(doc.date_of_issue, lang) if doc.date_of_issue else "",
        place_of_birth=h.place_of_birth,
        personal_number=h.personal_number,
        authority=doc.authority,
        address=h.address,
        can=doc.can,
        mrz=lines,
        language=lang,
        portrait=portrait,
        signature=signature,
        seal=seal,
    )
