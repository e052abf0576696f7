"""A virtual-clock dry run stretches the links' wall-time timeouts: a reply that is late only
because the machine is loaded is still taken, not retried (which would change the run)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from drivers.errors import ToolTimeout
from drivers.transports.serial_port import SerialTransport
from drivers.transports.wall_timeouts import stretched_link_timeouts, wall_timeout_s
from tests.support.io_timing import takes_s
from tests.support.pty_tool import pty_pair

TIMEOUT_S = 0.1
LATE_REPLY_S = 0.4


@pytest.fixture
def port() -> Iterator[tuple[SerialTransport, int]]:
    """A serial link on a real pty whose far end the test writes to."""
    with pty_pair() as (tool_end, host_end):
        link = SerialTransport(
            os.ttyname(host_end), tool="test", baudrate=9600, timeout_s=TIMEOUT_S
        )
        link.open()
        yield link, tool_end
        link.close()


def reply_later(fd: int) -> threading.Timer:
    timer = threading.Timer(LATE_REPLY_S, lambda: os.write(fd, b"OK\r"))
    timer.start()
    return timer


def test_a_late_reply_times_out_at_the_manuals_timeout(port: tuple[SerialTransport, int]) -> None:
    link, tool_end = port
    timer = reply_later(tool_end)
    with (
        takes_s(0, LATE_REPLY_S),
        pytest.raises(ToolTimeout, match=r"no complete reply within 0\.10 s"),
    ):
        link.read_until(b"\r")
    timer.join()


def test_inside_a_stretch_the_same_late_reply_is_taken(port: tuple[SerialTransport, int]) -> None:
    link, tool_end = port
    timer = reply_later(tool_end)
    with stretched_link_timeouts(10):
        assert wall_timeout_s(TIMEOUT_S) == pytest.approx(1.0)
        assert link.read_until(b"\r") == b"OK\r"
    assert wall_timeout_s(TIMEOUT_S) == TIMEOUT_S, "the stretch ends with its block"
    timer.join()


def test_a_stretch_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="must be >= 1"), stretched_link_timeouts(0.5):
        pass
