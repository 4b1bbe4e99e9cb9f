"""The life of one document as a state machine, written down as data.

The happy path is received -> validated -> approved -> personalised -> quality-checked -> issued.
Before it is issued a document can be `cancelled` (the office stops it before anything physical was
personalised) or `spoiled` (a booklet, card or number was consumed by a failed step). An issued document
can be `voided` by the office or reported `lost` or `stolen` by its holder; a loss later found to be a
theft may be re-reported as stolen. Every other pair is illegal, and the end states are final: a number
is never reused and a spoiled, voided or lost document never comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from mrtd.errors import InputError, StateError


class DocumentState(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    APPROVED = "approved"
    PERSONALISED = "personalised"
    QUALITY_CHECKED = "quality-checked"
    ISSUED = "issued"
    SPOILED = "spoiled"
    VOIDED = "voided"
    CANCELLED = "cancelled"
    REPORTED_LOST = "reported-lost"
    REPORTED_STOLEN = "reported-stolen"

    @classmethod
    def parse(cls, text: str) -> DocumentState:
        t = text.strip().lower().replace("_", "-")
        try:
            return cls(t)
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InputError(f"state: {text!r} is not one of {names}") from None


S = DocumentState

# The one table of legal transitions: from-state -> the states it may go to.
TRANSITIONS: Mapping[DocumentState, frozenset[DocumentState]] = MappingProxyType(
    {
        S.RECEIVED: frozenset({S.VALIDATED, S.CANCELLED, S.SPOILED}),
        S.VALIDATED: frozenset({S.APPROVED, S.CANCELLED, S.SPOILED}),
        S.APPROVED: frozenset({S.PERSONALISED, S.CANCELLED, S.SPOILED}),
        # Once a chip or page is personalised the medium is used: failing from here on spoils it.
        S.PERSONALISED: frozenset({S.QUALITY_CHECKED, S.SPOILED}),
        S.QUALITY_CHECKED: frozenset({S.ISSUED, S.SPOILED}),
        S.ISSUED: frozenset({S.VOIDED, S.REPORTED_LOST, S.REPORTED_STOLEN}),
        S.REPORTED_LOST: frozenset({S.REPORTED_STOLEN}),
        S.REPORTED_STOLEN: frozenset(),
        S.SPOILED: frozenset(),
        S.VOIDED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)

INITIAL = DocumentState.RECEIVED

# States from which no further transition exists.
FINAL: frozenset[DocumentState] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

# States in which a document is still being produced (chips and seals may be attached).
IN_PRODUCTION: frozenset[DocumentState] = frozenset(
    {S.RECEIVED, S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED}
)

# States after which a document may be replaced by a new one (an issued document is voided first).
REPLACEABLE: frozenset[DocumentState] = frozenset({S.REPORTED_LOST, S.REPORTED_STOLEN, S.VOIDED})

# States that end a document without it ever having been valid: its application may be tried again
# under a new number.
ABANDONED: frozenset[DocumentState] = frozenset({S.SPOILED, S.CANCELLED})


class IllegalTransition(StateError):
    """A transition the state machine does not allow; names both states."""

    def __init__(self, from_state: DocumentState, to_state: DocumentState, subject: str = "") -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.subject = subject
        who = f"document {subject}: " if subject else ""
        allowed = ", ".join(sorted(t.value for t in TRANSITIONS[from_state])) or "none (final state)"
        super().__init__(
            f"{who}illegal transition {from_state.value} -> {to_state.value} (allowed from "
            f"{from_state.value}: {allowed})"
        )


def is_legal(from_state: DocumentState, to_state: DocumentState) -> bool:
    return to_state in TRANSITIONS[from_state]


def check_transition(from_state: DocumentState, to_state: DocumentState, subject: str = "") -> None:
    """Raise `IllegalTransition` (a `StateError`) unless from_state -> to_state is legal."""
    if not is_legal(from_state, to_state):
        raise IllegalTransition(from_state, to_state, subject)
