"""The serial port under a pyvisa-py ASRL session, read a reply at a time instead of a byte at
a time.

pyvisa-py 0.8 reads an ASRL session one byte per pyserial ``read`` (each with its own timeout
object, ``select`` and system call): a 30-byte SCPI reply cost 30 of them, most of a dry run's
serial CPU (issue 10). For a session whose port is pyserial's own POSIX ``Serial`` (a device
path), :class:`AsrlReplyReader` waits on the descriptor against one deadline and reads what has
come per call (:func:`drivers.transports.serial_port.descriptor_reader`), keeping bytes after
the termination for the next read. It answers as pyvisa's read did: the reply decoded without
its termination; nothing complete by the deadline is a timeout and what came of it is dropped
(pyvisa-py had consumed it too); a vanished port is an error. Other sessions (pyvisa-sim, an
ASRL session over a URL) are left to pyvisa.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import serial

from drivers.transports.serial_port import descriptor_reader, read_through
from drivers.transports.visa_socket import library_session


class AsrlReplyReader:
    """Replies ending in ``termination`` from the port under one pyvisa-py ASRL session."""

    def __init__(self, wait: Callable[[float], bytes], termination: bytes, encoding: str) -> None:
        self._wait = wait
        self._termination = termination
        self._encoding = encoding
        #: Bytes read past the last termination (the start of the next reply).
        self.unread = bytearray()

    @classmethod
    def of(cls, session: Any) -> AsrlReplyReader | None:
        """The reader for ``session`` if its port is a plain POSIX pyserial port, else None."""
        port = getattr(library_session(session), "interface", None)
        if not isinstance(port, serial.SerialBase):
            return None
        wait = descriptor_reader(port)
        if wait is None:
            return None
        termination = str(session.read_termination).encode(session.encoding)
        return cls(wait, termination, session.encoding)

    def read(self, wait_s: float) -> str | None:
        """One reply without its termination, or None if none is complete within ``wait_s``
        wall seconds. Raises ``OSError``/``SerialException`` if the port fails or vanished,
        ``UnicodeDecodeError`` on bytes the session's encoding cannot decode."""
        deadline = time.monotonic() + wait_s
        buffer, self.unread = self.unread, bytearray()
        end = read_through(buffer, self._termination, self._wait, deadline)
        if end < 0:
            return None
        self.unread = buffer[end:]
        return bytes(buffer[: end - len(self._termination)]).decode(self._encoding)
