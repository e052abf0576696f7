"""Byte-stream endpoints for simulated tools: a loopback TCP listener or a pseudo-terminal.

A front supplies a ``serve(connection)`` function; the endpoint runs it in a thread per
connection. TCP tools accept one client at a time: a further connection is accepted and
closed at once (README §9.1). A pty offers a real device path that pyserial and pyvisa-py
ASRL resources open like a serial port.

Idle endpoints sleep in the kernel: a listener or a connection waits in ``select`` on its
socket or pty *and* the endpoint's :class:`StopSignal` (a wake-up pipe), with no polling
timeout, so an idle simulated line costs no CPU and still stops at once on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("packline.sim")


class ConnectionClosed(Exception):
    """The peer went away."""


class StopSignal(threading.Event):
    """A stop event that also wakes a thread blocked in ``select`` (its :meth:`fileno` turns
    readable once set)."""

    def __init__(self) -> None:
        super().__init__()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # a full pipe is readable already; a closed one: done
            os.write(self._write_fd, b"x")

    def fileno(self) -> int:
        return self._read_fd

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def wait_readable(
    fd: int | socket.socket, stop: StopSignal | None, timeout_s: float | None
) -> bool:
    """Wait until ``fd`` is readable (True), or ``stop`` is set or ``timeout_s`` (None: no
    limit) has passed (False)."""
    watched: list[int | socket.socket] = [fd] if stop is None else [fd, stop.fileno()]
    if stop is not None and stop.is_set():
        return False
    ready, _, _ = select.select(watched, [], [], timeout_s)
    return fd in ready


class Connection(Protocol):
    """What a front reads from and writes to."""

    def recv(self, timeout_s: float | None) -> bytes:
        """Bytes received within ``timeout_s`` (None: until some come or the endpoint stops;
        b"" if none); ConnectionClosed at EOF."""
        ...

    def send(self, data: bytes) -> None: ...

    def drop(self) -> None:
        """Simulate a dropped link (close a socket; a pty discards input for a while)."""
        ...


#: Linux TCP states (include/net/tcp_states.h) once the peer's FIN or reset has arrived on a
#: socket this side has not closed: TCP_CLOSE (a reset) and TCP_CLOSE_WAIT.
_PEER_CLOSED_TCP_STATES = frozenset({7, 8})


def _peer_has_closed(sock: socket.socket) -> bool:
    """Whether the peer of a connected TCP socket has closed its end (raises OSError if the
    socket is gone)."""
    if hasattr(socket, "TCP_INFO"):
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        return state in _PEER_CLOSED_TCP_STATES
    ready, _, _ = select.select([sock], [], [], 0)
    return bool(ready) and not sock.recv(1, socket.MSG_PEEK)


class SocketConnection:
    def __init__(self, sock: socket.socket, stop: StopSignal | None = None) -> None:
        self.sock = sock
        self.stop = stop
        self.closed = False

    def recv(self, timeout_s: float | None) -> bytes:
        if self.closed:
            raise ConnectionClosed
        try:
            readable = wait_readable(self.sock, self.stop, timeout_s)
        except (OSError, ValueError) as exc:  # dropped (closed) while waiting
            raise ConnectionClosed from exc
        if not readable:
            return b""
        try:
            data = self.sock.recv(4096)
        except OSError as exc:
            raise ConnectionClosed from exc
        if not data:
            raise ConnectionClosed
        return data

    def peer_alive(self) -> bool:
        """False once the peer has closed (its FIN or reset has arrived): a host that died or
        reconnected must not keep the tool's only client slot. A FIN behind bytes the serving
        thread has not read yet counts too (a host that sent ``*CLS`` and closed at once):
        on Linux the socket's TCP state says so; elsewhere only a FIN with nothing before it
        is seen (a peek)."""
        try:
            if _peer_has_closed(self.sock):
                self.closed = True
        except OSError:
            self.closed = True
        return not self.closed

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ConnectionClosed from exc

    def drop(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


Serve = Callable[[Connection, threading.Event], None]


class TcpEndpoint:
    """Loopback TCP listener serving at most ``max_clients`` connections at once."""

    def __init__(
        self,
        serve: Serve,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_clients: int = 1,
        name: str = "tool",
    ) -> None:
        self.serve = serve
        self.max_clients = max_clients
        self.name = name
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._stop = StopSignal()
        self._failure: str | None = None
        self._clients: list[SocketConnection] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name=f"{name}-tcp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def failure(self) -> str | None:
        """Why the endpoint can no longer serve (None while it can): ``sim serve`` exits on
        it. A listener closed under the endpoint is seen here: the accept thread sleeps in
        ``select`` and is not woken by a close."""
        if self._failure is None and not self._stop.is_set() and self._listener.fileno() < 0:
            return f"{self.name}: TCP listener failed: closed"
        return self._failure

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()
        with self._lock:
            for client in self._clients:
                client.drop()
        if not self._thread.is_alive():
            self._stop.close()

    def drop_all(self) -> None:
        with self._lock:
            for client in self._clients:
                client.drop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not wait_readable(self._listener, self._stop, None):
                    continue
                sock, peer = self._listener.accept()
            except (OSError, ValueError) as exc:
                if not self._stop.is_set():
                    self._failure = f"{self.name}: TCP listener failed: {exc}"
                    log.error("%s", self._failure)
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients = [c for c in self._clients if not c.closed and c.peer_alive()]
                if len(self._clients) >= self.max_clients:
                    log.debug("%s: extra connection from %s closed", self.name, peer)
                    sock.close()
                    continue
                connection = SocketConnection(sock, self._stop)
                self._clients.append(connection)
            threading.Thread(
                target=self._run, args=(connection,), name=f"{self.name}-client", daemon=True
            ).start()

    def _run(self, connection: SocketConnection) -> None:
        try:
            self.serve(connection, self._stop)
        except ConnectionClosed:
            pass
        except Exception:
            # A front bug must not take the tool down: this connection closes, the listener
            # keeps accepting.
            log.exception("%s: connection closed after an unexpected error", self.name)
        finally:
            connection.closed = True
            with contextlib.suppress(OSError):
                connection.sock.close()


class PtyConnection:
    def __init__(self, master_fd: int, drop_s: float = 1.0, stop: StopSignal | None = None) -> None:
        self.fd = master_fd
        self.drop_s = drop_s
        self.stop = stop
        self._deaf_until = 0.0

    def recv(self, timeout_s: float | None) -> bytes:
        import time

        if not wait_readable(self.fd, self.stop, timeout_s):
            return b""
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            return b""  # no slave open yet: nothing to read
        if time.monotonic() < self._deaf_until:
            return b""
        return data

    def send(self, data: bytes) -> None:
        import time

        if time.monotonic() < self._deaf_until:
            return
        try:
            os.write(self.fd, data)
        except OSError as exc:
            raise ConnectionClosed from exc

    def drop(self) -> None:
        """A serial link cannot be closed from the tool side: go deaf and mute for a while."""
        import time

        self._deaf_until = time.monotonic() + self.drop_s


class PtyEndpoint:
    """A pseudo-terminal pair; clients open :attr:`device` (e.g. ``/dev/pts/7``)."""

    def __init__(self, serve: Serve, *, name: str = "tool") -> None:
        self.serve = serve
        self.name = name
        self.master_fd, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd)
        tty.setraw(self.master_fd)
        self.device = os.ttyname(self._slave_fd)
        self._stop = StopSignal()
        self.connection = PtyConnection(self.master_fd, stop=self._stop)
        #: Why the endpoint can no longer serve (None while it can): ``sim serve`` exits on it.
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"{name}-pty", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if not self._thread.is_alive():
            self._stop.close()

    def drop_all(self) -> None:
        self.connection.drop()

    def _run(self) -> None:
        """Serve until stopped; a front that fails unexpectedly is logged and restarted (a
        serial line has no connection to close), so one bad request never silences the tool."""
        while not self._stop.is_set():
            try:
                self.serve(self.connection, self._stop)
                return
            except (ConnectionClosed, OSError) as exc:
                self.failure = f"{self.name}: pty endpoint failed: {exc!r}"
                log.error("%s", self.failure)
                return
            except Exception:
                log.exception("%s: front restarted after an unexpected error", self.name)
                self._stop.wait(0.01)


class LineReader:
    """Splits a byte stream into lines on ``terminator``, ignoring the ``ignore`` bytes."""

    def __init__(self, connection: Connection, *, terminator: bytes, ignore: bytes = b"") -> None:
        self.connection = connection
        self.terminator = terminator
        self.ignore = ignore
        self.buffer = bytearray()

    def next_line(self, stop: threading.Event) -> bytes | None:
        """The next complete line (without terminator), or None when ``stop`` is set."""
        while not stop.is_set():
            index = self.buffer.find(self.terminator)
            if index >= 0:
                line = bytes(self.buffer[:index])
                del self.buffer[: index + len(self.terminator)]
                for byte in self.ignore:
                    line = line.replace(bytes([byte]), b"")
                return line
            self.buffer += self.connection.recv(None)
        return None
