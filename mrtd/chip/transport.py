"""The `Transport` protocol: send one command APDU, get one response APDU (data + SW1 SW2).

`mrtd.chip.pcsc.PcscTransport` talks to a PC/SC reader; the simulator offers an in-process one, so
the same protocol code runs against either.
"""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU; return the response APDU including the two status bytes."""
        ...

    def close(self) -> None: ...
