"""The host side of the wire bonder's framed serial link over a
:class:`~drivers.transports.serial_port.SerialTransport`: the frame, its XOR checksum and the host rules 1-4 of wire-bonder.md §2 (one outstanding frame, a
new sequence digit per command, the identical frame retransmitted at most 3 times, ``NAK`` >= 10
a rejection whose ``LASTERR?`` detail is raised as the catalogue :class:`ToolError`). A link that
failed raises :class:`ToolTimeout` (the last attempt got no complete reply),
:class:`ConnectionLost` (the connection went) or :class:`ProtocolError` (bad replies).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce
from operator import xor

from drivers.errors import (
    CATALOGUE,
    CommunicationError,
    ConnectionLost,
    PacklineError,
    ParameterOutOfRange,
    ProtocolError,
    ToolError,
    ToolTimeout,
    tool_error,
)
from drivers.transports.serial_port import SerialLink

STX, ETX, ACK, NAK, CR = 0x02, 0x03, 0x06, 0x15, 0x0D
MAX_PAYLOAD = 250
_HEX = frozenset(b"0123456789ABCDEFabcdef")


#: The printable bytes 0x20-0x7E a payload may hold (§2).
_PRINTABLE = bytes(range(0x20, 0x7F))


def checksum(payload: bytes) -> str:
    """XOR of every payload byte, as two upper-case hex digits (§2)."""
    return f"{reduce(xor, payload, 0):02X}"


def encode_frame(payload: str) -> bytes:
    """``<STX> payload <ETX> C1 C2 <CR>`` for a payload of printable ASCII."""
    data = payload.encode("ascii")
    return bytes([STX]) + data + bytes([ETX]) + checksum(data).encode("ascii") + bytes([CR])


class FrameError(Exception):
    """A reply that breaks the framing or checksum rules (the frame is retransmitted)."""


@dataclass(frozen=True)
class Reply:
    """A well-formed reply: ``ack`` True for ACK (payload = digit + text), False for NAK (code)."""

    ack: bool
    payload: str


def parse_reply(data: bytes) -> Reply:
    """Check ``<ACK|NAK><STX> payload <ETX> C1 C2 <CR>``; :class:`FrameError` says what is wrong."""
    if len(data) < 6 or data[0] not in (ACK, NAK) or data[1] != STX or data[-1] != CR:
        raise FrameError(f"bad framing {data!r}")
    if data[-4] != ETX:
        raise FrameError(f"no ETX before the checksum in {data!r}")
    payload, check = data[2:-4], data[-3:-1]
    if not set(check) <= _HEX:
        raise FrameError(f"checksum digits {check!r} are not hex")
    if payload.translate(None, _PRINTABLE):  # a byte left that is not 0x20-0x7E
        raise FrameError(f"non-printable payload byte in {data!r}")
    if check.decode("ascii").upper() != checksum(payload):
        raise FrameError(
            f"bad checksum {check.decode('ascii')} (expected {checksum(payload)}) in {data!r}"
        )
    text = payload.decode("ascii")
    if data[0] == NAK and not (len(text) == 2 and text.isdigit()):
        raise FrameError(f"NAK payload {text!r} is not a two-digit code")
    if data[0] == ACK and not text[:1].isdigit():
        raise FrameError(f"reply payload {text!r} does not start with a sequence digit")
    return Reply(data[0] == ACK, text)


class FramedLink(SerialLink):
    """One framed link: :meth:`exchange` sends a command and returns the reply text.

    Thread-safe: the transport's lock is held for a whole exchange, including its
    retransmissions and the ``LASTERR?`` that follows a rejection.
    """

    def __init__(
        self,
        url: str,
        *,
        tool: str,
        baudrate: int,
        timeout_s: float = 0.5,
        retransmissions: int = 3,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(url, tool=tool, baudrate=baudrate, timeout_s=timeout_s, logger=logger)
        self.retransmissions = retransmissions
        self._next_digit = 1

    def exchange(self, command: str) -> str:
        """Send ``command`` as a new frame; return the reply text after the sequence digit."""
        with self.serial.lock:
            return self._exchange(command, read_detail=True)

    # -- internals -------------------------------------------------------------------------
    def _check_command(self, command: str) -> None:
        if not command or any(not 0x20 <= ord(ch) <= 0x7E for ch in command):
            raise self.serial.error(
                ParameterOutOfRange, f"command {command!r} must be printable ASCII"
            )
        if len(command) + 1 > MAX_PAYLOAD:
            raise self.serial.error(
                ParameterOutOfRange,
                f"command of {len(command)} characters exceeds {MAX_PAYLOAD - 1} characters",
            )

    def _exchange(self, command: str, *, read_detail: bool) -> str:
        self._check_command(command)
        digit, self._next_digit = self._next_digit, (self._next_digit + 1) % 10
        payload = f"{digit}{command}"
        frame = encode_frame(payload)
        failures: list[str] = []
        kind: type[PacklineError] = ProtocolError  # of the last attempt's failure
        for attempt in range(self.retransmissions + 1):
            if attempt:
                self.log.debug(
                    "%s: retransmitting %r (%d of %d) after %s",
                    self.tool,
                    payload,
                    attempt,
                    self.retransmissions,
                    failures[-1],
                )
            else:
                if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                    self.log.debug("%s -> %s", self.tool, payload)
            try:
                self.serial.write(frame)
                raw = self.serial.read_until(b"\r", sent=payload)
                reply = parse_reply(raw)
            except (ToolTimeout, ConnectionLost) as exc:
                kind, failure = type(exc), exc.reason
            except FrameError as exc:
                kind, failure = ProtocolError, str(exc)
            else:
                if not reply.ack and int(reply.payload) >= 10:
                    self.log.debug("%s <- NAK %s to %s", self.tool, reply.payload, payload)
                    raise self._rejection(int(reply.payload), payload, read_detail=read_detail)
                if reply.ack and reply.payload[0] == payload[0]:
                    if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                        self.log.debug("%s <- %s", self.tool, reply.payload)
                    return reply.payload[1:]
                kind = ProtocolError
                if reply.ack:
                    failure = f"wrong sequence digit in {reply.payload!r}"
                else:
                    link_code = CATALOGUE.get(int(reply.payload), "reserved link code")
                    failure = f"NAK {reply.payload} {link_code}"
            failures.append(failure)
        message = f"link failed after {len(failures)} attempts ({'; '.join(failures)})"
        self.log.debug("%s: %s for %r", self.tool, message, payload)
        raise self.serial.error(kind, message, payload)

    def _rejection(self, code: int, payload: str, *, read_detail: bool) -> ToolError:
        """The catalogue error for ``NAK <code>``, with text and detail from ``LASTERR?``."""
        text, detail = None, ""
        if read_detail:
            try:
                reply = self._exchange("LASTERR?", read_detail=False)
            except (CommunicationError, ProtocolError, ToolError) as exc:
                self.log.debug("%s: LASTERR? after NAK %02d failed: %s", self.tool, code, exc)
            else:
                reported, text_detail = _parse_last_error(reply)
                if reported == code:
                    text, _, detail = text_detail.partition(";")
                else:
                    self.log.debug("%s: LASTERR? reports %r after NAK %02d", self.tool, reply, code)
        return tool_error(
            code, detail, text=text, tool=self.tool, address=self.address, sent=payload
        )


def _parse_last_error(reply: str) -> tuple[int | None, str]:
    """``LASTERR=<code>,<text>[;<detail>]`` -> (code, text with detail); (None, "") if malformed."""
    if not reply.startswith("LASTERR="):
        return None, ""
    code, _, text = reply[len("LASTERR=") :].partition(",")
    return (int(code), text) if code.isdigit() else (None, "")
