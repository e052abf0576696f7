"""Reads over a real pseudo-terminal, where the transport waits on the port's descriptor itself
(not pyserial's per-piece ``read``). The pty's master side plays the tool."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from drivers.errors import ConnectionLost, ToolTimeout
from drivers.transports.serial_port import PortDescriptor, SerialTransport
from tests.support.io_timing import SLACK_S, takes_s
from tests.support.pty_tool import alarm_storm, pty_pair, send_later, vanish

TIMEOUT_S = 0.3
#: What the ``line`` fixture gives: an open transport and the tool's end of its pty.
Line = tuple[SerialTransport, int]


@pytest.fixture
def line() -> Iterator[Line]:
    """An open transport on a pty's slave side and the master side's descriptor (the tool)."""
    with pty_pair() as (master_fd, slave_fd):
        transport = SerialTransport(
            os.ttyname(slave_fd), tool="test", baudrate=9600, timeout_s=TIMEOUT_S
        )
        transport.open()
        try:
            yield transport, master_fd
        finally:
            transport.close()


def test_a_reply_in_pieces_is_read_whole_even_with_its_terminator_split(line: Line) -> None:
    transport, master_fd = line
    send_later(master_fd, [b"OK 1", b"2.5\r", b"\nNEXT\r\n"]).join()
    assert transport.read_until(b"\r\n") == b"OK 12.5\r\n"
    assert transport.read_until(b"\r\n") == b"NEXT\r\n"


def test_lines_that_arrive_together_are_read_one_by_one(line: Line) -> None:
    transport, master_fd = line
    os.write(master_fd, b"OK 1\rOK 2\r")
    assert [transport.read_until(b"\r") for _ in range(2)] == [b"OK 1\r", b"OK 2\r"]


def test_a_silent_tool_times_out_at_the_link_timeout(line: Line) -> None:
    transport, _ = line
    with takes_s(TIMEOUT_S, TIMEOUT_S + SLACK_S), pytest.raises(ToolTimeout):
        transport.read_until(b"\r", sent="MEAS?")


def test_a_partial_reply_then_silence_times_out_naming_what_came(line: Line) -> None:
    transport, master_fd = line
    send_later(master_fd, [b"OK 12", b".5"])
    with (
        takes_s(TIMEOUT_S, TIMEOUT_S + SLACK_S),
        pytest.raises(ToolTimeout, match=r"got b'OK 12\.5'"),
    ):
        transport.read_until(b"\r")


def test_stale_input_is_discarded_before_a_send(line: Line) -> None:
    transport, master_fd = line
    os.write(master_fd, b"LATE REPLY\r")
    time.sleep(0.05)
    transport.write(b"MEAS?\r")
    assert os.read(master_fd, 100) == b"MEAS?\r"
    os.write(master_fd, b"OK 3\r")
    assert transport.read_until(b"\r") == b"OK 3\r"


def test_a_vanished_tool_is_a_lost_connection_at_once(line: Line) -> None:
    transport, master_fd = line
    send_later(master_fd, [b"OK 1"])
    threading.Timer(0.1, vanish, args=(master_fd,)).start()
    with takes_s(0, TIMEOUT_S), pytest.raises(ConnectionLost):
        transport.read_until(b"\r")
    assert not transport.is_open


# pytest-timeout's own method uses SIGALRM and ITIMER_REAL, which the storm takes over.
@pytest.mark.timeout(60, method="thread")
def test_signals_during_the_wait_neither_break_nor_stretch_it(line: Line) -> None:
    transport, master_fd = line
    send_later(master_fd, [b"OK ", b"7\r"])
    with alarm_storm():
        assert transport.read_until(b"\r") == b"OK 7\r"
        with takes_s(TIMEOUT_S, TIMEOUT_S + SLACK_S), pytest.raises(ToolTimeout):
            transport.read_until(b"\r")


def test_only_a_plain_device_port_is_read_on_its_descriptor() -> None:
    """socket://, rfc2217:// and loop:// are pyserial protocol handlers: they keep its read."""
    with pty_pair() as (_, slave_fd):
        device = serial.serial_for_url(os.ttyname(slave_fd), timeout=0.05)
        loop = serial.serial_for_url("loop://", timeout=0.05)
        try:
            assert PortDescriptor.of(device) is not None
            assert PortDescriptor.of(loop) is None
        finally:
            device.close()
            loop.close()
