"""The pages' parts that need no browser: catalogues complete in every language with the same placeholders,
language negotiation, the enrolment form's mapping to an application, the SVG charts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.datastructures import FormData

from mrtd.service.pages import i18n
from mrtd.service.pages.charts import stacked_bars
from mrtd.service.pages.console import application_from_form, birth_date

PAGES = Path(i18n.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PAGES), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                      "_gettext": None, "N_": None}):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_message_of_the_pages_is_translated(language: str) -> None:
    with (PAGES / "locale" / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    extracted = _extracted()
    assert len(extracted) > 200
    missing = sorted(m for m in extracted if not catalog.get(m) or not catalog.get(m).string)
    assert missing == []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {m.group(0) for m in PLACEHOLDER.finditer(ids[-1])}
        for s in strings:
            assert {m.group(0) for m in PLACEHOLDER.finditer(s)} == wanted, (language, message.id, s)
    stale = sorted(m.id for m in catalog if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in extracted)
    assert stale == []  # the catalogues follow the pages (pybabel update after a change)


def test_translations_are_used() -> None:
    assert i18n.translations("fr").gettext("Sign in") == "Se connecter"
    assert i18n.translations("ar").gettext("Verify a seal") == "التحقق من ختم"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(("chosen", "accept", "expected"), [
    (None, "ar-EG,ar;q=0.9,en;q=0.5", "ar"),
    (None, "de-DE,de;q=0.9,es;q=0.5", "es"),
    (None, "de-DE", "en"),
    (None, "", "en"),
    ("fr", "ar", "fr"),
    ("xx", "es-MX", "es"),
    (None, "fr;q=abc, es;q=0.2", "es"),
])
def test_language_negotiation(chosen: str | None, accept: str, expected: str) -> None:
    assert i18n.negotiate(chosen, accept) == expected
    assert i18n.direction(expected) == ("rtl" if expected == "ar" else "ltr")


def test_enrolment_form_to_application() -> None:
    assert birth_date("1979", "07", "") == "1979-07-XX"
    assert birth_date("", "", "") == "XXXX-XX-XX"
    assert birth_date("79", "13", "32") == "XXXX-XX-XX"  # not a year, month or day: unknown, and the rules say so
    form = FormData([("document.format", "TD3"), ("document.code", "pp"), ("document.issuing_state", "uto"),
                     ("holder.primary_identifier", "  Ковальчук  "), ("holder.nationality", "uto"),
                     ("holder.sex", "F"), ("birth.year", "1979"), ("birth.month", "07"), ("birth.day", ""),
                     ("document.date_of_expiry", "2036-03-01"), ("extra.etd", "on"), ("holder.place_of_birth", "")])
    data = application_from_form(form, {"portrait": "portrait.jpg"})
    assert data == {"document": {"format": "TD3", "code": "PP", "issuing_state": "UTO", "date_of_expiry": "2036-03-01"},
                    "holder": {"primary_identifier": "Ковальчук", "nationality": "UTO", "sex": "F",
                               "date_of_birth": "1979-07-XX"},
                    "extra": {"seal.type": "etd"}, "portrait": "portrait.jpg"}


def test_chart_is_svg_with_a_text_alternative() -> None:
    svg = str(stacked_bars("k", "Documents per hour", ["00", "01", "02"], [3, 0, 1], [1, 0, 0], ("issued", "spoiled"),
                           "4 issued, 1 spoiled"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title id=\"t-k\">Documents per hour: 4 issued" in svg
    assert svg.count('class="issued"><title>') == 2 and svg.count('class="spoiled"><title>') == 1
    escaped = str(stacked_bars("x", "<b>", ["<i>"], [1], [0], ("a", "b"), "&"))
    assert "<b>" not in escaped and "<i>" not in escaped and "&amp;" in escaped


def test_every_finding_sentence_names_a_rule_that_exists() -> None:
    """The sentences are keyed by rule identifiers: each one is a rule some check raises (a string in the
    source, or a photo rule photo-NAME of rules.toml), so that a renamed rule cannot lose its sentence unseen."""
    import tomllib

    from mrtd.service.pages.findings import RULES

    root = PAGES.parent.parent
    source = "\n".join(p.read_text("utf-8") for p in root.rglob("*.py") if "service" not in p.parts)
    photo = tomllib.loads((root / "issuance" / "photo" / "rules.toml").read_text("utf-8"))
    unknown = [r for r in RULES if (r.removeprefix("photo-") not in photo if r.startswith("photo-")
                                    else f'"{r}"' not in source)]
    assert unknown == []
