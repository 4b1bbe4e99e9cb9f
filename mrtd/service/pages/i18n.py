"""The pages' languages: English (the source text), French, Spanish and Arabic (right to left), from gettext
message catalogues (`locale/LANG/LC_MESSAGES/messages.po`, read with Babel when first needed: no compiled
.mo files to keep in step). The language is the user's choice (a cookie set by the language menu), else the
browser's Accept-Language, else English.

Extract and update the catalogues after changing a template:
    pybabel extract -F mrtd/service/pages/babel.cfg -k _gettext -k N_ --no-location -o /tmp/messages.pot \
        mrtd/service/pages
    pybabel update -i /tmp/messages.pot -d mrtd/service/pages/locale --no-location
then translate the new entries (tests/service/test_pages_units.py fails while one is missing).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
RTL = frozenset({"ar"})
DEFAULT = "en"


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of `language` (English: the source text itself)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(chosen: str | None, accept_language: str) -> str:
    """The user's choice when it is one of ours, else the best match of Accept-Language, else English."""
    if chosen in LANGUAGES:
        return chosen
    wanted = []
    for part in accept_language.split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if tag:
            wanted.append((weight, tag.strip().replace("_", "-")))
    ordered = [tag for _, tag in sorted(wanted, key=lambda w: -w[0])]
    found = Locale.negotiate(ordered, list(LANGUAGES), sep="-") if ordered else None
    return str(found) if found is not None and str(found) in LANGUAGES else DEFAULT


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"
