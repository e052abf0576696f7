"""Modbus tools (laminator, mold press, etch bath): the common blocks of README §9.2, declared
with the registers of :mod:`drivers.registers`, and the batch tools' recipes, strip ids and
results.

An exception 06 is turned into the catalogue error named by REJECT_REASON (IR 4), with the
interlock names decoded from INTERLOCK_WORD for code 22.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from drivers.base import Tool
from drivers.errors import PacklineError, ParameterOutOfRange, ProtocolError, tool_error
from drivers.heat_up import HeatUpLaw
from drivers.records import AlarmInfo, Identity
from drivers.registers import STRING, U16, U32, Block, Holding, Input, Pulse, Register
from drivers.setpoints import SetPoints
from drivers.states import ToolState
from drivers.transports.modbus import ModbusExceptionReply, ModbusTransport


@dataclass(frozen=True)
class ModbusStatus:
    """The common status block IR 0-27 in one read (``alarm_list`` without its empty slots)."""

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "alarm_list", tuple(code for code in self.alarm_list if code))


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


class BatchResult:
    """What a batch tool's result record (a frozen dataclass) has alike: ``positions``."""

    positions: tuple[PositionResult, ...]

    @property
    def result_map(self) -> str:
        """One character per position or slot (P F X N; X also for "no data")."""
        return "".join(p.result or "X" for p in self.positions)


_POSITION_CODES = {0: "", 1: "P", 2: "F", 3: "X", 4: "N"}
#: Modbus exception codes other than 06 -> (catalogue code, detail), interfaces README §7.
_EXCEPTION_ERRORS = {
    1: (10, "illegal function"),
    2: (10, "illegal data address"),
    3: (13, "illegal data value"),
}


def position_result_char(code: int) -> str:
    """README §4 numeric outcome -> map character."""
    try:
        return _POSITION_CODES[code]
    except KeyError:
        raise ProtocolError(f"position result code {code} not in 0-4") from None


R = TypeVar("R")


class ResultBlock(Block[R]):
    """A batch tool's result block: its POS_RESULT and POS_DEFECT runs become the record's
    ``positions`` (:class:`PositionResult` with the strip ids, read after the block)."""

    derived = ("positions",)

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self.registers += (owner.position_results, owner.position_defects)  # type: ignore[attr-defined]

    def read(self, tool: ModbusTool) -> R:
        assert isinstance(tool, BatchModbusTool)
        fields = self.fields(tool)
        positions = tool.outcomes(fields)
        return self.record(**fields, positions=positions)


class ModbusTool(Tool):
    """Base of the Modbus drivers: the common blocks of README §9.2."""

    #: Interlock names by INTERLOCK_WORD bit, from the tool's interlock table.
    interlock_bits: ClassVar[Sequence[str]] = ()
    #: Phase names by PHASE code.
    phase_names: ClassVar[Sequence[str]] = ("NONE",)
    #: The interlock table's "Blocks" column, where the manual has one: the commands each
    #: interlock refuses. An interlock error (22) then names only the interlocks that block
    #: the command refused (INTERLOCK_WORD also has bits, such as CARRIER while armed, that
    #: block others), or all of them when none is known to.
    interlock_blocks: ClassVar[Mapping[str, frozenset[str]]] = {}

    # -- common holding registers (README §9.2) ------------------------------------------------
    recipe_id = Holding(
        0, U16, limits=(0, 65535), doc="RECIPE_ID: host's recipe number, latched at ARM."
    )
    host_watchdog_s = Holding(1, U16, limits=(0, 600), unit="s", doc="HOST_WATCHDOG_S: 0 = off.")
    host_heartbeat = Holding(
        2, U16, limits=(0, 65535), doc="HOST_HEARTBEAT: any write restarts the host watchdog."
    )

    # -- common status block, IR 0-27 --------------------------------------------------------------
    tool_state = Input(0, enum=ToolState, doc="STATE: README §5 state code.")
    phase_code = Input(1, doc="PHASE: tool-specific phase code (phase_names).")
    active_alarm = Input(2, doc="ACTIVE_ALARM: most recent active alarm, 0 if none.")
    alarm_count = Input(3, doc="ALARM_COUNT: active alarms.")
    reject_reason = Input(4, doc="REJECT_REASON: catalogue code of the last exception 06.")
    reject_count = Input(5, doc="REJECT_COUNT: rejections since power-up.")
    heartbeat_echo = Input(6, doc="HEARTBEAT: tool's counter, +1 per second.")
    recipe_id_active = Input(7, doc="RECIPE_ID_ACTIVE: RECIPE_ID latched at ARM.")
    cycle_elapsed_s = Input(8, U32, unit="s", doc="CYCLE_ELAPSED_S.")
    cycle_remaining_s = Input(10, U32, unit="s", doc="CYCLE_REMAINING_S.")
    cycle_count = Input(12, U32, doc="CYCLE_COUNT: cycles completed since power-up.")
    interlock_word = Input(14, doc="INTERLOCK_WORD: bit per interlock (interlock_bits).")
    warning_count = Input(15, doc="WARNING_COUNT: active warnings.")
    alarm_words = Input(16, count=4, doc="ALARM_WORD_1..4: bit per alarm of the alarm table.")
    alarm_list = Input(20, count=8, doc="ALARM_LIST_1..8: active alarm codes, 0 = empty slot.")

    # -- identification, IR 900-917 ----------------------------------------------------------------
    protocol_version = Input(900, U16, scale=0.01, doc="PROTOCOL_VERSION (1.00).")
    model_name = Input(901, STRING, length=8, doc="MODEL, 16 characters.")
    serial_number = Input(909, STRING, length=8, doc="SERIAL, 16 characters.")
    firmware_code = Input(917, U16, doc="FIRMWARE: 231 = 2.3.1.")

    status = Block(ModbusStatus, state=tool_state, phase=phase_code, heartbeat=heartbeat_echo)

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

    def read_values(self, *registers: Register, translate: bool = True) -> dict[str, Any]:
        """Declared registers of one table in one request over their span, by name.

        ``translate=False`` reads straight from the link: a rejection while reading why a
        request was rejected is not translated again."""
        first = min(register.address for register in registers)
        count = max(register.address + register.words for register in registers) - first
        if translate:
            words = self.read_registers(registers[0].table, first, count)
        else:
            words = self.link.read_input_registers(first, count)
        values = {}
        for register in registers:
            offset = register.address - first
            with self.parsing(f"{register.table}[{register.address}]"):
                values[register.name] = register.from_words(words[offset : offset + register.words])
        return values

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
        """Trigger a command coil once (a command: the finished cycle's status is forgotten)."""
        self._finished = None
        self._call(lambda: self.link.pulse_coil(coil), name)

    def heartbeat(self, value: int = 1) -> None:
        """HOST_HEARTBEAT (HR 2): restart the host watchdog."""
        self.host_heartbeat = value & 0xFFFF

    def write_block(self, fields: Mapping[Register, Any]) -> None:
        """Write several declared holding registers; contiguous ones go in one FC16."""
        items = sorted(
            ((reg, reg.to_words(value)) for reg, value in fields.items()),
            key=lambda item: item[0].address,
        )
        runs: list[tuple[int, list[int], list[str]]] = []  # start, words, names
        for reg, encoded in items:
            if runs and reg.address == runs[-1][0] + len(runs[-1][1]):
                runs[-1][1].extend(encoded)
                runs[-1][2].append(reg.name)
            else:
                runs.append((reg.address, list(encoded), [reg.name]))
        for start, words, names in runs:
            self.write_registers(start, words, sent_as=",".join(names))

    def _call(self, request: Any, sent_as: str = "") -> Any:
        try:
            return request()
        except ModbusExceptionReply as exc:
            raise self._translate(exc, sent_as or exc.sent) from None

    def _translate(self, exc: ModbusExceptionReply, sent: str) -> PacklineError:
        code = exc.exception_code
        if code == 6:
            cls = type(self)
            catalogue, detail = self._raw(cls.reject_reason, cls.reject_count), ""
            if catalogue == 22:
                names = self.interlock_names(self._raw(cls.interlock_word))
                blocks = self.interlock_blocks
                detail = ",".join([n for n in names if sent in blocks.get(n, ())] or names)
            elif catalogue == 23:
                detail = str(self._raw(cls.active_alarm) or "")
            elif catalogue == 20:
                detail = self._raw(cls.tool_state).name
        else:
            catalogue, detail = _EXCEPTION_ERRORS.get(
                code, (code, "gateway" if code in (10, 11) else "")
            )
        return tool_error(catalogue, detail, native_code=code, **self.where(sent))

    def _raw(self, *registers: Register) -> Any:
        """The first of these input registers, read with them straight from the link."""
        return self.read_values(*registers, translate=False)[registers[0].name]

    # -- status -----------------------------------------------------------------------------
    def common_inputs(self) -> CommonInputs:
        """DI 0-7."""
        return CommonInputs(*self.read_discrete_inputs(0, 8))

    def state(self) -> ToolState:
        """STATE (IR 0)."""
        return ToolState(self.tool_state)

    #: The status block of the look that saw the cycle end (DONE/ABORTED), until the next
    #: command coil: CYCLE_ELAPSED_S is held there (README §9.2).
    _finished: ModbusStatus | None = None

    def cycle_look(self) -> tuple[ToolState, float | None]:
        """STATE and CYCLE_REMAINING_S from one read of the status block (IR 0-27)."""
        status = self.status()
        finished = status.state in (ToolState.DONE, ToolState.ABORTED)
        self._finished = status if finished else None
        return status.state, float(status.cycle_remaining_s)

    def finished_cycle_s(self) -> float:
        """CYCLE_ELAPSED_S of the cycle that ended, held in DONE/ABORTED (README §9.2): from
        the look that saw it end when no command was sent since, else read."""
        status = self._finished or self.status()
        return float(status.cycle_elapsed_s)

    def phase(self) -> str:
        """Current phase name (PHASE, IR 1)."""
        code = self.phase_code
        return self.phase_names[code] if code < len(self.phase_names) else f"PHASE{code}"

    def interlock_names(self, word: int) -> list[str]:
        return [name for bit, name in enumerate(self.interlock_bits) if word & (1 << bit)]

    def interlocks(self) -> list[str]:
        """Names of the active interlocks (INTERLOCK_WORD)."""
        return self.interlock_names(self.interlock_word)

    def identify(self) -> Identity:
        """MODEL, SERIAL and FIRMWARE (IR 900-917) in one request."""
        cls = type(self)
        values = self.read_values(
            cls.protocol_version, cls.model_name, cls.serial_number, cls.firmware_code
        )
        firmware = values["firmware_code"]
        return Identity(
            "GENERIC",
            values["model_name"],
            values["serial_number"],
            f"{firmware // 100}.{firmware // 10 % 10}.{firmware % 10}",
        )

    def active_alarms(self) -> list[int]:
        """ALARM_LIST_1..8 (IR 20-27) without the empty slots."""
        return [code for code in self.alarm_list if code]

    def alarm_info(self, code: int) -> AlarmInfo:
        try:
            return self.alarm_table[code]
        except KeyError:
            raise self.protocol_error(
                f"alarm {code} is not in the {self.tool_name} alarm table"
            ) from None

    # -- command coils (README §9.2) --------------------------------------------------------
    arm = Pulse(0, "ARM", doc="ARM: load the recipe registers, validate (14 on conflict), heat up.")
    disarm = Pulse(
        1, "DISARM", doc="DISARM: back to IDLE (holding registers, strip ids, results kept)."
    )
    start = Pulse(2, "START", doc="START: READY -> RUNNING.")
    pause = Pulse(3, "PAUSE", doc="PAUSE: at the tool's next safe point.")
    resume = Pulse(4, "RESUME", doc="RESUME: PAUSED -> RUNNING.")
    abort = Pulse(5, "ABORT", doc="ABORT: the active cycle.")
    clear_alarms = Pulse(
        6, "ALARM_RESET", doc="ALARM_RESET: clear the alarms whose cause has gone."
    )
    acknowledge = Pulse(7, "ACK", doc="ACK: DONE/ABORTED -> READY; results stay readable.")

    # -- batch helpers ---------------------------------------------------------------------
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
    #: The tool's STRIP_ID_1..n run (10 holding registers each) and its result runs
    #: POS_RESULT_1..n and POS_DEFECT_1..n, declared by each tool at its manual's addresses.
    strip_id: ClassVar[Holding]
    position_results: ClassVar[Input]
    position_defects: ClassVar[Input]

    #: The manual's heat-up (§8 rate, §3 stable time) and what it heats: per heater its PV
    #: input register and its SP holding register, and the ± band holding register, by name.
    heat_up_law: ClassVar[HeatUpLaw]
    heaters: ClassVar[Sequence[tuple[str, str]]]
    heat_up_band = "temp_band_c"

    def heat_up_left_s(self) -> float:
        """The set-points and the band (one read), then the PVs (one read), at the manual's
        heat-up rate: the heater furthest below its band sets the time left."""
        cls = type(self)
        set_points = dict.fromkeys(sp for _, sp in self.heaters)  # a shared SP read once
        held = self.read_values(*(getattr(cls, n) for n in (*set_points, self.heat_up_band)))
        pvs = self.read_values(*(getattr(cls, pv) for pv, _ in self.heaters))
        band_c = held[self.heat_up_band]
        return max(
            self.heat_up_law.least_left_s([pvs[pv]], held[sp], band_c) for pv, sp in self.heaters
        )

    @property
    def all_positions(self) -> tuple[int, ...]:
        return tuple(range(1, self.positions + 1))

    def recipe_registers(self, recipe: SetPoints, positions: Sequence[int]) -> dict[Register, Any]:
        """Each set-point to the holding register of the same name, plus LOAD_MASK, every
        value checked against its range (nothing is sent here)."""
        cls = type(self)
        block: dict[Register, Any] = {
            getattr(cls, member): int(value) if isinstance(value, bool) else value
            for member, value in recipe.values().items()
        }
        block[getattr(cls, LOAD_MASK)] = self.mask_of(positions, self.positions)
        for register, value in block.items():
            register.to_words(value)
        return block

    def write_recipe(
        self, recipe: SetPoints, *, positions: Sequence[int] | None = None, **context: Any
    ) -> None:
        """Write the recipe's registers and LOAD_MASK (contiguous ones in one FC16), after its
        ranges and the manual's cross-field rules (:meth:`check_recipe`) were checked."""
        block = self.recipe_registers(recipe, positions or self.all_positions)
        self.check_recipe(recipe, **context)
        self.write_block(block)

    def check_recipe(self, recipe: SetPoints, **context: Any) -> None:
        """The manual's cross-field rules of ``recipe`` (its ``check_rules``)."""
        recipe.check_rules()

    def set_strip_ids(self, strip_ids: Mapping[int, str]) -> None:
        """STRIP_ID_k, each with one FC16 of 10 registers; positions not given are left as they are."""
        for position, strip_id in strip_ids.items():
            type(self).strip_id.set_item(self, position, strip_id)

    def strip_ids(self) -> list[str]:
        """STRIP_ID_1..n as stored on the tool (cleared by ACK), in one request."""
        return list(self.strip_id)

    def outcomes(self, values: dict[str, Any]) -> tuple[PositionResult, ...]:
        """The positions' outcomes from a result block's POS_RESULT and POS_DEFECT runs (taken
        out of ``values``), with the strip ids read from the tool."""
        results = values.pop(type(self).position_results.name)
        defects = values.pop(type(self).position_defects.name)
        return tuple(
            PositionResult(position, position_result_char(code), defect, strip_id)
            for position, code, defect, strip_id in zip(
                self.all_positions, results, defects, self.strip_ids(), strict=True
            )
        )

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
