"""The document state machine allows exactly the legal transitions: every (from, to) pair is checked."""

from __future__ import annotations

import itertools

import pytest

from mrtd.errors import InputError, StateError
from mrtd.issuance.states import (
    FINAL,
    INITIAL,
    TRANSITIONS,
    DocumentState,
    IllegalTransition,
    check_transition,
    is_legal,
)

S = DocumentState

# Written out independently of the module's table: this is the specification the table must meet.
LEGAL = {
    ("received", "validated"),
    ("received", "cancelled"),
    ("received", "spoiled"),
    ("validated", "approved"),
    ("validated", "cancelled"),
    ("validated", "spoiled"),
    ("approved", "personalised"),
    ("approved", "cancelled"),
    ("approved", "spoiled"),
    ("personalised", "quality-checked"),
    ("personalised", "spoiled"),
    ("quality-checked", "issued"),
    ("quality-checked", "spoiled"),
    ("issued", "voided"),
    ("issued", "reported-lost"),
    ("issued", "reported-stolen"),
    ("reported-lost", "reported-stolen"),
}

ALL_STATES = [
    "received",
    "validated",
    "approved",
    "personalised",
    "quality-checked",
    "issued",
    "spoiled",
    "voided",
    "cancelled",
    "reported-lost",
    "reported-stolen",
]
ALL_PAIRS = list(itertools.product(ALL_STATES, ALL_STATES))


def test_the_states_are_the_eleven_of_the_issue() -> None:
    assert sorted(s.value for s in DocumentState) == sorted(ALL_STATES)
    assert len(ALL_PAIRS) == 121


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair(source: str, target: str) -> None:
    a, b = S(source), S(target)
    legal = (source, target) in LEGAL
    assert is_legal(a, b) is legal
    if legal:
        check_transition(a, b)
    else:
        with pytest.raises(IllegalTransition) as info:
            check_transition(a, b, "UT0000001")
        assert isinstance(info.value, StateError)
        assert info.value.from_state is a and info.value.to_state is b
        assert f"{source} -> {target}" in str(info.value)
        assert "UT0000001" in str(info.value)


def test_the_happy_path_reaches_issued_from_the_initial_state() -> None:
    path = [S.RECEIVED, S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED, S.ISSUED]
    assert path[0] is INITIAL
    for a, b in itertools.pairwise(path):
        check_transition(a, b)


def test_final_states_have_no_way_out() -> None:
    assert {s.value for s in FINAL} == {"spoiled", "voided", "cancelled", "reported-stolen"}
    for state in FINAL:
        assert TRANSITIONS[state] == frozenset()


def test_nothing_returns_to_the_happy_path_once_it_left_it() -> None:
    # No state is ever re-entered: the graph has no cycle (a number is never used twice).
    def reachable(start: DocumentState) -> set[DocumentState]:
        seen: set[DocumentState] = set()
        todo = list(TRANSITIONS[start])
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(TRANSITIONS[s])
        return seen

    for state in DocumentState:
        assert state not in reachable(state)


def test_illegal_transition_from_a_final_state_says_so() -> None:
    with pytest.raises(IllegalTransition, match=r"spoiled -> issued .*none \(final state\)"):
        check_transition(S.SPOILED, S.ISSUED)


@pytest.mark.parametrize(("text", "state"), [("issued", S.ISSUED), (" Quality_Checked ", S.QUALITY_CHECKED)])
def test_parse(text: str, state: DocumentState) -> None:
    assert DocumentState.parse(text) is state


def test_parse_refuses_unknown_states() -> None:
    with pytest.raises(InputError, match=r"state: 'shredded' is not one of"):
        DocumentState.parse("shredded")
