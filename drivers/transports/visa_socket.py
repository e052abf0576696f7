"""The socket under a pyvisa-py SOCKET session, read and written here rather than by pyvisa.

- TCP_NODELAY: pyvisa-py 0.8 does not wire the setter of VI_ATTR_TCPIP_NODELAY; without it a
  command followed by ``SYST:ERR?`` (two small writes, no reply in between) waits ~40 ms for
  the peer's delayed ACK (Nagle).
- A tool that closed the connection: pyvisa-py 0.8 reads a SOCKET in a loop of ``select`` and
  ``recv``; once the peer has closed, the socket is always readable and ``recv`` returns
  nothing, so the loop spins on a CPU until the read timeout and then reports a timeout. A
  tool that drops its link (a reboot, a crash, its own link watchdog) would cost a whole
  timeout of busy CPU per read and look like a silent tool: here it is :class:`PeerClosed`
  at once.
- Cost: pyvisa's read and write, pyvisa-py's ``select`` loop and its attribute reads were
  about half of a TCP SCPI tool's exchange on the host (issue 10). :func:`socket_replies`
  reads replies a reply at a time against one deadline, bytes after a reply's termination
  kept for the next read (as pyvisa-py kept them), and sends a message with ``sendall``.

Other VISA libraries (pyvisa-sim, ASRL sessions) have no such socket: they are left alone.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from drivers.transports.serial_port import read_through


def library_session(session: Any) -> Any:
    """The VISA library's own object behind a pyvisa resource (pyvisa-py's session), or None."""
    sessions = getattr(getattr(session, "visalib", None), "sessions", None)
    return sessions.get(getattr(session, "session", None)) if isinstance(sessions, dict) else None


class PeerClosed(Exception):
    """The tool closed its end of the connection (end of stream, or reset)."""


@dataclass
class ReplyReader:
    """Replies ending in ``termination``, read by ``wait`` (what comes within a number of wall
    seconds: empty if nothing did), and messages sent by ``send`` (None: pyvisa sends them)
    with ``write_termination``, both in ``encoding``."""

    wait: Callable[[float], bytes]
    termination: bytes
    encoding: str
    send: Callable[[bytes], None] | None = None
    write_termination: str = ""
    #: Bytes read past the last termination (the start of the next reply).
    unread: bytearray = field(default_factory=bytearray, init=False)

    @classmethod
    def of_session(
        cls, session: Any, wait: Callable[[float], bytes], send: Callable[[bytes], None] | None
    ) -> Self:
        """A reader with the pyvisa ``session``'s terminations and encoding."""
        termination = str(session.read_termination).encode(session.encoding)
        write_termination = str(session.write_termination or "")
        return cls(
            wait, termination, session.encoding, send=send, write_termination=write_termination
        )

    def read(self, wait_s: float) -> str | None:
        """One reply without its termination, or None if none is complete within ``wait_s``
        wall seconds (what came of it is dropped, as pyvisa-py had consumed it). Raises what
        ``wait`` raises, ``UnicodeDecodeError`` on bytes the encoding cannot decode."""
        deadline = time.monotonic() + wait_s
        buffer, self.unread = self.unread, bytearray()
        end = read_through(buffer, self.termination, self.wait, deadline)
        if end < 0:
            return None
        self.unread = buffer[end:]
        return bytes(buffer[: end - len(self.termination)]).decode(self.encoding)

    def write(self, message: str) -> None:
        """Send ``message`` with the write termination (only when :attr:`send` is set); raises
        what ``send`` raises."""
        assert self.send is not None
        self.send((message + self.write_termination).encode(self.encoding))


def socket_replies(session: Any) -> ReplyReader | None:
    """The reader and sender of a pyvisa-py SOCKET session, its socket set to TCP_NODELAY (None
    for any other session). It raises :class:`PeerClosed` once the tool has closed,
    ``OSError`` if the socket fails."""
    sock = getattr(library_session(session), "interface", None)
    if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_STREAM:
        return None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fd = sock.fileno()
    poller = select.poll()
    poller.register(fd, select.POLLIN)

    def wait(wait_s: float) -> bytes:
        if sock.fileno() != fd:
            raise PeerClosed("the socket was closed")
        if not poller.poll(wait_s * 1000.0):
            return b""
        try:
            chunk = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except ConnectionError as exc:  # reset by the peer
            raise PeerClosed(str(exc)) from exc
        if not chunk:
            raise PeerClosed("end of stream")
        return chunk

    return ReplyReader.of_session(session, wait, sock.sendall)
