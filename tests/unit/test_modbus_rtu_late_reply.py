"""Modbus RTU over a real pty: a reply that comes after its timeout is never taken as the answer
to the next request (an RTU frame has no transaction id; interfaces README §9.2, etch-bath §2)."""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from drivers.errors import ToolTimeout
from drivers.transports.modbus import ModbusTransport
from tests.support.modbus_pdu import rtu_frame
from tests.support.pty_tool import pty_pair

TIMEOUT_S = 0.5
LATE_BY_S = 0.1  # the late reply lands while the next request waits for its own
GAP_S = 0.05  # between the late reply and the next one: two frames, not one burst
PIECE_GAP_S = 0.02  # between the two pieces of a reply sent in pieces (well inside the timeout)


class Responder(threading.Thread):
    """Reads 8-byte FC03 requests on the tool end; replies with registers = their addresses."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.late: set[int] = set()  # request numbers (0-based) answered late
        self.in_pieces: set[int] = set()  # request numbers answered in two writes
        self.stop = threading.Event()

    def run(self) -> None:
        number = 0
        pending = b""
        while not self.stop.is_set():
            try:
                pending += os.read(self.fd, 64)
            except OSError:
                return
            while len(pending) >= 8:
                request, pending = pending[:8], pending[8:]
                unit, code, address, count = struct.unpack(">BBHH", request[:6])
                assert code == 3, f"the responder only knows FC03, got {code}"
                if number in self.late:
                    time.sleep(TIMEOUT_S + LATE_BY_S)
                    pending = b""  # a real slave that missed requests while busy
                    late_reply = self._reply(unit, address, count)
                    os.write(self.fd, late_reply)
                    time.sleep(GAP_S)
                    number += 1
                    break
                reply = self._reply(unit, address, count)
                if number in self.in_pieces:
                    os.write(self.fd, reply[:4])
                    time.sleep(PIECE_GAP_S)
                    reply = reply[4:]
                os.write(self.fd, reply)
                number += 1

    @staticmethod
    def _reply(unit: int, address: int, count: int) -> bytes:
        registers = struct.pack(f">{count}H", *range(address, address + count))
        return rtu_frame(struct.pack(">BBB", unit, 3, 2 * count) + registers)


@pytest.fixture
def bus() -> Iterator[tuple[ModbusTransport, Responder]]:
    with pty_pair() as (tool_end, host_end):  # parity N: this kernel refuses parity on a pty
        responder = Responder(tool_end)
        responder.start()
        address = f"modbus+rtu://{os.ttyname(host_end)}?baudrate=19200&parity=N&unit=1"
        link = ModbusTransport(address, tool="test", timeout_s=TIMEOUT_S, retries=0)
        yield link, responder
        link.close()
        responder.stop.set()
    responder.join(timeout=2)


def test_a_reply_arriving_during_the_next_request_is_discarded_not_taken(
    bus: tuple[ModbusTransport, Responder],
) -> None:
    link, responder = bus
    assert link.read_holding_registers(100, 8) == list(range(100, 108))  # request 0
    responder.late.add(1)
    with pytest.raises(ToolTimeout):
        link.read_holding_registers(100, 8)  # request 1: answered after its timeout
    # request 2 is sent while the late 8-register reply is still on its way
    assert link.read_holding_registers(7, 1) == [7]


def test_a_late_reply_waiting_in_the_input_is_flushed_before_the_next_request(
    bus: tuple[ModbusTransport, Responder],
) -> None:
    link, responder = bus
    responder.late.add(0)
    with pytest.raises(ToolTimeout):
        link.read_holding_registers(100, 8)
    time.sleep(LATE_BY_S + GAP_S)  # the late reply now sits unread in the host's input
    assert link.read_holding_registers(7, 1) == [7]
    assert link.read_holding_registers(20, 2) == [20, 21]


def test_a_reply_coming_in_pieces_is_read_whole(bus: tuple[ModbusTransport, Responder]) -> None:
    """The host hands bytes to the framer as they come (no wait for a quiet line): a reply
    whose bytes come in two pieces is still one reply, with every register."""
    link, responder = bus
    responder.in_pieces.update({0, 1})
    assert link.read_holding_registers(100, 8) == list(range(100, 108))
    assert link.read_holding_registers(3, 2) == [3, 4]
    assert link.read_holding_registers(50, 1) == [50]  # and the next, whole, reply too
