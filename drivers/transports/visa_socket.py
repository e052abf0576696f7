"""The socket under a pyvisa-py SOCKET session, for what pyvisa-py does not do with it.

- TCP_NODELAY: pyvisa-py 0.8 does not wire the setter of VI_ATTR_TCPIP_NODELAY; without it a
  command followed by ``SYST:ERR?`` (two small writes, no reply in between) waits ~40 ms for
  the peer's delayed ACK (Nagle).
- A tool that closed the connection: pyvisa-py 0.8 reads a SOCKET in a loop of ``select`` and
  ``recv``; once the peer has closed, the socket is always readable and ``recv`` returns
  nothing, so the loop spins on a CPU until the read timeout and then reports a timeout. A
  tool that drops its link (a reboot, a crash, its own link watchdog) would cost a whole
  timeout of busy CPU per read and look like a silent tool. :func:`await_reply` waits on the
  socket first and tells a closed peer from a reply and from silence.
- Replies: :func:`socket_replies` reads a SOCKET session's replies from its socket a reply at a
  time against one deadline (:class:`ReplyReader`), the closed peer told apart too
  (:class:`PeerClosed`): pyvisa's read, pyvisa-py's ``select`` loop and its attribute reads,
  and the ``select`` and peek of :func:`await_reply` before them cost about half of a TCP SCPI
  tool's exchange on the host (issue 10). Bytes after a reply's termination are kept for the
  next read, as pyvisa-py kept them. :func:`socket_sender` writes a message on the socket
  (``sendall``) where pyvisa's write and pyvisa-py's ``select`` per block did.

Other VISA libraries (pyvisa-sim, ASRL sessions) have no such socket: they are left alone.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import Any, Literal

from drivers.transports.serial_port import read_through

#: What waiting for a reply found: bytes to read, the tool's end closed, or nothing in time.
ReplyWait = Literal["reply", "closed", "silent"]


def library_session(session: Any) -> Any:
    """The VISA library's own object behind a pyvisa resource (pyvisa-py's session), or None."""
    sessions = getattr(getattr(session, "visalib", None), "sessions", None)
    return sessions.get(getattr(session, "session", None)) if isinstance(sessions, dict) else None


def socket_of(session: Any) -> socket.socket | None:
    """The TCP socket of a pyvisa-py SOCKET session, or None for any other session."""
    sock = getattr(library_session(session), "interface", None)
    if isinstance(sock, socket.socket) and sock.type == socket.SOCK_STREAM:
        return sock
    return None


def send_without_delay(session: Any) -> None:
    """Set TCP_NODELAY on a pyvisa-py SOCKET session (see the module's docstring)."""
    sock = socket_of(session)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def await_reply(session: Any, timeout_s: float | None) -> ReplyWait:
    """Wait up to ``timeout_s`` wall seconds (None: without a bound, as the session's own
    timeout says) for a SOCKET session's reply to start.

    "reply" also when the session is no pyvisa-py SOCKET or already holds received bytes
    (pyvisa-py buffers what came after the last termination): its own read then decides.
    """
    sock = socket_of(session)
    if sock is None or getattr(library_session(session), "_pending_buffer", None):
        return "reply"
    try:
        ready, _, _ = select.select(
            [sock], [], [], None if timeout_s is None else max(0.0, timeout_s)
        )
        if not ready:
            return "silent"
        return "reply" if sock.recv(1, socket.MSG_PEEK) else "closed"
    except (OSError, ValueError):  # reset by the peer, or the socket already closed
        return "closed"


class PeerClosed(Exception):
    """The tool closed its end of the connection (end of stream, or reset)."""


class ReplyReader:
    """Replies ending in ``termination``, read by ``wait`` (what comes within a number of wall
    seconds: empty if nothing did) and decoded with ``encoding``, without the termination."""

    def __init__(self, wait: Callable[[float], bytes], termination: bytes, encoding: str) -> None:
        self._wait = wait
        self._termination = termination
        self._encoding = encoding
        #: Bytes read past the last termination (the start of the next reply).
        self.unread = bytearray()

    def read(self, wait_s: float) -> str | None:
        """One reply without its termination, or None if none is complete within ``wait_s``
        wall seconds (what came of it is dropped, as pyvisa-py had consumed it). Raises what
        ``wait`` raises, ``UnicodeDecodeError`` on bytes the encoding cannot decode."""
        deadline = time.monotonic() + wait_s
        buffer, self.unread = self.unread, bytearray()
        end = read_through(buffer, self._termination, self._wait, deadline)
        if end < 0:
            return None
        self.unread = buffer[end:]
        return bytes(buffer[: end - len(self._termination)]).decode(self._encoding)


def socket_replies(session: Any) -> ReplyReader | None:
    """The reader of a pyvisa-py SOCKET session's replies (None for any other session, or one
    whose library already holds received bytes). Its wait raises :class:`PeerClosed` once the
    tool has closed, ``OSError`` if the socket fails."""
    sock = socket_of(session)
    if sock is None or getattr(library_session(session), "_pending_buffer", None):
        return None
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

    termination = str(session.read_termination).encode(session.encoding)
    return ReplyReader(wait, termination, session.encoding)


def socket_sender(session: Any) -> Callable[[str], None] | None:
    """A function that sends a message with the session's write termination and encoding on a
    pyvisa-py SOCKET session's socket (as pyvisa's write would: pyvisa-py sends the bytes as
    they are); None for any other session. Raises ``OSError`` if the socket fails."""
    sock = socket_of(session)
    if sock is None:
        return None
    termination = str(session.write_termination or "")
    encoding = str(session.encoding)

    def send(message: str) -> None:
        sock.sendall((message + termination).encode(encoding))

    return send
