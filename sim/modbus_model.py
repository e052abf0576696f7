"""Modbus batch tools (laminator, mold press, etch bath): the common behaviour of README §9.2
on top of :class:`~sim.tool_model.ToolModel`.

The model holds the host's settings in engineering units, by the manual's register name
(``CHASE_TOP_SP`` = 175.0 °C), and its physics; which words and bits carry them (addresses,
scales, encodings) is the front side's business (:mod:`sim.fronts.modbus_map` and each tool's
``registers.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sim.tool_model import Reject, State, ToolModel

COMMAND_COILS = ("ARM", "DISARM", "START", "PAUSE", "RESUME", "ABORT", "ALARM_RESET", "ACK")


#: A setting's value in engineering units (a string for a strip id).
Setting = float | int | str

#: The common settings of README §9.2 (RECIPE_ID, HOST_WATCHDOG_S, HOST_HEARTBEAT): power-on values.
COMMON_SETTINGS: dict[str, Setting] = {"RECIPE_ID": 0, "HOST_WATCHDOG_S": 0, "HOST_HEARTBEAT": 0}


class ModbusToolModel(ToolModel):
    """Common behaviour of the batch tools; tools declare their settings and positions."""

    #: The tool's own settings (the manual's holding registers) at power-on, engineering units.
    setting_defaults: ClassVar[dict[str, Setting]] = {}
    positions: ClassVar[int] = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings: dict[str, Setting] = {**COMMON_SETTINGS, **self.setting_defaults}
        self.clear_strip_ids()
        self.reject_reason = 0
        self.reject_count = 0
        self.heartbeat_s = 0.0
        self.watchdog_idle_s = 0.0

    # -- settings ------------------------------------------------------------------------------
    def setting(self, name: str) -> float:
        """A numeric setting in engineering units (KeyError for a name the tool lacks)."""
        value = self.settings[name]
        if isinstance(value, str):
            raise TypeError(f"setting {name} is a string")
        return value

    def setting_int(self, name: str) -> int:
        """A setting that is a count, code or mask."""
        return int(self.setting(name))

    def strip_id_at(self, position: int) -> str:
        """STRIP_ID_<position> as the host wrote it ("" when not written)."""
        return str(self.settings[f"STRIP_ID_{position}"])

    def clear_strip_ids(self) -> None:
        for position in range(1, self.positions + 1):
            self.settings[f"STRIP_ID_{position}"] = ""

    def apply_settings(self, values: dict[str, Setting]) -> None:
        """Take settings the front has judged (ranges, encodings, the state rule) at once."""
        self.settings.update(values)
        self.settings_written(set(values))

    # -- physics of the common blocks ----------------------------------------------------------
    def physics(self, dt_s: float) -> None:
        self.heartbeat_s += dt_s
        timeout = self.setting("HOST_WATCHDOG_S")
        if timeout > 0:
            self.watchdog_idle_s += dt_s
            if self.watchdog_idle_s >= timeout and not self.conditions.get("HOST_WDT"):
                self.conditions["HOST_WDT"] = True
                self.raise_alarm(self.watchdog_alarm())
        self.tool_physics(dt_s)

    def tool_physics(self, dt_s: float) -> None:
        """Tool-specific continuous dynamics."""

    def physics_event_in_s(self) -> float | None:
        """The host watchdog runs out (HOST_WATCHDOG_S without a host write); the heartbeat
        and the watchdog's idle time grow linearly, exact for any step."""
        timeout = float(self.setting("HOST_WATCHDOG_S"))
        if timeout <= 0 or self.conditions.get("HOST_WDT"):
            return None
        return max(timeout - self.watchdog_idle_s, 0.0) + 1e-6

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
    def check_setting_write(self, write_rule: str) -> None:
        """README §9.2: "recipe" settings follow the set-parameter rule, "idle" ones (station
        settings) need IDLE, "always" ones (watchdog, heartbeat) are always written; Reject
        (the front's 06) otherwise."""
        if write_rule == "always":
            return
        if write_rule == "idle":
            if self.state is not State.IDLE:
                raise Reject(20, self.state_name())
            return
        self.check("set")

    def settings_written(self, names: set[str]) -> None:
        """React to a write (heartbeat, set-points taking effect at once)."""
        if "HOST_HEARTBEAT" in names:
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

    def tool_coil(self, name: str, value: bool) -> None:
        """Tool-specific coils by the manual's name (etch bath END_ETCH, HOIST_UP...)."""
        raise Reject(10)

    def tool_coil_value(self, name: str) -> bool:
        return False
