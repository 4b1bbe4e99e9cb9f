"""Names in the MRZ: the printed examples of Parts 4-7, punctuation, and truncation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mrz_helpers import vectors

from mrtd.errors import InputError
from mrtd.mrz import name_field, transliterate, truncation_problems
from mrtd.mrz.names import fit_name, name_from_viz, split_name_field

NAMES = {v["id"]: v for v in vectors("names.json")}
NAME_VECTORS = [vid for vid in NAMES if vid != "p3-4.6-punctuation"]
ANOMALIES = {"mrva-name-01", "mrva-name-04"}  # digest erratum 7: printed lines of 45 and 36 characters

# Name-field width and where the name starts in the printed line, per vector family.
LAYOUT = {"td3": (39, 5), "td1": (30, 0), "td2": (31, 5), "mrva": (39, 5), "mrvb": (31, 5)}

# The printed truncation examples whose style the default truncation follows (see mrtd/mrz/names.py).
DEFAULT_STYLE = {
    "td3-name-10",
    "td3-name-11",
    "td3-name-12",
    "td1-name-01",
    "td1-name-03",
    "td1-name-09",
    "td2-name-01",
    "td2-name-03",
    "mrva-name-07",
    "mrva-name-08",
    "mrva-name-09",
    "mrvb-name-07",
}


def _printed(v: dict[str, Any]) -> str:
    e = v["expected"]
    return str(next(e[k] for k in ("mrz_line", "mrz_lower_line", "mrz_upper_line") if k in e))


def _viz_components(v: dict[str, Any]) -> tuple[list[str], list[str]]:
    return name_from_viz(v["inputs"]["viz"])


def _full(primary: list[str], secondary: list[str]) -> str:
    return "<".join(primary) + ("<<" + "<".join(secondary) if secondary else "")


@pytest.mark.parametrize("vid", sorted(set(NAME_VECTORS) - ANOMALIES))
def test_printed_example_line_length_and_name(vid: str) -> None:
    v = NAMES[vid]
    width, start = LAYOUT[vid.split("-")[0]]
    line = _printed(v)
    assert len(line) == v["expected"]["line_length"]
    field = line[start:]
    assert len(field) == width
    primary, secondary = _viz_components(v)
    full = _full(primary, secondary)
    if len(full) <= width:
        # Never truncate a name that fits: ours is exactly the printed one.
        assert field == full.ljust(width, "<")
        assert fit_name(primary, secondary, width) == field
    else:
        # Issuer-discretionary truncation: the printed example satisfies the structural rules...
        assert truncation_problems(field, primary, secondary, width) == []
        # ... and our default reproduces the examples written in its style.
        ours = fit_name(primary, secondary, width)
        assert truncation_problems(ours, primary, secondary, width) == []
        if vid in DEFAULT_STYLE:
            assert ours == field


def test_default_style_list_only_names_truncated_examples() -> None:
    for vid in DEFAULT_STYLE:
        width, _ = LAYOUT[vid.split("-")[0]]
        assert len(_full(*_viz_components(NAMES[vid]))) > width


@pytest.mark.parametrize("vid", sorted(ANOMALIES))
def test_mrva_lines_of_wrong_length_carry_the_right_name(vid: str) -> None:
    line = _printed(NAMES[vid])
    assert len(line) != 44 and len(line) == NAMES[vid]["expected"]["line_length"]
    primary, secondary = _viz_components(NAMES[vid])
    assert split_name_field(line[5:]) == ("<".join(primary), "<".join(secondary))
    assert fit_name(primary, secondary, 39).rstrip("<") == line[5:].rstrip("<")


def test_punctuation_examples() -> None:
    v = NAMES["p3-4.6-punctuation"]
    cases, expected = v["inputs"]["cases"], v["expected"]["mrz"]
    assert transliterate(cases[0]) == expected[0]
    assert transliterate(cases[1]) == expected[1]
    assert _full(*name_from_viz(cases[2])) == expected[2]  # the comma between the identifiers
    assert transliterate(cases[3]) == expected[3]  # any other comma


def test_other_punctuation_is_dropped_and_numerals_refused() -> None:
    assert transliterate("ST. JOHN-SMYTHE (JR)") == "ST<JOHN<SMYTHE<JR"
    assert transliterate("  O’Brien  ") == "OBRIEN"
    with pytest.raises(InputError, match="numeral"):
        transliterate("HENRY 8")


def test_name_field_never_truncates_a_fitting_name() -> None:
    assert (
        name_field("PAPANDROPOULOUS", "JONATHON WARREN TREVOR", 39)
        == "PAPANDROPOULOUS<<JONATHON<WARREN<TREVOR"
    )
    assert name_field("Eriksson", "Anna Maria", 39) == "ERIKSSON<<ANNA<MARIA" + "<" * 19


def test_truncation_validator_rejects_bad_fields() -> None:
    p, s = ["NILAVADHANANANDA"], ["CHAYAPA", "DEJTHAMRONG", "KRASUANG"]
    good = "NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K"
    assert truncation_problems(good, p, s, 39) == []
    assert truncation_problems(good[:-1] + "<", p, s, 39)  # ends with a filler
    assert truncation_problems(good[:-1], p, s, 39)  # wrong length
    assert truncation_problems("NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<X", p, s, 39)  # not a prefix
    assert truncation_problems("NILAVADHANANANDAXXXCHAYAPA<DEJTHAMRONG<K", p, s, 40)  # no secondary
    assert truncation_problems("NILAVADHANANANDA<<DEJTHAMRONG<CHAYAPA<K", p, s, 39)  # order changed


def test_primary_only_name_is_cut_to_end_with_a_letter() -> None:
    out = fit_name(["BENNELONG", "WOOLOOMOOLOO", "WARRANDYTE", "WARNAMBOOL"], [], 30)
    assert out == "BENNELONG<WOOLOOMOOLOO<WARRA<W"
    assert truncation_problems(out, ["BENNELONG", "WOOLOOMOOLOO", "WARRANDYTE", "WARNAMBOOL"], [], 30) == []


def test_secondary_of_initials_that_cannot_end_on_a_letter_takes_from_the_primary() -> None:
    primary = ["ABCDEFGHIJKLMNOPQRSTUVWXYZAB"]  # 28: leaves a room of 2 for "J<R" in a width of 32
    out = fit_name(primary, ["J", "R"], 32)
    assert out == "ABCDEFGHIJKLMNOPQRSTUVWXYZA<<J<R"
    assert truncation_problems(out, primary, ["J", "R"], 32) == []


def test_impossible_truncation_is_refused() -> None:
    with pytest.raises(InputError, match="cannot be truncated"):
        fit_name(["A", "B", "C", "D"], [], 4)


_component = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=14)


@settings(max_examples=300)
@given(
    primary=st.lists(_component, min_size=1, max_size=5),
    secondary=st.lists(_component, max_size=5),
    width=st.sampled_from([30, 31, 39]),
)
def test_truncation_property(primary: list[str], secondary: list[str], width: int) -> None:
    full = _full(primary, secondary)
    try:
        out = fit_name(primary, secondary, width)
    except InputError:
        # Only all-initial corner cases may be impossible; a long component always leaves a way.
        assert len(full) > width and max(map(len, primary)) < 3
        return
    assert len(out) == width
    if len(full) <= width:
        assert out == full.ljust(width, "<")
    else:
        assert truncation_problems(out, primary, secondary, width) == []


def test_possibly_truncated() -> None:
    from mrtd.mrz.names import possibly_truncated

    assert possibly_truncated("PAPANDROPOULOUS<<JONATHON<WARREN<TREVOR")
    assert not possibly_truncated("ERIKSSON<<ANNA<MARIA<<<")
