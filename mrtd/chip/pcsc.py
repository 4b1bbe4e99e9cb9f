"""The PC/SC transport, through pyscard's `smartcard.scard` layer (the thin SCard* wrapper: fewer layers
per APDU than the object API, and every failure comes back as an HRESULT we can name).

The only module of mrtd that imports pyscard. Failures become `TransportError` (no pcscd, no reader,
card removed, link lost) or `ChipError` (a card that is there but does not answer), naming the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from smartcard import scard

from mrtd.errors import ChipError, TransportError

# HRESULTs that mean "the card is there but does not work", as opposed to the link or the reader
_CHIP_FAULTS = {
    scard.SCARD_W_UNRESPONSIVE_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_E_PROTO_MISMATCH,
    scard.SCARD_W_UNSUPPORTED_CARD,
}


def _message(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult).strip()} (0x{hresult & 0xFFFFFFFF:08X})"


def _fail(step: str, hresult: int) -> TransportError | ChipError:
    if hresult in _CHIP_FAULTS:
        return ChipError(step, _message(hresult))
    return TransportError(step, _message(hresult))


class _Context:
    def __init__(self) -> None:
        hresult, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise TransportError("connect to pcscd", _message(hresult) + "; is pcscd running?")

    def release(self) -> None:
        scard.SCardReleaseContext(self.handle)


def list_readers() -> list[str]:
    """The reader names pcscd knows (empty when there are none)."""
    ctx = _Context()
    try:
        hresult, readers = scard.SCardListReaders(ctx.handle, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise _fail("list readers", hresult)
        return list(readers)
    finally:
        ctx.release()


def _wait(reader: str, timeout: float, step: str, reached: Callable[[int], bool]) -> bool:
    """Block until the reader's state satisfies `reached`; False when the time runs out first."""
    ctx = _Context()
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            hresult, states = scard.SCardGetStatusChange(ctx.handle, int(min(left, 1.0) * 1000), [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                raise _fail(step, hresult)
            _, event, _atr = states[0]
            if event & scard.SCARD_STATE_UNKNOWN:
                raise TransportError(step, f"no reader named {reader!r}")
            if reached(event):
                return True
            state = event & ~scard.SCARD_STATE_CHANGED
    finally:
        ctx.release()


def wait_for_card(reader: str, timeout: float = 10.0) -> None:
    """Block until a card is present in `reader`; TransportError when the time runs out."""
    present = scard.SCARD_STATE_PRESENT
    if not _wait(reader, timeout, "wait for card",
                 lambda event: bool(event & present) and not event & scard.SCARD_STATE_MUTE):
        raise TransportError("wait for card", f"no card in {reader!r} after {timeout:g} s")


def wait_for_removal(reader: str, timeout: float = 10.0) -> bool:
    """Block until `reader` is empty (the booklet taken out); False when the time runs out first."""
    return _wait(reader, timeout, "wait for card removal", lambda event: bool(event & scard.SCARD_STATE_EMPTY))


class PcscTransport:
    """`mrtd.chip.transport.Transport` over one PC/SC reader."""

    def __init__(self, reader: str, *, wait: float = 0.0) -> None:
        self.reader = reader
        if wait > 0:
            wait_for_card(reader, wait)
        self._ctx = _Context()
        self._card: int | None = None
        self._protocol = 0
        try:
            self._connect()
        except BaseException:
            self._ctx.release()
            raise

    def _connect(self) -> None:
        hresult, card, protocol = scard.SCardConnect(
            self._ctx.handle, self.reader, scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult == scard.SCARD_E_UNKNOWN_READER:
            raise TransportError("connect", f"no reader named {self.reader!r}")
        if hresult != scard.SCARD_S_SUCCESS:
            raise _fail(f"connect to {self.reader!r}", hresult)
        self._card, self._protocol = card, protocol

    @property
    def atr(self) -> bytes:
        if self._card is None:
            raise TransportError("status", "not connected")
        hresult, _reader, _state, _proto, atr = scard.SCardStatus(self._card)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _fail("status", hresult)
        return bytes(atr)

    def transmit(self, apdu: bytes) -> bytes:
        if self._card is None:
            raise TransportError("transmit", "the connection is closed")
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise _fail("transmit", hresult)
        if len(response) < 2:
            # what vpcd hands pcscd when the card dies mid-APDU: the card is gone, not misbehaving
            raise TransportError("transmit", "the card returned no valid response (removed or dead)")
        return bytes(response)

    def reconnect(self) -> None:
        """A new card handle (after the card was removed and put back, or restarted)."""
        self._disconnect(scard.SCARD_LEAVE_CARD)
        self._connect()

    def _disconnect(self, disposition: int) -> None:
        if self._card is not None:
            scard.SCardDisconnect(self._card, disposition)
            self._card = None

    def close(self) -> None:
        self._disconnect(scard.SCARD_RESET_CARD)
        self._ctx.release()
