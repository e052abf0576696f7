"""VISA message transport (pyvisa + pyvisa-py, or a pyvisa-sim YAML) for the SCPI tools.

pyvisa-py traps handled here (shared/library-notes.md): SOCKET resources need explicit
termination; a refused connect only shows on the first write; a closed peer would show as a read
timeout spent spinning on a CPU (:mod:`drivers.transports.visa_socket` reports it at once); an
ASRL session on a device path is read a byte per call (:mod:`drivers.transports.visa_serial`
reads it a reply at a time).
Every library exception becomes one of the suite's communication errors.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pyvisa
import pyvisa.constants
import serial

from drivers.errors import ConnectionLost, ParameterOutOfRange, ToolTimeout
from drivers.transports.base import Transport
from drivers.transports.visa_serial import AsrlReplyReader
from drivers.transports.visa_socket import PeerClosed, ReplyReader, socket_replies
from drivers.transports.wall_timeouts import wall_timeout_s


class VisaTransport(Transport):
    """One VISA session to one tool: ``write`` and ``read`` of text messages (the caller holds
    ``lock`` around a query and its ``SYST:ERR?`` follow-up)."""

    def __init__(
        self,
        resource: str,
        *,
        tool: str,
        timeout_s: float = 2.0,
        termination: str = "\n",
        visa_library: str | None = None,
        baud_rate: int | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(resource, tool=tool, logger=logger)
        self.timeout_s = timeout_s
        self.termination = termination
        self.visa_library = visa_library or "@py"
        self.baud_rate = baud_rate
        self._manager: pyvisa.ResourceManager | None = None
        self._session: Any = None
        #: Whether the session is a serial (ASRL) one: asked once per session, not per write
        #: (a VISA attribute read costs more than the rest of a write).
        self._serial = False
        #: Reads the session's replies (and sends its messages where it can) on its port or
        #: socket: an :class:`AsrlReplyReader` or a SOCKET session's reader (None: pyvisa does).
        self._replies: ReplyReader | None = None
        #: The reply timeout the session was opened with, in wall seconds (stretched in a
        #: virtual dry run): kept here, not read back from the session on every read.
        self._armed_timeout_s = timeout_s
        #: Sessions opened so far: a new one may meet a tool that forgot what it was sent.
        self.opened = 0

    # -- lifecycle ------------------------------------------------------------------
    def open(self) -> None:
        """Open the VISA session; raise :class:`ConnectionLost` if it cannot be opened."""
        with self.lock:
            if self._session is not None:
                return
            if "rfc2217://" in self.address.lower():
                raise ParameterOutOfRange(
                    f"VISA resource {self.address!r}: pyvisa-py cannot open an RFC 2217 "
                    "serial server (its ASRL session needs a write timeout pyserial's RFC 2217 "
                    "client lacks); put the device server in raw TCP mode and use "
                    "TCPIP::HOST::PORT::SOCKET"
                )
            try:
                if self._manager is None:
                    self._manager = pyvisa.ResourceManager(self.visa_library)
                session: Any = self._manager.open_resource(self.address)
                session.read_termination = self.termination
                session.write_termination = self.termination
                armed_timeout_s = wall_timeout_s(self.timeout_s)
                session.timeout = round(armed_timeout_s * 1000)
                if self.baud_rate is not None and hasattr(session, "baud_rate"):
                    session.baud_rate = self.baud_rate
                self._serial = _is_serial(session)
                self._replies = (
                    AsrlReplyReader.of(session) if self._serial else socket_replies(session)
                )
            except (pyvisa.errors.Error, OSError, ValueError) as exc:
                raise self.error(ConnectionLost, f"cannot open VISA resource ({exc})") from exc
            self._session = session
            self._armed_timeout_s = armed_timeout_s
            self.opened += 1
            self.log.debug("opened %s via %s", self.address, self.visa_library)

    def close(self) -> None:
        """Close this session; safe to call twice.

        The resource manager is left open: pyvisa hands out one manager per VISA library, so
        closing it would close every other tool's session of the same process too.
        """
        with self.lock:
            self._drop()
            self._manager = None

    @property
    def is_open(self) -> bool:
        return self._session is not None

    # -- messages -------------------------------------------------------------------
    def write(self, message: str) -> None:
        """Send one message (termination added)."""
        with self.lock:
            session = self._require_session()
            self._discard_stale_input(session)
            if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                self.log.debug("%s -> %r", self.tool, message)
            replies = self._replies
            try:
                if replies is not None and replies.send is not None:
                    replies.write(message)
                else:
                    session.write(message)
            except (pyvisa.errors.Error, OSError, serial.SerialException) as exc:
                raise self._lost(f"write failed ({exc})", message) from exc

    def read(self, *, sent: str = "", timeout_s: float | None = None) -> str:
        """Read one reply line; :class:`ToolTimeout` if none arrives in time."""
        with self.lock:
            session = self._require_session()
            previous = None
            wait_s = self._armed_timeout_s if timeout_s is None else wall_timeout_s(timeout_s)
            replies = self._replies
            if timeout_s is not None and replies is None:
                previous = session.timeout
                session.timeout = round(wait_s * 1000)
            try:
                reply = str(session.read()) if replies is None else replies.read(wait_s)
                if reply is None:
                    raise self._silent(wait_s, sent)
            except PeerClosed as exc:
                raise self._lost("the tool closed the connection", sent) from exc
            except (pyvisa.errors.VisaIOError, OSError, UnicodeDecodeError) as exc:
                if (
                    isinstance(exc, pyvisa.errors.VisaIOError)
                    and exc.error_code == pyvisa.constants.StatusCode.error_timeout
                ):
                    raise self._silent(wait_s, sent) from exc
                raise self._lost(f"read failed ({exc})", sent) from exc
            finally:
                if previous is not None and self._session is not None:
                    session.timeout = previous
            if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                self.log.debug("%s <- %r", self.tool, reply)
            return reply

    def _discard_stale_input(self, session: Any) -> None:
        """Drop a reply that reached a serial port after its read timed out.

        A serial line has no connection to reopen: without this, a late reply would be taken for
        the answer to the next message and every later reply would be off by one.
        """
        if not self._serial:
            return
        asrl = self._replies
        if isinstance(asrl, AsrlReplyReader):
            stale = bytes(asrl.unread)
            asrl.unread.clear()
            if asrl.descriptor is not None:
                with contextlib.suppress(OSError, serial.SerialException):  # the write says so
                    stale += asrl.descriptor.drain()
            if stale:
                self.log.debug("%s: discarded a late reply %r", self.tool, stale)
            if asrl.descriptor is not None:
                return
        try:
            if session.bytes_in_buffer:
                session.flush(pyvisa.constants.BufferOperation.discard_read_buffer)
                self.log.debug("%s: discarded a late reply", self.tool)
        except (pyvisa.errors.Error, OSError):
            pass

    def _require_session(self) -> Any:
        if self._session is None:
            self.open()
        return self._session

    def _silent(self, wait_s: float, sent: str) -> ToolTimeout:
        """No reply within ``wait_s`` wall seconds (the session stays usable)."""
        return self.error(ToolTimeout, f"no reply within {wait_s:.2f} s", sent)

    def _drop(self) -> None:
        if self._session is not None:
            with contextlib.suppress(pyvisa.errors.Error, OSError):
                self._session.close()
        self._session = None
        self._replies = None


def _is_serial(session: Any) -> bool:
    """Whether ``session`` is a serial (ASRL) one (False when the library cannot say)."""
    try:
        return bool(session.interface_type == pyvisa.constants.InterfaceType.asrl)
    except (pyvisa.errors.Error, OSError):
        return False
