"""In-process transport to a `VirtualCard`: what the issuing pipeline and the unit tests use."""

from __future__ import annotations

from mrtd.chip.sim.card import VirtualCard
from mrtd.errors import TransportError


class SimTransport:
    """`mrtd.chip.transport.Transport` over a card in the same process; counts APDUs and bytes."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.closed = False
        self.apdus = 0
        self.bytes_out = 0
        self.bytes_in = 0

    def transmit(self, apdu: bytes) -> bytes:
        if self.closed:
            raise TransportError("transmit", "the simulated card connection is closed")
        self.apdus += 1
        self.bytes_out += len(apdu)
        rsp = self.card.process(apdu)
        self.bytes_in += len(rsp)
        return rsp

    def close(self) -> None:
        self.closed = True
