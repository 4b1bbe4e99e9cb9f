"""The soft sign Ь is left out of the MRZ (ICAO romanisation practice; the transcribed Table B omits it)."""

from mrtd.mrz import NameOptions, transliterate


def test_soft_sign_is_dropped() -> None:
    assert transliterate("Игорь") == "IGOR"
    assert transliterate("Ігорь", NameOptions(cyrillic_language="uk")) == "IHOR"
    assert transliterate("Василь", NameOptions(cyrillic_language="uk")) == "VASYL"
