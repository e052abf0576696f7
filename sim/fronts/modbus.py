"""Modbus front for the simulated batch tools (laminator, mold press, etch bath): TCP on
loopback or RTU on a pty, the tool model behind it, requests judged in README §9.2 order.

The front owns the framing (MBAP, RTU with CRC and etch-bath.md §2 character timing) and
judges every request itself (unit id, then function code 01, quantity/byte count/FC05 value
03 in :mod:`sim.fronts.modbus_pdu`; addresses 02, values 03 and the state 06 with
REJECT_REASON here), writes atomically, and turns commands into model calls. Only the
RTU CRC comes from pymodbus. Link faults: ``stall`` (no reply), ``drop`` (close connections;
RTU: deaf and mute 1 s), ``garble`` and ``truncate`` (corrupted reply bytes),
``bad_checksum`` (RTU: wrong CRC).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import termios
import threading
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pymodbus.framer.rtu import FramerRTU

from sim.faults import LinkFault
from sim.fronts.modbus_map import COMMON_ONLY, RegisterMap
from sim.fronts.modbus_pdu import (
    DEVICE_BUSY,
    ILLEGAL_ADDRESS,
    ILLEGAL_VALUE,
    Request,
    RequestError,
    exception_pdu,
    judge,
    reply_pdu,
)
from sim.modbus_model import COMMAND_COILS, ModbusToolModel, Setting
from sim.tool_model import Reject

log = logging.getLogger("packline.sim.modbus")


class NoReply(Exception):
    """The request gets no reply at all (other unit id, broadcast, stall/drop link fault)."""


class ToolDatastore:
    """Judges one request PDU for the tool model: unit id, README §9.2 steps 1-5, reply PDU."""

    def __init__(
        self,
        model: ModbusToolModel,
        *,
        unit_ids: Sequence[int] = (1,),
        registers: RegisterMap = COMMON_ONLY,
    ) -> None:
        self.model = model
        self.unit_ids = set(unit_ids)
        self.registers = registers
        #: Called for a ``drop`` link fault (the front closes its connections).
        self.on_drop: Callable[[], None] | None = None

    def route(self, unit_id: int) -> tuple[int | None, float]:
        """Unit id check before anything else: README §9.2, other unit ids get no reply
        (:class:`NoReply`). Returns the exception code that answers the request instead (None:
        served) and the wall seconds to wait before that answer (a gateway's)."""
        if unit_id not in self.unit_ids:
            raise NoReply(f"unit {unit_id}")
        return None, 0.0

    def answer_at_once(self, unit_id: int, pdu: bytes) -> bytes | None:
        """The reply PDU for one request PDU when it needs no waiting, computed in the caller's
        loop turn (no task, no further turn: the common case, on every request); None when it
        needs waiting (a queued link fault, a route that waits): then :meth:`answer`.
        :class:`NoReply` when nothing is sent."""
        if self.model.faults.link:  # a stall, drop or shaping fault is queued: the slow path
            return None
        refused, wait_s = self.route(unit_id)
        if wait_s > 0:
            return None
        function = pdu[0] if pdu else 0
        if refused is not None:
            return exception_pdu(function, refused)
        return self._serve(function, pdu)

    async def answer(self, unit_id: int, pdu: bytes) -> bytes:
        """The reply PDU for one request PDU, waiting where it must (a gateway's wait, a stall
        link fault); :class:`NoReply` when nothing is sent."""
        function = pdu[0] if pdu else 0
        refused, wait_s = self.route(unit_id)
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        if refused is not None:
            return exception_pdu(function, refused)
        await self._link_faults()
        return self._serve(function, pdu)

    def _serve(self, function: int, pdu: bytes) -> bytes:
        """README §9.2 steps 1-5 on the model, under its lock: the reply PDU.

        An unexpected exception is logged with the request and answered 03 (decisions.md):
        the endpoint keeps serving.
        """
        try:
            request = judge(pdu)
        except RequestError as error:
            return exception_pdu(function, error.code)
        model = self.model
        try:
            with model.lock:
                model.sync()
                try:
                    result = self.write(request) if request.is_write else self.read(request)
                except Reject as reject:
                    model.reject_reason = reject.code
                    model.reject_count += 1
                    return exception_pdu(function, DEVICE_BUSY)
        except Exception:
            log.exception("%s: unexpected error on request %s", model.tool_name, pdu.hex(" "))
            return exception_pdu(function, ILLEGAL_VALUE)
        if isinstance(result, int):
            return exception_pdu(function, result)
        return reply_pdu(request, result)

    def read(self, request: Request) -> list[int] | int:
        """Step 3 (addresses, 02) for FC01-04; the words or bits read."""
        model, registers = self.model, self.registers
        addresses = range(request.address, request.address + request.count)
        function = request.function
        if function == 4:
            if not registers.input_addresses.issuperset(addresses):
                return ILLEGAL_ADDRESS
            words = registers.input_words(model, addresses.start, addresses.stop - 1)
            return [words.get(a, 0) & 0xFFFF for a in addresses]
        if function == 3:
            if not registers.holding_addresses.issuperset(addresses):
                return ILLEGAL_ADDRESS
            words = registers.holding_words(model)
            return [words[a] for a in addresses]
        if function == 2:
            if not registers.discrete_addresses.issuperset(addresses):
                return ILLEGAL_ADDRESS
            bits = registers.discrete_bits(model)
            return [int(bool(bits.get(a, False))) for a in addresses]
        if not all(registers.is_coil(a) for a in addresses):
            return ILLEGAL_ADDRESS
        return [
            0 if a < len(COMMAND_COILS) else int(model.tool_coil_value(registers.coils[a]))
            for a in addresses
        ]

    def write(self, request: Request) -> list[int] | int | None:
        """Steps 3-5 for FC05/06/15/16; None when written."""
        if request.function in (6, 16):
            return self._write_holding(request.address, list(request.values))
        return self._write_coils(request.address, [bool(v) for v in request.values])

    def _write_holding(self, address: int, words: list[int]) -> int | None:
        """Addresses (02), then every touched register whole and in range (03), then the state
        rule (06 by Reject); the model gets the settings in engineering units at once."""
        model = self.model
        addresses = list(range(address, address + len(words)))
        if not self.registers.holding_addresses.issuperset(addresses):
            return ILLEGAL_ADDRESS
        touched = self.registers.touched_holding_defs(addresses)
        values: dict[str, Setting] = {}
        for definition in touched:
            covered = all(
                a in addresses
                for a in range(definition.address, definition.address + definition.length)
            )
            if definition.length > 1 and not covered:
                return ILLEGAL_VALUE  # partial u32 or string write
            chunk = words[
                definition.address - address : definition.address - address + definition.length
            ]
            if definition.reg_type == "string":
                if not _valid_string(chunk):
                    return ILLEGAL_VALUE
            else:
                raw = definition.raw(chunk)
                if (
                    definition.lo is not None
                    and definition.hi is not None
                    and not definition.lo <= raw <= definition.hi
                ):
                    return ILLEGAL_VALUE
            values[definition.name] = definition.decode(chunk)
        for definition in touched:
            model.check_setting_write(definition.write_rule)
        model.apply_settings(values)
        return None

    def _write_coils(self, address: int, bits: list[bool]) -> int | None:
        model = self.model
        addresses = list(range(address, address + len(bits)))
        if not all(self.registers.is_coil(a) for a in addresses):
            return ILLEGAL_ADDRESS
        commands = [
            COMMAND_COILS[a]
            for a, bit in zip(addresses, bits, strict=True)
            if a < len(COMMAND_COILS) and bit
        ]
        if len(commands) > 1:
            return ILLEGAL_VALUE
        for a, bit in zip(addresses, bits, strict=True):
            if a >= len(COMMAND_COILS):
                model.tool_coil(self.registers.coils[a], bit)
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
        raise NoReply("link fault: no reply")


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
    """Serves one model on Modbus TCP (loopback) or RTU (a pty), on its own event loop thread.

    ``mode="tcp"`` listens on loopback (``port=0``: any free port); ``mode="rtu"`` serves on
    a pty whose other end (:attr:`device`) a serial client opens.
    """

    def __init__(
        self,
        model: ModbusToolModel,
        *,
        mode: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        unit_ids: Sequence[int] = (1,),
        registers: RegisterMap = COMMON_ONLY,
        baudrate: int = 19200,
        parity: str = "E",
    ) -> None:
        if mode not in ("tcp", "rtu"):
            raise ValueError(f"Modbus mode must be tcp or rtu, not {mode!r}")
        self.model = model
        self.mode = mode
        self.host = host
        self.port = port
        self.datastore = ToolDatastore(model, unit_ids=unit_ids, registers=registers)
        self.datastore.on_drop = self._drop_connections
        self.baudrate = baudrate
        self.parity = parity
        self.device = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._connections: list[_MbapConnection] = []
        self._rtu: _RtuLink | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.mode == "rtu":
            self._rtu = _RtuLink(self, rtu_timing(self.baudrate))
            self.device = self._rtu.client_device
            if self.parity != "N" and not self._rtu.accepts_parity():
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

    def stop(self) -> None:
        self._stopping = True
        loop = self._loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._rtu is not None:
            self._rtu.close()

    @property
    def failure(self) -> str | None:
        """Why the endpoint can no longer serve (its loop died), or None."""
        if self._stopping or self._thread is None:
            return None
        if self._error is not None:
            return f"{self.model.tool_name}: Modbus {self.mode} endpoint failed: {self._error!r}"
        if not self._thread.is_alive():
            return f"{self.model.tool_name}: Modbus {self.mode} endpoint stopped"
        if self._server is not None and not _still_listening(self._server):
            # asyncio logs a failing accept() and carries on: without this check the tool
            # would be a zombie that no client can reach.
            return (
                f"{self.model.tool_name}: Modbus TCP listener failed: the socket no longer listens"
            )
        return None

    @property
    def address(self) -> str:
        unit = min(self.datastore.unit_ids)
        if self.mode == "tcp":
            return f"modbus+tcp://{self.host}:{self.port}?unit={unit}"
        return (
            f"modbus+rtu://{self.device}?baudrate={self.baudrate}&parity={self.parity}&unit={unit}"
        )

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
        try:
            loop.run_forever()
        except BaseException as exc:  # reported by failure
            self._error = exc
            log.exception("%s: Modbus event loop failed", self.model.tool_name)
        finally:
            loop.close()

    async def _serve(self) -> None:
        if self.mode == "tcp":
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(
                lambda: _MbapConnection(self), self.host, self.port
            )
            self.port = self._server.sockets[0].getsockname()[1]
        else:
            assert self._rtu is not None
            self._rtu.attach(asyncio.get_running_loop())

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close()
        if self._rtu is not None:
            self._rtu.detach()

    # -- link faults and limits -----------------------------------------------------------------
    def shape_reply(self, adu: bytes) -> bytes:
        """Apply a pending reply link fault (garble, truncate, bad_checksum) to a reply ADU."""
        fault = self.model.faults.take_link_fault(("garble", "truncate", "bad_checksum"))
        if fault is None:
            return adu
        log.info("%s: link fault %s", self.model.tool_name, fault.kind)
        return _shape(adu, fault)

    def _drop_connections(self) -> None:
        if self._rtu is not None:
            self._rtu.mute(1.0)
            return
        for connection in list(self._connections):
            connection.close()

    def admit(self, connection: _MbapConnection) -> bool:
        """README §9.2: up to 2 client connections; a third is closed at once."""
        self._connections = [c for c in self._connections if not c.closed]
        if len(self._connections) >= MAX_TCP_CONNECTIONS:
            return False
        self._connections.append(connection)
        return True


def _still_listening(server: asyncio.Server) -> bool:
    """Whether every listening socket of ``server`` is still in the LISTEN state."""
    try:
        return all(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for sock in server.sockets
        )
    except OSError:
        return False


MAX_TCP_CONNECTIONS = 2
TCP_IDLE_CLOSE_S = 120.0  # README §9.2, wall time
MBAP_HEADER = 7
#: MBAP length fields up to this are read and judged (a PDU over the protocol's 253 bytes gets
#: the quantity/byte-count answer 03); longer ones, or a protocol id other than 0, are framing
#: errors and close the connection (decisions.md).
MAX_MBAP_LENGTH = 300


class _MbapConnection(asyncio.Protocol):
    """One Modbus TCP client: MBAP framing, one outstanding request, idle close."""

    def __init__(self, front: ModbusFront) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.TimerHandle | None = None
        #: Loop time of the last bytes received (the idle close counts from there).
        self._last_s = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._loop = asyncio.get_running_loop()
        if not self.front.admit(self):
            log.debug("%s: connection over the limit closed", self.front.model.tool_name)
            self.closed = True
            transport.close()
            return
        self._last_s = self._loop.time()
        self._idle = self._loop.call_later(TCP_IDLE_CLOSE_S, self._idle_check)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._idle is not None:
            self._idle.cancel()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _idle_check(self) -> None:
        """Close the connection idle for TCP_IDLE_CLOSE_S (wall); else look again when it
        would be. One timer per idle period, not one cancelled and made again per request."""
        assert self._loop is not None
        idle_s = self._loop.time() - self._last_s
        if idle_s >= TCP_IDLE_CLOSE_S:
            self.close()
            return
        self._idle = self._loop.call_later(TCP_IDLE_CLOSE_S - idle_s, self._idle_check)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        assert self._loop is not None
        self._last_s = self._loop.time()
        if self.busy:
            # README §9.2: a request received before the previous reply was sent is discarded.
            log.debug("%s: discarded %r received while busy", self.front.model.tool_name, data)
            return
        self.buffer += data
        if len(self.buffer) < MBAP_HEADER:
            return
        protocol = int.from_bytes(self.buffer[2:4], "big")
        length = int.from_bytes(self.buffer[4:6], "big")
        if protocol != 0 or not 2 <= length <= MAX_MBAP_LENGTH:
            # A framing error: the connection is closed (decisions.md).
            log.info(
                "%s: MBAP framing error %s; connection closed",
                self.front.model.tool_name,
                bytes(self.buffer[:MBAP_HEADER]).hex(" "),
            )
            self.close()
            return
        if len(self.buffer) < 6 + length:
            return
        adu = bytes(self.buffer[: 6 + length])
        if len(self.buffer) > len(adu):
            log.debug("%s: discarded bytes after a request", self.front.model.tool_name)
        self.buffer.clear()
        try:
            pdu = self.front.datastore.answer_at_once(adu[6], adu[MBAP_HEADER:])
        except NoReply:
            return
        except Exception:
            log.exception("%s: request %s not answered", self.front.model.tool_name, adu.hex(" "))
            return
        if pdu is None:  # it must wait: answered by a task, busy meanwhile
            self.busy = True
            self._loop.create_task(self._answer(adu))
            return
        self._reply(adu, pdu)

    async def _answer(self, adu: bytes) -> None:
        try:
            pdu = await self.front.datastore.answer(adu[6], adu[MBAP_HEADER:])
        except NoReply:
            return
        except Exception:
            log.exception("%s: request %s not answered", self.front.model.tool_name, adu.hex(" "))
            return
        finally:
            self.busy = False
        self._reply(adu, pdu)

    def _reply(self, adu: bytes, pdu: bytes) -> None:
        header = adu[:4] + (len(pdu) + 1).to_bytes(2, "big") + adu[6:7]
        if self.transport is not None and not self.closed:
            self.transport.write(self.front.shape_reply(header + pdu))


@dataclass(frozen=True)
class RtuTiming:
    """Character-time limits of etch-bath.md §2, in seconds."""

    inside_frame_gap_s: float  # a gap longer than this inside a frame discards it (1.5 chars)
    frame_end_s: float  # silence that ends a frame (3.5 chars)


def rtu_timing(baudrate: int, bits_per_char: int = 11) -> RtuTiming:
    """1.5 and 3.5 character times; above 19200 baud fixed 0.75 ms and 1.75 ms (etch-bath §2)."""
    if baudrate > 19200:
        return RtuTiming(0.00075, 0.00175)
    char_s = bits_per_char / baudrate
    return RtuTiming(1.5 * char_s, 3.5 * char_s)


class _RtuLink:
    """The tool end of a pty as an RS-485 slave: frames delimited by silence, CRC checked."""

    def __init__(self, front: ModbusFront, timing: RtuTiming) -> None:
        self.front = front
        self.timing = timing
        self.master_fd, self._slave_fd = os.openpty()
        for fd in (self.master_fd, self._slave_fd):
            tty.setraw(fd)
        self.client_device = os.ttyname(self._slave_fd)
        self.buffer = bytearray()
        self.last_byte_s = 0.0
        self.busy = False
        self._mute_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._end_timer: asyncio.TimerHandle | None = None

    def accepts_parity(self) -> bool:
        """Whether the kernel lets a serial client enable parity on this pty."""
        attrs = termios.tcgetattr(self._slave_fd)
        trial = list(attrs)
        trial[2] |= termios.PARENB
        try:
            termios.tcsetattr(self._slave_fd, termios.TCSANOW, trial)
        except termios.error:
            return False
        termios.tcsetattr(self._slave_fd, termios.TCSANOW, attrs)
        return True

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop.add_reader(self.master_fd, self._readable)

    def detach(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.master_fd)

    def close(self) -> None:
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def mute(self, seconds: float) -> None:
        self._mute_until = time.monotonic() + seconds

    def _readable(self) -> None:
        try:
            data = os.read(self.master_fd, 4096)
        except OSError:
            return
        now = time.monotonic()
        if now < self._mute_until or self.busy:
            return  # deaf after a drop fault; one outstanding request on the bus
        if self.buffer and now - self.last_byte_s > self.timing.inside_frame_gap_s:
            self._frame_ended(gap_s=now - self.last_byte_s)
        self.buffer += data
        self.last_byte_s = now
        if self._end_timer is None:  # armed once a frame: it looks again if more bytes came
            assert self._loop is not None
            self._end_timer = self._loop.call_later(self.timing.frame_end_s, self._silence)

    def _silence(self) -> None:
        """3.5 character times after the last byte: the frame ends; before that (bytes came
        since the timer was armed) look again when they will have passed."""
        self._end_timer = None
        if not self.buffer:
            return
        gap_s = time.monotonic() - self.last_byte_s
        if gap_s >= self.timing.frame_end_s:
            self._frame_ended(gap_s=gap_s)
            return
        assert self._loop is not None
        self._end_timer = self._loop.call_later(self.timing.frame_end_s - gap_s, self._silence)

    def _frame_ended(self, *, gap_s: float) -> None:
        frame = bytes(self.buffer)
        self.buffer.clear()
        if gap_s < self.timing.frame_end_s:
            log.debug("%s: gap inside frame %s; discarded", self.front.model.tool_name, frame.hex())
            return
        if len(frame) < 4 or FramerRTU.compute_CRC(frame[:-2]).to_bytes(2, "big") != frame[-2:]:
            log.debug("%s: bad RTU frame %s; discarded", self.front.model.tool_name, frame.hex())
            return
        if frame[0] == 0:
            return  # broadcast: ignored (etch-bath.md §2)
        try:
            pdu = self.front.datastore.answer_at_once(frame[0], frame[1:-2])
        except NoReply:
            return
        except Exception:
            log.exception("%s: request %s not answered", self.front.model.tool_name, frame.hex())
            return
        if pdu is None:  # it must wait: answered by a task, busy (deaf) meanwhile
            self.busy = True
            assert self._loop is not None
            self._loop.create_task(self._answer(frame))
            return
        self._reply(frame, pdu)

    async def _answer(self, frame: bytes) -> None:
        try:
            pdu = await self.front.datastore.answer(frame[0], frame[1:-2])
        except NoReply:
            return
        except Exception:
            log.exception("%s: request %s not answered", self.front.model.tool_name, frame.hex())
            return
        finally:
            self.busy = False
        self._reply(frame, pdu)

    def _reply(self, frame: bytes, pdu: bytes) -> None:
        body = frame[:1] + pdu
        adu = body + FramerRTU.compute_CRC(body).to_bytes(2, "big")
        if time.monotonic() < self._mute_until:
            return
        with contextlib.suppress(OSError):
            os.write(self.master_fd, self.front.shape_reply(adu))
