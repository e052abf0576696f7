"""LM-8 process model: heat-up, the CLOSE..VENT lamination profile, alarms, interlocks,
per-position results and the Cu slice / plate sheet it leaves on the strips (laminator.md).

Process conditions a test or scenario can switch (``faults.condition(NAME)``), besides the
manual's interlock conditions ESTOP, DOOR, HYDRAULIC, COOLING_WATER and LOAD (loader fault:
no strips in the positions):

- ``VACUUM_LEAK``: chamber leak; pump-down stalls at 8 kPa (1121 in EVACUATE, 1122 in DWELL);
- ``PRESS_VALVE``: pressure builds at 20 % of the normal rate (1111);
- ``PRESS_LEAK``: the press holds only 70 % of PRESSURE_SP (1112 in DWELL);
- ``HEATER_WEAK_TOP`` / ``HEATER_WEAK_BOT``: the platen settles below its set-point (1104, 1105);
- ``RUNAWAY_TOP`` / ``RUNAWAY_BOT``: heater stuck on (1101 / 1102, the heater trips);
- ``TC_OPEN``: thermocouple broken (1103);
- ``COOLING_WEAK``: reduced cooling water flow; cooling at 1.5 °C/min (1131).

``model.fix(code)`` removes the cause of an alarm (operator remedy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from sim.laminator.dwell_log import (
    LOG_INTERVAL_S,
    SettledReadings,
    first_reading_after_s,
    max_abs_and_max_of_normals,
    max_of_normals,
    readings_between,
)
from sim.laminator.physics import (
    BUILD_RATE_MPA_PER_S,
    COOL_RATE_MAX_C_PER_S,
    HEAT_RATE_MAX_C_PER_S,
    NATURAL_COOL_C_PER_S,
    PLATEN_TAU_S,
    PUMP_TAU_S,
    ULTIMATE_KPA,
    WEAK_COOL_C_PER_S,
    Chamber,
    Platen,
    Press,
)
from sim.laminator.tables import (
    ABORT_DEFECT,
    ABORT_VENT_S,
    ADHESIVE_RANGE_UM,
    ALARM_DEFS,
    CLOSE_S,
    CONDITION_ALARMS,
    HEATUP_TIMEOUT_S,
    HOLD_AT_ONCE_PHASES,
    INTERLOCK_TABLE,
    MARKING_ALARMS,
    OVERTEMP_ABSOLUTE_C,
    OVERTEMP_MARGIN_C,
    PHASES,
    PRESSING_PHASES,
    PRESSURE_BUILD_TIMEOUT_S,
    PRESSURE_DEVIATION_S,
    PUMPDOWN_TYPICAL_S,
    PUMPING_PHASES,
    REMEDIES,
    SETTING_DEFAULTS,
    SLOW_COOL_S,
    STACK_FORMATS,
    STANDBY_GAP_C,
    TEMP_DEVIATION_S,
    VACUUM_LOST_S,
    VACUUM_TIMEOUT_S,
    VENT_S,
)
from sim.modbus_model import ModbusToolModel, Setting
from sim.tool_model import CycleResults, Reject, SiteResult, State, Step

TEMP_NOISE_C = 0.2  # thermocouple noise in PEAK_TEMP / MAX_TEMP_DEV
PRESSURE_NOISE_MPA = 0.004
#: Process conditions under which a dwell is stepped: they move a platen, the press or the
#: chamber away from its set-point (or trip a heater).
DWELL_UNSETTLING = frozenset(
    {
        "VACUUM_LEAK",
        "PRESS_LEAK",
        "HYDRAULIC",
        "RUNAWAY_TOP",
        "RUNAWAY_BOT",
        "HEATER_WEAK_TOP",
        "HEATER_WEAK_BOT",
        "TC_OPEN",
    }
)


@dataclass
class DwellStats:
    """What §4 reports about one cycle (IR 126-130), in engineering units."""

    peak_temp_c: float = 0.0
    max_temp_dev_c: float = 0.0
    min_pressure_mpa: float | None = None
    max_vacuum_kpa: float | None = None
    voids: bool = False


class LaminatorModel(ModbusToolModel):
    """The simulated LM-8 vacuum laminator behind the Modbus front."""

    tool_name = "laminator"
    model_name = "LM-8"
    serial = "LM8-00008"
    firmware = "2.3.1"
    init_s = 10.0
    stable_s = 60.0
    #: Every timer of §7 is 30 s or longer: 5 s steps keep a 94 min cycle cheap at high time
    #: scales; a settled dwell (most of the cycle) is not stepped at all.
    max_step_s = LOG_INTERVAL_S
    positions = 8

    alarm_defs = ALARM_DEFS
    interlock_table = INTERLOCK_TABLE
    condition_alarms: ClassVar[dict[str, int]] = CONDITION_ALARMS
    setting_defaults: ClassVar[dict[str, Setting]] = SETTING_DEFAULTS

    def __init__(
        self,
        *args: Any,
        stack: str = "cu-slice",
        slice_thickness_um: float = 200.0,
        adhesive_thickness_um: float = 25.0,
        **kwargs: Any,
    ) -> None:
        if stack not in STACK_FORMATS:
            raise ValueError(f"stack {stack!r} not one of {', '.join(STACK_FORMATS)}")
        lo, hi = ADHESIVE_RANGE_UM
        if not lo <= adhesive_thickness_um <= hi:
            raise ValueError(f"adhesive_thickness_um {adhesive_thickness_um} outside {lo}-{hi} µm")
        if slice_thickness_um <= 0:
            raise ValueError(f"slice_thickness_um must be positive, got {slice_thickness_um}")
        super().__init__(*args, **kwargs)
        self.stack = stack
        self.slice_thickness_um = slice_thickness_um
        self.adhesive_thickness_um = adhesive_thickness_um
        self.top = Platen()
        self.bottom = Platen()
        self.chamber = Chamber()
        self.press = Press()
        self.heatup_s: float | None = None  # time since ARM until READY (1105)
        self.cycle_mask = 0
        self.cycle_strip_ids: dict[int, str] = {}
        self.program_sp_c = 0.0  # the profile's set-point while a cycle runs
        self.marks: set[int] = set()
        self.pressed = False  # PRESSURIZE completed (abort: F 1504 instead of N)
        self.aborting = False
        self.vent_remaining_s = 0.0
        self.pumpdown_s = 0.0
        self.vacuum_reached = False
        self.evac_hold_s = 0.0
        self.build_s = 0.0
        self.dwell_actual_s = 0.0
        self.cycle_dwell_s: float | None = None  # DWELL_S latched at START
        self.stats = DwellStats()
        self.logged = SettledReadings()
        self.watch_s = {"temp": 0.0, "pressure": 0.0, "vacuum": 0.0, "cool": 0.0}

    # -- set-points in engineering units ----------------------------------------------------
    @property
    def platen_sp_c(self) -> float:
        return self.setting("PLATEN_SP")

    @property
    def standby_sp_c(self) -> float:
        return self.setting("STANDBY_SP")

    @property
    def temp_band_c(self) -> float:
        return self.setting("TEMP_BAND")

    @property
    def pressure_sp_mpa(self) -> float:
        return self.setting("PRESSURE_SP")

    @property
    def pressure_band_mpa(self) -> float:
        return self.setting("PRESSURE_BAND")

    @property
    def vacuum_sp_kpa(self) -> float:
        return self.setting("VACUUM_SP")

    @property
    def overtemp_limit_c(self) -> float:
        return min(self.platen_sp_c + OVERTEMP_MARGIN_C, OVERTEMP_ABSOLUTE_C)

    def phase_names(self) -> tuple[str, ...]:
        return PHASES

    def active_sp_c(self) -> float | None:
        """TEMP_SP_ACTIVE: None (0) when the heaters are off, else standby or the profile."""
        if not self.armed:
            return None
        if self.cycle_active and not self.aborting:
            return self.program_sp_c
        return self.standby_sp_c

    # -- physics ------------------------------------------------------------------------------
    def tool_physics(self, dt_s: float) -> None:
        settled_dwell = self._dwell_settled()  # as at the step's start: nothing moves in it
        settled_ramp = not settled_dwell and self._ramp_settled()
        if settled_dwell:
            self._log_settled(dt_s)
        else:
            self._fold_logged()
        self._heat(dt_s)
        self._evacuate_and_press(dt_s)
        if self.cycle_active and not self.aborting:
            self._run_profile(dt_s)
            if settled_ramp:
                # The platens below PLATEN_SP, following their ramp: the peak is the dwell's.
                peak = max(self.stats.peak_temp_c, self.top.pv_c, self.bottom.pv_c)
                self.stats.peak_temp_c = peak
            elif not settled_dwell:
                self._watch(dt_s)
        self._watch_heaters(dt_s)

    # -- events: outside a cycle the laminator jumps between them once its platens settle ----
    #: A platen this close to its goal holds it (its first-order approach, τ 10 s, is done).
    SETTLED_C = 1e-6
    #: The press this close to its set-point holds it (PRESSURIZE ends on it exactly).
    SETTLED_MPA = 1e-9

    def physics_settled(self) -> bool:
        """No cycle and no abort vent running, and both platens at their goal (standby,
        ambient, or a weak heater's 95 %): nothing moves but the heat-up timer. In a cycle,
        a settled dwell (:meth:`_dwell_settled`) or ramp (:meth:`_ramp_settled`); the other
        phases are stepped on the grid (the press builds, the chamber pumps down)."""
        if self.cycle_active or self.vent_remaining_s > 0.0:
            return self._dwell_settled() or self._ramp_settled()
        target, tc_ok = self.active_sp_c(), not self.conditions.get("TC_OPEN")
        for platen, side, trip in ((self.top, "TOP", 1101), (self.bottom, "BOT", 1102)):
            if self.conditions.get(f"RUNAWAY_{side}"):
                return False
            goal = platen.goal_c(
                target,
                heater_on=tc_ok and trip not in self.active_alarms,
                weak=bool(self.conditions.get(f"HEATER_WEAK_{side}")),
            )
            if abs(platen.pv_c - goal) > self.SETTLED_C:
                return False
        return True

    def physics_event_in_s(self) -> float | None:
        """The host watchdog, the heat-up timeout (1105) of a tool that stays HEATING, and
        the end of a settled dwell or ramp."""
        events = [super().physics_event_in_s()]
        if self.heatup_s is not None and self.armed and self.state in (State.HEATING, State.ALARM):
            events.append(HEATUP_TIMEOUT_S - self.heatup_s + 1e-6)
        if self._dwell_settled():
            events.append(self.setting("DWELL_S") - self.dwell_actual_s + 1e-6)
        if self._ramp_settled():
            events.append(self._ramp_event_in_s())
        ahead = [t for t in events if t is not None and t > 1e-9]
        return min(ahead) if ahead else None

    def _event_driven(self) -> bool:
        """DWELL and RAMP end on conditions (in-band time reaching DWELL_S, the ramp at its
        end), but while they are settled those times are announced
        (:meth:`physics_event_in_s`)."""
        if self._dwell_settled() or self._ramp_settled():
            return True
        if self.cycle_active or self.vent_remaining_s > 0.0:
            return False  # physics_settled() would only ask the same two again
        return super()._event_driven()

    def _ramp_c_per_s(self) -> float:
        """How fast the profile's set-point moves now: +RAMP_RATE in RAMP below PLATEN_SP,
        -COOL_RATE in COOL above UNLOAD_SP, else 0 (held, frozen, or at its end)."""
        if not (self.cycle_active and not self.aborting and self._cycle_moving()):
            return 0.0
        if self.phase == "RAMP" and self.program_sp_c < self.platen_sp_c:
            return self.setting("RAMP_RATE") / 60.0
        if self.phase == "COOL" and self.program_sp_c > self.setting("UNLOAD_SP"):
            return -self.setting("COOL_RATE") / 60.0
        return 0.0

    def _ramp_settled(self) -> bool:
        """RAMP runs with nothing but the platens following the profile's set-point (exact
        for any step: :meth:`Platen.step`), the press holding and the chamber pumping (exact
        too): no fault condition, no tripped heater, and neither platen's rate near its
        limits (it moves from its present rate towards the ramp's). COOL, which ends when
        the platens have cooled, stays on the grid (the same law, stepped)."""
        if not (self.cycle_active and self.phase == "RAMP" and self.step_started):
            return False
        if self.aborting or self.vent_remaining_s > 0.0 or not self._cycle_moving():
            return False
        if any(self.conditions.values()) or 1101 in self.active_alarms:
            return False
        if 1102 in self.active_alarms:
            return False
        ramp = self._ramp_c_per_s()
        for platen in (self.top, self.bottom):
            rate_now = (self.program_sp_c - platen.pv_c) / PLATEN_TAU_S
            if max(rate_now, ramp) > HEAT_RATE_MAX_C_PER_S:
                return False
            if min(rate_now, ramp) < -COOL_RATE_MAX_C_PER_S:
                return False
        return True

    def _ramp_event_in_s(self) -> float:
        """A settled RAMP's end: the set-point at PLATEN_SP."""
        return (self.platen_sp_c - self.program_sp_c) / self._ramp_c_per_s() + 1e-6

    def _dwell_settled(self) -> bool:
        """The dwell runs and nothing in it moves but timers and the chamber's pump-down
        (exact for any step): both platens at PLATEN_SP, the press at PRESSURE_SP, the
        chamber at or below VACUUM_SP, no fault condition that would move them. Its
        statistics then need only the number of readings (:mod:`sim.laminator.dwell_log`)."""
        if not (self.cycle_active and self.phase == "DWELL" and self.step_started):
            return False
        if self.aborting or self.vent_remaining_s > 0.0 or not self._cycle_moving():
            return False
        if any(self.conditions.get(name) for name in DWELL_UNSETTLING):
            return False
        if 1101 in self.active_alarms or 1102 in self.active_alarms:  # a tripped heater
            return False
        sp = self.platen_sp_c
        platens_at_sp = all(abs(p.pv_c - sp) <= self.SETTLED_C for p in (self.top, self.bottom))
        press_at_sp = abs(self.press.pressure_mpa - self.pressure_sp_mpa) <= self.SETTLED_MPA
        return platens_at_sp and press_at_sp and self.chamber.pressure_kpa <= self.vacuum_sp_kpa

    def _log_settled(self, dt_s: float) -> None:
        """A settled dwell step: count its readings of the set-points (folded later, at once:
        :meth:`_fold_logged`); the chamber, still falling, is at its highest at the step's
        first reading."""
        start_s = self.time_s - dt_s
        count = readings_between(start_s, self.time_s)
        self.watch_s |= {"temp": 0.0, "pressure": 0.0, "vacuum": 0.0}
        if count == 0:
            return
        first_s = first_reading_after_s(start_s) - start_s
        vacuum = ULTIMATE_KPA + (self.chamber.pressure_kpa - ULTIMATE_KPA) * math.exp(
            -first_s / PUMP_TAU_S
        )
        stats = self.stats
        if stats.max_vacuum_kpa is None or vacuum > stats.max_vacuum_kpa:
            stats.max_vacuum_kpa = vacuum
        values = (self.platen_sp_c, self.pressure_sp_mpa)
        logged = self.logged
        if logged.count and (logged.platen_c, logged.pressure_mpa) != values:
            self._fold_logged()
        logged.platen_c, logged.pressure_mpa = values
        logged.count += count

    def _fold_logged(self) -> None:
        """Fold the settled dwell's readings into the statistics: per platen the highest
        and the largest deviation of its readings, the lowest pressure reading."""
        logged, stats = self.logged, self.stats
        count = logged.count
        if count == 0:
            return
        logged.count = 0
        for _platen in ("top", "bottom"):
            largest_abs, largest = max_abs_and_max_of_normals(self.rng, count)
            stats.peak_temp_c = max(stats.peak_temp_c, logged.platen_c + TEMP_NOISE_C * largest)
            stats.max_temp_dev_c = max(stats.max_temp_dev_c, TEMP_NOISE_C * largest_abs)
        lowest = logged.pressure_mpa - PRESSURE_NOISE_MPA * max_of_normals(self.rng, count)
        if stats.min_pressure_mpa is None or lowest < stats.min_pressure_mpa:
            stats.min_pressure_mpa = lowest

    def _heat(self, dt_s: float) -> None:
        target = self.active_sp_c()
        if self.conditions.get("COOLING_WATER"):
            cool_max = NATURAL_COOL_C_PER_S
        elif self.conditions.get("COOLING_WEAK"):
            cool_max = WEAK_COOL_C_PER_S
        else:
            cool_max = COOL_RATE_MAX_C_PER_S
        tc_ok = not self.conditions.get("TC_OPEN")
        # The profile's set-point moves during the step until it reaches its end, then holds.
        ramp = self._ramp_c_per_s()
        ramp_s = dt_s
        if ramp > 0.0:
            ramp_s = min(dt_s, (self.platen_sp_c - self.program_sp_c) / ramp)
        elif ramp < 0.0:
            ramp_s = min(dt_s, (self.program_sp_c - self.setting("UNLOAD_SP")) / -ramp)
        parts = [(target, ramp_s, ramp)]
        if ramp and dt_s - ramp_s > 1e-12:
            assert target is not None  # a ramp runs in a cycle, heaters on
            parts.append((target + ramp * ramp_s, dt_s - ramp_s, 0.0))
        for part_target, part_s, part_ramp in parts:
            if part_s <= 1e-12:
                continue
            for platen, side, trip in ((self.top, "TOP", 1101), (self.bottom, "BOT", 1102)):
                platen.step(
                    part_target,
                    part_s,
                    cool_max_c_per_s=cool_max,
                    heater_on=tc_ok and trip not in self.active_alarms,
                    weak=bool(self.conditions.get(f"HEATER_WEAK_{side}")),
                    runaway=bool(self.conditions.get(f"RUNAWAY_{side}")),
                    ramp_c_per_s=part_ramp,
                )

    def _evacuate_and_press(self, dt_s: float) -> None:
        if self.vent_remaining_s > 0.0:
            self.vent_remaining_s = max(0.0, self.vent_remaining_s - dt_s)
            self.press.release(dt_s)
            self.chamber.vent(dt_s)
            if self.vent_remaining_s == 0.0:
                self.chamber.open()
            return
        if not self.cycle_active or self.aborting:
            return  # §3 abort: released and vented; an aborted cycle waiting in ALARM stays so
        if self.phase == "VENT":
            self.press.release(dt_s)
            self.chamber.vent(dt_s)
            return
        if self.phase in PUMPING_PHASES:
            self.chamber.pump(dt_s, leak=bool(self.conditions.get("VACUUM_LEAK")))
        if self.phase in PRESSING_PHASES and not self.conditions.get("HYDRAULIC"):
            self.press.regulate(
                self.pressure_sp_mpa, dt_s, leak=bool(self.conditions.get("PRESS_LEAK"))
            )

    def _run_profile(self, dt_s: float) -> None:
        """Timers and ramps of the phase in progress; frozen while the cycle is held."""
        moving = self._cycle_moving()
        if self.phase == "EVACUATE":
            if self.chamber.pressure_kpa <= self.vacuum_sp_kpa:
                self.vacuum_reached = True
                if moving:
                    self.evac_hold_s += dt_s
            elif not self.vacuum_reached:
                self.pumpdown_s += dt_s
                if self.pumpdown_s > VACUUM_TIMEOUT_S:
                    self.raise_alarm(1121)
        elif self.phase == "PRESSURIZE" and moving:
            if not self.conditions.get("HYDRAULIC"):
                self.press.build(
                    self.pressure_sp_mpa, dt_s, slow=bool(self.conditions.get("PRESS_VALVE"))
                )
            self.build_s += dt_s
            if self.build_s > PRESSURE_BUILD_TIMEOUT_S and not self._pressure_reached():
                self.raise_alarm(1111)
        elif self.phase == "RAMP" and moving:
            rate = self.setting("RAMP_RATE") / 60.0
            self.program_sp_c = min(self.platen_sp_c, self.program_sp_c + rate * dt_s)
        elif self.phase == "DWELL" and moving and self._platens_in_band(self.platen_sp_c):
            self.dwell_actual_s = min(self.setting("DWELL_S"), self.dwell_actual_s + dt_s)
        elif self.phase == "COOL" and moving:
            rate = self.setting("COOL_RATE") / 60.0
            self._watch_cooling(dt_s, rate)
            self.program_sp_c = max(self.setting("UNLOAD_SP"), self.program_sp_c - rate * dt_s)

    def _watch_cooling(self, dt_s: float, rate_c_per_s: float) -> None:
        """1131: actual cooling slower than half of COOL_RATE for more than 5 min."""
        actual = -max(self.top.rate_c_per_s, self.bottom.rate_c_per_s)
        ramping = self.program_sp_c > self.setting("UNLOAD_SP")
        if ramping and actual < 0.5 * rate_c_per_s:
            self.watch_s["cool"] += dt_s
            if self.watch_s["cool"] > SLOW_COOL_S:
                self.raise_alarm(1131, cause_for_s=0.0)
                self.watch_s["cool"] = 0.0
        else:
            self.watch_s["cool"] = 0.0

    def _watch(self, dt_s: float) -> None:
        """Cycle statistics and the dwell deviation alarms (1104, 1112, 1122)."""
        stats = self.stats
        measured = [
            pv + self.rng.gauss(0.0, TEMP_NOISE_C) for pv in (self.top.pv_c, self.bottom.pv_c)
        ]
        stats.peak_temp_c = max(stats.peak_temp_c, *measured)
        if self.phase != "DWELL":
            return
        platen_sp = self.platen_sp_c
        stats.max_temp_dev_c = max(stats.max_temp_dev_c, *(abs(pv - platen_sp) for pv in measured))
        pressure = self.press.pressure_mpa + self.rng.gauss(0.0, PRESSURE_NOISE_MPA)
        vacuum = self.chamber.pressure_kpa
        if stats.min_pressure_mpa is None or pressure < stats.min_pressure_mpa:
            stats.min_pressure_mpa = pressure
        if stats.max_vacuum_kpa is None or vacuum > stats.max_vacuum_kpa:
            stats.max_vacuum_kpa = vacuum
        pressure_low = self.press.pressure_mpa < self.pressure_sp_mpa - self.pressure_band_mpa
        if pressure_low or vacuum > self.vacuum_sp_kpa:
            stats.voids = True
        self._deviation("temp", not self._platens_in_band(platen_sp), TEMP_DEVIATION_S, 1104, dt_s)
        pressure_out = abs(self.press.pressure_mpa - self.pressure_sp_mpa) > self.pressure_band_mpa
        self._deviation("pressure", pressure_out, PRESSURE_DEVIATION_S, 1112, dt_s)
        self._deviation("vacuum", vacuum > 2.0 * self.vacuum_sp_kpa, VACUUM_LOST_S, 1122, dt_s)

    def _deviation(self, what: str, out: bool, limit_s: float, code: int, dt_s: float) -> None:
        if not out:
            self.watch_s[what] = 0.0
            return
        self.watch_s[what] += dt_s
        if self.watch_s[what] > limit_s:
            self.raise_alarm(code, cause_for_s=0.0)
            self.watch_s[what] = 0.0

    def _watch_heaters(self, dt_s: float) -> None:
        """Alarms watched in every state: over-temperature, open thermocouple, heat-up time."""
        limit = self.overtemp_limit_c
        if self.top.pv_c > limit:
            self.raise_alarm(1101)
        if self.bottom.pv_c > limit:
            self.raise_alarm(1102)
        if self.conditions.get("TC_OPEN"):
            self.raise_alarm(1103)
        if self.heatup_s is None:
            return
        if self.state not in (State.HEATING, State.ALARM) or not self.armed:
            self.heatup_s = None
            return
        self.heatup_s += dt_s
        if self.heatup_s > HEATUP_TIMEOUT_S:
            self.heatup_s = None
            self.raise_alarm(1105, cause_for_s=0.0)

    def _platens_in_band(self, sp_c: float) -> bool:
        band = self.temp_band_c
        return abs(self.top.pv_c - sp_c) <= band and abs(self.bottom.pv_c - sp_c) <= band

    def _pressure_reached(self) -> bool:
        return self.press.pressure_mpa >= self.pressure_sp_mpa - 1e-6

    def conditions_in_band(self) -> bool:
        sp = self.active_sp_c()
        return sp is not None and self._platens_in_band(sp)

    # -- interlocks, alarms and settings ---------------------------------------------------------
    @property
    def strip_present(self) -> int:
        """Load-position sensors: the loader fills LOAD_MASK unless a LOAD fault is set."""
        return 0 if self.conditions.get("LOAD") else self.setting_int("LOAD_MASK")

    def interlock_active(self, name: str) -> bool:
        if name == "LOAD":
            return self.strip_present != self.setting_int("LOAD_MASK")
        return super().interlock_active(name)

    def check_settings(self) -> None:
        """§4 cross-check at ARM and START: STANDBY_SP <= PLATEN_SP - 50.0 °C."""
        if self.setting("STANDBY_SP") > self.setting("PLATEN_SP") - STANDBY_GAP_C + 1e-9:
            raise Reject(14)

    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        with self.lock:
            super().raise_alarm(code, cause_for_s=cause_for_s)
            if code in MARKING_ALARMS and self.cycle_active and not self.aborting:
                self.marks.add(MARKING_ALARMS[code])

    def alarm_cause_persists(self, code: int) -> bool:
        if code == 1101:
            return self.top.pv_c > self.overtemp_limit_c
        if code == 1102:
            return self.bottom.pv_c > self.overtemp_limit_c
        return super().alarm_cause_persists(code)

    def fix(self, code: int) -> None:
        """Operator remedies: the conditions behind ``code`` go away."""
        with self.lock:
            for name in REMEDIES.get(code, ()):
                self.conditions[name] = False
            super().fix(code)

    def holds_at_once(self, code: int) -> bool:
        return self.phase in HOLD_AT_ONCE_PHASES

    def do_pause(self) -> None:
        """§3: PAUSE freezes EVACUATE..COOL at once; CLOSE and VENT run to their end."""
        with self.lock:
            super().do_pause()
            if self.state is State.PAUSED and self.phase in HOLD_AT_ONCE_PHASES:
                self.halted = True
                self.halt_pending = None

    def on_arm(self) -> None:
        self.heatup_s = 0.0

    def on_disarm(self) -> None:
        self.heatup_s = None

    # -- the cycle ----------------------------------------------------------------------------
    def build_cycle(self) -> list[Step]:
        evac_s = self.setting("EVAC_S")
        dwell_s = self.setting("DWELL_S")
        rise_c = self.platen_sp_c - self.standby_sp_c
        fall_c = self.platen_sp_c - self.setting("UNLOAD_SP")
        return [
            Step("CLOSE", CLOSE_S),
            Step("EVACUATE", PUMPDOWN_TYPICAL_S + evac_s, until=lambda: self.evac_hold_s >= evac_s),
            Step(
                "PRESSURIZE",
                self.pressure_sp_mpa / BUILD_RATE_MPA_PER_S,
                until=self._pressure_reached,
                on_end=self._pressed,
            ),
            Step("RAMP", rise_c / (self.setting("RAMP_RATE") / 60.0), until=self._ramp_done),
            Step("DWELL", dwell_s, until=lambda: self.dwell_actual_s >= dwell_s),
            Step("COOL", fall_c / (self.setting("COOL_RATE") / 60.0), until=self._cooled),
            Step("VENT", VENT_S, on_end=self.chamber.open),
        ]

    def _pressed(self) -> None:
        self.pressed = True

    def _ramp_done(self) -> bool:
        return self.program_sp_c >= self.platen_sp_c

    def _cooled(self) -> bool:
        unload = self.setting("UNLOAD_SP")
        done_ramp = self.program_sp_c <= unload
        return done_ramp and max(self.top.pv_c, self.bottom.pv_c) <= unload + self.temp_band_c

    def remaining_s(self) -> float:
        """CYCLE_REMAINING_S: the phase in progress from its own progress, the rest nominal."""
        if not self.steps:
            return 0.0
        current, *later = self.steps
        left = {
            "EVACUATE": (
                0.0 if self.vacuum_reached else max(0.0, PUMPDOWN_TYPICAL_S - self.pumpdown_s)
            )
            + self.setting_int("EVAC_S")
            - self.evac_hold_s,
            "PRESSURIZE": (self.pressure_sp_mpa - self.press.pressure_mpa) / BUILD_RATE_MPA_PER_S,
            "RAMP": (self.platen_sp_c - self.program_sp_c) / (self.setting("RAMP_RATE") / 60.0),
            "DWELL": self.setting_int("DWELL_S") - self.dwell_actual_s,
            "COOL": (self.program_sp_c - self.setting("UNLOAD_SP"))
            / (self.setting("COOL_RATE") / 60.0),
        }.get(current.phase, current.duration_s - self.step_elapsed_s)
        return max(0.0, left) + sum(step.duration_s for step in later)

    def dwell_remaining_s(self) -> float:
        """IR 107 (§4): DWELL_S before DWELL, counting down in it, 0 after; the last cycle's
        figure until the next START (a DWELL_S written meanwhile is the next cycle's)."""
        if self.cycle_dwell_s is None:
            return self.setting("DWELL_S")
        return max(0.0, self.cycle_dwell_s - self.dwell_actual_s)

    def on_cycle_start(self) -> None:
        self.cycle_dwell_s = self.setting("DWELL_S")
        self.cycle_mask = self.setting_int("LOAD_MASK")
        self.cycle_strip_ids = {k: self.strip_id_at(k) for k in range(1, self.positions + 1)}
        rows = [
            SiteResult(k, "N" if self._loaded(k) else "X") for k in range(1, self.positions + 1)
        ]
        self.results = CycleResults("", rows)
        self.program_sp_c = self.standby_sp_c
        self.marks = set()
        self.pressed = self.aborting = self.vacuum_reached = False
        self.pumpdown_s = self.evac_hold_s = self.build_s = self.dwell_actual_s = 0.0
        self.stats = DwellStats()
        self.logged = SettledReadings()
        self.watch_s = dict.fromkeys(self.watch_s, 0.0)
        self.in_band_s = 0.0
        self.heatup_s = None

    def _loaded(self, position: int) -> bool:
        return bool(self.cycle_mask & (1 << (position - 1)))

    def on_cycle_done(self) -> None:
        self._fold_logged()
        defect = min(self.marks) if self.marks else 0
        assert self.results is not None
        for row in self.results.rows:
            if row.result != "X":
                row.result, row.defect = ("F", defect) if defect else ("P", 0)
        self._laminate(defect, voids=self.stats.voids)

    def on_abort(self, by_alarm: bool) -> None:
        """§3, §5: release, vent 60 s; N before PRESSURIZE completed, else F 1504."""
        self._fold_logged()
        self.aborting = True
        self.vent_remaining_s = ABORT_VENT_S
        if self.results is None:
            return
        for row in self.results.rows:
            if row.result != "X":
                row.result, row.defect = ("F", ABORT_DEFECT) if self.pressed else ("N", 0)
        if self.pressed:
            self._laminate(ABORT_DEFECT, voids=True)

    def _laminate(self, defect: int, *, voids: bool) -> None:
        """Record the bonded stack on every site of each loaded strip (world state)."""
        for position, strip_id in self.cycle_strip_ids.items():
            if not strip_id or not self._loaded(position):
                continue
            strip = self.world.get(strip_id) or self.world.strip(
                strip_id, *STACK_FORMATS[self.stack]
            )
            for site in strip.sites.values():
                site.adhesive_thickness_um = self.adhesive_thickness_um
                if self.stack == "cu-slice":
                    site.slice_thickness_um = self.slice_thickness_um
                else:
                    site.plate_placed = True
                site.lamination_voids = voids
                if defect:
                    site.defects.setdefault(self.tool_name, defect)
            strip.record(
                self.time_s, self.tool_name, f"laminated {self.stack} defect={defect} voids={voids}"
            )
