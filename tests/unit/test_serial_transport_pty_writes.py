"""Writes over a real pseudo-terminal, where the transport writes the port's descriptor itself
(not pyserial's ``write``). The pty's master side plays the tool."""

from __future__ import annotations

import os
import threading

import pytest

from drivers.errors import ConnectionLost
from tests.support.io_timing import SLACK_S, takes_s
from tests.support.pty_tool import vanish
from tests.unit.test_serial_transport_pty_reads import TIMEOUT_S, Line, line

__all__ = ["line"]  # the fixture, imported for pytest

#: Far more than a pty's buffer (a few KiB): the write has to wait for room.
LONG_BYTES = 256 * 1024


def test_a_message_longer_than_the_port_buffer_arrives_whole(line: Line) -> None:
    transport, master_fd = line
    message = bytes(range(256)) * (LONG_BYTES // 256)
    received = bytearray()

    def tool_reads() -> None:
        while len(received) < len(message):
            received.extend(os.read(master_fd, 65536))

    reader = threading.Thread(target=tool_reads, daemon=True)
    reader.start()
    transport.write(message)
    reader.join(timeout=5.0)
    assert bytes(received) == message
    assert transport.is_open


def test_a_tool_that_stops_reading_fails_the_write_at_the_link_timeout(line: Line) -> None:
    transport, _ = line
    with (
        takes_s(TIMEOUT_S, TIMEOUT_S + SLACK_S),
        pytest.raises(ConnectionLost, match="write failed"),
    ):
        transport.write(b"X" * LONG_BYTES)
    assert not transport.is_open


def test_a_write_to_a_vanished_tool_is_a_lost_connection_at_once(line: Line) -> None:
    transport, master_fd = line
    vanish(master_fd)
    with takes_s(0, TIMEOUT_S), pytest.raises(ConnectionLost, match="write failed"):
        transport.write(b"MEAS?\r")
    assert not transport.is_open
