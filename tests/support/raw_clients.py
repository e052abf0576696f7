"""Raw protocol clients for conformance and fuzz tests: bytes on a real transport, as a
third-party tool (socat, mbpoll, a raw socket, pyserial) would send them.

They deliberately do not use packline's drivers: the simulators are judged against the
manuals here, not against the drivers. Every read is bounded by a timeout.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, Self

import serial
from pymodbus.framer.rtu import FramerRTU

from sim.fronts.framed import ACK, CR, ETX, NAK, STX, checksum
from sim.simulated_tool import SimulatedTool


class ByteLink(Protocol):
    def write(self, data: bytes) -> None: ...

    def read_until(self, end: bytes, timeout_s: float) -> bytes: ...

    def read_some(self, timeout_s: float) -> bytes: ...

    def close(self) -> None: ...


class TcpLink:
    """A raw loopback TCP connection."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=2.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_some(self, timeout_s: float) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        self.sock.settimeout(timeout_s if timeout_s > 0 else 0.0)
        try:
            return self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return b""

    def read_until(self, end: bytes, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        data = b""
        while end not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            chunk = self.read_some(left)
            if chunk == b"" and self._closed():
                break
            data += chunk
        head, sep, tail = data.partition(end)
        self.pending = tail + self.pending
        return head + sep

    def _closed(self) -> bool:
        self.sock.settimeout(0.0)
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, TimeoutError):
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


class SerialLink:
    """A pyserial port on a simulator's pty."""

    def __init__(self, device: str, baudrate: int = 9600, parity: str = "N") -> None:
        self.port = serial.Serial(device, baudrate=baudrate, parity=parity, timeout=0.05)
        self.pending = b""

    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read_some(self, timeout_s: float) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        if timeout_s <= 0:
            return bytes(self.port.read(self.port.in_waiting)) if self.port.in_waiting else b""
        self.port.timeout = timeout_s
        return bytes(self.port.read(max(1, self.port.in_waiting)))

    def read_until(self, end: bytes, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        data = self.pending
        self.pending = b""
        while end not in data and time.monotonic() < deadline:
            self.port.timeout = min(0.05, max(0.001, deadline - time.monotonic()))
            data += bytes(self.port.read(max(1, self.port.in_waiting)))
        head, sep, tail = data.partition(end)
        self.pending = tail
        return head + sep

    def close(self) -> None:
        self.port.close()


def link_for(address: str) -> ByteLink:
    """A raw link for a simulator address (VISA TCPIP SOCKET, ASRL, socket://, device path)."""
    if address.startswith("TCPIP::"):
        _, host, port, _ = address.split("::")
        return TcpLink(host, int(port))
    if address.startswith("ASRL"):
        return SerialLink(address[4:].split("::")[0])
    if address.startswith("socket://"):
        host, port = address[len("socket://") :].rsplit(":", 1)
        return TcpLink(host, int(port))
    return SerialLink(address)


class _Client:
    """A client on a :class:`ByteLink` that closes the link it has when its ``with`` ends."""

    link: ByteLink

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.link.close()


class ScpiClient(_Client):
    """SCPI over any link: ``write`` commands, ``query`` with a bounded wait."""

    def __init__(self, link: ByteLink, *, tool: SimulatedTool | None = None) -> None:
        self.link = link
        #: The simulator behind the link, when a test needs its model.
        self.tool = tool

    def write(self, message: str | bytes) -> None:
        data = message.encode("latin-1") if isinstance(message, str) else message
        self.link.write(data + b"\n")

    def query(self, message: str | bytes, timeout_s: float = 2.0) -> str | None:
        """The reply without terminator, or None when the tool sends nothing in time."""
        self.write(message)
        data = self.link.read_until(b"\n", timeout_s)
        if not data.endswith(b"\n"):
            return None
        return data.decode("latin-1").rstrip("\r\n")

    def error(self) -> str:
        reply = self.query("SYST:ERR?")
        assert reply is not None, "SYST:ERR? not answered"
        return reply

    def errors(self) -> list[str]:
        """Every queued error, oldest first (empties the queue)."""
        found = []
        for _ in range(20):
            entry = self.error()
            if entry.startswith("0,"):
                return found
            found.append(entry)
        return found


class LineClient(_Client):
    """The metrology line protocol: one CR-terminated command, data lines, one final line."""

    def __init__(self, link: ByteLink) -> None:
        self.link = link

    def command(self, text: str | bytes, timeout_s: float = 2.0) -> list[str]:
        data = text.encode("latin-1") if isinstance(text, str) else text
        self.link.write(data + b"\r")
        lines = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            raw = self.link.read_until(b"\r", max(0.0, deadline - time.monotonic()))
            if not raw.endswith(b"\r"):
                break
            line = raw.decode("latin-1").rstrip("\r")
            lines.append(line)
            if not line.startswith("D "):
                return lines
        return lines

    def final(self, text: str | bytes) -> str:
        lines = self.command(text)
        assert lines, f"no reply to {text!r}"
        return lines[-1]


class FramedClient(_Client):
    """The wire bonder's framed link: ``<STX>seq payload<ETX>C1C2<CR>``."""

    def __init__(self, link: ByteLink) -> None:
        self.link = link
        self.sequence = 0

    def frame(self, text: str | bytes) -> bytes:
        payload = text.encode("latin-1") if isinstance(text, str) else text
        self.sequence = (self.sequence + 1) % 10
        body = str(self.sequence).encode() + payload
        return bytes([STX]) + body + bytes([ETX]) + checksum(body) + bytes([CR])

    def send_raw(self, data: bytes, timeout_s: float = 1.0) -> bytes:
        self.link.write(data)
        return self.link.read_until(bytes([CR]), timeout_s)

    def request(self, text: str | bytes, timeout_s: float = 2.0) -> tuple[str, str]:
        """``("ACK", payload without sequence digit)`` or ``("NAK", code)``."""
        reply = self.send_raw(self.frame(text), timeout_s)
        assert reply.endswith(bytes([CR])), f"no reply to {text!r}: {reply!r}"
        lead = reply[0]
        body = reply[2 : reply.index(bytes([ETX]))].decode("latin-1")
        if lead == NAK:
            return "NAK", body
        assert lead == ACK, reply
        return "ACK", body[1:]


class ModbusRawClient(_Client):
    """Modbus TCP (MBAP) or RTU (CRC) requests as bytes; replies as bytes or None."""

    def __init__(self, link: ByteLink, *, rtu: bool, tool: SimulatedTool | None = None) -> None:
        self.link = link
        self.rtu = rtu
        self.tool = tool
        self.transaction = 0
        #: Requests sent, and the unit id of the last one (a reply from another is stray).
        self.sent = 0
        self.unit: int | None = None
        #: What answered no request of this client, kept for the caller to judge: bytes
        #: left over before a request, and complete replies (unit id, ADU) to another
        #: transaction or unit.
        self.left_over: list[bytes] = []
        self.stray: list[tuple[int, bytes]] = []

    def adu(self, unit: int, pdu: bytes) -> bytes:
        if self.rtu:
            body = bytes([unit]) + pdu
            return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")
        self.transaction = (self.transaction + 1) & 0xFFFF
        return struct.pack(">HHHB", self.transaction, 0, len(pdu) + 1, unit) + pdu

    def request(self, pdu: bytes, unit: int = 1, timeout_s: float = 1.0) -> bytes | None:
        """The reply PDU, or None when nothing (complete) came back in time.

        Bytes left over from an earlier request (a reply that came after its timeout) are
        dropped first, as a host does before it sends.
        """
        while left_over := self.link.read_some(0.0):
            self.left_over.append(left_over)
        self.link.write(self.adu(unit, pdu))
        self.sent += 1
        self.unit = unit
        return self.read_reply(timeout_s, request=pdu)

    def read_reply(self, timeout_s: float = 1.0, request: bytes = b"") -> bytes | None:
        """The next reply that answers ``request`` (when given): a late reply to an earlier
        request, as a host on a slow link sees one, is skipped."""
        deadline = time.monotonic() + timeout_s
        data = b""
        while time.monotonic() < deadline:
            data += self.link.read_some(min(0.05, max(0.001, deadline - time.monotonic())))
            while (found := self._complete(data)) is not None:
                reply, data = found
                if reply and (not request or answers(request, reply)):
                    return reply
        return None

    def _complete(self, data: bytes) -> tuple[bytes, bytes] | None:
        """(reply PDU, bytes after it) once a whole reply is in ``data``."""
        if self.rtu:
            if len(data) < 5:
                return None
            if data[1] & 0x80:
                size = 5
            elif data[1] in (1, 2, 3, 4):
                size = 5 + data[2]
            else:
                size = 8
            if len(data) < size:
                return None
            frame = data[:size]
            assert FramerRTU.compute_CRC(frame[:-2]).to_bytes(2, "big") == frame[-2:], frame
            if self.unit is not None and frame[0] != self.unit:
                self.stray.append((frame[0], frame))  # another unit's reply: not the answer
                return b"", data[size:]
            return frame[1:-2], data[size:]
        if len(data) < 7:
            return None
        length = int.from_bytes(data[4:6], "big")
        if len(data) < 6 + length:
            return None
        if data[:2] != self.transaction.to_bytes(2, "big"):
            self.stray.append((data[6], data[: 6 + length]))  # not this request's reply
            return b"", data[6 + length :]
        return data[7 : 6 + length], data[6 + length :]


def answers(request: bytes, reply: bytes) -> bool:
    """Whether ``reply`` can be the answer to ``request`` (function code, and the byte
    count of a read or the address echo of a write)."""
    function = request[0]
    if reply[0] == function | 0x80:
        return True
    if reply[0] != function:
        return False
    if function in (1, 2, 3, 4) and len(request) >= 5 and len(reply) >= 2:
        quantity = int.from_bytes(request[3:5], "big")
        return reply[1] == ((quantity + 7) // 8 if function in (1, 2) else 2 * quantity)
    return reply[1:3] == request[1:3]


def modbus_link(address: str) -> tuple[ByteLink, bool]:
    """A raw link for a ``modbus+tcp://`` or ``modbus+rtu://`` simulator address."""
    if address.startswith("modbus+tcp://"):
        host, port = address[len("modbus+tcp://") :].split("?")[0].rsplit(":", 1)
        return TcpLink(host, int(port)), False
    device = address[len("modbus+rtu://") :].split("?")[0]
    return SerialLink(device, baudrate=19200), True


@contextmanager
def modbus_client(address: str) -> Iterator[ModbusRawClient]:
    link, rtu = modbus_link(address)
    try:
        yield ModbusRawClient(link, rtu=rtu)
    finally:
        link.close()


def read_pdu(function: int, address: int, count: int) -> bytes:
    return bytes([function]) + address.to_bytes(2, "big") + count.to_bytes(2, "big")
