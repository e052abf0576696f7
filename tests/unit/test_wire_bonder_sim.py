"""The simulator's side of the framed link (wire-bonder.md §2, tool receiver rules 1-6),
byte for byte over a real pty (and TCP for the drop fault), with real 100 ms timing."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sim.faults import FaultInjector
from sim.fronts.framed import FramedFront, FramedServer
from sim.fronts.stream import ConnectionClosed
from sim.tool_model import Reject
from tests.support.raw_clients import ByteLink, link_for
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


CR = b"\r"


@dataclass
class Link:
    """A host's byte link to a framed front over ``stub``, with the front's fault injector."""

    client: ByteLink
    stub: Stub
    faults: FaultInjector

    def exchange(self, frame: bytes) -> bytes:
        """Send ``frame``; the reply up to its CR, or what came within 1 s."""
        self.client.write(frame)
        return self.client.read_until(CR, 1.0)


@pytest.fixture
def link() -> Iterator[Link]:
    stub, faults = Stub(), FaultInjector()
    server = FramedServer(FramedFront(stub, faults, name="wire-bonder"))
    server.start()
    client = link_for(server.address)
    try:
        yield Link(client, stub, faults)
    finally:
        client.close()
        server.stop()


def test_wire_bonder_front_executes_once_and_resends_stored_reply_for_a_repeat(link: Link) -> None:
    assert link.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert link.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert link.stub.executed == ["IDN?"]
    assert link.exchange(host("2IDN?")) == ack("2ECHO=IDN?")  # next digit: a new command
    assert link.stub.executed == ["IDN?", "IDN?"]


def test_wire_bonder_front_checksum_mismatch_is_nak_01_and_not_executed(link: Link) -> None:
    assert link.exchange(wire("<STX>4START<ETX>75<CR>")) == wire("<NAK><STX>01<ETX>01<CR>")
    assert link.stub.executed == []
    assert link.exchange(wire("<STX>4START<ETX>74<CR>")) == ack("4ECHO=START")


def test_wire_bonder_front_accepts_a_lower_case_checksum(link: Link) -> None:
    assert link.exchange(wire("<STX>1IDN?<ETX>4d<CR>")) == ack("1ECHO=IDN?")


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
    assert link.exchange(frame) == nak(2)
    assert link.stub.executed == []


def test_wire_bonder_front_gap_over_100_ms_is_nak_02_in_real_time(link: Link) -> None:
    frame = host("5START")
    started = time.monotonic()
    link.client.write(frame[:4])
    assert link.client.read_until(CR, 0.5) == nak(2)
    assert 0.09 <= time.monotonic() - started < 0.4
    link.client.write(frame[4:])  # the rest is outside any frame: discarded without reply
    assert link.client.read_until(CR, 0.25) == b""
    assert link.stub.executed == []


def test_wire_bonder_front_incomplete_frame_is_answered_100_ms_after_its_last_byte(
    link: Link,
) -> None:
    started = time.monotonic()
    link.client.write(host("6STAT?")[:-1])  # no CR
    assert link.client.read_until(CR, 0.5) == nak(2)
    assert 0.09 <= time.monotonic() - started < 0.4


def test_wire_bonder_front_bytes_between_keep_the_frame_alive(link: Link) -> None:
    frame = host("7STAT?")
    for byte in frame:
        link.client.write(bytes([byte]))
        time.sleep(0.02)
    assert link.client.read_until(CR, 1.0) == ack("7ECHO=STAT?")


class LateThreadConnection:
    """A connection whose bytes the front's thread picks up late, as on a loaded machine:
    each ``recv`` with a deadline returns the next chunk only after ``late_s``, as if it had
    waited in the kernel's buffer meanwhile. Records what the front sends."""

    def __init__(self, chunks: list[bytes], late_s: float) -> None:
        self.chunks = chunks
        self.late_s = late_s
        self.sent: list[bytes] = []

    def recv(self, timeout_s: float | None) -> bytes:
        if not self.chunks:
            raise ConnectionClosed
        if timeout_s is not None:
            time.sleep(self.late_s)
        return self.chunks.pop(0)

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def drop(self) -> None:
        raise AssertionError("no drop fault here")


def test_wire_bonder_front_takes_bytes_its_thread_read_late_as_in_time() -> None:
    """A gap is a wait that ended with no byte, not a late read of bytes that had come."""
    stub = Stub()
    frame = host("7STAT?")
    connection = LateThreadConnection([frame[:4], frame[4:]], late_s=0.15)
    with pytest.raises(ConnectionClosed):  # the host has gone: how a front's serve ends
        FramedFront(stub, FaultInjector(), name="wire-bonder").serve(connection, threading.Event())
    assert connection.sent == [ack("7ECHO=STAT?")] and stub.executed == ["STAT?"]


def test_wire_bonder_front_payload_over_250_bytes_is_nak_03(link: Link) -> None:
    longest = "1" + "X" * 249
    assert link.exchange(host(longest)) == ack("1ECHO=" + "X" * 249)
    assert link.exchange(host("2" + "X" * 250)) == nak(3)
    link.client.write(b"\x02" + b"3" + b"X" * 260)  # no ETX: NAK 03 after the gap
    assert link.client.read_until(CR, 0.5) == nak(3)
    assert link.stub.executed == ["X" * 249]


def test_wire_bonder_front_discards_bytes_before_stx_and_restarts_on_a_second_stx(
    link: Link,
) -> None:
    assert link.exchange(b"noise\r\n" + host("8ALM?")) == ack("8ECHO=ALM?")
    assert link.exchange(b"\x029GAR" + host("9ALM?")) == ack("9ECHO=ALM?")
    assert link.stub.executed == ["ALM?", "ALM?"]


def test_wire_bonder_front_nak_has_no_sequence_digit_and_leaves_the_stored_frame(
    link: Link,
) -> None:
    assert link.exchange(host("1IDN?")) == ack("1ECHO=IDN?")
    assert link.exchange(host("2REJECT")) == bytes.fromhex("15 02 32 32 03 30 30 0D")
    assert link.exchange(host("2REJECT")) == nak(22)  # a NAKed frame is executed again
    assert link.exchange(host("1IDN?")) == ack("1ECHO=IDN?")  # still the stored frame
    assert link.stub.executed == ["IDN?", "REJECT", "REJECT"]


def test_wire_bonder_front_never_sends_unsolicited_data(link: Link) -> None:
    assert link.client.read_until(CR, 0.3) == b""


def test_wire_bonder_front_stall_executes_and_loses_the_reply(link: Link) -> None:
    link.faults.link_fault("stall")
    assert link.exchange(host("3START")) == b""
    assert link.exchange(host("3START")) == ack("3ECHO=START")  # stored reply
    assert link.stub.executed == ["START"]


@pytest.mark.parametrize("kind", ["garble", "truncate", "bad_checksum"])
def test_wire_bonder_front_shapes_the_reply_for_reply_faults(link: Link, kind: str) -> None:
    link.faults.link_fault(kind)
    good = ack("4ECHO=TEMP?")
    link.client.write(host("4TEMP?"))
    shaped = link.client.read_until(CR, 0.3)
    assert shaped != good
    if kind == "truncate":
        assert shaped == good[: len(good) // 2]
    elif kind == "bad_checksum":
        assert shaped[:-3] == good[:-3] and shaped[-3:-1] != good[-3:-1]
    else:
        assert len(shaped) == len(good) and shaped[0] != good[0]
    assert link.exchange(host("4TEMP?")) == good
    assert link.stub.executed == ["TEMP?"]


def test_wire_bonder_front_drop_closes_tcp_without_executing() -> None:
    stub, faults = Stub(), FaultInjector()
    server = FramedServer(FramedFront(stub, faults), transport="tcp")
    server.start()
    try:
        assert server.address.startswith("socket://127.0.0.1:")
        faults.link_fault("drop")
        first = Link(link_for(server.address), stub, faults)
        assert first.exchange(host("5START")) == b""
        first.client.close()
        again = Link(link_for(server.address), stub, faults)  # reconnect: the tool answers again
        assert again.exchange(host("5START")) == ack("5ECHO=START")
        again.client.close()
        assert stub.executed == ["START"]
    finally:
        with contextlib.suppress(OSError):
            server.stop()
