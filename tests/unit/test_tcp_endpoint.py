"""The simulated TCP tools' one client slot (interfaces README §9.1: one client connection at a
time; a second is accepted and closed at once): a host that closed its connection gives the
slot up, also when it closed right behind a command the tool has not read yet."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from sim.fronts.stream import Connection, TcpEndpoint


@pytest.fixture
def slow_tool() -> Iterator[tuple[TcpEndpoint, threading.Event]]:
    """A one-client endpoint whose tool reads nothing until ``go`` is set, then echoes."""
    go = threading.Event()

    def serve(connection: Connection, stop: threading.Event) -> None:
        go.wait(5.0)
        while not stop.is_set():
            data = connection.recv(None)
            if data:
                connection.send(data)

    endpoint = TcpEndpoint(serve, name="slow-tool")
    endpoint.start()
    yield endpoint, go
    go.set()
    endpoint.stop()


def test_a_host_that_closed_behind_an_unread_command_gets_its_reconnect_served(
    slow_tool: tuple[TcpEndpoint, threading.Event],
) -> None:
    endpoint, go = slow_tool
    first = socket.create_connection((endpoint.host, endpoint.port), timeout=5.0)
    first.sendall(b"*CLS\n")
    first.close()  # the tool has not read "*CLS" yet: its FIN waits behind it
    with socket.create_connection((endpoint.host, endpoint.port), timeout=0.3) as again:
        with pytest.raises(TimeoutError):
            again.recv(64)  # kept open while the tool is still busy (closed: b"" at once)
        again.settimeout(5.0)
        go.set()
        again.sendall(b"*IDN?\n")
        assert again.recv(64) == b"*IDN?\n"  # and served


def test_a_second_connection_while_the_first_is_open_is_closed_without_data(
    slow_tool: tuple[TcpEndpoint, threading.Event],
) -> None:
    endpoint, go = slow_tool
    with socket.create_connection((endpoint.host, endpoint.port), timeout=5.0) as first:
        first.sendall(b"*CLS\n")
        with socket.create_connection((endpoint.host, endpoint.port), timeout=5.0) as second:
            assert second.recv(64) == b""
        go.set()
        assert first.recv(64) == b"*CLS\n"  # the first client is still served
