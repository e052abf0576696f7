"""The simulator's side of the framed link (wire-bonder.md §2, tool receiver rules 1-6),
byte for byte over a real pty (and TCP for the drop fault), with real 100 ms timing."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
import tty
from collections.abc import Iterator

import pytest

from sim.faults import FaultInjector
from sim.fronts.framed import FramedFront, FramedServer
from sim.tool_model import Reject
from tests.support.wire_bonder_frames import ack, host, nak, wire


class Stub:
    """Command executor that records what it ran: ``REJECT`` -> NAK 22, else ``ECHO=<text>``."""

    def __init__(self) -> None:
        self.executed: list[str] = []

    def __call__(self, text: str) -> str:
        self.executed.append(text)
        if text == "REJECT":
            raise Reject(22, "DOOR")
        return f"ECHO={text}"


class Client:
    """A raw byte client on the pty device or a TCP socket."""

    def __init__(self, address: str) -> None:
        self.sock: socket.socket | None = None
        if address.startswith("socket://"):
            host_name, port = address.removeprefix("socket://").split(":")
            self.sock = socket.create_connection((host_name, int(port)))
            self.fd = self.sock.fileno()
        else:
            self.fd = os.open(address, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(self.fd)

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def receive(self, timeout_s: float = 1.0) -> bytes:
        """Bytes up to a CR (or whatever came before the timeout)."""
        deadline = time.monotonic() + timeout_s
        data = b""
        while not data.endswith(b"\r") and time.monotonic() < deadline:
            if select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                chunk = os.read(self.fd, 1)
                if not chunk:
                    break
                data += chunk
        return data

    def exchange(self, data: bytes) -> bytes:
        self.send(data)
        return self.receive()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.fd)


Link = tuple[Client, Stub, FaultInjector, FramedFront]


@pytest.fixture
def link() -> Iterator[Link]:
    stub, faults = Stub(), FaultInjector()
    front = FramedFront(stub, faults, name="wire-bonder")
    server = FramedServer(front)
    server.start()
    client = Client(server.address)
    try:
        yield client, stub, faults, front
    finally:
        client.close()
        server.stop()


def test_wire_bonder_front_executes_once_and_resends_stored_reply_for_a_repeat(link: Link) -> None:
    client, stub, _, _ = link
    assert client.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert client.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert stub.executed == ["IDN?"]
    assert client.exchange(host("2IDN?")) == ack("2ECHO=IDN?")  # next digit: a new command
    assert stub.executed == ["IDN?", "IDN?"]


def test_wire_bonder_front_checksum_mismatch_is_nak_01_and_not_executed(link: Link) -> None:
    client, stub, _, _ = link
    assert client.exchange(wire("<STX>4START<ETX>75<CR>")) == wire("<NAK><STX>01<ETX>01<CR>")
    assert stub.executed == []
    assert client.exchange(wire("<STX>4START<ETX>74<CR>")) == ack("4ECHO=START")


def test_wire_bonder_front_accepts_a_lower_case_checksum(link: Link) -> None:
    client, _, _, _ = link
    assert client.exchange(wire("<STX>1IDN?<ETX>4d<CR>")) == ack("1ECHO=IDN?")


@pytest.mark.parametrize(
    "frame",
    [
        b"\x023ST\x01AT?\x03" + b"00\r",  # control byte in the payload
        wire("<STX>3STAT?<ETX>1G<CR>"),  # non-hex checksum digit
        wire("<STX>3STAT?<ETX>1EX"),  # no CR after the checksum
        wire("<STX>STAT?<ETX>2D<CR>"),  # first payload byte not a digit
        wire("<STX><ETX>00<CR>"),  # empty payload
    ],
)
def test_wire_bonder_front_framing_errors_are_nak_02(link: Link, frame: bytes) -> None:
    client, stub, _, _ = link
    assert client.exchange(frame) == nak(2)
    assert stub.executed == []


def test_wire_bonder_front_gap_over_100_ms_is_nak_02_in_real_time(link: Link) -> None:
    client, stub, _, _ = link
    frame = host("5START")
    started = time.monotonic()
    client.send(frame[:4])
    assert client.receive(0.5) == nak(2)
    assert 0.09 <= time.monotonic() - started < 0.4
    client.send(frame[4:])  # the rest is outside any frame: discarded without reply
    assert client.receive(0.25) == b""
    assert stub.executed == []


def test_wire_bonder_front_incomplete_frame_is_answered_100_ms_after_its_last_byte(
    link: Link,
) -> None:
    client, _, _, _ = link
    started = time.monotonic()
    client.send(host("6STAT?")[:-1])  # no CR
    assert client.receive(0.5) == nak(2)
    assert 0.09 <= time.monotonic() - started < 0.4


def test_wire_bonder_front_bytes_between_keep_the_frame_alive(link: Link) -> None:
    client, _, _, _ = link
    frame = host("7STAT?")
    for byte in frame:
        client.send(bytes([byte]))
        time.sleep(0.02)
    assert client.receive() == ack("7ECHO=STAT?")


def test_wire_bonder_front_payload_over_250_bytes_is_nak_03(link: Link) -> None:
    client, stub, _, _ = link
    longest = "1" + "X" * 249
    assert client.exchange(host(longest)) == ack("1ECHO=" + "X" * 249)
    assert client.exchange(host("2" + "X" * 250)) == nak(3)
    client.send(b"\x02" + b"3" + b"X" * 260)  # no ETX: NAK 03 after the gap
    assert client.receive(0.5) == nak(3)
    assert stub.executed == ["X" * 249]


def test_wire_bonder_front_discards_bytes_before_stx_and_restarts_on_a_second_stx(
    link: Link,
) -> None:
    client, stub, _, _ = link
    assert client.exchange(b"noise\r\n" + host("8ALM?")) == ack("8ECHO=ALM?")
    assert client.exchange(b"\x029GAR" + host("9ALM?")) == ack("9ECHO=ALM?")
    assert stub.executed == ["ALM?", "ALM?"]


def test_wire_bonder_front_nak_has_no_sequence_digit_and_leaves_the_stored_frame(
    link: Link,
) -> None:
    client, stub, _, _ = link
    assert client.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert client.exchange(host("2REJECT")) == bytes.fromhex("15 02 32 32 03 30 30 0D")
    assert client.exchange(host("2REJECT")) == nak(22)  # a NAKed frame is executed again
    assert client.exchange(host("1IDN?")) == ack("1ECHO=IDN?")  # still the stored frame
    assert stub.executed == ["IDN?", "REJECT", "REJECT"]


def test_wire_bonder_front_never_sends_unsolicited_data(link: Link) -> None:
    client, _, _, _ = link
    assert client.receive(0.3) == b""


def test_wire_bonder_front_stall_executes_and_loses_the_reply(link: Link) -> None:
    client, stub, faults, _ = link
    faults.link_fault("stall")
    assert client.exchange(host("3START")) == b""
    assert client.exchange(host("3START")) == ack("3ECHO=START")  # stored reply
    assert stub.executed == ["START"]


@pytest.mark.parametrize("kind", ["garble", "truncate", "bad_checksum"])
def test_wire_bonder_front_shapes_the_reply_for_reply_faults(link: Link, kind: str) -> None:
    client, stub, faults, _ = link
    faults.link_fault(kind)
    good = ack("4ECHO=TEMP?")
    client.send(host("4TEMP?"))
    shaped = client.receive(0.3)
    assert shaped != good
    if kind == "truncate":
        assert shaped == good[: len(good) // 2]
    elif kind == "bad_checksum":
        assert shaped[:-3] == good[:-3] and shaped[-3:-1] != good[-3:-1]
    else:
        assert len(shaped) == len(good) and shaped[0] != good[0]
    assert client.exchange(host("4TEMP?")) == good
    assert stub.executed == ["TEMP?"]


def test_wire_bonder_front_drop_closes_tcp_without_executing() -> None:
    stub, faults = Stub(), FaultInjector()
    server = FramedServer(FramedFront(stub, faults), transport="tcp")
    server.start()
    try:
        assert server.address.startswith("socket://127.0.0.1:")
        faults.link_fault("drop")
        client = Client(server.address)
        assert client.exchange(host("5START")) == b""
        client.close()
        client = Client(server.address)  # reconnect: the tool answers again
        assert client.exchange(host("5START")) == ack("5ECHO=START")
        client.close()
        assert stub.executed == ["START"]
    finally:
        with contextlib.suppress(OSError):
            server.stop()
