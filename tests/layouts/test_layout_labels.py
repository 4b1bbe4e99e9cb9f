"""Captions in the national language plus English, French and Spanish; sex markers; dates."""

from __future__ import annotations

import datetime as dt

from mrtd.layouts.labels import caption, language_for_state, sex_marker, title
from mrtd.layouts.viewmodel import viz_date_for
from mrtd.model import PartialDate


def test_english_state_gets_en_fr_es() -> None:
    assert language_for_state("UTO") == "en"
    assert caption("surname", "en").ltr == "Surname / Nom / Apellidos"
    assert caption("surname", "en").rtl == ""


def test_german_state_puts_german_first() -> None:
    assert language_for_state("D<<") == "de"
    assert caption("date_of_birth", "de").ltr == "Geburtstag / Date of birth / Date de naissance / Fecha de nacimiento"


def test_french_words_are_not_repeated() -> None:
    assert caption("type", "fr").ltr == "Type / Tipo"


def test_arabic_caption_is_split_for_right_to_left() -> None:
    c = caption("surname", "ar")
    assert c.rtl == "اللقب" and c.ltr == "Surname / Nom / Apellidos"
    assert title("P<", "ar").rtl == "جواز سفر"


def test_sex_markers() -> None:
    assert sex_marker("F", "en") == "F"
    assert sex_marker("F", "ru") == "Ж/F"
    assert sex_marker("X", "de") == "X"
    assert sex_marker("M", "de") == "M"


def test_viz_dates() -> None:
    assert viz_date_for(dt.date(1974, 8, 12), "en") == "12 AUG 1974"
    assert viz_date_for(PartialDate(1942), "de") == "XX XX 1942"
    assert viz_date_for(dt.date(1974, 8, 12), "ru") == "12 08 1974"
