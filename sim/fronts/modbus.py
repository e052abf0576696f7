"""Modbus front for the simulated batch tools: a real pymodbus server (TCP, or RTU on a pty)
whose datastore is the tool model, checking requests in the order of README §9.2.

pymodbus decodes the frames and checks quantities; this datastore checks addresses (02),
values (03) and the state (06 with REJECT_REASON), writes atomically, and turns commands into
model calls. Link faults: ``stall`` (no reply), ``drop`` (close connections), ``garble`` and
``truncate`` (corrupted reply bytes), ``bad_checksum`` (RTU: wrong CRC).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import termios
import threading
import tty
from collections.abc import Sequence
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from sim.faults import LinkFault
from sim.modbus_model import COMMAND_COILS, HoldingDef, ModbusToolModel, value_of
from sim.tool_model import Reject

log = logging.getLogger("packline.sim.modbus")

_COMMON_INPUTS = ((0, 27), (900, 917))
_COMMON_DISCRETES = ((0, 7),)
_READ_LIMIT = {1: 2000, 2: 2000, 3: 125, 4: 125}


def _in_ranges(address: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(lo <= address <= hi for lo, hi in ranges)


class _Stall(Exception):
    """Internal: answer nothing."""


class ToolDatastore(ModbusServerContext):
    """The tool model as a pymodbus datastore (duck-typed old-simulator context)."""

    def __init__(self, model: ModbusToolModel, *, unit_ids: Sequence[int] = (1,)) -> None:
        # Deliberately not calling super().__init__: it only wraps SimDevices we do not use.
        self.model = model
        self.unit_ids = set(unit_ids)
        self._written_bits: list[bool] = []
        self.old_simulator = True
        self.simdevices = []

    def device_ids(self) -> list[int]:
        return sorted(self.unit_ids)

    def _unit(self, device_id: int) -> None:
        if device_id not in self.unit_ids:
            # README: other unit ids get no reply (the gateway answers 0x0A: see front).
            raise NoSuchIdException(f"unit {device_id}")

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> Any:
        self._unit(device_id)
        await self._link_faults()
        model = self.model
        with model.lock:
            model.sync()
            if func_code in (5, 6, 15, 16):
                return self._read_back(func_code, address, count)
            if func_code not in _READ_LIMIT:
                return ExcCodes.ILLEGAL_FUNCTION
            if not 1 <= count <= _READ_LIMIT[func_code]:
                return ExcCodes.ILLEGAL_VALUE
            addresses = range(address, address + count)
            if func_code == 4:
                if not all(_in_ranges(a, _COMMON_INPUTS + model.input_ranges) for a in addresses):
                    return ExcCodes.ILLEGAL_ADDRESS
                words = model.common_inputs() | model.tool_inputs()
                return [words.get(a, 0) & 0xFFFF for a in addresses]
            if func_code == 3:
                if not all(a in model.holding for a in addresses):
                    return ExcCodes.ILLEGAL_ADDRESS
                return [model.holding[a] for a in addresses]
            if func_code == 2:
                if not all(
                    _in_ranges(a, _COMMON_DISCRETES + model.discrete_ranges) for a in addresses
                ):
                    return ExcCodes.ILLEGAL_ADDRESS
                bits = model.common_discretes() | model.tool_discretes()
                return [bool(bits.get(a, False)) for a in addresses]
            if not all(_in_ranges(a, model.coil_ranges) for a in addresses):
                return ExcCodes.ILLEGAL_ADDRESS
            return [False if a < 8 else model.tool_coil_value(a) for a in addresses]

    def _read_back(self, func_code: int, address: int, count: int) -> Any:
        if func_code in (5, 15):
            return self._written_bits[:count]  # FC05 echoes the request
        return [self.model.holding.get(a, 0) for a in range(address, address + count)]

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Sequence[int] | Sequence[bool]
    ) -> Any:
        self._unit(device_id)
        await self._link_faults()
        model = self.model
        with model.lock:
            model.sync()
            try:
                if func_code in (6, 16):
                    return self._write_holding(address, [int(v) for v in values])
                if func_code in (5, 15):
                    return self._write_coils(address, [bool(v) for v in values])
                return ExcCodes.ILLEGAL_FUNCTION
            except Reject as reject:
                model.reject_reason = reject.code
                model.reject_count += 1
                return ExcCodes.DEVICE_BUSY

    def _write_holding(self, address: int, words: list[int]) -> Any:
        model = self.model
        if not 1 <= len(words) <= 123:
            return ExcCodes.ILLEGAL_VALUE
        addresses = list(range(address, address + len(words)))
        if not all(a in model.holding for a in addresses):
            return ExcCodes.ILLEGAL_ADDRESS
        touched: list[HoldingDef] = []
        for definition in (*model.holding_by_name.values(),):
            if any(definition.contains(a) for a in addresses) and definition not in touched:
                touched.append(definition)
        for definition in touched:
            covered = all(
                a in addresses
                for a in range(definition.address, definition.address + definition.length)
            )
            if definition.length > 1 and not covered:
                return ExcCodes.ILLEGAL_VALUE  # partial u32 or string write
            if definition.reg_type == "string":
                chunk = words[
                    definition.address - address : definition.address - address + definition.length
                ]
                if not _valid_string(chunk):
                    return ExcCodes.ILLEGAL_VALUE
                continue
            chunk = words[
                definition.address - address : definition.address - address + definition.length
            ]
            value = value_of(chunk, definition.reg_type)
            if (
                definition.lo is not None
                and definition.hi is not None
                and not definition.lo <= value <= definition.hi
            ):
                return ExcCodes.ILLEGAL_VALUE
        for definition in touched:
            model.check_holding_write(definition)
        for a, word in zip(addresses, words, strict=True):
            model.holding[a] = word & 0xFFFF
        model.holding_written(addresses)
        return None

    def _write_coils(self, address: int, bits: list[bool]) -> Any:
        model = self.model
        self._written_bits = list(bits)
        addresses = list(range(address, address + len(bits)))
        if not all(_in_ranges(a, model.coil_ranges) for a in addresses):
            return ExcCodes.ILLEGAL_ADDRESS
        commands = [
            COMMAND_COILS[a] for a, bit in zip(addresses, bits, strict=True) if a < 8 and bit
        ]
        if len(commands) > 1:
            return ExcCodes.ILLEGAL_VALUE
        for a, bit in zip(addresses, bits, strict=True):
            if a >= 8:
                model.tool_coil(a, bit)
        if commands:
            model.command(commands[0])
        return None

    async def _link_faults(self) -> None:
        fault = self.model.faults.take_link_fault(("stall", "drop"))
        if fault is None:
            return
        log.info("%s: link fault %s", self.model.tool_name, fault.kind)
        if fault.kind == "drop" and self.on_drop is not None:
            self.on_drop()
        if fault.kind == "stall" and fault.duration_s:
            await asyncio.sleep(fault.duration_s)
        raise NoSuchIdException("link fault: no reply")

    on_drop: Any = None


def _valid_string(words: list[int]) -> bool:
    data = b"".join(bytes([(w >> 8) & 0xFF, w & 0xFF]) for w in words)
    text, _, padding = data.partition(b"\x00")
    if padding.strip(b"\x00"):
        return False
    return all(
        ch in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_." for ch in text
    )


def _shape(packet: bytes, fault: LinkFault) -> bytes:
    if fault.kind == "truncate":
        return packet[: max(1, len(packet) // 2)]
    if fault.kind == "bad_checksum":
        return packet[:-2] + bytes([packet[-2] ^ 0xFF, packet[-1]])
    data = bytearray(packet)
    data[-1] ^= 0x5A
    if len(data) > 7:
        data[7] ^= 0x40  # function code of an MBAP frame / payload byte of an RTU frame
    return bytes(data)


class ModbusFront:
    """Runs a pymodbus server for one model in a thread with its own event loop.

    ``mode="tcp"`` listens on loopback (``port=0``: any free port). ``mode="rtu"`` serves
    on a pty: clients open :attr:`device`; a bridge thread joins it to the server's pty so
    link faults can be applied to the raw bytes.
    """

    def __init__(
        self,
        model: ModbusToolModel,
        *,
        mode: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        unit_ids: Sequence[int] = (1,),
        baudrate: int = 19200,
        parity: str = "E",
    ) -> None:
        self.model = model
        self.mode = mode
        self.host = host
        self.port = port
        self.datastore = ToolDatastore(model, unit_ids=unit_ids)
        self.datastore.on_drop = self._drop_connections
        self.baudrate = baudrate
        self.parity = parity
        self.device = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._bridge: _PtyBridge | None = None

    def start(self) -> None:
        if self.mode == "rtu":
            self._bridge = _PtyBridge()
            self.device = self._bridge.client_device
            if self.parity != "N" and not self._bridge.accepts_parity():
                # Some kernels refuse PARENB on a pty (EINVAL); a pty carries no parity anyway.
                log.info(
                    "%s: this pty refuses parity %s; serving 8N1", self.model.tool_name, self.parity
                )
                self.parity = "N"
        self._thread = threading.Thread(
            target=self._run, name=f"{self.model.tool_name}-modbus", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.model.tool_name}: Modbus server did not start")
        if self._error is not None:
            raise RuntimeError(
                f"{self.model.tool_name}: Modbus server failed: {self._error}"
            ) from self._error
        if self._bridge is not None:
            self._bridge.start()

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            future = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._bridge is not None:
            self._bridge.stop()

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            return data
        fault = self.model.faults.take_link_fault(("garble", "truncate", "bad_checksum"))
        if fault is None:
            return data
        log.info("%s: link fault %s", self.model.tool_name, fault.kind)
        return _shape(data, fault)

    def _drop_connections(self) -> None:
        server = self._server
        if server is None:
            return
        if self._bridge is not None:
            self._bridge.mute(1.0)
            return
        for connection in list(getattr(server, "active_connections", {}).values()):
            with contextlib.suppress(Exception):
                connection.close()

    def _limit_connections(self, connected: bool) -> None:
        server = self._server
        if not connected or server is None:
            return
        connections = list(getattr(server, "active_connections", {}).values())
        if len(connections) > 2:  # README §9.2: up to 2 client connections
            with contextlib.suppress(Exception):
                connections[-1].close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _serve(self) -> None:
        if self.mode == "tcp":
            server: ModbusTcpServer | ModbusSerialServer = ModbusTcpServer(
                self.datastore,
                address=(self.host, self.port),
                ignore_missing_devices=True,
                trace_packet=self._trace_packet,
                trace_connect=self._limit_connections,
            )
        else:
            assert self._bridge is not None
            server = ModbusSerialServer(
                self.datastore,
                framer=FramerType.RTU,
                port=self._bridge.server_device,
                baudrate=self.baudrate,
                parity=self.parity,
                stopbits=1,
                bytesize=8,
                ignore_missing_devices=True,
                trace_packet=self._trace_packet,
            )
        self._server = server
        await server.serve_forever(background=True)
        if self.mode == "tcp":
            listener: Any = server.transport
            self.port = listener.sockets[0].getsockname()[1]

    @property
    def address(self) -> str:
        if self.mode == "tcp":
            return f"modbus+tcp://{self.host}:{self.port}?unit={min(self.datastore.unit_ids)}"
        parity = self.parity
        return f"modbus+rtu://{self.device}?baudrate={self.baudrate}&parity={parity}&unit={min(self.datastore.unit_ids)}"


class _PtyBridge:
    """Two pty pairs joined by a thread: the client opens one slave, the server the other."""

    def __init__(self) -> None:
        self._client_master, client_slave = os.openpty()
        self._server_master, server_slave = os.openpty()
        for fd in (self._client_master, client_slave, self._server_master, server_slave):
            tty.setraw(fd)
        self.client_device = os.ttyname(client_slave)
        self.server_device = os.ttyname(server_slave)
        self._slaves = (client_slave, server_slave)
        self._stop = threading.Event()
        self._mute_until = 0.0
        self._thread = threading.Thread(target=self._run, name="modbus-rtu-bridge", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def accepts_parity(self) -> bool:
        """Whether the kernel lets a serial client enable parity on these ptys."""
        fd = self._slaves[0]
        attrs = termios.tcgetattr(fd)
        trial = list(attrs)
        trial[2] |= termios.PARENB
        try:
            termios.tcsetattr(fd, termios.TCSANOW, trial)
        except termios.error:
            return False
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        return True

    def mute(self, seconds: float) -> None:
        import time

        self._mute_until = time.monotonic() + seconds

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._client_master, self._server_master, *self._slaves):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        import time

        peers = {self._client_master: self._server_master, self._server_master: self._client_master}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(peers), [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if time.monotonic() < self._mute_until:
                    continue
                with contextlib.suppress(OSError):
                    os.write(peers[fd], data)
