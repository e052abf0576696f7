"""The tool side of the wire bonder's framed serial link (wire-bonder.md §2), over a pty or TCP.

Host frame ``<STX> payload <ETX> C1 C2 <CR>``; replies ``<ACK><STX> payload <ETX> C1 C2 <CR>``
or ``<NAK><STX> code <ETX> C1 C2 <CR>``. Receiver rules 1-6 of §2:

1. bytes before STX are discarded; a second STX inside a frame restarts it;
2. a byte outside 0x20-0x7E in the payload, a non-hex checksum digit, a missing CR, a first
   payload byte that is not a digit, or a gap over 100 ms (real wall time) -> ``NAK 02``; an
   incomplete frame is answered ``NAK 02`` 100 ms after its last byte;
3. more than 250 payload bytes -> ``NAK 03`` (at ETX or after the gap);
4. checksum mismatch -> ``NAK 01``, not executed;
5. a valid frame is executed once; a frame identical to the last one answered with ACK is
   not executed again, its stored reply is re-sent; NAKed frames leave the stored one alone;
6. nothing is sent unsolicited.

Link faults (sim/faults.py), decided per valid frame: ``stall`` executes the frame and loses
its reply (with ``duration_s`` the front also stops listening that long), ``drop`` closes the
connection (a pty goes deaf) without executing; per reply: ``garble`` corrupts bytes,
``truncate`` sends the first half, ``bad_checksum`` sends a wrong checksum.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import reduce
from operator import xor

from sim.faults import FaultInjector
from sim.fronts.scpi import UNEXPECTED
from sim.fronts.stream import Connection, PtyEndpoint, TcpEndpoint
from sim.tool_model import Reject

log = logging.getLogger("packline.sim.framed")

STX, ETX, ACK, NAK, CR = 0x02, 0x03, 0x06, 0x15, 0x0D
MAX_PAYLOAD = 250
GAP_S = 0.1
_HEX = frozenset(b"0123456789ABCDEFabcdef")


def checksum(payload: bytes) -> bytes:
    """XOR of the payload bytes as two upper-case hex digits."""
    return f"{reduce(xor, payload, 0):02X}".encode("ascii")


def reply_frame(lead: int, payload: bytes) -> bytes:
    return bytes([lead, STX]) + payload + bytes([ETX]) + checksum(payload) + bytes([CR])


def nak_frame(code: int) -> bytes:
    """A NAK carries the two-digit code and no sequence digit."""
    return reply_frame(NAK, f"{code:02d}".encode("ascii"))


class FrameReceiver:
    """Byte-level receiver state: collects one frame at a time, judged by rules 1-3."""

    def __init__(self) -> None:
        self.stage = "idle"  # idle, payload, c1, c2, cr
        self.payload = bytearray()
        self.check = bytearray()
        self.last_byte_s = 0.0

    @property
    def in_frame(self) -> bool:
        return self.stage != "idle"

    def reset(self) -> None:
        self.stage = "idle"
        self.payload.clear()
        self.check.clear()

    def timeout_code(self) -> int:
        """The NAK for a frame left incomplete for the gap time (rule 2/3)."""
        code = 3 if len(self.payload) > MAX_PAYLOAD else 2
        self.reset()
        return code

    def feed(self, byte: int) -> tuple[str, int | bytes] | None:
        """One byte in; ``("nak", code)``, ``("frame", (payload, checksum))`` or None."""
        if byte == STX:
            self.reset()
            self.stage = "payload"
            return None
        if self.stage == "idle":
            return None
        if self.stage == "payload":
            if byte == ETX:
                if len(self.payload) > MAX_PAYLOAD:
                    self.reset()
                    return ("nak", 3)
                self.stage = "c1"
            elif 0x20 <= byte <= 0x7E:
                self.payload.append(byte)
            else:
                self.reset()
                return ("nak", 2)
            return None
        if self.stage in ("c1", "c2"):
            if byte not in _HEX:
                self.reset()
                return ("nak", 2)
            self.check.append(byte)
            self.stage = "c2" if self.stage == "c1" else "cr"
            return None
        # stage "cr"
        payload, check = bytes(self.payload), bytes(self.check)
        self.reset()
        if byte != CR or not payload or not payload[:1].isdigit():
            return ("nak", 2)
        if check.upper() != checksum(payload):
            return ("nak", 1)
        return ("frame", payload)


class FramedFront:
    """Serves one tool: ``execute(command text) -> reply text`` raising ``Reject`` to refuse."""

    def __init__(
        self, execute: Callable[[str], str], faults: FaultInjector, *, name: str = "tool"
    ) -> None:
        self.execute = execute
        self.faults = faults
        self.name = name
        self.lock = threading.Lock()
        #: Last frame answered with ACK and its reply (rule 5); survives reconnects.
        self.stored: tuple[bytes, bytes] | None = None
        self.executed = 0

    def serve(self, connection: Connection, stop: threading.Event) -> None:
        receiver = FrameReceiver()
        while not stop.is_set():
            wait_s = (  # between frames: until bytes come or the endpoint stops
                None
                if not receiver.in_frame
                else max(0.0, receiver.last_byte_s + GAP_S - time.monotonic())
            )
            data = connection.recv(wait_s)
            now = time.monotonic()
            # A gap is a wait that ended with no byte: bytes handed over late because this
            # thread ran late (a loaded machine) came within the gap, not after it.
            if receiver.in_frame and not data and now - receiver.last_byte_s > GAP_S:
                self._send(connection, nak_frame(receiver.timeout_code()))
            for byte in data:
                receiver.last_byte_s = now
                event = receiver.feed(byte)
                if event is None:
                    continue
                kind, value = event
                if kind == "nak":
                    assert isinstance(value, int)
                    self._send(connection, nak_frame(value))
                else:
                    assert isinstance(value, bytes)
                    self._answer(connection, value)

    def _answer(self, connection: Connection, payload: bytes) -> None:
        fault = self.faults.take_link_fault(("stall", "drop"))
        if fault is not None and fault.kind == "drop":
            log.info("%s: link fault drop on %r", self.name, payload)
            connection.drop()
            return
        reply = self.reply_to(payload)
        if fault is not None:
            log.info("%s: link fault stall on %r", self.name, payload)
            if fault.duration_s:
                time.sleep(fault.duration_s)
            return
        self._send(connection, reply)

    def reply_to(self, payload: bytes) -> bytes:
        """Rule 5: execute a new frame once, re-send the stored reply for a repeated one."""
        with self.lock:
            if self.stored is not None and self.stored[0] == payload:
                log.debug("%s: repeated frame %r, stored reply re-sent", self.name, payload)
                return self.stored[1]
            text = payload[1:].decode("ascii")
            try:
                self.executed += 1
                answer = self.execute(text)
            except Reject as reject:
                log.debug("%s: %r -> NAK %02d", self.name, payload, reject.code)
                return nak_frame(reject.code)
            except Exception:
                log.exception("%s: unexpected error on %r", self.name, payload)
                return nak_frame(UNEXPECTED.code)
            reply = reply_frame(ACK, payload[:1] + answer.encode("ascii", errors="replace"))
            self.stored = (payload, reply)
            return reply

    def _send(self, connection: Connection, reply: bytes) -> None:
        fault = self.faults.take_link_fault(("garble", "truncate", "bad_checksum"))
        if fault is not None:
            log.info("%s: link fault %s on reply %r", self.name, fault.kind, reply)
            reply = shape_reply(reply, fault.kind)
        connection.send(reply)


def shape_reply(reply: bytes, kind: str) -> bytes:
    """Corrupt a reply frame: ``truncate`` (first half), ``bad_checksum``, ``garble``."""
    if kind == "truncate":
        return reply[: max(1, len(reply) // 2)]
    body = bytearray(reply)
    if kind == "bad_checksum":
        wrong = f"{int(reply[-3:-1], 16) ^ 0x5A:02X}".encode("ascii")
        body[-3:-1] = wrong
        return bytes(body)
    for index in range(0, len(body) - 1, 3):  # garble: every third byte but the final CR
        body[index] = 0x7E - (body[index] % 0x20)
    return bytes(body)


class FramedServer:
    """A :class:`FramedFront` on a pty (default; address = device path) or loopback TCP
    (address ``socket://127.0.0.1:PORT``)."""

    def __init__(self, front: FramedFront, *, transport: str = "pty", port: int = 0) -> None:
        self.front = front
        self.endpoint: TcpEndpoint | PtyEndpoint
        if transport == "tcp":
            self.endpoint = TcpEndpoint(front.serve, port=port, name=front.name)
        elif transport == "pty":
            self.endpoint = PtyEndpoint(front.serve, name=front.name)
        else:
            raise ValueError(f"framed transport must be pty or tcp, not {transport!r}")

    def start(self) -> None:
        self.endpoint.start()

    def stop(self) -> None:
        self.endpoint.stop()

    def drop_all(self) -> None:
        self.endpoint.drop_all()

    @property
    def failure(self) -> str | None:
        """Why the endpoint can no longer serve, or None."""
        return self.endpoint.failure

    @property
    def address(self) -> str:
        if isinstance(self.endpoint, TcpEndpoint):
            return f"socket://{self.endpoint.host}:{self.endpoint.port}"
        return self.endpoint.device
