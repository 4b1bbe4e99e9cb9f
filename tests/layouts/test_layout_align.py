"""The OCR comparison: only a `<` may be recovered; every letter and digit must be read exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.layouts.qa import align

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MRZ = ALNUM + "<"
L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_exact() -> None:
    a = align(L2, L2)
    assert a.ok and a.recovered == () and a.bad == ()


def test_misread_fillers_are_recovered() -> None:
    a = align("ANNA<MARIA<<<<", "ANNAKMARIAK<KS")
    assert a.ok
    assert 4 in a.recovered


def test_merged_and_extra_fillers_are_recovered() -> None:
    assert align("ERIKSSON<<ANNA<MARIA<<<<<<<<<<", "ERIKSSON<<ANNA<KMARIA<<<<<").ok
    assert align("AB<<<<<<CD", "ABKCD").ok


def test_o_for_zero_fails_with_the_position() -> None:
    a = align("UTO7408", "UT07408")
    assert not a.ok
    assert a.bad == ((2, "O", "0"),)


def test_missing_letter_fails() -> None:
    a = align("ERIKSSON<<", "ERIKSON<<<")
    assert not a.ok
    assert any(e == "S" or e == "O" for _, e, _ in a.bad)


def test_extra_letter_between_letters_fails() -> None:
    assert not align("ANNA", "ANNNA").ok


def test_filler_read_where_a_letter_is_expected_fails() -> None:
    a = align("ANNAKMARIA", "ANNA<MARIA")
    assert not a.ok and a.bad == ((4, "K", "<"),)


@settings(max_examples=150)
@given(st.text(alphabet=MRZ, min_size=1, max_size=44), st.data())
def test_a_changed_letter_or_digit_never_passes(expected: str, data: st.DataObject) -> None:
    positions = [i for i, c in enumerate(expected) if c != "<"]
    if not positions:
        return
    i = data.draw(st.sampled_from(positions))
    other = data.draw(st.sampled_from([c for c in MRZ if c != expected[i]]))
    read = expected[:i] + other + expected[i + 1:]
    assert not align(expected, read).ok


@settings(max_examples=150)
@given(st.text(alphabet=MRZ, max_size=44), st.text(alphabet=MRZ, max_size=50))
def test_a_passing_read_contains_every_letter_and_digit_in_order(expected: str, read: str) -> None:
    a = align(expected, read)
    if a.ok:
        # The letters and digits of `expected` are matched one-to-one, in order, by equal characters.
        it = iter(read)
        assert all(any(r == c for r in it) for c in expected if c != "<")
    else:
        assert a.bad


@settings(max_examples=100)
@given(st.text(alphabet=MRZ, max_size=44), st.data())
def test_fillers_misread_as_anything_pass(expected: str, data: st.DataObject) -> None:
    read = "".join(data.draw(st.sampled_from("<KSEC")) if c == "<" else c for c in expected)
    assert align(expected, read).ok
