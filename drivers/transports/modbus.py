"""Modbus client transport (pymodbus 3.16, TCP or RTU) with the suite's errors.

pymodbus would retry on its own and reconnect in the background; here both are explicit:
pymodbus itself never retries, idempotent requests (reads, register writes) are repeated
up to ``retries`` times after a timeout, command-coil pulses never are (a repeated START
would be rejected and hide the first one's success), and a lost link is reopened at most
once per request.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.address import ModbusAddress, parse_modbus_address
from drivers.errors import ConnectionLost, ProtocolError, ToolTimeout
from drivers.transports.base import Transport
from drivers.transports.wall_timeouts import wall_timeout_s


class PromptSerialClient(ModbusSerialClient):
    """pymodbus's RTU client, handing a reply's bytes to the framer as they arrive.

    pymodbus 3.16 waits for the line to go quiet before it returns any byte (two equal looks
    at ``in_waiting``, four character times apart: >= 4.6 ms at 19,200 Bd even for a reply
    already complete). Its RTU framer finds a frame's end by the function's length and CRC and
    asks again for a short frame, so the quiet wait only costs time: a quarter of a dry run's
    wall went to it. A port without a file descriptor (``rfc2217://``, ``socket://`` URLs)
    keeps pymodbus's own wait.
    """

    def recv(self, size: int | None) -> bytes:
        port = self.socket
        descriptor = _descriptor(port)
        if size is not None or port is None or descriptor is None:
            return super().recv(size)
        try:
            if not port.in_waiting:
                timeout_s = self.comm_params.timeout_connect
                readable, _, _ = select.select([descriptor], [], [], timeout_s)
                if not readable:
                    return b""
            return bytes(port.read(port.in_waiting or 1))
        except OSError:
            self.close()
            raise ConnectionException(str(self)) from None


def _descriptor(port: Any) -> int | None:
    """The port's file descriptor, or ``None`` for a port that has none (a URL handler)."""
    try:
        return int(port.fileno())
    except (AttributeError, OSError, ValueError):
        return None


class ModbusExceptionReply(ProtocolError):
    """The tool answered with a Modbus exception (``exception_code``: 1, 2, 3, 6, 10, 11)."""

    def __init__(self, exception_code: int, *, tool: str, address: str, sent: str) -> None:
        self.exception_code = exception_code
        super().__init__(
            f"Modbus exception {exception_code:02d}", tool=tool, address=address, sent=sent
        )


class ModbusTransport(Transport):
    """One Modbus client bound to one unit id."""

    def __init__(
        self,
        address: str,
        *,
        tool: str,
        timeout_s: float = 1.0,
        retries: int = 3,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(address, tool=tool, logger=logger)
        self.endpoint: ModbusAddress = parse_modbus_address(address)
        self.timeout_s = timeout_s
        self.retries = retries
        self._client: ModbusTcpClient | ModbusSerialClient | None = None
        #: How often the link was re-established after a failure (diagnostics, tests).
        self.reconnect_count = 0
        self._ever_connected = False

    # -- lifecycle ------------------------------------------------------------------
    def open(self) -> None:
        with self.lock:
            if self._client is not None and self._client.connected:
                return
            ep = self.endpoint
            client: ModbusTcpClient | ModbusSerialClient
            if ep.kind == "tcp":
                client = ModbusTcpClient(
                    ep.host, port=ep.port, timeout=wall_timeout_s(self.timeout_s), retries=0
                )
            else:
                client = PromptSerialClient(
                    ep.device,
                    baudrate=ep.baudrate,
                    parity=ep.parity,
                    stopbits=ep.stopbits,
                    bytesize=ep.bytesize,
                    timeout=wall_timeout_s(self.timeout_s),
                    retries=0,
                )
            if not client.connect():
                client.close()
                raise self.error(ConnectionLost, "cannot connect")
            self._client = client
            if self._ever_connected:
                self.reconnect_count += 1
            self._ever_connected = True
            self.log.debug("connected %s", self.address)

    @property
    def is_open(self) -> bool:
        return self._client is not None and bool(self._client.connected)

    # -- requests -------------------------------------------------------------------
    def read_coils(self, address: int, count: int) -> list[bool]:
        return self._read(1, "read_coils", address, count)

    def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        return self._read(2, "read_discrete_inputs", address, count)

    def read_holding_registers(self, address: int, count: int) -> list[int]:
        return self._read(3, "read_holding_registers", address, count)

    def read_input_registers(self, address: int, count: int) -> list[int]:
        return self._read(4, "read_input_registers", address, count)

    def _read(self, function: int, method: str, address: int, count: int) -> Any:
        """One read request (FC01-04) by the client's ``method``: its ``count`` bits, or its
        registers (a ProtocolError unless exactly ``count``)."""
        sent = f"FC{function:02d} {address}+{count}"
        size = {"bits": count} if function <= 2 else {"registers": count}
        reply = self._request(
            sent,
            lambda c: getattr(c, method)(address, count=count, device_id=self.endpoint.unit),
            expect=_Expected(function, **size),
        )
        if function <= 2:
            return [bool(b) for b in reply.bits[:count]]
        registers = list(getattr(reply, "registers", []))
        if len(registers) != count:
            raise self.error(
                ProtocolError, f"expected {count} registers, got {len(registers)}", sent
            )
        return registers

    def write_register(self, address: int, value: int) -> None:
        self._request(
            f"FC06 {address}={value}",
            lambda c: c.write_register(address, value, device_id=self.endpoint.unit),
            expect=_Expected(6, address=address),
        )

    def write_registers(self, address: int, values: Sequence[int]) -> None:
        self._request(
            f"FC16 {address}={list(values)}",
            lambda c: c.write_registers(address, list(values), device_id=self.endpoint.unit),
            expect=_Expected(16, address=address),
        )

    def pulse_coil(self, address: int) -> None:
        """Write 1 to a command coil (FC05 FF00). Never repeated automatically."""
        self._request(
            f"FC05 {address}=FF00",
            lambda c: c.write_coil(address, True, device_id=self.endpoint.unit),
            expect=_Expected(5, address=address),
            idempotent=False,
        )

    def write_coil(self, address: int, value: bool) -> None:
        """Write a level coil (FC05)."""
        self._request(
            f"FC05 {address}={'FF00' if value else '0000'}",
            lambda c: c.write_coil(address, value, device_id=self.endpoint.unit),
            expect=_Expected(5, address=address),
        )

    # -- internals ------------------------------------------------------------------
    def _request(
        self,
        sent: str,
        call: Callable[[Any], Any],
        *,
        expect: _Expected,
        idempotent: bool = True,
    ) -> Any:
        attempts = 1 + (self.retries if idempotent else 0)
        reopened = False
        timeouts = 0
        with self.lock:
            while timeouts < attempts:
                try:
                    if not self.is_open:
                        self.open()
                    assert self._client is not None
                    self._flush_input()
                    deadline_s = time.monotonic() + wall_timeout_s(self.timeout_s)
                    if self.log.isEnabledFor(logging.DEBUG):  # every exchange: no call when off
                        self.log.debug("%s -> %s", self.tool, sent)
                    reply = call(self._client)
                    # RTU frames carry no transaction id: a reply that does not fit is a late
                    # one; on TCP the MBAP id already matched, so a misfit is malformed.
                    while self.endpoint.kind == "rtu" and not expect.fits(reply):
                        self.log.debug(
                            "%s: discarded a reply that does not fit %s", self.tool, sent
                        )
                        reply = self._next_reply(deadline_s)
                except (ConnectionLost, ConnectionException, OSError) as exc:
                    self._drop()
                    if reopened:
                        raise self.error(ConnectionLost, f"link failed ({exc})", sent) from exc
                    reopened = True
                    continue
                except ModbusIOException as exc:
                    timeouts += 1
                    self.log.debug(
                        "%s: no reply (%s), attempt %d/%d", self.tool, exc, timeouts, attempts
                    )
                    continue
                except ModbusException as exc:
                    raise self.error(ProtocolError, f"malformed reply ({exc})", sent) from exc
                return self._checked(reply, sent)
            self._drop()  # the manual: after repeated timeouts, reconnect
        raise self.error(
            ToolTimeout,
            f"no valid reply after {attempts} attempt(s) of {self.timeout_s:.2f} s",
            sent,
        )

    def _flush_input(self) -> None:
        """Drop whatever the bus delivered since the last request (RTU only, interfaces README
        §9.2, etch-bath manual §2): a reply that came after its timeout is not the next answer."""
        link = getattr(self._client, "socket", None)
        if isinstance(self._client, ModbusSerialClient) and link is not None:
            link.reset_input_buffer()

    def _next_reply(self, deadline_s: float) -> Any:
        """Read the next frame for this request until ``deadline_s`` (monotonic), or time out.

        Uses the pymodbus 3.16 transaction reader (pinned < 3.17), bounded by the time left.
        """
        client = self._client
        remaining_s = deadline_s - time.monotonic()
        if client is None or remaining_s <= 0:
            raise ModbusIOException("no fitting reply before the timeout")
        transaction = client.transaction
        params = transaction.comm_params
        full_timeout_s = params.timeout_connect
        params.timeout_connect = remaining_s
        try:
            return transaction.sync_get_response(
                self.endpoint.unit, transaction.request_transaction_id
            )
        except TimeoutError as exc:
            raise ModbusIOException("no fitting reply before the timeout") from exc
        finally:
            params.timeout_connect = full_timeout_s

    def _checked(self, reply: Any, sent: str) -> Any:
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            if code is None:
                raise self.error(
                    ProtocolError, f"error reply without exception code: {reply}", sent
                )
            self.log.debug("%s <- exception %02d", self.tool, code)
            raise ModbusExceptionReply(code, **self.where(sent))
        if self.log.isEnabledFor(logging.DEBUG):  # not described on every poll for nothing
            self.log.debug("%s <- %s", self.tool, _describe(reply))
        return reply

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
        self._client = None


@dataclass(frozen=True)
class _Expected:
    """What a reply to one request must look like to be its answer (anything else is stale)."""

    function_code: int
    registers: int | None = None  # a register read: exactly this many registers
    bits: int | None = None  # a bit read: this many bits, padded to whole bytes
    address: int | None = None  # a write: the echoed start address

    def fits(self, reply: Any) -> bool:
        code = int(getattr(reply, "function_code", -1))
        if code == self.function_code | 0x80:
            return True  # an exception reply to this function
        if code != self.function_code:
            return False
        if self.registers is not None:
            return len(getattr(reply, "registers", [])) == self.registers
        if self.bits is not None:
            return len(getattr(reply, "bits", [])) == (self.bits + 7) // 8 * 8
        return getattr(reply, "address", None) == self.address


def _describe(reply: Any) -> str:
    if getattr(reply, "registers", None):
        return f"registers {list(reply.registers)}"
    if getattr(reply, "bits", None):
        return f"bits {[int(b) for b in reply.bits]}"
    return type(reply).__name__
