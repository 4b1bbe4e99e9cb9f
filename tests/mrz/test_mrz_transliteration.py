"""Transliteration: Doc 9303-3 §6 Tables A, B and C, the App. B examples, and the issuer's options."""

from __future__ import annotations

import unicodedata

import pytest
from mrz_helpers import load, vectors

from mrtd.errors import ConfigurationError, InputError
from mrtd.mrz import NameOptions, name_field, transliterate
from mrtd.mrz.names import split_name_field

TABLES = load("tables.json")
EXAMPLES = {v["id"]: v for v in vectors("transliteration.json")}
ANALYSIS = load("arabic_more_analysis.json")


def _char(code_point: str) -> str:
    return chr(int(code_point[2:], 16))


TABLE_A = TABLES["p3-table-A-latin"]["expected"]["table"]
TABLE_B = TABLES["p3-table-B-cyrillic"]["expected"]["table"]
TABLE_C = TABLES["p3-table-C-arabic"]["expected"]["table"]


@pytest.mark.parametrize("cp", sorted(TABLE_A))
def test_table_a_every_character_and_option(cp: str) -> None:
    ch = _char(cp)
    options = TABLE_A[cp]["options"]
    assert transliterate(ch) == options[0]
    assert transliterate("X" + ch.lower() + "X") == "X" + options[0] + "X"  # lower case upper-cases first
    for option in options[1:]:
        assert transliterate(ch, NameOptions(latin={ch: option})) == option


def test_table_a_refuses_options_the_table_does_not_offer() -> None:
    with pytest.raises(ConfigurationError, match="Table A"):
        NameOptions(latin={"Ñ": "NY"})
    with pytest.raises(ConfigurationError, match="Table A"):
        NameOptions(latin={"É": "E"})  # no options for É
    with pytest.raises(ConfigurationError, match="cyrillic_language"):
        NameOptions(cyrillic_language="de")


def test_sharp_s_and_composed_forms() -> None:
    assert transliterate("Weiß") == "WEISS"
    assert transliterate("e\u0301") == "E"  # decomposed é is composed first (NFC)


def test_appendix_b_canon_with_nxx_option() -> None:
    v = EXAMPLES["p3-appB-canon"]
    options = NameOptions(latin={"Ñ": "NXX"})
    given, surname = v["inputs"]["name"].split(" ")
    assert name_field(surname, given, 39, options).rstrip("<") == v["expected"]["mrz_name"]
    assert transliterate("CAÑON") == "CANON"  # the default option


_LANGS = {"Belorussian": "be", "Serbian": "sr", "Ukrainian": "uk", "Bulgarian": "bg", "Macedonia": "mk"}


def _exceptions(text: str | None) -> tuple[list[str], str, bool]:
    if not text:
        return [], "", False
    langs = [code for word, code in _LANGS.items() if word in text]
    value = text.rsplit("=", 1)[1].strip()
    return langs, value, "first character" in text


@pytest.mark.parametrize("cp", sorted(TABLE_B))
def test_table_b_default_and_language_columns(cp: str) -> None:
    ch = _char(cp)
    entry = TABLE_B[cp]
    default = entry["default"]
    assert transliterate(ch) == default
    assert transliterate("А" + ch) == "A" + default
    langs, value, first = _exceptions(entry["exception"])
    for lang in ("be", "bg", "mk", "ru", "sr", "uk"):
        opts = NameOptions(cyrillic_language=lang)
        if lang in langs and first:
            assert transliterate(ch + "А", opts) == value + "A"
            assert transliterate("А" + ch, opts) == "A" + default
        elif lang in langs:
            assert transliterate(ch, opts) == value
            assert transliterate("А" + ch, opts) == "A" + value
        else:
            assert transliterate("А" + ch, opts) == "A" + default


def test_ukrainian_and_russian_names() -> None:
    uk = NameOptions(cyrillic_language="uk")
    assert transliterate("Шевченко Олена Іванівна", uk) == "SHEVCHENKO<OLENA<IVANIVNA"
    assert transliterate("Юлія Євгенія Їжак Йосип Гнатюк", uk) == "YULIIA<YEVHENIIA<YIZHAK<YOSYP<HNATIUK"
    assert transliterate("Щукин Георгий", NameOptions(cyrillic_language="ru")) == "SHCHUKIN<GEORGII"
    assert transliterate("Щерев", NameOptions(cyrillic_language="bg")) == "SHTEREV"


def test_cyrillic_letters_outside_table_b_are_refused() -> None:
    # Ћ (U+040B) is not in the transcribed Table B (digest ⚠: U+0402 is printed with its glyph): refuse.
    with pytest.raises(InputError, match="U\\+040B"):
        transliterate("Ћирић")


def _arabic_value(cp: str) -> str:
    return str(TABLE_C[cp]["mrz"])


@pytest.mark.parametrize("cp", sorted(TABLE_C))
def test_table_c_every_entry(cp: str) -> None:
    ch = _char(cp)
    value = _arabic_value(cp)
    beh = "\u0628"
    if value == "(Not encoded)":
        if unicodedata.category(ch) in ("Mn", "Lm"):
            assert transliterate(beh + ch + beh) == "BB"  # harakat, tatweel: not encoded
        else:
            with pytest.raises(InputError, match=f"U\\+{cp[2:]}"):
                transliterate(beh + ch)  # a letter without an MRZ value: refused, never dropped
    elif value == "[DOUBLE]":
        assert transliterate(beh + ch) == "BB"
    elif value == "XTA/XAH":
        assert transliterate(beh + ch + beh) == "BXTAB"
        assert transliterate(beh + ch) == "BXAH"
        assert transliterate(beh + ch + " " + beh) == "BXAH<B"
    else:
        assert transliterate(ch) == value
        assert transliterate(beh + ch + beh) == "B" + value + "B"


def test_shadda_doubles_and_keeps_one_x() -> None:
    # Table C footnote 3: the shadda examples EBBAS and FXDZDZXAH.
    assert transliterate("عبّاس") == "EBBAS"
    assert transliterate("فضّة") == "FXDZDZXAH"
    assert transliterate("فضَّة") == "FXDZDZXAH"  # with a fatha on the same letter, in either order
    assert transliterate("فَضّة") == "FXDZDZXAH"
    with pytest.raises(InputError, match="shadda"):
        transliterate("\u0651")


def test_appendix_b_arabic() -> None:
    v = EXAMPLES["p3-appB-arabic"]
    text = v["inputs"]["arabic"]
    assert transliterate(text) == v["expected"]["mrz_components"]
    words = text.split(" ")
    primary = " ".join(words[-1:])
    secondary = " ".join(words[:-1])
    assert name_field(primary, secondary, 39) == v["expected"]["if_primary_is_ALRAZY"]
    assert (
        name_field(" ".join(words[3:]), " ".join(words[:3]), 39)
        == v["expected"]["if_primary_is_BN_ZKRYA_ALRAZY"]
    )
    assert split_name_field(v["expected"]["if_primary_is_ALRAZY"]) == ("ALRAZY", "ABW<BKR<MXHMD<BN<ZKRYA")


@pytest.mark.parametrize("row", range(6))
def test_appendix_b_arabic_more_checked_row_by_row(row: int) -> None:
    """App. B B.5.9 is 'not-recomputed' in the digest: each row was checked against Table C here.

    Rows that disagree are documented in tests/vectors/mrz/arabic_more_analysis.json with the cause;
    the code follows Table C, and the test asserts both our value and the documented cause.
    """
    pairs = EXAMPLES["p3-appB-arabic-more"]["inputs"]["pairs"]
    printed = EXAMPLES["p3-appB-arabic-more"]["expected"]["mrz"]
    entry = ANALYSIS["rows"][row]
    arabic = pairs[row][0]
    assert entry["arabic"] == arabic and entry["printed"] == printed[row]
    ours = transliterate(arabic)
    assert ours == entry["ours"]
    if entry["agrees"]:
        assert ours == printed[row]
        return
    assert ours != printed[row]
    corrected = transliterate(entry["arabic_as_the_printed_row_reads_it"])
    if entry.get("printed_order_differs"):
        assert sorted(corrected.split("<")) == sorted(printed[row].split("<"))
    else:
        assert corrected == printed[row]


def test_unmappable_characters_are_named() -> None:
    with pytest.raises(InputError, match="U\\+4E2D"):
        transliterate("中村")
    with pytest.raises(InputError, match="U\\+1EC6"):
        transliterate("NGUYỆN")  # not in Table A
