"""Host side of the plain line protocol of metrology.md §2 over a :class:`SerialTransport`.

One exchange: send the command line and CR, then read CR-terminated lines, each within the
per-line timeout (1 s), until the final ``OK`` / ``OK <data>`` or ``ER <code>,<text>[;<detail>]``,
collecting the ``D <record>`` lines that only ``RD`` sends before it. ``ER`` becomes the
catalogue's :class:`~drivers.errors.ToolError` subclass; a malformed or unexpected line is a
:class:`~drivers.errors.ProtocolError`. After a malformed line or a timeout the link reads and
discards whatever is still coming, so that the next exchange starts clean. Every exchange is
logged at DEBUG.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from drivers.errors import (
    CommunicationError,
    ParameterOutOfRange,
    ProtocolError,
    ToolTimeout,
    tool_error,
)
from drivers.transports.serial_port import SerialLink

CR = b"\r"
MAX_COMMAND_CHARS = 1100
_ERROR_LINE = re.compile(r"^ER (\d{1,3}),([^;]+)(?:;(.*))?$")
_QUIET_S = 0.1
_RESYNC_LIMIT_S = 1.0


@dataclass(frozen=True)
class LineReply:
    """A successful reply: the data of the final ``OK`` line ('' for a bare ``OK``) and the
    records of the ``D`` lines before it."""

    data: str
    records: tuple[str, ...] = ()


class LineLink(SerialLink):
    """One line-protocol connection; the transport's lock makes each exchange atomic, so a
    poller thread and a sequence can share it."""

    def exchange(self, command: str, *, max_records: int = 0) -> LineReply:
        """Send ``command``; return its ``OK`` reply with up to ``max_records`` ``D`` lines."""
        self._check_command(command)
        with self.serial.lock:
            self.serial.write(command.encode("ascii") + CR)
            records: list[str] = []
            try:
                while True:
                    line = self._read_line(command)
                    if line == "OK" or line.startswith("OK "):
                        reply = LineReply(line[3:], tuple(records))
                        break
                    if line.startswith("ER "):
                        self.log.debug("%s: %r -> %r", self.tool, command, line)
                        raise self._tool_error(line, command)
                    if line.startswith("D ") and len(line) > 2 and len(records) < max_records:
                        records.append(line[2:])
                        continue
                    raise self.serial.error(
                        ProtocolError, f"unexpected reply line {line!r}", command
                    )
            except (ProtocolError, ToolTimeout):
                self._resync()
                raise
        if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
            self.log.debug(
                "%s: %r -> %d record(s), %r", self.tool, command, len(reply.records), line
            )
        return reply

    def _check_command(self, command: str) -> None:
        if (
            not command
            or len(command) > MAX_COMMAND_CHARS
            or not command.isascii()
            or not command.isprintable()
        ):
            raise self.serial.error(
                ParameterOutOfRange,
                f"command {command[:40]!r} must be 1-{MAX_COMMAND_CHARS} printable ASCII characters",
            )

    def _read_line(self, command: str) -> str:
        raw = self.serial.read_until(CR, sent=command)
        try:
            line = raw[:-1].decode("ascii").replace("\n", "")  # LF is ignored, as by the tool
        except UnicodeDecodeError:
            raise self.serial.error(
                ProtocolError, f"reply line {raw!r} is not ASCII", command
            ) from None
        if not line.isprintable():
            raise self.serial.error(
                ProtocolError, f"reply line {line!r} has control characters", command
            )
        return line

    def _tool_error(self, line: str, command: str) -> Exception:
        match = _ERROR_LINE.match(line)
        if not match:
            return self.serial.error(ProtocolError, f"malformed error line {line!r}", command)
        code, text, detail = int(match.group(1)), match.group(2), match.group(3) or ""
        return tool_error(
            code, detail, text=text, tool=self.tool, address=self.address, sent=command
        )

    def _resync(self) -> None:
        """Discard the rest of a bad reply: read until the line is quiet for 0.1 s (at most 1 s)."""
        deadline = time.monotonic() + _RESYNC_LIMIT_S
        while time.monotonic() < deadline:
            try:
                self.serial.read_until(
                    CR, timeout_s=_QUIET_S, sent="(discarding the rest of a bad reply)"
                )
            except CommunicationError:
                return
