"""Modbus batch tools (laminator, mold press, etch bath): the common blocks of README §9.2 on
top of :class:`~sim.tool_model.ToolModel`, and declared register tables for each tool.

The model keeps holding registers as raw words (what the host wrote) and computes input
registers and discrete inputs from its state when they are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sim.tool_model import Reject, State, ToolModel

COMMAND_COILS = ("ARM", "DISARM", "START", "PAUSE", "RESUME", "ABORT", "ALARM_RESET", "ACK")


@dataclass(frozen=True)
class HoldingDef:
    """A holding register of the manual's table (raw units, as written on the wire)."""

    address: int
    name: str
    reg_type: str = "u16"  # u16, s16, u32, string
    lo: int | None = None
    hi: int | None = None
    default: int | str = 0
    length: int = 1  # registers (u32: 2, strings: 10)
    #: "recipe" (set-parameter rule), "always" (watchdog, heartbeat), "idle" (station settings)
    write_rule: str = "recipe"

    def contains(self, address: int) -> bool:
        return self.address <= address < self.address + self.length


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


class ModbusToolModel(ToolModel):
    """Common Modbus blocks; tools declare their holding registers, inputs and positions."""

    holding_defs: ClassVar[tuple[HoldingDef, ...]] = ()
    #: Valid address ranges (inclusive) per table, beyond the common ones.
    input_ranges: ClassVar[tuple[tuple[int, int], ...]] = ()
    discrete_ranges: ClassVar[tuple[tuple[int, int], ...]] = ()
    coil_ranges: ClassVar[tuple[tuple[int, int], ...]] = ((0, 7),)
    firmware_code: ClassVar[int] = 231
    positions: ClassVar[int] = 4
    strip_id_base: ClassVar[int] = 200

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holding_by_name = {d.name: d for d in (*COMMON_HOLDING, *self.holding_defs)}
        self.holding: dict[int, int] = {}
        for definition in (*COMMON_HOLDING, *self.holding_defs):
            if definition.reg_type == "string":
                words = string_words(str(definition.default), definition.length)
            else:
                words = words_of(int(definition.default), definition.reg_type)
            for offset, word in enumerate(words):
                self.holding[definition.address + offset] = word
        self.reject_reason = 0
        self.reject_count = 0
        self.heartbeat_s = 0.0
        self.watchdog_idle_s = 0.0

    # -- register values in engineering use --------------------------------------------------
    def hr(self, name: str) -> int:
        """Raw value of a holding register by name (s16 signed, u32 combined)."""
        d = self.holding_by_name[name]
        return value_of([self.holding[d.address + i] for i in range(d.length)], d.reg_type)

    def hr_string(self, name: str) -> str:
        d = self.holding_by_name[name]
        return words_string([self.holding[d.address + i] for i in range(d.length)])

    def strip_id_at(self, position: int) -> str:
        base = self.strip_id_base + 10 * (position - 1)
        return words_string([self.holding[base + i] for i in range(10)])

    def clear_strip_ids(self) -> None:
        for address in range(self.strip_id_base, self.strip_id_base + 10 * self.positions):
            self.holding[address] = 0

    # -- physics of the common blocks ----------------------------------------------------------
    def physics(self, dt_s: float) -> None:
        self.heartbeat_s += dt_s
        timeout = self.hr("HOST_WATCHDOG_S")
        if timeout > 0:
            self.watchdog_idle_s += dt_s
            if self.watchdog_idle_s >= timeout and not self.conditions.get("HOST_WDT"):
                self.conditions["HOST_WDT"] = True
                self.raise_alarm(self.watchdog_alarm())
        self.tool_physics(dt_s)

    def tool_physics(self, dt_s: float) -> None:
        """Tool-specific continuous dynamics."""

    def watchdog_alarm(self) -> int:
        return next(a.code for a in self.alarm_defs if a.code % 1000 == 3)

    def host_heartbeat(self) -> None:
        self.watchdog_idle_s = 0.0
        self.conditions["HOST_WDT"] = False

    def alarm_cause_persists(self, code: int) -> bool:
        if code == self.watchdog_alarm():
            return bool(self.conditions.get("HOST_WDT"))
        return super().alarm_cause_persists(code)

    def on_ack(self) -> None:
        self.clear_strip_ids()

    @property
    def results_available(self) -> bool:
        """Result registers are valid once the cycle has ended (until the next START)."""
        return self.results is not None and not self.cycle_active

    def phase_code(self) -> int:
        """PHASE code of the current phase name (tool's phase table)."""
        names = self.phase_names()
        return names.index(self.phase) if self.phase in names else 0

    def phase_names(self) -> tuple[str, ...]:
        return ("NONE",)

    def remaining_s(self) -> float:
        total = sum(step.duration_s for step in self.steps)
        return max(0.0, total - self.step_elapsed_s)

    # -- writes -----------------------------------------------------------------------------------
    def check_holding_write(self, definition: HoldingDef) -> None:
        """README §9.2: recipe registers follow the set-parameter rule; 06 otherwise."""
        if definition.write_rule == "always":
            return
        if definition.write_rule == "idle":
            if self.state is not State.IDLE:
                raise Reject(20, self.state_name())
            return
        self.check("set")

    def holding_written(self, addresses: list[int]) -> None:
        """React to a write (heartbeat, set-points taking effect at once)."""
        if 2 in addresses:
            self.host_heartbeat()

    def command(self, name: str) -> None:
        """Execute a command coil."""
        {
            "ARM": self.do_arm,
            "DISARM": self.do_disarm,
            "START": self.do_start,
            "PAUSE": self.do_pause,
            "RESUME": self.do_resume,
            "ABORT": self.do_abort,
            "ALARM_RESET": self.clear_alarms,
            "ACK": self.do_ack,
        }[name]()

    def tool_coil(self, address: int, value: bool) -> None:
        """Tool-specific coils (etch bath END_ETCH, HOIST_UP...); 02 if unknown."""
        raise Reject(10)

    def tool_coil_value(self, address: int) -> bool:
        return False
