"""Serial byte transport over pyserial: device paths, ``socket://`` (raw TCP to a serial device
server), ``rfc2217://`` (RFC 2217 device server such as ser2net) and other pyserial URLs.

pyserial reads that time out return short data without raising (library-notes.md): this
module turns a short read into :class:`ToolTimeout` carrying what did arrive.

A plain POSIX port (a device path: a tty or pty) is read and written on its descriptor
(:class:`PortDescriptor`), a reply's pieces against its one deadline: pyserial's ``read`` arms a
``Timeout`` object and asks ``in_waiting`` per piece, its ``write`` waits in ``select`` after
every write, and the stale-input check before a send asked ``in_waiting`` (an ``ioctl``) where
one ``poll`` does; that was most of a dry run's serial CPU. Other ports (``socket://``,
``rfc2217://``, ``loop://``: protocol handlers with their own framing) keep pyserial's path.
Both paths raise the same way.

``flush()`` waits in ``termios.tcdrain``, which Python does not retry when a signal interrupts
it (PEP 475 covers ``os`` and ``select``, not ``termios``): a daemon's signal handler or a
profiler attaching raised ``termios.error`` EINTR out of a write. It is retried here, bounded.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import termios
import time
from collections.abc import Callable

import serial

from drivers.errors import ConnectionLost, ToolTimeout
from drivers.transports.base import Transport
from drivers.transports.wall_timeouts import wall_timeout_s

#: Most bytes taken from the descriptor in one read: far more than any reply line.
READ_CHUNK_BYTES = 65536

#: Interrupted drains retried before the write fails: a signal storm, not a slow port.
EINTR_RETRIES = 100


class SerialTransport(Transport):
    """One serial (or serial-over-TCP) link at ``address`` (a device path or pyserial URL)."""

    def __init__(
        self,
        url: str,
        *,
        tool: str,
        baudrate: int,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: int = 1,
        timeout_s: float = 1.0,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(url, tool=tool, logger=logger)
        self.baudrate = baudrate
        self.bytesize = bytesize
        self.parity = parity
        self.stopbits = stopbits
        self.timeout_s = timeout_s
        self._port: serial.Serial | None = None
        #: The open port's descriptor when it is a plain POSIX port, else None (pyserial's path).
        self._descriptor: PortDescriptor | None = None
        #: Bytes read past the last terminator (the next reply line): read first.
        self._unread = bytearray()
        #: Ports opened so far: a new one may meet a tool that forgot what it was sent.
        self.opened = 0

    def open(self) -> None:
        """Open the port; :class:`ConnectionLost` names the URL if that fails."""
        with self.lock:
            if self._port is not None:
                return
            try:
                self._port = serial.serial_for_url(
                    self.address,
                    baudrate=self.baudrate,
                    bytesize=self.bytesize,
                    parity=self.parity,
                    stopbits=self.stopbits,
                    timeout=0.05,
                    write_timeout=self._write_timeout_s(),
                )
            except (serial.SerialException, OSError, ValueError) as exc:
                raise self.error(ConnectionLost, f"cannot open serial port ({exc})") from exc
            self._descriptor = PortDescriptor.of(self._port)
            self.opened += 1
            self.log.debug("opened %s", self.address)

    def _write_timeout_s(self) -> float | None:
        """pyserial's RFC 2217 client refuses ``write_timeout`` (NotImplementedError at open):
        writes there go to a socket and a dead edge host shows up on the next read instead."""
        return None if self.address.startswith("rfc2217://") else self.timeout_s

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def write(self, data: bytes) -> None:
        """Discard stale input, then send ``data``."""
        with self.lock:
            port = self._require_port()
            try:
                stale = bytes(self._unread)
                self._unread.clear()
                descriptor = self._descriptor
                if descriptor is not None:
                    stale += descriptor.drain()
                else:  # socket:// reports in_waiting as 0 or 1 only: drain until nothing is left
                    while port.in_waiting and len(stale) < 65536:
                        stale += port.read(port.in_waiting)
                if stale:
                    self.log.debug("%s <- (discarded) %r", self.tool, stale)
                if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                    self.log.debug("%s -> %r", self.tool, data)
                if descriptor is not None:
                    descriptor.write(data)
                else:
                    port.write(data)
                retry_interrupted(port.flush)
            except (serial.SerialException, OSError, termios.error) as exc:
                sent = data.decode("ascii", errors="backslashreplace")
                raise self._lost(f"write failed ({exc})", sent) from exc

    def read_until(
        self, terminator: bytes, *, timeout_s: float | None = None, sent: str = ""
    ) -> bytes:
        """Read up to and including ``terminator``; :class:`ToolTimeout` if it does not come."""
        with self.lock:
            port = self._require_port()
            deadline = time.monotonic() + wall_timeout_s(
                self.timeout_s if timeout_s is None else timeout_s
            )
            buffer, self._unread = self._unread, bytearray()
            descriptor = self._descriptor
            more = (
                descriptor.read
                if descriptor is not None
                else lambda _left_s: port.read(max(1, port.in_waiting))
            )
            try:
                end = read_through(buffer, terminator, more, deadline)
                if end < 0:
                    raise self.error(
                        ToolTimeout,
                        f"no complete reply within {timeout_s or self.timeout_s:.2f} s"
                        + (f" (got {bytes(buffer)!r})" if buffer else ""),
                        sent,
                    )
            except (serial.SerialException, OSError) as exc:
                raise self._lost(f"read failed ({exc})", sent) from exc
            self._unread = buffer[end:]
            reply = bytes(buffer[:end])
            if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                self.log.debug("%s <- %r", self.tool, reply)
            return reply

    def _require_port(self) -> serial.Serial:
        if self._port is None:
            self.open()
        assert self._port is not None
        return self._port

    def _drop(self) -> None:
        self._unread.clear()
        self._descriptor = None
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._port.close()
        self._port = None


class SerialLink:
    """A message protocol over one :class:`SerialTransport` at ``url`` (the wire bonder's framed
    link, the metrology line protocol), replies awaited ``timeout_s`` each: the port's tool,
    address, lock and log are the link's, and opening or closing the link opens or closes the
    port."""

    def __init__(
        self,
        url: str,
        *,
        tool: str,
        baudrate: int,
        timeout_s: float,
        logger: logging.Logger | None = None,
    ) -> None:
        self.serial = SerialTransport(
            url, tool=tool, baudrate=baudrate, timeout_s=timeout_s, logger=logger
        )
        self.tool = tool
        self.address = url
        self.log = self.serial.log

    @property
    def opened(self) -> int:
        """Ports opened so far: a new one may meet a tool that forgot what it was sent."""
        return self.serial.opened

    def open(self) -> None:
        self.serial.open()

    def close(self) -> None:
        self.serial.close()


def retry_interrupted(call: Callable[[], None], retries: int = EINTR_RETRIES) -> None:
    """Run ``call``, again while a signal interrupts it (``termios.error`` EINTR), at most
    ``retries`` more times; any other error, or the last EINTR, is raised."""
    for retry in range(retries + 1):
        try:
            return call()
        except termios.error as exc:
            if exc.args[0] != errno.EINTR or retry == retries:
                raise


def read_through(
    buffer: bytearray, terminator: bytes, more: Callable[[float], bytes], deadline: float
) -> int:
    """Extend ``buffer`` with what ``more(left_s)`` returns until it holds ``terminator`` or the
    monotonic ``deadline`` passes; the index just past the terminator, or -1 at the deadline.
    Only new bytes are scanned (and a terminator's length back, for one split between reads)."""
    scanned = 0
    while (end := buffer.find(terminator, scanned)) < 0:
        scanned = max(0, len(buffer) - len(terminator) + 1)
        left_s = deadline - time.monotonic()
        if left_s <= 0:
            return -1
        buffer.extend(more(left_s))
    return end + len(terminator)


class PortDescriptor:
    """The descriptor of a plain POSIX port (pyserial's own ``Serial`` on a device path, whose
    descriptor is non-blocking), read and written directly, its pollers made once per port.

    It raises as pyserial does: ``PortNotOpenError`` once the port was closed,
    ``SerialException`` if the port reports input but yields none (a vanished device),
    ``SerialTimeoutException`` if a write cannot finish within the port's ``write_timeout``,
    ``OSError`` if a read or write fails. A signal during a wait, a read or a write is retried
    by Python (PEP 475); a wake-up with nothing to read after all (``EAGAIN``) reads empty and
    the caller waits again on its deadline."""

    def __init__(self, port: serial.Serial, fd: int) -> None:
        self.port = port
        self.fd = fd
        self._readable = select.poll()
        self._readable.register(fd, select.POLLIN | select.POLLPRI)
        self._writable = select.poll()
        self._writable.register(fd, select.POLLOUT)

    @classmethod
    def of(cls, port: serial.SerialBase) -> PortDescriptor | None:
        """The descriptor of ``port`` if it is a plain POSIX port, else ``None``."""
        if type(port) is not serial.Serial or not hasattr(port, "fd") or port.fd is None:
            return None
        return cls(port, port.fd)

    def read(self, wait_s: float) -> bytes:
        """Wait up to ``wait_s`` for input and return what has come (empty if nothing did)."""
        if self.port.fd != self.fd:
            raise serial.PortNotOpenError()
        if not self._readable.poll(wait_s * 1000.0):
            return b""
        try:
            chunk = os.read(self.fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return b""
        if not chunk:
            raise serial.SerialException(
                "device reports readiness to read but returned no data (device disconnected?)"
            )
        return chunk

    def drain(self, limit_bytes: int = 65536) -> bytes:
        """What waits on the port now (a late reply), read without waiting, at most about
        ``limit_bytes`` (a tool that talks without end does not hold the host here)."""
        stale = b""
        while len(stale) < limit_bytes and (chunk := self.read(0.0)):
            stale += chunk
        return stale

    def write(self, data: bytes) -> None:
        """Write all of ``data``, waiting for room within the port's ``write_timeout`` (none:
        no limit) only when the descriptor takes less than all of it."""
        if self.port.fd != self.fd:
            raise serial.PortNotOpenError()
        timeout_s = self.port.write_timeout
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:  # no room at all: wait below
                written = 0
            view = view[written:]
            if not view:
                return
            wait_ms = None if deadline is None else (deadline - time.monotonic()) * 1000.0
            if (wait_ms is not None and wait_ms <= 0) or not self._writable.poll(wait_ms):
                raise serial.SerialTimeoutException("Write timeout")
