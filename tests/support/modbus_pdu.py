"""Modbus request/reply PDUs for :func:`tests.support.expected_protocol.expected_protocol`.

Each builder returns one script step ``(request PDU, reply PDU)`` as the Modbus application
protocol spells it (``read_input(0, [3])`` is FC04 at 0 for one register, answered 3);
:func:`refused` turns a step into an exception reply. :func:`from_transcript` reads the
function-code notation the Modbus driver tests are written in::

    (("FC04", 110, 16), words)      # read 16 input registers from 110, answered ``words``
    (("FC16", 100, words), None)    # write ``words`` from HR 100 (the echo is the reply)
    (("FC05", 2), exception_reply(6))   # pulse coil 2, refused with exception 06
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from pymodbus.framer.rtu import FramerRTU

from drivers.transports.modbus import ModbusExceptionReply
from tests.support.expected_protocol import Step

#: A recorded request in function-code notation and its reply (words, bits, None or an
#: exception).
Transcript = Sequence[tuple[tuple[Any, ...], Any]]
ON = 0xFF00


def words_pdu(words: Sequence[int]) -> bytes:
    return b"".join(struct.pack(">H", w & 0xFFFF) for w in words)


def _bits_pdu(bits: Sequence[bool]) -> bytes:
    packed = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            packed[i // 8] |= 1 << (i % 8)
    return bytes(packed)


def _read(function: int, address: int, count: int, data: bytes) -> Step:
    return struct.pack(">BHH", function, address, count), struct.pack(
        ">BB", function, len(data)
    ) + data


def read_input(address: int, words: Sequence[int]) -> Step:
    """FC04: ``len(words)`` input registers from ``address``."""
    return _read(4, address, len(words), words_pdu(words))


def read_holding(address: int, words: Sequence[int]) -> Step:
    """FC03: ``len(words)`` holding registers from ``address``."""
    return _read(3, address, len(words), words_pdu(words))


def read_discrete(address: int, bits: Sequence[bool]) -> Step:
    """FC02: ``len(bits)`` discrete inputs from ``address``."""
    return _read(2, address, len(bits), _bits_pdu(bits))


def read_coils(address: int, bits: Sequence[bool]) -> Step:
    """FC01: ``len(bits)`` coils from ``address``."""
    return _read(1, address, len(bits), _bits_pdu(bits))


def write_multiple(address: int, words: Sequence[int]) -> Step:
    """FC16: ``words`` from ``address``; the reply echoes address and count."""
    request = struct.pack(">BHHB", 16, address, len(words), 2 * len(words)) + words_pdu(words)
    return request, struct.pack(">BHH", 16, address, len(words))


def write_single(address: int, value: int) -> Step:
    """FC06: one holding register; the reply echoes the request."""
    pdu = struct.pack(">BHH", 6, address, value & 0xFFFF)
    return pdu, pdu


def write_coil(coil: int, value: bool) -> Step:
    """FC05: one coil on or off; the reply echoes the request."""
    pdu = struct.pack(">BHH", 5, coil, ON if value else 0)
    return pdu, pdu


def pulse(coil: int) -> Step:
    """A command coil pulse: FC05 ON (the tool resets it itself)."""
    return write_coil(coil, True)


def refused(step: Step, exception_code: int) -> Step:
    """``step``'s request answered with Modbus exception ``exception_code``."""
    return step[0], struct.pack(">BB", step[0][0] | 0x80, exception_code)


def string_words(text: str, registers: int = 10) -> list[int]:
    """A STRING field: two characters per register, high byte first, padded with 0x00."""
    data = text.encode("ascii").ljust(registers * 2, b"\x00")
    return [(data[i] << 8) | data[i + 1] for i in range(0, registers * 2, 2)]


def rtu_frame(body: bytes) -> bytes:
    """An RTU frame: ``body`` (unit id and PDU) and its CRC-16/MODBUS, low byte first."""
    return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")


def exception_reply(code: int, tool: str = "") -> ModbusExceptionReply:
    """The reply of a transcript entry refused with Modbus exception ``code``."""
    return ModbusExceptionReply(code, tool=tool, address="", sent="")


_READS: dict[str, Callable[[int, Any], Step]] = {
    "FC04": read_input,
    "FC03": read_holding,
    "FC02": read_discrete,
    "FC01": read_coils,
}


def from_transcript(transcript: Transcript) -> list[Step]:
    """Script steps from the function-code notation of the module doc."""
    steps = []
    for request, reply in transcript:
        code, address, *rest = request
        if code in _READS:
            step = _READS[code](address, reply if isinstance(reply, list) else [0] * rest[0])
            assert isinstance(reply, ModbusExceptionReply) or len(reply) == rest[0], request
        elif code == "FC16":
            step = write_multiple(address, rest[0])
        elif code == "FC06":
            step = write_single(address, rest[0])
        elif code == "FC05":
            step = write_coil(address, rest[0] if rest else True)
        else:
            raise ValueError(f"function code {code!r} not in the notation")
        if isinstance(reply, ModbusExceptionReply):
            step = refused(step, reply.exception_code)
        steps.append(step)
    return steps


def words_at(count: int, words: dict[int, int]) -> list[int]:
    """A block of ``count`` registers, 0 but for ``words`` (offset in the block: value), as a
    manual's register table names only the registers an example sets."""
    return [words.get(offset, 0) for offset in range(count)]
