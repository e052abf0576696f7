"""The serial port under a pyvisa-py ASRL session, read a reply at a time instead of a byte at
a time.

pyvisa-py 0.8 reads an ASRL session one byte per pyserial ``read`` (each with its own timeout
object, ``select`` and system call): a 30-byte SCPI reply cost 30 of them, most of a dry run's
serial CPU (issue 10). For a session whose port is pyserial's own POSIX ``Serial`` (a device
path), :class:`AsrlReplyReader` waits on the descriptor against one deadline and reads what has
come per call (:class:`drivers.transports.serial_port.PortDescriptor`), keeping bytes after
the termination for the next read. It answers as pyvisa's read did: the reply decoded without
its termination; nothing complete by the deadline is a timeout and what came of it is dropped
(pyvisa-py had consumed it too); a vanished port is an error. Other sessions (pyvisa-sim, an
ASRL session over a URL) are left to pyvisa.

Writes on such a session go to the same descriptor when pyvisa-py would send the bytes as they
are (``VI_ATTR_ASRL_END_OUT`` none, the default): pyvisa's ``write`` and the stale-input check
before it (``bytes_in_buffer``, a VISA attribute read and an ``ioctl``) cost three to four times
the descriptor's write and ``poll``. The message is encoded with the session's termination and
encoding, as pyvisa's ``write`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyvisa
import pyvisa.constants
import serial

from drivers.transports.serial_port import PortDescriptor
from drivers.transports.visa_socket import ReplyReader, library_session


class AsrlReplyReader(ReplyReader):
    """Replies ending in ``termination`` from the port under one pyvisa-py ASRL session."""

    def __init__(
        self,
        wait: Callable[[float], bytes],
        termination: bytes,
        encoding: str,
        *,
        descriptor: PortDescriptor | None = None,
        write_termination: str = "",
    ) -> None:
        super().__init__(wait, termination, encoding)
        #: Writes go to this descriptor (None: to pyvisa's ``write``).
        self.descriptor = descriptor
        self._write_termination = write_termination

    @classmethod
    def of(cls, session: Any) -> AsrlReplyReader | None:
        """The reader for ``session`` if its port is a plain POSIX pyserial port, else None."""
        port = getattr(library_session(session), "interface", None)
        if not isinstance(port, serial.SerialBase):
            return None
        descriptor = PortDescriptor.of(port)
        if descriptor is None:
            return None
        termination = str(session.read_termination).encode(session.encoding)
        return cls(
            descriptor.read,
            termination,
            session.encoding,
            descriptor=descriptor if _sends_bytes_as_they_are(session) else None,
            write_termination=str(session.write_termination or ""),
        )

    def write(self, message: str) -> None:
        """Send ``message`` with the session's write termination on the descriptor (only when
        :attr:`descriptor` is set). Raises ``OSError``/``SerialException`` if the port fails,
        vanished or takes no more within its write timeout."""
        assert self.descriptor is not None
        self.descriptor.write((message + self._write_termination).encode(self._encoding))

    def discard_input(self) -> bytes:
        """Read and return what waits on the port (a late reply), without waiting."""
        assert self.descriptor is not None
        return self.descriptor.drain()


def _sends_bytes_as_they_are(session: Any) -> bool:
    """Whether pyvisa-py writes this session's bytes unchanged (``VI_ATTR_ASRL_END_OUT`` none:
    no end bit, termination character or break added), so a write may bypass it."""
    try:
        end_out = session.get_visa_attribute(pyvisa.constants.ResourceAttribute.asrl_end_out)
    except (pyvisa.errors.Error, OSError, AttributeError):
        return False
    return bool(end_out == pyvisa.constants.SerialTermination.none)
