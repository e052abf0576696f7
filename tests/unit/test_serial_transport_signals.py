"""A signal arriving while the serial transport waits for its output to drain (``tcdrain``,
which Python does not retry on EINTR) does not fail the write: the drain is retried, bounded.
Over a real pseudo-terminal with a SIGALRM timer firing every 100 µs."""

from __future__ import annotations

import errno
import os
import pty
import select
import termios
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from drivers.transports.serial_port import SerialTransport, retry_interrupted
from tests.support.pty_tool import alarm_storm as signal_storm


@pytest.fixture
def alarm_storm() -> Iterator[None]:
    """SIGALRM every 100 µs while the test runs (tests/support/pty_tool.py)."""
    with signal_storm():
        yield


def drain_into(master_fd: int, received: bytearray, stop: threading.Event) -> None:
    """The far end of the line: read everything the transport sends until ``stop``."""
    while not stop.is_set():
        if select.select([master_fd], [], [], 0.05)[0]:
            received += os.read(master_fd, 65536)


# pytest-timeout's own method uses SIGALRM and ITIMER_REAL, which the storm takes over.
@pytest.mark.timeout(60, method="thread")
def test_writes_survive_signals_arriving_during_the_drain(alarm_storm: None) -> None:
    master_fd, slave_fd = pty.openpty()
    transport = SerialTransport(os.ttyname(slave_fd), tool="test", baudrate=9600, timeout_s=2.0)
    received, stop = bytearray(), threading.Event()
    reader = threading.Thread(target=drain_into, args=(master_fd, received, stop), daemon=True)
    reader.start()
    chunk, sent = b"x" * 4000, 0
    try:
        # About 100 drains are interrupted per second here without the retry; bounded in
        # writes and wall time, so a loaded machine only makes the test weaker, never red.
        deadline = time.monotonic() + 1.0
        while sent < 20_000 * len(chunk) and time.monotonic() < deadline:
            transport.write(chunk)
            sent += len(chunk)
        wait_until = time.monotonic() + 5.0
        while len(received) < sent and time.monotonic() < wait_until:
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=2.0)
        transport.close()
        os.close(slave_fd)
        os.close(master_fd)
    assert sent > 0
    assert len(received) == sent


def interrupted(times: int, code: int = errno.EINTR) -> tuple[list[int], Callable[[], None]]:
    """A call that raises ``termios.error(code)`` its first ``times`` calls, then returns."""
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        if len(calls) <= times:
            raise termios.error(code, os.strerror(code))

    return calls, call


def test_an_interrupted_drain_is_run_again_until_it_completes() -> None:
    calls, call = interrupted(3)
    retry_interrupted(call, retries=5)
    assert len(calls) == 4


def test_a_drain_interrupted_every_time_fails_after_the_bound() -> None:
    calls, call = interrupted(100)
    with pytest.raises(termios.error) as raised:
        retry_interrupted(call, retries=5)
    assert raised.value.args[0] == errno.EINTR
    assert len(calls) == 6


def test_a_drain_error_other_than_eintr_is_not_retried() -> None:
    calls, call = interrupted(1, errno.EIO)
    with pytest.raises(termios.error) as raised:
        retry_interrupted(call, retries=5)
    assert raised.value.args[0] == errno.EIO
    assert len(calls) == 1
