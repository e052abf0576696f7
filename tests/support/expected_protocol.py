"""``expected_protocol``: a driver opened over a scripted peer, in the manner of PyMeasure's.

The peer is a real endpoint (a TCP socket on 127.0.0.1 or a pseudo-terminal), so the driver
runs over its real transport (pyvisa-py, pyserial, pymodbus). The script is a list of steps
``(request, reply)``: the peer cuts one request off the byte stream with the script's
framing, asserts it equals the step's request (exactly, or under ``same``), then sends the
reply; ``None`` leaves the request unanswered (a silent tool), ``CLOSE`` drops the connection.
A request that does not match, one that comes after the end of the script and a step never
reached all fail the test when the block ends::

    with expected_protocol(
        Laminator, [read_input(0, [3])], address="modbus+tcp://127.0.0.1:{port}?unit=1"
    ) as laminator:
        assert laminator.state() is ToolState.READY

``address`` names where the driver connects: ``{port}`` makes the peer a TCP server,
``{device}`` a pseudo-terminal. ``ProtocolBench.simulated`` opens a SCPI driver on the tool's
pyvisa-sim YAML instead, a peer with state (settings read back, result pages). Framings: :func:`lines` (SCPI and line ASCII),
:data:`EXACT` (each request as long as the expected bytes: RTU frames, framed ASCII) and
:data:`MBAP` (Modbus TCP: the script holds PDUs, the peer handles the MBAP header).
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import socket
import struct
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

import sim
from drivers.base import Tool


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


#: A step's reply that makes the peer drop the connection (TCP) instead of answering.
CLOSE = _Close()
Reply = bytes | None | _Close
Step = tuple[bytes, Reply]
T = TypeVar("T", bound=Tool)
#: The pyvisa-sim YAML of the SCPI tools (:meth:`ProtocolBench.simulated`).
VISA_SIM = Path(sim.__file__).parent / "visa"


class Framing(Protocol):
    """How the peer cuts one request off the bytes received and wraps its reply."""

    def cut(self, buffer: bytes, expected: bytes) -> tuple[bytes, bytes, bytes] | None:
        """``(request, header, rest)`` once a whole request is in ``buffer``, else None."""
        ...

    def wrap(self, header: bytes, reply: bytes) -> bytes:
        """The bytes to send for ``reply`` to a request that came with ``header``."""
        ...


@dataclass(frozen=True)
class _Terminated:
    terminator: bytes

    def cut(self, buffer: bytes, expected: bytes) -> tuple[bytes, bytes, bytes] | None:
        end = buffer.find(self.terminator)
        if end < 0:
            return None
        end += len(self.terminator)
        return buffer[:end], b"", buffer[end:]

    def wrap(self, header: bytes, reply: bytes) -> bytes:
        return reply


def lines(terminator: bytes = b"\n") -> Framing:
    """Requests end with ``terminator`` (which the script's requests include)."""
    return _Terminated(terminator)


class _Exact:
    def cut(self, buffer: bytes, expected: bytes) -> tuple[bytes, bytes, bytes] | None:
        if len(buffer) < len(expected):
            return None
        return buffer[: len(expected)], b"", buffer[len(expected) :]

    def wrap(self, header: bytes, reply: bytes) -> bytes:
        return reply


class _Mbap:
    def cut(self, buffer: bytes, expected: bytes) -> tuple[bytes, bytes, bytes] | None:
        if len(buffer) < 7:
            return None
        _tid, _protocol, length, _unit = struct.unpack(">HHHB", buffer[:7])
        if len(buffer) < 6 + length:
            return None
        return buffer[7 : 6 + length], buffer[:7], buffer[6 + length :]

    def wrap(self, header: bytes, reply: bytes) -> bytes:
        tid, _protocol, _length, unit = struct.unpack(">HHHB", header)
        return struct.pack(">HHHB", tid, 0, len(reply) + 1, unit) + reply


#: Each request is as long as the step's expected bytes.
EXACT: Framing = _Exact()
#: Modbus TCP: steps hold PDUs; the reply gets the request's transaction id and unit.
MBAP: Framing = _Mbap()


class ScriptedPeer:
    """The far end of the driver's link, playing a script on its own thread."""

    def __init__(
        self,
        script: Sequence[Step],
        *,
        framing: Framing,
        channel: str = "tcp",
        same: Callable[[bytes, bytes], bool] | None = None,
    ) -> None:
        self.script = list(script)
        self.framing = framing
        self.same = same or (lambda got, expected: got == expected)
        self.received: list[bytes] = []
        self.problems: list[str] = []
        #: TCP connections the driver opened (a reopened link makes a second one).
        self.connections = 0
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._fds: tuple[int, int] | None = None
        if channel == "tcp":
            self._server = socket.create_server(("127.0.0.1", 0))
            self.port = self._server.getsockname()[1]
            self.device = ""
        elif channel == "pty":
            master, slave = os.openpty()
            tty.setraw(master)
            tty.setraw(slave)
            self._fds = (master, slave)
            self.device = os.ttyname(slave)
            self.port = 0
        else:
            raise ValueError(f"channel {channel!r} is not tcp or pty")
        self._thread = threading.Thread(target=self._run, name="scripted-peer", daemon=True)
        self._thread.start()

    def address(self, template: str | None = None) -> str:
        """``template`` with ``{port}`` / ``{device}`` filled in; without one, the address
        pyserial opens (the pty's path, or ``socket://`` for TCP)."""
        if template is None:
            template = "{device}" if self.device else "socket://127.0.0.1:{port}"
        return template.format(port=self.port, device=self.device)

    # -- the peer's thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:
            self.problems.append(f"peer failed: {exc!r}")

    def _serve(self) -> None:
        if self._fds is not None:
            master = self._fds[0]
            self._talk(lambda: os.read(master, 4096), lambda data: os.write(master, data), master)
            return
        assert self._server is not None
        while not self._stop.is_set():
            if not select.select([self._server], [], [], 0.05)[0]:
                continue
            connection, _ = self._server.accept()
            self.connections += 1
            with connection:
                self._talk(functools.partial(connection.recv, 4096), connection.sendall, connection)

    def _talk(self, read: Callable[[], bytes], write: Callable[[bytes], Any], handle: Any) -> None:
        buffer = b""
        while not self._stop.is_set():
            expected = self.script[0][0] if self.script else b""
            piece = self.framing.cut(buffer, expected) if buffer else None
            if piece is None:
                if not select.select([handle], [], [], 0.05)[0]:
                    continue
                try:
                    data = read()
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                continue
            request, header, buffer = piece
            self.received.append(request)
            if not self.script:
                self.problems.append(f"unexpected request {request!r} after the script")
                return
            expected, reply = self.script.pop(0)
            if not self.same(request, expected):
                self.problems.append(f"expected {expected!r}, got {request!r}")
                return
            if reply is CLOSE:
                return
            if isinstance(reply, bytes):
                write(self.framing.wrap(header, reply))

    # -- the test's side ---------------------------------------------------------------------------
    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._server is not None:
            self._server.close()
        if self._fds is not None:
            for fd in self._fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def verify(self, *, settle_s: float = 2.0) -> None:
        """Fail on a mismatch, an unexpected request or a step the driver never reached
        (waiting up to ``settle_s`` for requests still on their way: commands get no reply)."""
        deadline = time.monotonic() + settle_s
        while self.script and not self.problems and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert self.problems == [], self.problems
        assert self.script == [], f"steps never reached: {self.script}"


@contextlib.contextmanager
def scripted_peer(
    script: Sequence[Step],
    *,
    framing: Framing,
    channel: str = "tcp",
    same: Callable[[bytes, bytes], bool] | None = None,
) -> Iterator[ScriptedPeer]:
    """A :class:`ScriptedPeer` verified when the block ends without an error of its own."""
    peer = ScriptedPeer(script, framing=framing, channel=channel, same=same)
    try:
        yield peer
        peer.verify()
    finally:
        peer.close()


@contextlib.contextmanager
def expected_protocol(
    driver_class: type[T],
    script: Sequence[Step],
    *,
    address: str,
    framing: Framing,
    same: Callable[[bytes, bytes], bool] | None = None,
    **options: Any,
) -> Iterator[T]:
    """Open ``driver_class`` at ``address`` on a peer playing ``script``; see the module doc."""
    with (
        scripted_peer(script, framing=framing, channel=_channel(address), same=same) as peer,
        driver_class.open(peer.address(address), **options) as driver,
    ):
        yield driver


def _channel(address: str) -> str:
    """The peer's channel for a driver ``address`` template: a pty for ``{device}``."""
    return "pty" if "{device}" in address else "tcp"


class ProtocolBench:
    """Opens drivers on scripted peers for one test and verifies every peer at its end."""

    def __init__(self) -> None:
        self.peers: list[ScriptedPeer] = []
        self.drivers: list[Tool] = []
        self._specs = tempfile.TemporaryDirectory(prefix="pyvisa-sim-")

    def open(
        self,
        driver_class: type[T],
        script: Sequence[Step],
        *,
        address: str,
        framing: Framing,
        same: Callable[[bytes, bytes], bool] | None = None,
        **options: Any,
    ) -> tuple[T, ScriptedPeer]:
        """The driver, opened on a new peer playing ``script``, and that peer."""
        peer = ScriptedPeer(script, framing=framing, channel=_channel(address), same=same)
        self.peers.append(peer)
        driver = driver_class.open(peer.address(address), **options)
        self.drivers.append(driver)
        return driver, peer

    def scpi(
        self, driver_class: type[T], script: Sequence[tuple[str, str | None]], **options: Any
    ) -> tuple[T, ScriptedPeer]:
        """A SCPI driver on a loopback TCP peer playing ``*CLS`` (what the driver sends on
        opening) and then the text ``script``; ``options`` (a ``same``, driver options) are
        :meth:`open`'s, with a 0.3 s reply timeout unless given."""
        return self.open(
            driver_class,
            text_steps([("*CLS", None), *script]),
            address="TCPIP::127.0.0.1::{port}::SOCKET",
            framing=lines(),
            **{"timeout_s": 0.3, **options},
        )

    def modbus(
        self, driver_class: type[T], script: Sequence[Step], *, unit: int = 1, **options: Any
    ) -> tuple[T, ScriptedPeer]:
        """A Modbus driver on a loopback Modbus TCP peer (as ``unit``) playing the PDU
        ``script``; ``options`` are :meth:`open`'s (the driver's timeout and retries)."""
        address = f"modbus+tcp://127.0.0.1:{{port}}?unit={unit}"
        return self.open(driver_class, script, address=address, framing=MBAP, **options)

    def simulated(self, driver_class: type[T], tool: str, *, address: str, **options: Any) -> T:
        """The driver on pyvisa-sim playing ``sim/visa/<tool>.yaml``: a stateful peer whose
        dialogues and properties the YAML declares. Each call plays a fresh copy of the file,
        so no test sees another's settings (pyvisa-sim keeps one state per file)."""
        spec = Path(self._specs.name) / f"{len(self.drivers)}-{tool}.yaml"
        shutil.copy(VISA_SIM / f"{tool}.yaml", spec)
        driver = driver_class.open(address, visa_library=f"{spec}@sim", **options)
        self.drivers.append(driver)
        return driver

    def finish(self) -> None:
        try:
            for peer in self.peers:
                peer.verify()
        finally:
            for driver in self.drivers:
                driver.close()
            for peer in self.peers:
                peer.close()
            self._specs.cleanup()


@pytest.fixture
def protocol() -> Iterator[ProtocolBench]:
    """:class:`ProtocolBench` for tests that open drivers in a helper of their own."""
    bench = ProtocolBench()
    yield bench
    bench.finish()


#: A text step's reply: one line, several lines, raw bytes (sent as they are) or None (none).
TextReply = str | Sequence[str] | bytes | None


def text_steps(script: Sequence[tuple[str, TextReply]], terminator: bytes = b"\n") -> list[Step]:
    """Steps from ``(message, reply)`` text pairs, each line ending in ``terminator``."""
    steps: list[Step] = []
    for message, reply in script:
        if not (reply is None or isinstance(reply, bytes)):
            lines = [reply] if isinstance(reply, str) else reply
            reply = b"".join(line.encode("ascii") + terminator for line in lines)
        steps.append((message.encode("ascii") + terminator, reply))
    return steps


#: What ``SYST:ERR?`` answers on an empty SCPI error queue (interfaces README §9.1).
NO_ERROR = '0,"No error"'


def checked(message: str, error: str = NO_ERROR) -> list[tuple[str, str | None]]:
    """A SCPI message the tool does not answer and the driver's ``SYST:ERR?`` check after it;
    a queued ``error`` is followed by the drain that finds the queue empty. A command the tool
    refuses and a query it leaves silent both read so."""
    steps: list[tuple[str, str | None]] = [(message, None), ("SYST:ERR?", error)]
    return steps if error == NO_ERROR else [*steps, ("SYST:ERR?", NO_ERROR)]
