"""The MRZ character set (Doc 9303 Part 3 §4.3): A-Z, 0-9 and the filler `<`; nothing else."""

from __future__ import annotations

import re

FILLER = "<"
LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")
MRZ_CHARS = LETTERS | DIGITS | {FILLER}
NAME_CHARS = LETTERS | {FILLER}

CLAUSE_CHARSET = "Doc 9303-3 §4.3"

# Compiled once: a whole-string C-level test is much faster than a Python loop per character.
_MRZ_TEXT = re.compile(r"[A-Z0-9<]*")
_LETTERS_TEXT = re.compile(r"[A-Z]+")


def is_mrz_text(text: str) -> bool:
    """True when every character of `text` may appear in an MRZ."""
    return _MRZ_TEXT.fullmatch(text) is not None


def is_letters(text: str) -> bool:
    """True when `text` is one or more letters A-Z."""
    return _LETTERS_TEXT.fullmatch(text) is not None


def bad_characters(text: str) -> list[tuple[int, str]]:
    """(0-based index, character) of every character that may not appear in an MRZ."""
    if _MRZ_TEXT.fullmatch(text):
        return []
    return [(i, c) for i, c in enumerate(text) if c not in MRZ_CHARS]


def pad(text: str, width: int) -> str:
    """Left-justify `text` in a field of `width`, filling with `<` (Part 3 §4.3)."""
    return text + FILLER * (width - len(text))


def finding_parts(message: str, default_clause: str) -> tuple[str, str]:
    """Split an error message `text [clause]` into (text, clause), so a `Finding` does not repeat it."""
    if message.endswith("]") and " [" in message:
        text, _, clause = message[:-1].rpartition(" [")
        return text, clause
    return message, default_clause
