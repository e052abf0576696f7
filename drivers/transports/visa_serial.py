"""The serial port under a pyvisa-py ASRL session, read a reply at a time instead of a byte at
a time.

pyvisa-py 0.8 reads an ASRL session one byte per pyserial ``read`` (each with its own timeout
object, ``select`` and system call): a 30-byte SCPI reply cost 30 of them, most of a dry run's
serial CPU (issue 10). For a session whose port is pyserial's own POSIX ``Serial`` (a device
path), :class:`AsrlReplyReader` reads the replies on the port's descriptor
(:class:`drivers.transports.serial_port.PortDescriptor`), as :class:`ReplyReader` reads a
socket's. Other sessions (pyvisa-sim, an ASRL session over a URL) are left to pyvisa.

Writes on such a session go to the same descriptor when pyvisa-py would send the bytes as they
are (``VI_ATTR_ASRL_END_OUT`` none, the default): pyvisa's ``write`` and the stale-input check
before it (``bytes_in_buffer``, a VISA attribute read and an ``ioctl``) cost three to four times
the descriptor's write and ``poll``.
"""

from __future__ import annotations

from typing import Any

import pyvisa
import pyvisa.constants
import serial

from drivers.transports.serial_port import PortDescriptor
from drivers.transports.visa_socket import ReplyReader, library_session


class AsrlReplyReader(ReplyReader):
    """Replies ending in ``termination`` from the port under one pyvisa-py ASRL session."""

    #: Writes go to this descriptor (None: to pyvisa's ``write``).
    descriptor: PortDescriptor | None = None

    @classmethod
    def of(cls, session: Any) -> AsrlReplyReader | None:
        """The reader for ``session`` if its port is a plain POSIX pyserial port, else None."""
        port = getattr(library_session(session), "interface", None)
        if not isinstance(port, serial.SerialBase):
            return None
        descriptor = PortDescriptor.of(port)
        if descriptor is None:
            return None
        writes = _sends_bytes_as_they_are(session)
        reader = cls.of_session(session, descriptor.read, descriptor.write if writes else None)
        reader.descriptor = descriptor if writes else None
        return reader


def _sends_bytes_as_they_are(session: Any) -> bool:
    """Whether pyvisa-py writes this session's bytes unchanged (``VI_ATTR_ASRL_END_OUT`` none:
    no end bit, termination character or break added), so a write may bypass it."""
    try:
        end_out = session.get_visa_attribute(pyvisa.constants.ResourceAttribute.asrl_end_out)
    except (pyvisa.errors.Error, OSError, AttributeError):
        return False
    return bool(end_out == pyvisa.constants.SerialTermination.none)
