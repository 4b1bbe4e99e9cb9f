"""From a Document to the plain values a page prints (`PageData`), through the MRZ floor.

Dates take their VIZ form (Doc 9303-3 §3.8): the month abbreviated in the national language when that
is English, French or Spanish; for any other language the numeric form `DD MM YYYY`, which §3.8 allows
and which needs no translation. Names print as written (upper case) with their Latin form beside them
when the letters differ: the authority's own spelling when the application gives one, else the MRZ
transliteration. The name in national characters is not printed again when it only repeats the names
already shown. Observations are the document type's standing endorsement, then the office's own text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from mrtd.layouts.labels import endorsement, language_for_state
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


def _latin(name: str, authority_form: str, options: NameOptions) -> str:
    """The Latin line printed under a name: the authority's spelling, else the transliteration when its
    letters differ from the name's."""
    if authority_form:
        return authority_form.upper()
    latin = latin_form(name, options)
    return latin if _differs(name.upper(), latin) else ""


def _repeats(national: str, *names: str) -> bool:
    """True when the national-characters name only repeats words already printed (any order)."""
    words = sorted(w for n in names for w in n.split())
    return bool(words) and sorted(national.upper().split()) == words


# The visa facts an application carries in its `extra` values (the same ones its visa seal encodes).
VISA_EXTRA = {"passport_number": "seal.passport_number", "number_of_entries": "seal.number_of_entries",
              "duration_of_stay": "seal.duration_of_stay"}


def page_from_document(
    document: Document,
    template: Template,
    *,
    portrait: bytes | None = None,
    signature: bytes | None = None,
    seal: bytes | None = None,
    language: str | None = None,
    names: NameOptions | None = None,
    seal_modules: tuple[str, ...] = (),
    extra: Mapping[str, str] | None = None,
) -> PageData:
    """The page values of `document` in `template`'s format (the MRZ is built for that format; the MRZ
    floor refuses a document code the format does not allow). `extra` are the application's extra
    values: a visa prints the holder's passport number, entries and duration of stay from them."""
    names = names or NameOptions()
    doc = document if document.format is template.format else dataclasses.replace(document, format=template.format)
    lines = mrz_lines(doc, names)
    h = doc.holder
    lang = language or language_for_state(doc.issuing_state)
    surname, given = h.primary_identifier.upper(), h.secondary_identifier.upper()
    extra = extra or {}
    national = h.name_in_national_characters
    observations = (*endorsement(str(doc.code), lang), doc.observations) if doc.observations else \
        endorsement(str(doc.code), lang)
    return PageData(
        document_code=str(doc.code),
        issuing_state=doc.issuing_state,
        issuing_state_name=state_name(doc.issuing_state) or doc.issuing_state,
        document_number=doc.number or "",
        surname=surname,
        given_names=given,
        surname_latin=_latin(h.primary_identifier, h.primary_identifier_latin, names),
        given_names_latin=_latin(h.secondary_identifier, h.secondary_identifier_latin, names),
        name_national="" if _repeats(national, surname, given) else national,
        nationality=h.nationality,
        date_of_birth=viz_date_for(h.date_of_birth, lang),
        sex=h.sex.value,
        date_of_expiry=viz_date_for(doc.date_of_expiry, lang),
        date_of_issue=viz_date_for(doc.date_of_issue, lang) if doc.date_of_issue else "",
        place_of_birth=h.place_of_birth,
        place_of_birth_latin=h.place_of_birth_latin,
        personal_number=h.personal_number,
        authority=doc.authority,
        address=h.address,
        can=doc.can,
        observations=observations,
        **{k: extra.get(v, "") for k, v in VISA_EXTRA.items()},
        mrz=lines,
        language=lang,
        portrait=portrait,
        signature=signature,
        seal=seal,
        seal_modules=seal_modules,
    )
