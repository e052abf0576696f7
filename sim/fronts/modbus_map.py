"""The register side of the Modbus simulators: which words and bits carry a model's values.

The models hold engineering values and physics; the register map (addresses, scales,
encodings) is here for the common blocks of README §9.2 and in each tool's ``registers.py``
for its own blocks. A :class:`RegisterMap` joins them for the front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sim.modbus_model import ModbusToolModel, Setting
from sim.tool_model import State

STRING_REGISTERS = 10  # a STRIP_ID is 20 ASCII characters in 10 registers (README §9.2)
#: Per-position result words of the batch tools' result blocks (README §9.2).
RESULT_CODES = {"": 0, "P": 1, "F": 2, "X": 3, "N": 4}


@dataclass(frozen=True)
class HoldingDef:
    """A holding register of the manual's table: the model setting ``name`` it carries.

    ``lo``/``hi`` are the manual's range in register units; the setting is the register value
    divided by ``divisor`` (1750 with divisor 10 is 175.0 °C).
    """

    address: int
    name: str
    reg_type: str = "u16"  # u16, s16, u32, string
    lo: int | None = None
    hi: int | None = None
    divisor: int = 1
    length: int = 1  # registers (u32: 2, strings: 10)
    #: "recipe" (set-parameter rule), "always" (watchdog, heartbeat), "idle" (station settings)
    write_rule: str = "recipe"

    def contains(self, address: int) -> bool:
        return self.address <= address < self.address + self.length

    def encode(self, value: Setting) -> list[int]:
        """The words that carry a setting."""
        if self.reg_type == "string":
            return string_words(str(value), self.length)
        return words_of(round(float(value) * self.divisor), self.reg_type)

    def raw(self, words: list[int]) -> int:
        """The register value of written words (s16 signed, u32 combined)."""
        return value_of(words, self.reg_type)

    def decode(self, words: list[int]) -> Setting:
        """The setting written words carry, in engineering units."""
        if self.reg_type == "string":
            return words_string(words)
        raw = self.raw(words)
        return raw if self.divisor == 1 else raw / self.divisor


def words_of(value: int, reg_type: str) -> list[int]:
    if reg_type == "u32":
        return [(value >> 16) & 0xFFFF, value & 0xFFFF]
    return [value & 0xFFFF]


def value_of(words: list[int], reg_type: str) -> int:
    if reg_type == "s16":
        return words[0] - 0x10000 if words[0] & 0x8000 else words[0]
    if reg_type == "u32":
        return (words[0] << 16) | words[1]
    return words[0]


def string_words(text: str, length: int) -> list[int]:
    data = text.encode("ascii")[: length * 2].ljust(length * 2, b"\x00")
    return [(data[i] << 8) | data[i + 1] for i in range(0, length * 2, 2)]


def words_string(words: list[int]) -> str:
    data = b"".join(bytes([(w >> 8) & 0xFF, w & 0xFF]) for w in words)
    return data.split(b"\x00", 1)[0].decode("ascii", errors="replace")


COMMON_HOLDING = (
    HoldingDef(0, "RECIPE_ID", lo=0, hi=65535),
    HoldingDef(1, "HOST_WATCHDOG_S", lo=0, hi=600, write_rule="always"),
    HoldingDef(2, "HOST_HEARTBEAT", lo=0, hi=65535, write_rule="always"),
)
COMMON_STATUS_LAST = 27
IDENTITY_FIRST, IDENTITY_LAST = 900, 917
COMMON_INPUTS = ((0, COMMON_STATUS_LAST), (IDENTITY_FIRST, IDENTITY_LAST))
COMMON_DISCRETES = ((0, 7),)
#: Coils 0-7: the command coils of README §9.2, in the order of COMMAND_COILS.
COMMON_COILS = ((0, 7),)


def strip_id_defs(positions: int, base: int = 200) -> tuple[HoldingDef, ...]:
    """STRIP_ID_1..n: 10 registers each from ``base`` (README §9.2)."""
    return tuple(
        HoldingDef(
            base + STRING_REGISTERS * k, f"STRIP_ID_{k + 1}", "string", length=STRING_REGISTERS
        )
        for k in range(positions)
    )


def firmware_code(firmware: str) -> int:
    """IR 917 FIRMWARE: "2.3.1" reads 231."""
    return int("".join(part for part in firmware.split(".")))


def _no_words(model: Any) -> dict[int, int]:
    return {}


def _no_bits(model: Any) -> dict[int, bool]:
    return {}


@dataclass(frozen=True)
class RegisterMap:
    """A tool's register map: its holding registers, input-register and discrete-input images
    beyond the common blocks, the valid address ranges (inclusive) and its own coils."""

    holding: tuple[HoldingDef, ...] = ()
    inputs: Callable[[Any], dict[int, int]] = _no_words
    discretes: Callable[[Any], dict[int, bool]] = _no_bits
    input_ranges: tuple[tuple[int, int], ...] = ()
    discrete_ranges: tuple[tuple[int, int], ...] = ()
    #: Coils beyond 0-7, by address: the model's name for them.
    coils: dict[int, str] = field(default_factory=dict)

    @cached_property
    def holding_defs(self) -> tuple[HoldingDef, ...]:
        return (*COMMON_HOLDING, *self.holding)

    # The valid addresses as sets, made once per map (its fields are frozen): a request's
    # addresses are checked by one set look-up each, not a scan of the ranges or definitions.
    @cached_property
    def input_addresses(self) -> frozenset[int]:
        return _addresses(COMMON_INPUTS + self.input_ranges)

    @cached_property
    def discrete_addresses(self) -> frozenset[int]:
        return _addresses(COMMON_DISCRETES + self.discrete_ranges)

    @cached_property
    def holding_addresses(self) -> frozenset[int]:
        return frozenset(
            address for d in self.holding_defs for address in range(d.address, d.address + d.length)
        )

    @cached_property
    def holding_defs_at(self) -> dict[int, tuple[int, ...]]:
        """Each holding address's definitions, as indices into :attr:`holding_defs`."""
        at: dict[int, tuple[int, ...]] = {}
        for index, d in enumerate(self.holding_defs):
            for address in range(d.address, d.address + d.length):
                at[address] = (*at.get(address, ()), index)
        return at

    def touched_holding_defs(self, addresses: Iterable[int]) -> list[HoldingDef]:
        """The definitions that hold any of ``addresses`` (all valid), in table order."""
        at, defs = self.holding_defs_at, self.holding_defs
        return [defs[i] for i in sorted({i for a in addresses for i in at[a]})]

    def holding_def(self, name: str) -> HoldingDef:
        return next(d for d in self.holding_defs if d.name == name)

    def holding_words(self, model: ModbusToolModel) -> dict[int, int]:
        """HR image: every setting encoded at its address."""
        words: dict[int, int] = {}
        for definition in self.holding_defs:
            encoded = definition.encode(model.settings[definition.name])
            for offset, word in enumerate(encoded):
                words[definition.address + offset] = word
        return words

    def input_words(
        self, model: ModbusToolModel, first: int = 0, last: int = 0xFFFF
    ) -> dict[int, int]:
        """IR image: the common blocks and the tool's own; only the blocks that meet
        ``first``-``last`` are made (a poll of IR 0-27 does not build the rest)."""
        words: dict[int, int] = {}
        if first <= COMMON_STATUS_LAST:
            words |= common_status_words(model)
        if first <= IDENTITY_LAST and last >= IDENTITY_FIRST:
            words |= identity_words(model)
        if any(first <= hi and lo <= last for lo, hi in self.input_ranges):
            words |= self.inputs(model)
        return words

    def discrete_bits(self, model: ModbusToolModel) -> dict[int, bool]:
        return common_discrete_image(model) | self.discretes(model)

    def is_input(self, address: int) -> bool:
        return address in self.input_addresses

    def is_discrete(self, address: int) -> bool:
        return address in self.discrete_addresses

    def is_coil(self, address: int) -> bool:
        return _in_ranges(address, COMMON_COILS) or address in self.coils

    def is_holding(self, address: int) -> bool:
        return address in self.holding_addresses


def _in_ranges(address: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= address <= hi for lo, hi in ranges)


def _addresses(ranges: tuple[tuple[int, int], ...]) -> frozenset[int]:
    """Every address of the inclusive ``ranges``."""
    return frozenset(address for lo, hi in ranges for address in range(lo, hi + 1))


#: A tool with only the common blocks.
COMMON_ONLY = RegisterMap()


def common_input_image(model: ModbusToolModel) -> dict[int, int]:
    """IR 0-27 and 900-917 (README §9.2 common blocks)."""
    return common_status_words(model) | identity_words(model)


def common_status_words(model: ModbusToolModel) -> dict[int, int]:
    """IR 0-27 (README §9.2): state, phase, alarms, cycle counts and times."""
    words: dict[int, int] = {}
    state = model.state
    elapsed = int(model.cycle_elapsed_s)
    remaining = int(model.remaining_s()) if model.cycle_active else 0
    alarm_words = [0, 0, 0, 0]
    for code in model.active_alarms:
        bit = model.alarm_by_code[code].word_bit
        if bit is not None:
            alarm_words[bit[0] - 1] |= 1 << bit[1]
    active_list = (model.active_alarms + [0] * 8)[:8]
    interlock_word = 0
    for index, (name, _) in enumerate(model.interlock_table):
        if model.interlock_active(name):
            interlock_word |= 1 << index
    values = [
        int(state),
        model.phase_code(),
        model.blocking_alarm() or 0 if state is State.ALARM else 0,
        len(model.active_alarms),
        model.reject_reason,
        model.reject_count & 0xFFFF,
        int(model.heartbeat_s) & 0xFFFF,
        model.setting_int("RECIPE_ID") if model.armed else 0,
        *words_of(elapsed, "u32"),
        *words_of(remaining, "u32"),
        *words_of(model.cycle_count, "u32"),
        interlock_word,
        sum(1 for c in model.active_alarms if model.alarm_by_code[c].alarm_class == "W"),
        *alarm_words,
        *active_list,
    ]
    words.update(enumerate(values))
    return words


def identity_words(model: ModbusToolModel) -> dict[int, int]:
    """IR 900-917 (README §9.2): map version, model, serial, firmware."""
    words = {900: 100}
    for offset, word in enumerate(string_words(model.model_name, 8)):
        words[901 + offset] = word
    for offset, word in enumerate(string_words(model.serial, 8)):
        words[909 + offset] = word
    words[917] = firmware_code(model.firmware)
    return words


def common_discrete_image(model: ModbusToolModel) -> dict[int, bool]:
    """DI 0-7 (README §9.2 common blocks)."""
    return {
        0: bool(model.active_alarms),
        1: model.cycle_active,
        2: model.state is State.READY,
        3: model.results_available,
        4: bool(model.active_interlocks()),
        5: not model.conditions.get("ESTOP", False),
        6: not model.conditions.get("DOOR", False),
        7: bool(model.conditions.get("HOST_WDT", False)),
    }
