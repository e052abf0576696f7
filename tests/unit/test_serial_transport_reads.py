"""The serial transport reads a reply as it comes (not a byte per system call) and keeps what came
after the terminator for the next read, over pyserial's ``loop://`` port (what is written comes
back)."""

from __future__ import annotations

import pytest

from drivers.errors import ToolTimeout
from drivers.transports.serial_port import SerialTransport


def loop_transport() -> SerialTransport:
    transport = SerialTransport("loop://", tool="test", baudrate=9600, timeout_s=0.2)
    transport.open()
    return transport


def test_lines_that_arrive_together_are_read_one_by_one() -> None:
    transport = loop_transport()
    transport.write(b"OK 1\rOK 2\rOK 3\r")
    assert [transport.read_until(b"\r") for _ in range(3)] == [b"OK 1\r", b"OK 2\r", b"OK 3\r"]
    with pytest.raises(ToolTimeout):
        transport.read_until(b"\r")  # nothing is left
    transport.close()


def test_a_new_command_discards_what_the_last_reply_left() -> None:
    transport = loop_transport()
    transport.write(b"OK 1\rSTALE\r")
    assert transport.read_until(b"\r") == b"OK 1\r"
    transport.write(b"OK 2\r")
    assert transport.read_until(b"\r") == b"OK 2\r"
    transport.close()
