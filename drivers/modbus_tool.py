"""Modbus tools (laminator, mold press, etch bath): the common blocks of README §9.2 and
declared registers for each tool's own tables.

``Holding(100, S16, scale=0.1, limits=(165.0, 185.0), doc=...)`` is the manual's table row:
reads decode to engineering units, writes check the range first and then send one request
(FC06 for 16-bit values, one FC16 for 32-bit values and strings, as the manual requires).
An exception 06 is turned into the catalogue error named by REJECT_REASON (IR 4), with the
interlock names decoded from INTERLOCK_WORD for code 22.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, overload

from drivers.base import Tool
from drivers.errors import ParameterOutOfRange, ProtocolError, ToolError, tool_error
from drivers.records import AlarmInfo, Identity
from drivers.states import ToolState
from drivers.transports.modbus import ModbusExceptionReply, ModbusTransport
from drivers.values import check_identifier


class RegType(Enum):
    """Register data types of README §9.2."""

    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    STRING = "string"


U16, S16, U32, STRING = RegType.U16, RegType.S16, RegType.U32, RegType.STRING


def encode(value: int, reg_type: RegType) -> list[int]:
    """Raw integer -> register words (u32 high word first)."""
    if reg_type is RegType.S16:
        return [value & 0xFFFF]
    if reg_type is RegType.U32:
        return [(value >> 16) & 0xFFFF, value & 0xFFFF]
    return [value & 0xFFFF]


def decode(words: Sequence[int], reg_type: RegType) -> int:
    """Register words -> raw integer."""
    if reg_type is RegType.S16:
        return words[0] - 0x10000 if words[0] & 0x8000 else words[0]
    if reg_type is RegType.U32:
        return (words[0] << 16) | words[1]
    return words[0]


def encode_string(text: str, registers: int) -> list[int]:
    """Two characters per register, first in the high byte, padded with 0x00."""
    data = text.encode("ascii").ljust(registers * 2, b"\x00")
    return [(data[i] << 8) | data[i + 1] for i in range(0, registers * 2, 2)]


def decode_string(words: Sequence[int]) -> str:
    data = b"".join(bytes([(w >> 8) & 0xFF, w & 0xFF]) for w in words)
    return data.split(b"\x00", 1)[0].decode("ascii", errors="replace")


class Register:
    """A declared register (holding or input), read and written in engineering units."""

    table: ClassVar[str] = "input"

    def __init__(
        self,
        address: int,
        reg_type: RegType = U16,
        *,
        scale: float = 1.0,
        limits: tuple[float, float] | None = None,
        unit: str = "",
        length: int = 10,
        doc: str,
    ) -> None:
        self.address = address
        self.reg_type = reg_type
        self.scale = scale
        self.limits = limits
        self.unit = unit
        self.length = (
            length if reg_type is RegType.STRING else (2 if reg_type is RegType.U32 else 1)
        )
        self.__doc__ = doc
        self.name = f"{self.table}[{address}]"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Register: ...

    @overload
    def __get__(self, instance: ModbusTool, owner: type) -> Any: ...

    def __get__(self, instance: ModbusTool | None, owner: type) -> Any:
        if instance is None:
            return self
        return self.from_words(instance.read_registers(self.table, self.address, self.length))

    def from_words(self, words: Sequence[int]) -> Any:
        """Decode this register's words (used by block reads too)."""
        if self.reg_type is RegType.STRING:
            return decode_string(words)
        raw = decode(words, self.reg_type)
        return raw if self.scale == 1.0 else round(raw * self.scale, 6)

    def to_words(self, value: Any) -> list[int]:
        """Check ``value`` against the manual's range and encode it."""
        if self.reg_type is RegType.STRING:
            return encode_string(
                check_identifier(value, self.name, max_len=self.length * 2), self.length
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterOutOfRange(f"{self.name} must be a number, got {value!r}")
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            lo, hi = self.limits
            raise ParameterOutOfRange(
                f"{self.name} = {value} outside {lo}..{hi} {self.unit}".rstrip()
            )
        raw = round(value / self.scale)
        return encode(raw, self.reg_type)

    def describe(self) -> str:
        if self.limits is None:
            return ""
        return f"{self.limits[0]}..{self.limits[1]} {self.unit}".rstrip()


class Holding(Register):
    """A read/write holding register."""

    table = "holding"

    def __set__(self, instance: ModbusTool, value: Any) -> None:
        instance.write_registers(
            self.address, self.to_words(value), sent_as=f"{self.name}={value!r}"
        )


class Input(Register):
    """A read-only input register."""

    table = "input"


class DiscreteInput:
    """A read-only discrete input bit."""

    def __init__(self, address: int, *, doc: str) -> None:
        self.address = address
        self.__doc__ = doc

    def __get__(self, instance: ModbusTool | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.read_discrete_inputs(self.address, 1)[0]


class LevelCoil:
    """A read/write level coil (e.g. HEATER_ENABLE)."""

    def __init__(self, address: int, *, doc: str) -> None:
        self.address = address
        self.__doc__ = doc

    def __get__(self, instance: ModbusTool | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.read_coils(self.address, 1)[0]

    def __set__(self, instance: ModbusTool, value: bool) -> None:
        if not isinstance(value, bool):
            raise ParameterOutOfRange(f"coil {self.address} takes True or False, got {value!r}")
        instance.write_coil(self.address, value)


# Command coils of README §9.2.
(
    COIL_ARM,
    COIL_DISARM,
    COIL_START,
    COIL_PAUSE,
    COIL_RESUME,
    COIL_ABORT,
    COIL_ALARM_RESET,
    COIL_ACK,
) = range(8)
STATUS_BLOCK = 28  # IR 0-27


@dataclass(frozen=True)
class ModbusStatus:
    """The common status block IR 0-27 in one read."""

    state: ToolState
    phase: int
    active_alarm: int
    alarm_count: int
    reject_reason: int
    reject_count: int
    heartbeat: int
    recipe_id_active: int
    cycle_elapsed_s: int
    cycle_remaining_s: int
    cycle_count: int
    interlock_word: int
    warning_count: int
    alarm_words: tuple[int, int, int, int]
    alarm_list: tuple[int, ...]


@dataclass(frozen=True)
class CommonInputs:
    """The common discrete inputs DI 0-7."""

    alarm_active: bool
    cycle_active: bool
    ready: bool
    results_available: bool
    interlock_active: bool
    estop_ok: bool
    door_closed: bool
    watchdog_expired: bool


@dataclass(frozen=True)
class PositionResult:
    """Batch tools: outcome of one load position / slot (README §4 codes as map characters)."""

    position: int
    result: str  # "P", "F", "X", "N" or "" (no data)
    defect: int
    strip_id: str = ""


_POSITION_CODES = {0: "", 1: "P", 2: "F", 3: "X", 4: "N"}


def position_result_char(code: int) -> str:
    """README §4 numeric outcome -> map character."""
    try:
        return _POSITION_CODES[code]
    except KeyError:
        raise ProtocolError(f"position result code {code} not in 0-4") from None


class ModbusTool(Tool):
    """Base of the Modbus drivers: the common blocks of README §9.2."""

    poll_interval_s = 0.5
    #: Interlock names by INTERLOCK_WORD bit, from the tool's interlock table.
    interlock_bits: ClassVar[Sequence[str]] = ()
    #: The tool's alarm table (Modbus has no text query): code -> AlarmInfo.
    alarm_table: ClassVar[Mapping[int, AlarmInfo]] = {}
    #: Phase names by PHASE code.
    phase_names: ClassVar[Sequence[str]] = ("NONE",)

    recipe_id = Holding(
        0, U16, limits=(0, 65535), doc="RECIPE_ID: host's recipe number, latched at ARM."
    )
    host_watchdog_s = Holding(1, U16, limits=(0, 600), unit="s", doc="HOST_WATCHDOG_S: 0 = off.")
    protocol_version = Input(900, U16, scale=0.01, doc="PROTOCOL_VERSION (1.00).")
    model_name = Input(901, STRING, length=8, doc="MODEL, 16 characters.")
    serial_number = Input(909, STRING, length=8, doc="SERIAL, 16 characters.")
    firmware_code = Input(917, U16, doc="FIRMWARE: 231 = 2.3.1.")

    def __init__(self, address: str, *, timeout_s: float = 1.0, retries: int = 3) -> None:
        super().__init__(address)
        self.link = ModbusTransport(
            address, tool=self.tool_name, timeout_s=timeout_s, retries=retries, logger=self.log
        )

    def connect(self) -> None:
        self.link.open()

    def close(self) -> None:
        self.link.close()

    # -- raw access with the suite's errors ----------------------------------------------
    def read_registers(self, table: str, address: int, count: int) -> list[int]:
        """Read ``count`` holding or input registers."""
        read = (
            self.link.read_holding_registers
            if table == "holding"
            else self.link.read_input_registers
        )
        return self._call(lambda: read(address, count))

    def write_registers(self, address: int, words: Sequence[int], *, sent_as: str = "") -> None:
        """Write holding registers: FC06 for one word, one FC16 for several."""
        if len(words) == 1:
            self._call(lambda: self.link.write_register(address, words[0]), sent_as)
        else:
            self._call(lambda: self.link.write_registers(address, list(words)), sent_as)

    def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        return self._call(lambda: self.link.read_discrete_inputs(address, count))

    def read_coils(self, address: int, count: int) -> list[bool]:
        return self._call(lambda: self.link.read_coils(address, count))

    def write_coil(self, address: int, value: bool) -> None:
        self._call(lambda: self.link.write_coil(address, value))

    def pulse(self, coil: int, name: str) -> None:
        """Trigger a command coil once."""
        self._call(lambda: self.link.pulse_coil(coil), name)

    def heartbeat(self, value: int = 1) -> None:
        """HOST_HEARTBEAT (HR 2): restart the host watchdog."""
        self.write_registers(2, [value & 0xFFFF], sent_as="HOST_HEARTBEAT")

    def write_block(self, fields: Mapping[Register, Any]) -> None:
        """Write several declared holding registers; contiguous ones go in one FC16."""
        items = sorted(
            ((reg, reg.to_words(value)) for reg, value in fields.items()),
            key=lambda item: item[0].address,
        )
        start: int | None = None
        words: list[int] = []
        names: list[str] = []
        for reg, encoded in items:
            if start is not None and reg.address != start + len(words):
                self.write_registers(start, words, sent_as=",".join(names))
                start, words, names = None, [], []
            if start is None:
                start = reg.address
            words.extend(encoded)
            names.append(reg.name)
        if start is not None:
            self.write_registers(start, words, sent_as=",".join(names))

    def _call(self, request: Any, sent_as: str = "") -> Any:
        try:
            return request()
        except ModbusExceptionReply as exc:
            raise self._translate(exc, sent_as or exc.sent) from None

    def _translate(self, exc: ModbusExceptionReply, sent: str) -> ToolError:
        code = exc.exception_code
        if code == 6:
            reason, _count = self.link.read_input_registers(4, 2)
            detail = ""
            if reason == 22:
                detail = ",".join(self.interlock_names(self.link.read_input_registers(14, 1)[0]))
            elif reason == 23:
                detail = str(self.link.read_input_registers(2, 1)[0] or "")
            elif reason == 20:
                detail = ToolState(self.link.read_input_registers(0, 1)[0]).name
            return tool_error(
                reason, detail, native_code=6, tool=self.tool_name, address=self.address, sent=sent
            )
        mapping = {
            1: (10, "illegal function"),
            2: (10, "illegal data address"),
            3: (13, "illegal data value"),
        }
        catalogue, detail = mapping.get(code, (code, "gateway" if code in (10, 11) else ""))
        return tool_error(
            catalogue,
            detail,
            native_code=code,
            tool=self.tool_name,
            address=self.address,
            sent=sent,
        )

    # -- status -----------------------------------------------------------------------------
    def status(self) -> ModbusStatus:
        """IR 0-27 in one request."""
        words = self.read_registers("input", 0, STATUS_BLOCK)
        try:
            state = ToolState(words[0])
        except ValueError:
            raise ProtocolError(
                f"STATE {words[0]} is not a state code", tool=self.tool_name, address=self.address
            ) from None
        return ModbusStatus(
            state=state,
            phase=words[1],
            active_alarm=words[2],
            alarm_count=words[3],
            reject_reason=words[4],
            reject_count=words[5],
            heartbeat=words[6],
            recipe_id_active=words[7],
            cycle_elapsed_s=decode(words[8:10], U32),
            cycle_remaining_s=decode(words[10:12], U32),
            cycle_count=decode(words[12:14], U32),
            interlock_word=words[14],
            warning_count=words[15],
            alarm_words=(words[16], words[17], words[18], words[19]),
            alarm_list=tuple(code for code in words[20:28] if code),
        )

    def common_inputs(self) -> CommonInputs:
        """DI 0-7."""
        return CommonInputs(*self.read_discrete_inputs(0, 8))

    def state(self) -> ToolState:
        try:
            return ToolState(self.read_registers("input", 0, 1)[0])
        except ValueError as exc:
            raise ProtocolError(
                f"bad STATE ({exc})", tool=self.tool_name, address=self.address
            ) from None

    def phase(self) -> str:
        """Current phase name (PHASE, IR 1)."""
        code = self.read_registers("input", 1, 1)[0]
        return self.phase_names[code] if code < len(self.phase_names) else f"PHASE{code}"

    def interlock_names(self, word: int) -> list[str]:
        return [name for bit, name in enumerate(self.interlock_bits) if word & (1 << bit)]

    def interlocks(self) -> list[str]:
        """Names of the active interlocks (INTERLOCK_WORD)."""
        return self.interlock_names(self.read_registers("input", 14, 1)[0])

    def identify(self) -> Identity:
        words = self.read_registers("input", 900, 18)
        firmware = words[17]
        return Identity(
            "GENERIC",
            decode_string(words[1:9]),
            decode_string(words[9:17]),
            f"{firmware // 100}.{firmware // 10 % 10}.{firmware % 10}",
        )

    def active_alarms(self) -> list[int]:
        return [code for code in self.read_registers("input", 20, 8) if code]

    def alarm_info(self, code: int) -> AlarmInfo:
        try:
            return self.alarm_table[code]
        except KeyError:
            raise ProtocolError(
                f"alarm {code} is not in the {self.tool_name} alarm table",
                tool=self.tool_name,
                address=self.address,
            ) from None

    # -- commands -------------------------------------------------------------------------
    def arm(self) -> None:
        """Coil ARM: load the recipe registers, validate (14 on conflict), heat up."""
        self.pulse(COIL_ARM, "ARM")

    def disarm(self) -> None:
        """Coil DISARM: back to IDLE (holding registers, strip ids, results kept)."""
        self.pulse(COIL_DISARM, "DISARM")

    def start(self) -> None:
        self.pulse(COIL_START, "START")

    def pause(self) -> None:
        self.pulse(COIL_PAUSE, "PAUSE")

    def resume(self) -> None:
        self.pulse(COIL_RESUME, "RESUME")

    def abort(self) -> None:
        self.pulse(COIL_ABORT, "ABORT")

    def clear_alarms(self) -> None:
        self.pulse(COIL_ALARM_RESET, "ALARM_RESET")

    def acknowledge(self) -> None:
        self.pulse(COIL_ACK, "ACK")

    # -- batch helpers ---------------------------------------------------------------------
    def write_strip_ids(
        self, first_address: int, strip_ids: Mapping[int, str], positions: int
    ) -> None:
        """STRIP_ID_k fields (10 registers each), each written with one FC16."""
        for position, strip_id in strip_ids.items():
            if not 1 <= position <= positions:
                raise ParameterOutOfRange(f"position {position} outside 1..{positions}")
            words = encode_string(check_identifier(strip_id, f"STRIP_ID_{position}"), 10)
            self.write_registers(
                first_address + 10 * (position - 1),
                words,
                sent_as=f"STRIP_ID_{position}={strip_id!r}",
            )

    def read_strip_ids(self, first_address: int, positions: int) -> list[str]:
        words = self.read_registers("holding", first_address, 10 * positions)
        return [decode_string(words[10 * k : 10 * (k + 1)]) for k in range(positions)]

    @staticmethod
    def mask_of(positions: Sequence[int], count: int) -> int:
        """LOAD_MASK bits for the given 1-based positions."""
        mask = 0
        for position in positions:
            if not 1 <= position <= count:
                raise ParameterOutOfRange(f"position {position} outside 1..{count}")
            mask |= 1 << (position - 1)
        if not mask:
            raise ParameterOutOfRange("at least one position must be loaded")
        return mask


#: Name of the LOAD_MASK holding register every batch tool declares.
LOAD_MASK = "load_mask"


class BatchModbusTool(ModbusTool):
    """A Modbus batch tool (laminator, mold press, etch bath): load positions, each with a
    STRIP_ID field, a LOAD_MASK, and a recipe dataclass whose fields are named like the
    tool's declared holding registers."""

    #: Load positions (slots) of one batch.
    positions: ClassVar[int] = 1
    #: HR address of STRIP_ID_1 (STRIP_ID_k at base + 10·(k-1)).
    strip_id_base: ClassVar[int] = 200

    @property
    def all_positions(self) -> tuple[int, ...]:
        return tuple(range(1, self.positions + 1))

    def recipe_registers(self, recipe: Any, positions: Sequence[int]) -> dict[Register, Any]:
        """Each recipe field to the holding register of the same name, plus LOAD_MASK, every
        value checked against its range (nothing is sent here)."""
        cls = type(self)
        block: dict[Register, Any] = {}
        for field in dataclasses.fields(recipe):
            value = getattr(recipe, field.name)
            block[getattr(cls, field.name)] = int(value) if isinstance(value, bool) else value
        block[getattr(cls, LOAD_MASK)] = self.mask_of(positions, self.positions)
        for register, value in block.items():
            register.to_words(value)
        return block

    def write_recipe(self, recipe: Any, *, positions: Sequence[int] | None = None) -> None:
        """Write the recipe's registers and LOAD_MASK (contiguous ones in one FC16)."""
        self.write_block(self.recipe_registers(recipe, positions or self.all_positions))

    def set_strip_ids(self, strip_ids: Mapping[int, str]) -> None:
        """STRIP_ID_k, each with one FC16 of 10 registers; positions not given are left as they are."""
        self.write_strip_ids(self.strip_id_base, strip_ids, self.positions)

    def strip_ids(self) -> list[str]:
        """STRIP_ID_1..n as stored on the tool (cleared by ACK)."""
        return self.read_strip_ids(self.strip_id_base, self.positions)

    def arm(
        self,
        recipe: Any = None,
        *,
        strip_ids: Mapping[int, str] | None = None,
        **recipe_options: Any,
    ) -> None:
        """Write the recipe (if given) for the positions of ``strip_ids`` (all without them),
        the strip ids, then pulse ARM. ``recipe_options`` go to the tool's ``write_recipe``."""
        if recipe is not None:
            positions = tuple(sorted(strip_ids)) if strip_ids else self.all_positions
            self.write_recipe(recipe, positions=positions, **recipe_options)
        if strip_ids:
            self.set_strip_ids(strip_ids)
        super().arm()
