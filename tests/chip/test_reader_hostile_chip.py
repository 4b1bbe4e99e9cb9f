"""A chip that holds malformed files, or answers with malformed data under valid secure messaging (a chip
knows its own keys): the reader stops with an error that names what it was doing (`MrtdError`), never
another exception. A DG14 with a negative keyId once escaped as OverflowError from Chip Authentication."""

from __future__ import annotations

import contextlib
import copy
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.chip.perso import personalise
from mrtd.chip.protocol.apdu import Command, Response
from mrtd.chip.reader import read_chip
from mrtd.chip.sim.card import CardState, VirtualCard
from mrtd.chip.sim.specimen import Specimen, specimen
from mrtd.chip.sim.transport import SimTransport
from mrtd.errors import MrtdError

PROFILES = ["mrtd-sim", "jmrtd-applet"]


@cache
def _personalised(profile: str) -> tuple[Specimen, CardState]:
    sp = specimen(profile, dg2_size=2000)
    card = VirtualCard(profile)
    assert personalise(sp.image, SimTransport(card), profile, lock=False).ok
    return sp, card.state


def _read(card: VirtualCard, sp: Specimen) -> None:
    card.power_on()
    with contextlib.suppress(MrtdError):
        read_chip(SimTransport(card), sp.image.mrz_info, max_read=223)


def _mutated(data: bytes, at: int, new: bytes, cut: int) -> bytearray:
    """`new` written over `data` at `at`, then `cut` bytes taken off the end."""
    i = at % (len(data) + 1)
    out = bytearray(data[:i] + new + data[i + len(new) :])
    return out[: max(0, len(out) - cut)]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PROFILES), st.integers(0, 99), st.integers(0, 4000), st.binary(min_size=1, max_size=6),
       st.integers(0, 3))
def test_malformed_files_stop_the_reader_with_an_error(profile: str, which: int, at: int, new: bytes, cut: int) -> None:
    sp, state = _personalised(profile)
    card = VirtualCard(profile)
    card.state = copy.deepcopy(state)
    name = sorted(card.state.files)[which % len(card.state.files)]
    # the headers (tag and length, the first SecurityInfo's) are where a short change matters most
    card.state.files[name] = _mutated(bytes(card.state.files[name]), at if at % 2 else at % 16, new, cut)
    _read(card, sp)


class _Hostile(VirtualCard):
    """Answers its `target`-th command with `data` and `sw` instead, wrapped in valid secure messaging."""

    target = 0
    data = b""
    sw = 0x9000
    seen = 0

    def _dispatch(self, cmd: Command, protected: bool) -> Response:
        rsp = super()._dispatch(cmd, protected)
        self.seen += 1
        return Response(self.data, self.sw) if self.seen == self.target else rsp


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PROFILES), st.integers(1, 45), st.binary(max_size=80),
       st.sampled_from([0x9000, 0x6282, 0x6A82, 0x6982, 0x6700, 0x6B00, 0x61FF]))
def test_malformed_answers_stop_the_reader_with_an_error(profile: str, target: int, data: bytes, sw: int) -> None:
    sp, state = _personalised(profile)
    card = _Hostile(profile)
    card.state = copy.deepcopy(state)
    card.target, card.data, card.sw = target, data, sw
    _read(card, sp)
