"""Names in the MRZ (Doc 9303 Part 3 §4.6; truncation: Parts 4-7 §4.2.2/§4.2.3).

Layout: primary components joined by `<`, then `<<`, then the secondary components joined by `<`,
padded with `<`. A name that fits is never truncated. A name that does not fit is truncated so that
the field is full and its last position is a letter (the mark that truncation may have occurred).

The standard leaves the truncation style to the issuer. The default here is:
  1. when the primary identifier leaves no room for `<<` and one secondary letter, its components are
     reduced to initials from the last one backwards (Part 4 §4.2.3.3 a);
  2. the secondary identifier (or a primary-only name) is shortened one character at a time from its
     last component backwards, each component down to its initial (§4.2.3.2); when even initials do not
     fit, trailing components are dropped and the last one kept is given back letters to fill the field.
It reproduces the printed examples td3-name-10/11/12, td1-name-01/03/09, td2-name-01/03,
mrva-name-07/08/09 and mrvb-name-07; every other printed example is checked with the structural
validator `truncation_problems`.
"""

from __future__ import annotations

from collections.abc import Sequence

from mrtd.errors import InputError
from mrtd.mrz.charset import FILLER, LETTERS, is_letters
from mrtd.mrz.transliteration import DEFAULT_NAME_OPTIONS, NameOptions, components

CLAUSE_NAME = "Doc 9303-3 §4.6"
CLAUSE_TRUNCATION = "Doc 9303-4 §4.2.2.1 and §4.2.3 (Part 5, 6 and 7: same rule)"


def _joined_length(parts: Sequence[str]) -> int:
    return sum(map(len, parts)) + max(len(parts) - 1, 0)


def _fit_exact(parts: Sequence[str], room: int) -> list[str] | None:
    """Shorten `parts` (joined by `<`) to exactly `room` characters, or None when that is impossible."""
    if room < 1 or not parts:
        return None
    lens = [len(p) for p in parts]
    total = _joined_length(parts)
    if total <= room:
        return list(parts) if total == room else None
    i = len(lens) - 1
    while total > room and i >= 0:
        cut = min(lens[i] - 1, total - room)
        lens[i] -= cut
        total -= cut
        i -= 1
    kept = len(lens)
    while total > room and kept > 1:
        total -= lens[kept - 1] + 1
        kept -= 1
    if total > room:
        return None
    need = room - total
    for j in range(kept - 1, -1, -1):
        add = min(need, len(parts[j]) - lens[j])
        lens[j] += add
        need -= add
    if need:
        return None
    return [parts[j][: lens[j]] for j in range(kept)]


def _initials_within(parts: Sequence[str], room: int) -> list[str] | None:
    """Reduce components to initials from the last backwards until they fit in `room` (at most)."""
    out = list(parts)
    i = len(out) - 1
    while _joined_length(out) > room and i >= 0:
        out[i] = out[i][:1]
        i -= 1
    while _joined_length(out) > room and len(out) > 1:
        out.pop()
    if _joined_length(out) > room:
        return [out[0][:room]] if room >= 1 else None
    return out


def fit_name(primary: Sequence[str], secondary: Sequence[str], width: int) -> str:
    """The name field of `width` positions from MRZ components (A-Z each), truncated only if needed."""
    if not primary:
        raise InputError(f"name: the primary identifier is empty [{CLAUSE_NAME}]")
    for part in (*primary, *secondary):
        if not is_letters(part):
            raise InputError(f"name: component {part!r} is not one or more letters A-Z [{CLAUSE_NAME}]")
    p_text = FILLER.join(primary)
    full = p_text + (FILLER * 2 + FILLER.join(secondary) if secondary else "")
    if len(full) <= width:
        return full + FILLER * (width - len(full))
    result: tuple[list[str], list[str]] | None = None
    if not secondary:
        p = _fit_exact(primary, width)
        if p is not None:
            result = (p, [])
    else:
        p_len = len(p_text)
        if p_len + 3 <= width:
            start = list(primary)
        else:
            reduced = _initials_within(primary, width - 3)
            start = reduced if reduced is not None else [primary[0][: max(width - 3, 1)]]
        s_len = _joined_length(secondary)
        # Try the preferred primary first; give up primary characters one by one only if the
        # secondary cannot end on a letter in the room left (e.g. a room of 2 for "J<R").
        first_len = _joined_length(start)
        for p_room in range(first_len, 0, -1):
            p = start if p_room == first_len else _fit_exact(primary, p_room)
            if p is None:
                continue
            room = width - p_room - 2
            if room < 1:
                continue
            if s_len <= room:
                # The secondary fits whole: hand the spare room back to the primary.
                p2 = _fit_exact(primary, width - 2 - s_len)
                if p2 is not None:
                    result = (p2, list(secondary))
                    break
                continue
            s = _fit_exact(secondary, room)
            if s is not None:
                result = (p, s)
                break
    if result is None:
        raise InputError(
            f"name: {full!r} cannot be truncated to {width} positions ending with a letter [{CLAUSE_TRUNCATION}]"
        )
    p, s = result
    text = FILLER.join(p) + (FILLER * 2 + FILLER.join(s) if s else "")
    return text


def name_field(primary: str, secondary: str, width: int, options: NameOptions = DEFAULT_NAME_OPTIONS) -> str:
    """The padded MRZ name field (`PRIMARY<<SECONDARY<<<`), transliterated; truncated only when it does not fit."""
    return fit_name(components(primary, options), components(secondary, options), width)


def name_from_viz(text: str, options: NameOptions = DEFAULT_NAME_OPTIONS) -> tuple[list[str], list[str]]:
    """Components of a single-field VIZ name `PRIMARY, SECONDARY` (§4.6: that comma becomes `<<`)."""
    primary, comma, secondary = text.partition(",")
    return components(primary, options), components(secondary, options) if comma else []


def split_name_field(field: str) -> tuple[str, str]:
    """(primary, secondary) in MRZ form from a name field: fillers stripped, split at the first `<<`."""
    body = field.rstrip(FILLER)
    primary, _, secondary = body.partition(FILLER * 2)
    return primary, secondary


def possibly_truncated(field: str) -> bool:
    """True when the name reaches the last position: a reader must treat it as possibly truncated
    (Part 4 §4.2.3, note)."""
    return bool(field) and field[-1] in LETTERS


def truncation_problems(
    field: str, primary: Sequence[str], secondary: Sequence[str], width: int
) -> list[str]:
    """Why `field` is not a valid Doc 9303 truncation of the name (empty list: it is valid).

    Checks the structural constraints every issuer style shares: full length, only A-Z and `<`, the
    last position a letter, `<<` plus at least one secondary letter when there is a secondary
    identifier, and each component a non-empty prefix of the original one at the same place (order
    kept, trailing components may be dropped).
    """
    problems: list[str] = []
    if len(field) != width:
        problems.append(f"length {len(field)}, expected {width}")
    if any(c not in LETTERS and c != FILLER for c in field):
        problems.append("characters other than A-Z and <")
    if not field or field[-1] not in LETTERS:
        problems.append("the last position is not a letter")
    got_p, got_s = split_name_field(field)
    p_parts = got_p.split(FILLER) if got_p else []
    s_parts = got_s.split(FILLER) if got_s else []
    if secondary and not s_parts:
        problems.append("no `<<` and first secondary letter")
    for label, got, orig in (("primary", p_parts, primary), ("secondary", s_parts, secondary)):
        if not got and label == "primary":
            problems.append("empty primary identifier")
        if len(got) > len(orig):
            problems.append(f"more {label} components than the name has")
        for k, (g, o) in enumerate(zip(got, orig, strict=False)):
            if not g or not o.startswith(g):
                problems.append(f"{label} component {k + 1} {g!r} is not a prefix of {o!r}")
    return problems
