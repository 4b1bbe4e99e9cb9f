"""The replaying card of the transport floor: each command gets the next recorded answer, a reset starts
again from the first (reading the file anew), and after the last or without a file the answer is 90 00;
served through the vpcd framing like the simulated card."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from mrtd.chip.sim.vpcd import ReplayCard, serve


def test_answers_in_order_then_9000_and_again_after_a_reset(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    card = ReplayCard(path)
    assert card.process(b"\x00\xa4\x00\x00") == b"\x90\x00"  # no file yet
    path.write_text("6f0102039000\n6a82")
    assert card.process(b"\x00\xa4\x00\x00") == b"\x90\x00"  # read at the reset, not before
    card.power_on()
    assert [card.process(b"\x00\xb0\x00\x00\x00") for _ in range(3)] == [
        bytes.fromhex("6f0102039000"), bytes.fromhex("6a82"), b"\x90\x00"]
    card.power_on()
    assert card.process(b"\x00\xb0\x00\x00\x00") == bytes.fromhex("6f0102039000")


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(2, "big") + payload


def _read_frame(sock: socket.socket) -> bytes:
    head = sock.recv(2, socket.MSG_WAITALL)
    return sock.recv(int.from_bytes(head, "big"), socket.MSG_WAITALL)


def test_served_through_the_vpcd_framing(tmp_path: Path) -> None:
    path = tmp_path / "answers.txt"
    path.write_text(("ab" * 3000) + "9000\n9000")  # a long answer, as DG2's through extended length
    with socket.create_server(("127.0.0.1", 0)) as server:  # TCP, as vpcd talks to the card
        ours = socket.create_connection(server.getsockname())
        theirs, _ = server.accept()
    ours.settimeout(5)
    served = threading.Thread(target=serve, args=(ReplayCard(path), theirs))
    served.start()
    try:
        ours.sendall(_frame(b"\x02"))  # reset
        ours.sendall(_frame(b"\x00\xb0\x00\x00\x00\x00\x00"))
        assert _read_frame(ours) == bytes.fromhex("ab" * 3000 + "9000")
        ours.sendall(_frame(b"\x00\xa4\x00\x0c"))
        assert _read_frame(ours) == b"\x90\x00"
    finally:
        ours.close()
        served.join(5)
        theirs.close()
    assert not served.is_alive()
