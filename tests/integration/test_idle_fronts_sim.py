"""An idle simulated tool sleeps: its front blocks on its socket or pty (and the endpoint's
wake-up pipe) instead of polling, and still stops at once when the tool is stopped."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from sim.clock import SimClock
from sim.fronts import stream
from sim.registry import serve_function
from sim.simulated_tool import SimulatedTool
from sim.world import World


@pytest.fixture
def empty_wakeups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Times at which an endpoint's wait came back with nothing to read."""
    empty: list[float] = []
    wait = stream.wait_readable

    def counted(fd: object, stop: stream.StopSignal | None, timeout_s: float | None) -> bool:
        readable = wait(fd, stop, timeout_s)  # type: ignore[arg-type]
        if not readable and not (stop is not None and stop.is_set()):
            empty.append(time.monotonic())
        return readable

    monkeypatch.setattr(stream, "wait_readable", counted)
    yield empty


def started(tool: str) -> SimulatedTool:
    return serve_function(tool)(clock=SimClock(1000.0), world=World(), seed=1)


def assert_stops_at_once(tool: SimulatedTool) -> None:
    """Stopping wakes the endpoint's sleeping threads at once (its join waits up to 2 s)."""
    began = time.monotonic()
    tool.stop()
    assert time.monotonic() - began < 1.5, "stop wakes the sleeping threads at once"
    assert not tool.server.endpoint._thread.is_alive()  # type: ignore[attr-defined]


def test_an_idle_tcp_tool_with_a_client_connected_does_not_poll_and_stops_at_once(
    empty_wakeups: list[float],
) -> None:
    tool = started("die-bonder")  # SCPI over loopback TCP
    try:
        host, port = tool.server.endpoint.host, tool.server.endpoint.port  # type: ignore[attr-defined]
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"*IDN?\n")
            client.settimeout(5)
            assert client.recv(4096).endswith(b"\n"), "the connection serves"
            time.sleep(0.5)  # idle: a 0.1 s poll would have come back empty about 5 times
            assert empty_wakeups == [], "the listener and the connection sleep until bytes come"
            assert_stops_at_once(tool)
    finally:
        tool.stop()


def test_an_idle_pty_tool_does_not_poll_and_stops_at_once(empty_wakeups: list[float]) -> None:
    tool = started("metrology")  # serial text over a pty
    try:
        time.sleep(0.5)
        assert empty_wakeups == [], "the pty front sleeps until bytes come"
        assert_stops_at_once(tool)
    finally:
        tool.stop()
