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

Other VISA libraries (pyvisa-sim, ASRL sessions) have no such socket: they are left alone.
"""

from __future__ import annotations

import select
import socket
from typing import Any, Literal

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
