"""The VISA transport over a TCP socket (pyvisa-py SOCKET) against a raw peer on loopback: a tool
that closes the connection mid-reply is a lost link at once, without spinning a CPU for the read
timeout (pyvisa-py alone would, then call it a timeout)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest

from drivers.errors import ConnectionLost, ToolTimeout
from drivers.transports.visa import VisaTransport
from tests.support.integration_waits import wait_until
from tests.support.io_timing import takes_s

#: What the peer does with each line it receives (given the connection).
Answer = Callable[[socket.socket, bytes], None]


@contextmanager
def raw_peer(answer: Answer, timeout_s: float) -> Iterator[VisaTransport]:
    """A TCP peer on loopback calling ``answer`` per received line; yields an open VISA
    transport to it with ``timeout_s``."""

    class Lines(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            with suppress(OSError):
                for line in self.rfile:
                    if line.endswith(b"\n"):
                        answer(self.connection, line[:-1])

    with socketserver.TCPServer(("127.0.0.1", 0), Lines) as server:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        port = server.server_address[1]
        transport = VisaTransport(
            f"TCPIP::127.0.0.1::{port}::SOCKET", tool="die-bonder", timeout_s=timeout_s
        )
        try:
            transport.open()
            yield transport
        finally:
            transport.close()
            server.shutdown()


def close_at_once(conn: socket.socket, _line: bytes) -> None:
    conn.shutdown(socket.SHUT_RDWR)


def half_then_close(conn: socket.socket, line: bytes) -> None:
    conn.sendall(line[:2])
    time.sleep(0.05)
    conn.shutdown(socket.SHUT_RDWR)


def never_answer(_conn: socket.socket, _line: bytes) -> None:
    pass


def two_lines_in_one_segment(conn: socket.socket, line: bytes) -> None:
    conn.sendall(line + b" A\n" + line + b" B\n")


@pytest.mark.parametrize("close", [close_at_once, half_then_close], ids=["at once", "mid-reply"])
def test_a_tool_closing_while_the_host_waits_is_a_lost_link_at_once_without_spinning(
    close: Answer,
) -> None:
    with raw_peer(close, timeout_s=5.0) as transport:
        transport.write("SYST:STAT?")
        started_wall, started_cpu = time.monotonic(), time.thread_time()
        with pytest.raises(ConnectionLost, match="closed the connection") as lost:
            transport.read(sent="SYST:STAT?")
        waited_s, cpu_s = time.monotonic() - started_wall, time.thread_time() - started_cpu
        assert waited_s < 1.0, f"a closed link took {waited_s:.2f} s of the 5 s timeout"
        assert cpu_s < 0.5, f"{cpu_s:.2f} s of CPU spent noticing a closed link"
        assert "die-bonder" in str(lost.value) and "SYST:STAT?" in str(lost.value)
        assert not transport.is_open, "the lost session is dropped so that it can be reopened"


def test_a_silent_tool_still_times_out_after_the_timeout() -> None:
    with raw_peer(never_answer, timeout_s=0.3) as transport:
        transport.write("SYST:STAT?")
        started = time.monotonic()
        with pytest.raises(ToolTimeout, match=r"no reply within 0\.30 s"):
            transport.read(sent="SYST:STAT?")
        assert 0.25 < time.monotonic() - started < 2.0
        assert transport.is_open, "a timeout leaves the session usable"


def test_replies_that_arrive_in_one_segment_are_read_one_by_one() -> None:
    with raw_peer(two_lines_in_one_segment, timeout_s=2.0) as transport:
        transport.write("Q")
        with takes_s(0, 1.0):  # the second reply came with the first
            assert [transport.read(sent="Q"), transport.read(sent="Q")] == ["Q A", "Q B"]


def in_pieces(conn: socket.socket, line: bytes) -> None:
    for piece in (line[:1], line[1:] + b" O", b"K\n"):
        conn.sendall(piece)
        time.sleep(0.02)


def test_a_reply_in_pieces_is_read_whole() -> None:
    with raw_peer(in_pieces, timeout_s=2.0) as transport:
        transport.write("STAT?")
        assert transport.read(sent="STAT?") == "STAT? OK"


def test_a_command_goes_out_with_its_termination_and_a_dead_port_fails_the_first_write() -> None:
    received: list[bytes] = []
    with raw_peer(lambda _conn, line: received.append(line), timeout_s=2.0) as transport:
        transport.write("BOND:TEMP 300.0")
        transport.write("CYCL:STAR")
        wait_until(lambda: len(received) == 2, 2.0, lambda: f"received {received}")
        assert received == [b"BOND:TEMP 300.0", b"CYCL:STAR"]
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    nobody = VisaTransport(f"TCPIP::127.0.0.1::{port}::SOCKET", tool="die-bonder", timeout_s=1.0)
    with pytest.raises(ConnectionLost, match=r"(cannot open|write failed)"):
        nobody.open()
        nobody.write("SYST:STAT?")
    assert not nobody.is_open
