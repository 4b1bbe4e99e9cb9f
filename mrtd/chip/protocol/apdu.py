"""Command and response APDUs, ISO/IEC 7816-4 §5: short and extended length, command chaining,
GET RESPONSE after 61xx and the repeat with the right Le after 6Cxx.

Pure data and functions; `transceive` takes the send function, so it works over any transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mrtd.chip.protocol.status import describe
from mrtd.errors import ChipError, EncodingError

SHORT_READ = 223  # what a short Le answers under SM (and the JMRTD applet's limit)

SW_OK = 0x9000
SHORT_MAX_LC = 255
EXTENDED_MAX_LC = 65535


class ApduError(EncodingError):
    """Bytes that are not a well-formed command or response APDU."""


@dataclass(frozen=True, slots=True)
class Command:
    """One command APDU. `le` None: no Le field; 0 means "as many as possible" (256 or 65536)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def encode(self) -> bytes:
        head = bytes((self.cla, self.ins, self.p1, self.p2))
        nc = len(self.data)
        ext = self.extended or nc > SHORT_MAX_LC or (self.le is not None and self.le > 256)
        if nc > EXTENDED_MAX_LC:
            raise ApduError(f"command data: {nc} bytes exceed 65535 [ISO/IEC 7816-4 §5.1]")
        if self.le is not None and not 0 <= self.le <= 65536:
            raise ApduError(f"Le: {self.le} out of range [ISO/IEC 7816-4 §5.1]")
        out = bytearray(head)
        if not ext:
            if nc:
                out.append(nc)
                out += self.data
            if self.le is not None:
                out.append(self.le & 0xFF)
            return bytes(out)
        if nc:
            out += b"\x00" + nc.to_bytes(2, "big") + self.data
        if self.le is not None:
            le = self.le & 0xFFFF
            out += (b"\x00" if not nc else b"") + le.to_bytes(2, "big")
        return bytes(out)

    @classmethod
    def decode(cls, raw: bytes) -> Command:
        """Parse the four ISO cases, short or extended [ISO/IEC 7816-4 §5.1]."""
        if len(raw) < 4:
            raise ApduError(f"command APDU: {len(raw)} bytes, at least 4 needed [ISO/IEC 7816-4 §5.1]")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        n = len(body)
        if n == 0:
            return cls(cla, ins, p1, p2)
        if n == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        if body[0] != 0 or n < 3:
            lc = body[0]
            if n == 1 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if n == 2 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:-1]), body[-1] or 256)
            raise ApduError(f"command APDU: Lc {lc} does not match {n - 1} body bytes [ISO/IEC 7816-4 §5.1]")
        # extended: body starts 00
        if n == 3:
            return cls(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536, True)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise ApduError("command APDU: extended Lc of 0 [ISO/IEC 7816-4 §5.1]")
        if n == 3 + lc:
            return cls(cla, ins, p1, p2, bytes(body[3:]), None, True)
        if n == 5 + lc:
            return cls(cla, ins, p1, p2, bytes(body[3:-2]), int.from_bytes(body[-2:], "big") or 65536, True)
        raise ApduError(f"command APDU: extended Lc {lc} does not match the body [ISO/IEC 7816-4 §5.1]")


@dataclass(frozen=True, slots=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def decode(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ApduError(f"response APDU: {len(raw)} bytes, the status word needs 2 [ISO/IEC 7816-4 §5.1]")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def check(self, step: str) -> bytes:
        """The data if the SW is 9000, else ChipError naming the step and the SW."""
        if self.sw != SW_OK:
            raise ChipError(step, f"the chip refused the command: {describe(self.sw)}", self.sw)
        return self.data


def chained(cla: int, ins: int, p1: int, p2: int, data: bytes, size: int, le: int | None = None) -> Iterator[Command]:
    """Split `data` into commands of at most `size` bytes, all but the last with CLA b5 set (chaining)."""
    parts = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        yield Command(cla if last else cla | 0x10, ins, p1, p2, part, le if last else None)


def transceive(send: Callable[[bytes], bytes], cmd: Command, *, step: str) -> Response:
    """Send one command, following 61xx with GET RESPONSE and 6Cxx with the same command and Le = xx."""
    try:
        rsp = Response.decode(send(cmd.encode()))
    except ApduError as exc:
        raise ChipError(step, str(exc)) from exc
    if rsp.sw >> 8 == 0x6C:
        le = rsp.sw & 0xFF or 256
        cmd = Command(cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, le, cmd.extended)
        rsp = Response.decode(send(cmd.encode()))
    data = bytearray(rsp.data)
    rounds = 0
    while rsp.sw >> 8 == 0x61:
        rounds += 1
        if rounds > 512:
            raise ChipError(step, "GET RESPONSE does not end", rsp.sw)
        get = Command(cmd.cla & 0x80, 0xC0, 0, 0, b"", rsp.sw & 0xFF or 256)
        rsp = Response.decode(send(get.encode()))
        data += rsp.data
    return Response(bytes(data), rsp.sw)
