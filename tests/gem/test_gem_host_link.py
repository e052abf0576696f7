"""The GEM host's link to an equipment that is slow to accept: a connect that times out says so
in bounded time instead of hanging in secsgem's disable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from packline.gem.host import GemHost


@pytest.fixture
def slow_equipment() -> Iterator[socket.socket]:
    """A listener whose accept queue (backlog 0) is already full: a new connect waits in the
    kernel until the test accepts."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = socket.create_connection(listener.getsockname(), timeout=1.0)
    try:
        yield listener
    finally:
        queued.close()
        listener.close()


def test_a_connect_that_times_out_while_the_equipment_accepts_late_raises_in_bounded_time(
    slow_equipment: socket.socket,
) -> None:
    """secsgem 0.3's client waits for its connect thread to take a stop flag the thread only
    reads between attempts; one still inside ``socket.connect`` at the timeout never does
    (before GemHost.close bounded it, this connect hung for good)."""
    host = GemHost(slow_equipment.getsockname()[1], t5_s=0.5)
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            host.connect(0.5)
        except BaseException as exc:  # the outcome is what the test asserts on
            outcome.append(exc)

    started = time.monotonic()
    connecting = threading.Thread(target=connect, daemon=True)
    connecting.start()
    time.sleep(1.0)  # the host's connect is waiting in the kernel; its own timeout has passed
    slow_equipment.settimeout(5.0)
    accepted = [slow_equipment.accept()[0] for _ in range(2)]  # the queued one, then the host
    connecting.join(15.0)
    for peer in accepted:
        peer.close()

    assert not connecting.is_alive(), "connect hung after its timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)
    assert "within 0.5 s" in str(outcome[0])
    assert time.monotonic() - started < 10.0
