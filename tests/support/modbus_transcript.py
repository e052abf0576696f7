"""A recorded Modbus request transcript standing in for ``ModbusTransport`` (no network).

Each entry is ``(request, reply)``: the request as the driver makes it (``("FC16", 100,
[1750, ...])``, ``("FC05", 2)`` for a coil pulse) and what comes back, or an exception to raise
(e.g. ``ModbusExceptionReply(6, ...)``). Unexpected or out-of-order requests fail the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from drivers.address import parse_modbus_address
from drivers.modbus_tool import ModbusTool
from drivers.transports.modbus import ModbusExceptionReply

Transcript = Sequence[tuple[tuple[Any, ...], Any]]
T = TypeVar("T", bound=ModbusTool)


class TranscriptLink:
    """Checks each request against the expected transcript and answers from it."""

    def __init__(self, address: str, transcript: Transcript) -> None:
        self.endpoint = parse_modbus_address(address)
        self.transcript = list(transcript)
        self.lock = None

    def _next(self, request: tuple[Any, ...]) -> Any:
        assert self.transcript, f"unexpected request {request}"
        expected, reply = self.transcript.pop(0)
        assert request == expected
        if isinstance(reply, Exception):
            raise reply
        return reply

    def read_input_registers(self, address: int, count: int) -> list[int]:
        return self._next(("FC04", address, count))

    def read_holding_registers(self, address: int, count: int) -> list[int]:
        return self._next(("FC03", address, count))

    def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        return self._next(("FC02", address, count))

    def read_coils(self, address: int, count: int) -> list[bool]:
        return self._next(("FC01", address, count))

    def write_register(self, address: int, value: int) -> None:
        self._next(("FC06", address, value))

    def write_registers(self, address: int, values: Sequence[int]) -> None:
        self._next(("FC16", address, list(values)))

    def pulse_coil(self, address: int) -> None:
        self._next(("FC05", address))

    def write_coil(self, address: int, value: bool) -> None:
        self._next(("FC05", address, value))

    def close(self) -> None:
        pass


def tool_with(
    tool_class: type[T], address: str, transcript: Transcript
) -> tuple[T, TranscriptLink]:
    """A driver whose link is the transcript (never connected to anything)."""
    tool = tool_class(address)
    link = TranscriptLink(address, transcript)
    tool.link = link  # type: ignore[assignment]
    return tool, link


def exception_reply(code: int, tool: str) -> ModbusExceptionReply:
    """The Modbus exception ``code`` as the transport raises it."""
    return ModbusExceptionReply(code, tool=tool, address="x", sent="x")
