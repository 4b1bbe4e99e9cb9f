"""The virtual card as a vpcd client (vsmartcard's virtual reader driver for pcscd).

Protocol (../shared/reference/pcsc-and-cards.md): every message is a 2-byte big-endian length and a
payload; a 1-byte payload is a control code (00 off, 01 on, 02 reset, 04 send the ATR); anything
longer is a command APDU. vpcd sends length and payload in two writes, so the card sets TCP_NODELAY
and re-arms TCP_QUICKACK after every recv (else Nagle + delayed ACK cost about 45 ms per APDU).

Run as `python -m mrtd.chip.sim.vpcd --port 35963 [--profile mrtd-sim] [--state FILE] [--die-after N]`
(`--die-after` ends the process abruptly after N command APDUs: fault tests use it; `--replay FILE` is a
card that answers each APDU with the next recorded answer and does no work, the transport floor the
benchmark compares with).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path
from typing import Protocol

from mrtd.chip.sim.card import ATR, VirtualCard

SLOT_PORTS = {0: 35963, 1: 35964}

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _quickack(sock: socket.socket) -> None:
    if _QUICKACK is not None:
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        _quickack(sock)
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def connect(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    """Connect to vpcd, retrying while pcscd starts."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=2.0)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _quickack(sock)
    return sock


class Card(Protocol):
    def power_on(self) -> None: ...

    def process(self, raw: bytes) -> bytes: ...

    def idle(self) -> None: ...


class ReplayCard:
    """Answers each command with the next answer of a recorded exchange and does nothing else: the transport
    alone, carrying the same traffic both ways. The answers (one hex line each) are read from `answers` at
    every reset, so each session starts from the first; after the last, and without a file, 90 00."""

    def __init__(self, answers: Path | None = None) -> None:
        self.answers = answers
        self.power_on()

    def power_on(self) -> None:
        text = self.answers.read_text() if self.answers is not None and self.answers.exists() else ""
        self._queue = [bytes.fromhex(line) for line in text.split()]
        self._next = 0

    def process(self, raw: bytes) -> bytes:
        i, self._next = self._next, self._next + 1
        return self._queue[i] if i < len(self._queue) else b"\x90\x00"

    def idle(self) -> None:
        pass


def serve(card: Card, sock: socket.socket, die_after: int | None = None, *, swap_when_locked: bool = False) -> bool:
    """Answer vpcd until it closes the connection (False), or, with `swap_when_locked`, until a locked
    card is powered off or reset (True: the booklet is done and is taken out)."""
    commands = 0
    while True:
        head = _recv_exact(sock, 2)
        if head is None:
            return False
        payload = _recv_exact(sock, int.from_bytes(head, "big"))
        if payload is None:
            return False
        if len(payload) == 1:
            code = payload[0]
            if code in (0x00, 0x02) and swap_when_locked and getattr(getattr(card, "state", None), "locked", False):
                return True
            if code in (0x00, 0x01, 0x02):
                card.power_on()
            elif code == 0x04:
                sock.sendall(len(ATR).to_bytes(2, "big") + ATR)
            continue
        commands += 1
        if die_after is not None and commands > die_after:
            os._exit(3)  # the card is gone mid-APDU, as when it is pulled from the field
        rsp = card.process(payload)
        sock.sendall(len(rsp).to_bytes(2, "big") + rsp)
        card.idle()  # what the answer left to do, while the terminal reads it


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mrtd.chip.sim.vpcd")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=SLOT_PORTS[0])
    ap.add_argument("--profile", default="mrtd-sim")
    ap.add_argument("--state", type=Path)
    ap.add_argument("--die-after", type=int)
    ap.add_argument("--replay", type=Path, metavar="FILE",
                    help="answer each command with the next line of FILE (hex; read again at every reset)")
    ap.add_argument("--feeder", action="store_true",
                    help="a booklet feeder: once a card is locked and powered off, take it out and put in a blank one")
    args = ap.parse_args(argv)
    if args.feeder:
        return _feed(args.host, args.port, args.profile)
    card: Card
    if args.replay:
        card = ReplayCard(args.replay)
    elif args.state:
        card = VirtualCard.load(args.state, args.profile)
    else:
        card = VirtualCard(args.profile)
    sock = connect(args.host, args.port)
    print("ready", flush=True)
    try:
        serve(card, sock, args.die_after)
    finally:
        sock.close()
    return 0


def _feed(host: str, port: int, profile: str) -> int:
    """Blank cards one after another: each personalised (locked) card leaves the reader when the station
    lets go of it, and a new blank card follows after a pause pcscd notices (its poll is 0.4 s)."""
    first = True
    while True:
        sock = connect(host, port)
        if first:
            print("ready", flush=True)
            first = False
        try:
            swapped = serve(VirtualCard(profile), sock, swap_when_locked=True)
        finally:
            sock.close()
        if not swapped:
            return 0
        time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(main())
