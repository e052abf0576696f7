"""WE-2 etch bath process model (etch-bath.md §3-§8): bath physics, hoist, the LOAD..UNLOAD
cycle with its PAUSE and hold rules, endpoint modes, the etch-rate estimate and its per-second
depth integration, alarms, interlocks and per-slot results; the carrier's strips in the world.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from sim.etch_bath.bath import (
    ACID_PER_CU_MOL_PER_G,
    AMBIENT_C,
    CU_BLEED_TAU_S,
    DOSING_TAU_S,
    HEAT_RATE_C_PER_S,
    LEVEL_HIGH_MM,
    LEVEL_LOW_MM,
    NOMINAL_LEVEL_MM,
    ORP_PER_CU_MV_PER_G,
    Bath,
    BathControl,
)
from sim.etch_bath.chemistry import (
    CHEMISTRIES,
    CUCL2,
    CUCL2_REGENERATED_LOAD_G_L,
    FECL3,
    Chemistry,
    etch_rate_um_min,
)
from sim.etch_bath.hoist import BOTTOM_MM, TOP_MM, Hoist
from sim.etch_bath.recipe import EndReason, Recipe
from sim.etch_bath.strips import Carrier
from sim.modbus_model import ModbusToolModel, Setting
from sim.tool_model import AlarmDef, CycleResults, Reject, SiteResult, State, Step

PHASES = ("NONE", "LOAD", "LOWER", "ETCH", "RAISE", "DRIP", "RINSE", "UNLOAD")
#: PAUSE is accepted in these phases (§3); in LOWER and ETCH it (and an H alarm) takes effect
#: at once: the carrier is raised and held.
PAUSE_PHASES = ("LOAD", "LOWER", "ETCH")
HOLD_AT_ONCE_PHASES = ("LOWER", "ETCH")
LOAD_S = 5.0
UNLOAD_S = 5.0
#: RINSE = move to the rinse tank 10 s, lower 16 s, rinse RINSE_S, raise 16 s, return 10 s.
RINSE_HANDLING_S = (10.0, 16.0, 16.0, 10.0)
SLOTS = 10
#: Alarms that mark positions 5502 when active during ETCH (§5).
OUT_OF_WINDOW_ALARMS = frozenset({5101, 5102, 5120, 5121, 5122})
#: Alarms whose cause stays until a service call (``fix``).
SERVICE_ALARMS = frozenset({5104, 5140, 5141})
DENSITY_DRIFT = 1.5  # °Bé / wt% read too high while the density sensor drifts (5124)
RATE_BIAS_SIGMA = 0.01  # true rate vs the tool's estimate, per cycle

#: The bath's own command coils (etch-bath.md §4) and its level coils.
TOOL_COMMAND_COILS = ("END_ETCH", "HOIST_UP", "HOIST_DOWN")
LEVEL_COILS = ("HEATER_ENABLE", "PUMP_ENABLE")

STARTS = frozenset({"start"})
START_RESUME = frozenset({"start", "resume"})
MOTION = frozenset({"start", "resume", "hoist_up", "hoist_down"})


class EtchBathModel(ModbusToolModel):
    """The simulated WE-2 (one chemistry per station, set by CHEMISTRY)."""

    tool_name = "etch-bath"
    model_name = "WE-2"
    serial = "WE2-00008"
    firmware = "2.3.1"
    init_s = 10.0
    stable_s = 60.0
    positions = SLOTS

    alarm_defs = (
        AlarmDef(5001, "Emergency stop", "A", (1, 0)),
        AlarmDef(5002, "Lid opened during cycle", "H", (1, 1)),
        AlarmDef(5003, "Host watchdog timeout", "W", (1, 2)),
        AlarmDef(5004, "Exhaust flow low", "H", (1, 3)),
        AlarmDef(5101, "Bath temperature high", "W", (2, 0)),
        AlarmDef(5102, "Bath temperature low", "W", (2, 1)),
        AlarmDef(5103, "Bath over-temperature", "A", (2, 2)),
        AlarmDef(5104, "Heater fault", "A", (2, 3)),
        AlarmDef(5105, "Heat-up timeout", "H", (2, 4)),
        AlarmDef(5110, "Level low", "H", (2, 5)),
        AlarmDef(5111, "Level high", "W", (2, 6)),
        AlarmDef(5120, "Concentration out of band", "W", (3, 0)),
        AlarmDef(5121, "ORP out of band", "W", (3, 1)),
        AlarmDef(5122, "Free acid out of band", "W", (3, 2)),
        AlarmDef(5123, "Copper loading high", "H", (3, 3)),
        AlarmDef(5124, "Density sensor drift", "W", (3, 4)),
        AlarmDef(5130, "Replenisher pump fault", "H", (3, 5)),
        AlarmDef(5131, "Recirculation flow low", "H", (3, 6)),
        AlarmDef(5140, "Hoist motion fault", "A", (4, 0)),
        AlarmDef(5141, "Hoist overtravel", "A", (4, 1)),
        AlarmDef(5150, "Etch time limit reached", "W", (4, 2)),
    )
    interlock_table = (
        ("ESTOP", MOTION),
        ("DOOR", MOTION),
        ("TEMP", STARTS),
        ("LEVEL", START_RESUME),
        ("EXHAUST", START_RESUME),
        ("LOAD", STARTS),
        ("HOST_WDT", START_RESUME),
        ("CU_LOAD", START_RESUME),
        ("CARRIER", frozenset({"hoist_down"})),
    )
    condition_alarms: ClassVar[dict[str, int]] = {"ESTOP": 5001, "DOOR": 5002, "EXHAUST": 5004}

    #: HR 100-118 and the station settings HR 500-502 (etch-bath.md §4) at power-on,
    #: engineering units.
    setting_defaults: ClassVar[dict[str, Setting]] = {
        "CHEMISTRY": 1,  # 1 CUCL2, 2 FECL3, 3 KOH
        "TEMP_SP": 50.0,  # °C
        "TEMP_BAND": 1.5,  # °C
        "CONC_SP": 32.0,  # °Bé or wt%
        "CONC_BAND": 2.0,
        "ACID_SP": 1.35,  # mol/L
        "ORP_SP": 540,  # mV
        "CU_LOAD_MAX": 160.0,  # g/L
        "PUMP_SPEED": 80,  # %
        "ENDPOINT_MODE": 1,  # 0 TIME, 1 DEPTH, 2 HOST
        "ETCH_TIME_S": 420,
        "ETCH_TIME_MAX_S": 900,
        "DEPTH_TARGET": 230.0,  # µm
        "LOWER_SPEED": 25,  # mm/s
        "DRIP_S": 10,
        "RINSE_S": 60,
        "AUTO_DOSE": 1,
        "LOAD_MASK": 1023,
        "UNIT_ID": 1,
        "BAUD": 1,  # 0 9600, 1 19200, 2 38400, 3 115200
        "PARITY": 0,  # 0 even, 1 odd, 2 none
    }

    def __init__(
        self,
        *args: Any,
        chemistry: int = 1,
        unit_id: int = 1,
        baud_code: int = 1,
        parity_code: int = 0,
        bath_temp_c: float = AMBIENT_C,
        cu_load_g_l: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if chemistry not in CHEMISTRIES:
            raise ValueError(f"chemistry {chemistry} not one of 1 CUCL2, 2 FECL3, 3 KOH")
        # Station settings are non-volatile: the station comes up as it was configured.
        self.settings |= {
            "CHEMISTRY": chemistry,
            "UNIT_ID": unit_id,
            "BAUD": baud_code,
            "PARITY": parity_code,
        }
        self.recipe = Recipe.of(self)
        self.bath = Bath(self.recipe.chemistry, temp_c=bath_temp_c)
        if cu_load_g_l is not None:
            self.bath.cu_load_g_l = cu_load_g_l
        self.sensor_rng = random.Random(self.rng.getrandbits(64))
        self.hoist = Hoist()
        self.parked_target_mm = TOP_MM
        self.heater_enable = True
        self.pump_enable = True
        self.service_needed: set[int] = set()
        self.sustained_s: dict[int, float] = {}
        self.heating_s = 0.0
        self.rate_est_um_min = 0.0
        self.estimate_clock_s = 0.0
        # Per cycle.
        self.cycle_mask = 0
        self.carrier: Carrier | None = None
        self.world_outcome: dict[int, tuple[str, int]] | None = None
        self.rate_bias = 1.0
        self.etch_started = False
        self.end_reason = EndReason.NONE
        self.out_of_window = False
        self.etch_depth_um = 0.0
        self.etch_elapsed_s = 0
        self.etch_fraction_s = 0.0
        self.etch_temp_sum_c = 0.0
        self.final: dict[str, float] = {}

    # -- registers and settings ----------------------------------------------------------------
    def phase_names(self) -> tuple[str, ...]:
        return PHASES

    @property
    def chemistry(self) -> Chemistry:
        return self.recipe.chemistry

    def check_setting_write(self, write_rule: str) -> None:
        if write_rule == "idle" and self.state is State.INIT:
            raise Reject(21, "INIT")
        super().check_setting_write(write_rule)

    def settings_written(self, names: set[str]) -> None:
        super().settings_written(names)
        before = self.recipe.chemistry
        self.recipe = Recipe.of(self)
        if self.recipe.chemistry is not before:
            self.bath.renew(self.recipe.chemistry)  # a chemistry change means a new bath

    def check_settings(self) -> None:
        if self.recipe.conflicts():
            raise Reject(14)

    # -- measured values (what the sensors report; the estimate uses them) --------------------------
    @property
    def conc_measured(self) -> float:
        return self.bath.conc + (DENSITY_DRIFT if self.conditions.get("DENSITY") else 0.0)

    def estimate_now(self) -> float:
        """The §5 etch-rate estimate from the measured bath state, µm/min."""
        b = self.bath
        return etch_rate_um_min(self.chemistry, b.temp_c, self.conc_measured, b.cu_load_g_l)

    def true_rate(self) -> float:
        """What the bath really etches (true concentration, this cycle's bias)."""
        b = self.bath
        return etch_rate_um_min(self.chemistry, b.temp_c, b.conc, b.cu_load_g_l) * self.rate_bias

    @property
    def level_low(self) -> bool:
        return self.bath.level_mm < LEVEL_LOW_MM

    @property
    def cu_load_high(self) -> bool:
        return self.chemistry.is_copper and self.bath.cu_load_g_l >= self.recipe.cu_load_max_g_l

    @property
    def carrier_present(self) -> bool:
        """The line's handler keeps a carrier (LOAD_MASK slots filled) at the bath while armed."""
        return self.armed

    @property
    def strip_present(self) -> int:
        if not self.carrier_present:
            return 0
        mask = self.cycle_mask if self.cycle_active else self.recipe.load_mask
        if self.conditions.get("LOAD") and mask:
            mask &= ~(1 << (mask.bit_length() - 1))  # the last slot's strip is missing
        return mask

    # -- interlocks and alarm causes --------------------------------------------------------------
    def interlock_active(self, name: str) -> bool:
        if name == "LEVEL":
            return self.level_low
        if name == "LOAD":
            return not self.carrier_present or self.strip_present != self.recipe.load_mask
        if name == "CU_LOAD":
            return self.cu_load_high
        if name == "CARRIER":
            return self.carrier_present
        return super().interlock_active(name)

    def deviations(self) -> dict[int, bool]:
        """Process values outside their window, by the W alarm that reports each (§6)."""
        r, b = self.recipe, self.bath
        copper = self.chemistry.is_copper
        return {
            5101: b.temp_c > r.temp_sp_c + r.temp_band_c,
            5102: b.temp_c < r.temp_sp_c - r.temp_band_c,
            5120: abs(self.conc_measured - r.conc_sp) > r.conc_band,
            5121: copper and abs(b.orp_mv - r.orp_sp_mv) > 30.0,
            5122: copper and abs(b.acid_mol_l - r.acid_sp_mol_l) > 0.10,
        }

    def alarm_cause_persists(self, code: int) -> bool:
        r, b = self.recipe, self.bath
        causes = {
            5103: b.temp_c > r.temp_sp_c + 10.0 or b.temp_c > 95.0,
            5110: self.level_low,
            5111: b.level_mm > LEVEL_HIGH_MM,
            5123: self.cu_load_high,
            5124: bool(self.conditions.get("DENSITY")),
            5130: bool(self.conditions.get("REPLENISHER")),
            5131: self._flow_low(),
        }
        if code in SERVICE_ALARMS:
            return code in self.service_needed
        if code in OUT_OF_WINDOW_ALARMS:
            return self.deviations()[code]
        if code in causes:
            return causes[code]
        return super().alarm_cause_persists(code)

    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        with self.lock:
            if code in SERVICE_ALARMS:
                self.service_needed.add(code)
            super().raise_alarm(code, cause_for_s=cause_for_s)

    def fix(self, code: int) -> None:
        """Operator remedies: service (5104, 5140, 5141), top up (5110), drain (5111), renew the
        bath (5123), repair sensor / pump / filter (5124, 5130, 5131); others as the base."""
        with self.lock:
            self.service_needed.discard(code)
            condition = {5104: "HEATER", 5140: "HOIST", 5110: "LEVEL", 5111: "LEVEL_HIGH",
                         5124: "DENSITY", 5130: "REPLENISHER", 5131: "FLOW"}.get(code)  # fmt: skip
            if condition is not None:
                self.conditions[condition] = False
            if code in (5110, 5111):
                self.bath.level_mm = NOMINAL_LEVEL_MM
            if code == 5123:
                self.bath.renew(self.chemistry)
            super().fix(code)

    def _flow_low(self) -> bool:
        nominal = self.bath.nominal_flow_l_min(self.recipe.pump_speed_pct)
        return self.bath.pump_running and self.bath.flow_l_min < 0.5 * nominal

    # -- physics ------------------------------------------------------------------------------------
    def tool_physics(self, dt_s: float) -> None:
        was_down = self.hoist.at_bottom
        self._move_hoist(dt_s)
        # A carrier that arrived at the bottom during the step is immersed for its rest only.
        immersed_s = 0.0
        if self.immersed:
            travel_s = (BOTTOM_MM - self.hoist.pos_before_mm) / self.recipe.lower_speed_mm_s
            immersed_s = dt_s if was_down else max(0.0, dt_s - travel_s)
        copper_g_l_s = 0.0
        if self.carrier is not None and immersed_s > 0.0:
            rate = self.carrier.copper_rate_g_l_s(self.true_rate())
            copper_g_l_s = rate * immersed_s / dt_s
        self.bath.advance(dt_s, self._bath_control(), copper_g_l_s)
        self._etch(dt_s, immersed_s)
        self.estimate_clock_s += dt_s
        if self.estimate_clock_s >= 1.0:  # ETCH_RATE_EST is refreshed once per second
            self.estimate_clock_s %= 1.0
            self.rate_est_um_min = self.estimate_now() if self.armed else 0.0
        self._watch(dt_s)
        self._write_world_when_out()

    # -- events: the model jumps between them while its physics is settled --------------------------
    def physics_settled(self) -> bool:
        """Nothing can change between announced events: the bath is idle (not armed), or
        armed with heater, pump and dosing running normally, no deviation counting towards an
        alarm or able to start before the next event, the hoist not jammed, and no FECL3
        carrier immersed (its rate falls with the copper it dissolves). A jam, a fault, a
        disabled heater or dosing, a bath above its set-point or out of its window while a
        cycle runs: stepped on the grid as before."""
        if self.hoist.moving and self.conditions.get("HOIST"):
            return False
        if not self.armed:
            return True
        control, r, b = self._bath_control(), self.recipe, self.bath
        normal = control.heater_allowed and control.pump_allowed and control.dosing_allowed
        faults = control.flow_clogged or control.leaking or control.overfilled
        if not normal or faults or b.temp_c > r.temp_sp_c + 1e-9:
            return False
        if b.level_mm > NOMINAL_LEVEL_MM or b.level_mm < LEVEL_LOW_MM + 1.0:
            return False
        if any(seconds > 0.0 for seconds in self.sustained_s.values()) or self._flow_low():
            return False
        if self.cycle_watched() and (self.deviations()[5101] or self.deviations()[5102]):
            return False
        if self.immersed and self.chemistry.code == FECL3.code:
            return False
        return not self._composition_may_deviate()

    def _composition_may_deviate(self) -> bool:
        """Whether concentration, ORP, free acid or copper loading could cross its window
        before the next event: each approaches a fixed goal monotonically (the set-point,
        offset by the copper dissolving now), so its extremes are where it is and the goal."""
        r, b = self.recipe, self.bath
        drift = DENSITY_DRIFT if self.conditions.get("DENSITY") else 0.0
        if max(abs(b.conc + drift - r.conc_sp), drift) > r.conc_band:  # now, and at the goal
            return True
        if not self.chemistry.is_copper:
            return False
        copper = self._copper_rate_now()
        acid_goal = r.acid_sp_mol_l - ACID_PER_CU_MOL_PER_G * copper * DOSING_TAU_S
        orp_goal = r.orp_sp_mv - ORP_PER_CU_MV_PER_G * copper * DOSING_TAU_S
        acid_off = max(abs(b.acid_mol_l - r.acid_sp_mol_l), abs(acid_goal - r.acid_sp_mol_l))
        orp_off = max(abs(b.orp_mv - r.orp_sp_mv), abs(orp_goal - r.orp_sp_mv))
        if acid_off > 0.10 or orp_off > 30.0:
            return True
        cu_goal = (
            CUCL2_REGENERATED_LOAD_G_L + copper * CU_BLEED_TAU_S
            if self.chemistry.code == CUCL2.code
            else b.cu_load_g_l
        )
        return max(b.cu_load_g_l, cu_goal) >= r.cu_load_max_g_l

    def _copper_rate_now(self) -> float:
        if self.carrier is None or not self.immersed:
            return 0.0
        return self.carrier.copper_rate_g_l_s(self.true_rate())

    def _event_driven(self) -> bool:
        """LOAD, LOWER, ETCH and RAISE end on conditions whose times are announced (the
        hoist's arrival, the etch's end second)."""
        return self.physics_settled()

    def physics_event_in_s(self) -> float | None:
        """The next of: the host watchdog, the hoist arriving, the bath reaching its band and
        its set-point while heating, the heat-up timeout, a running step's nominal end, the
        etch's end second, a strip's Cu slice etched through."""
        events = [super().physics_event_in_s()]
        r, b = self.recipe, self.bath
        target = self._cycle_hoist_target() if self.cycle_active else self.parked_target_mm
        hoist_alarms = {5001, 5140, 5141} & set(self.active_alarms)
        if not self.conditions.get("ESTOP") and not hoist_alarms:
            distance_mm = abs(target - self.hoist.pos_mm)
            if distance_mm > 1e-6:
                events.append(distance_mm / r.lower_speed_mm_s)
        if self.armed and b.temp_c < r.temp_sp_c and self._bath_control().heater_allowed:
            for level_c in (r.temp_sp_c - r.temp_band_c, r.temp_sp_c):
                events.append((level_c - b.temp_c) / HEAT_RATE_C_PER_S + 1e-9)
        if self._heating_up():
            events.append(3600.0 - self.heating_s + 1e-6)
        if self._cycle_moving() and self.steps and self.steps[0].until is not None:
            events.append(self.steps[0].duration_s - self.step_elapsed_s)
        if self.immersed and self.carrier is not None:
            events.append(self._etch_end_in_s())
            events.append(self.carrier.slice_through_in_s(self.true_rate()))
        ahead = [t for t in events if t is not None and t > 1e-9]
        return min(ahead) if ahead else None

    def _etch_end_in_s(self) -> float | None:
        """Tool seconds until the counted second at which the etch ends (§5: counted once
        per second at the bottom; the estimate is constant while the bath is settled)."""
        counting = self.phase == "ETCH" and self.state is State.RUNNING and not self.halted
        if not counting or self.end_reason:
            return None
        r = self.recipe
        seconds = r.etch_time_max_s - self.etch_elapsed_s
        if r.endpoint_mode == 0:
            seconds = min(seconds, r.etch_time_s - self.etch_elapsed_s)
        elif r.endpoint_mode == 1:
            per_s, depth, n = self.estimate_now() / 60.0, self.etch_depth_um, 0
            while n < seconds and depth < r.depth_target_um - 1e-9:
                depth += per_s  # as :meth:`_etch` adds it, so the same second ends it
                n += 1
            seconds = min(seconds, n)
        return max(seconds, 1) - self.etch_fraction_s

    def _bath_control(self) -> BathControl:
        """What heater, pump and dosing may do now: armed, no E-stop, level ok, no A alarm."""
        r, condition = self.recipe, self.conditions.get
        abort_alarm = any(self.alarm_by_code[c].alarm_class == "A" for c in self.active_alarms)
        runs = self.armed and not condition("ESTOP") and not self.level_low
        return BathControl(
            temp_sp_c=r.temp_sp_c,
            conc_sp=r.conc_sp,
            acid_sp_mol_l=r.acid_sp_mol_l,
            orp_sp_mv=r.orp_sp_mv,
            pump_speed_pct=r.pump_speed_pct,
            heater_allowed=runs
            and self.heater_enable
            and not abort_alarm
            and not condition("HEATER"),
            pump_allowed=runs and self.pump_enable,
            dosing_allowed=self.armed
            and r.auto_dose
            and not condition("ESTOP")
            and not condition("REPLENISHER"),
            flow_clogged=bool(condition("FLOW")),
            leaking=bool(condition("LEVEL")),
            overfilled=bool(condition("LEVEL_HIGH")),
        )

    def _move_hoist(self, dt_s: float) -> None:
        self.hoist.go(self._cycle_hoist_target() if self.cycle_active else self.parked_target_mm)
        hoist_alarms = {5001, 5140, 5141} & set(self.active_alarms)
        enabled = not self.conditions.get("ESTOP") and not hoist_alarms
        jammed = bool(self.conditions.get("HOIST"))
        if self.hoist.advance(dt_s, self.recipe.lower_speed_mm_s, enabled=enabled, jammed=jammed):
            self.raise_alarm(5140)

    def _cycle_hoist_target(self) -> float:
        if self.abort_on_clear:
            return TOP_MM  # A class: carrier raised (and rinsed) if the hoist can move
        immersing = self.phase == "LOWER" or (self.phase == "ETCH" and not self.end_reason)
        if immersing and self.state is State.RUNNING and not self.halted:
            return BOTTOM_MM
        return TOP_MM

    @property
    def immersed(self) -> bool:
        """The carrier is at the immersion position of the etch tank."""
        return self.carrier is not None and self.hoist.at_bottom

    def _etch(self, dt_s: float, immersed_s: float) -> None:
        if not self.immersed:
            return
        assert self.carrier is not None
        self.carrier.etch(self.true_rate(), immersed_s)
        counting = self.phase == "ETCH" and self.state is State.RUNNING and not self.halted
        if not counting or self.end_reason:
            return
        self.etch_fraction_s += dt_s
        while self.etch_fraction_s >= 1.0 - 1e-9 and not self.end_reason:
            self.etch_fraction_s = max(0.0, self.etch_fraction_s - 1.0)
            self.etch_elapsed_s += 1
            self.etch_depth_um += self.estimate_now() / 60.0
            self.etch_temp_sum_c += self.bath.temp_c
            self._check_endpoint()

    def _check_endpoint(self) -> None:
        r = self.recipe
        if r.endpoint_mode == 0 and self.etch_elapsed_s >= r.etch_time_s:
            self._end_etch(EndReason.TIME)
        elif r.endpoint_mode == 1 and self.etch_depth_um >= r.depth_target_um - 1e-9:
            self._end_etch(EndReason.DEPTH)
        elif self.etch_elapsed_s >= r.etch_time_max_s:
            self.raise_alarm(5150)
            self._end_etch(EndReason.MAX_TIME)

    def _end_etch(self, reason: EndReason) -> None:
        self.end_reason = reason
        elapsed = self.etch_elapsed_s
        self.final = {
            "depth_um": self.etch_depth_um,
            "etch_s": float(elapsed),
            "rate_um_min": 60.0 * self.etch_depth_um / elapsed if elapsed else 0.0,
            "temp_c": self.etch_temp_sum_c / elapsed if elapsed else self.bath.temp_c,
        }

    def _watch(self, dt_s: float) -> None:
        r, b = self.recipe, self.bath
        if not self.armed:
            self.sustained_s.clear()
            return
        if b.temp_c > r.temp_sp_c + 10.0 or b.temp_c > 95.0:
            self.raise_alarm(5103)
        if self.conditions.get("HEATER"):
            self.raise_alarm(5104)
        if self._heating_up():
            self.heating_s += dt_s
            if self.heating_s > 3600.0:
                self.heating_s = 0.0
                self.raise_alarm(5105)
        else:
            self.heating_s = 0.0
        deviations = self.deviations()
        watched = self.cycle_watched()
        for code in (5101, 5102):
            self._sustained(code, watched and deviations[code], dt_s, 30.0)
        if self.cycle_active:
            if self.level_low:
                self.raise_alarm(5110)
            if self.cu_load_high:
                self.raise_alarm(5123)
        if b.level_mm > LEVEL_HIGH_MM:
            self.raise_alarm(5111)
        for code in (5120, 5121, 5122):
            self._sustained(code, deviations[code], dt_s, 60.0)
        if self.conditions.get("DENSITY"):
            self.raise_alarm(5124)
        if self.conditions.get("REPLENISHER") and r.auto_dose:
            self.raise_alarm(5130)
        self._sustained(5131, self._flow_low(), dt_s, 5.0)
        if self.phase == "ETCH" and OUT_OF_WINDOW_ALARMS & set(self.active_alarms):
            self.out_of_window = True

    def _heating_up(self) -> bool:
        """5105 counts "not READY within 60 min of ARM" (§6): armed, no cycle, in HEATING or in
        an ALARM raised from HEATING (a hold or abort alarm does not restart the hour)."""
        if not self.armed or self.cycle_active:
            return False
        if self.state is State.ALARM:
            return self.alarm_state_before is State.HEATING
        return self.state is State.HEATING

    def _sustained(self, code: int, deviating: bool, dt_s: float, after_s: float) -> None:
        if not deviating:
            self.sustained_s[code] = 0.0
            return
        self.sustained_s[code] = self.sustained_s.get(code, 0.0) + dt_s
        if self.sustained_s[code] > after_s:
            self.raise_alarm(code)

    def conditions_in_band(self) -> bool:
        return abs(self.bath.temp_c - self.recipe.temp_sp_c) <= self.recipe.temp_band_c + 1e-9

    # -- commands of §4 -------------------------------------------------------------------------------
    def do_pause(self) -> None:
        with self.lock:
            super().do_pause()
            if self.phase in HOLD_AT_ONCE_PHASES:
                self.halted = True  # carrier raised and held; etch timer and depth stop
                self.halt_pending = None

    def on_disarm(self) -> None:
        """IR 109 ETCH_RATE_EST reads 0 in IDLE (§4) from the DISARM on, not a second later."""
        self.rate_est_um_min = 0.0

    def pause_allowed(self) -> bool:
        return self.phase in PAUSE_PHASES

    def holds_at_once(self, code: int) -> bool:
        return self.phase in HOLD_AT_ONCE_PHASES

    def defers_hold(self) -> bool:
        return self.phase in ("RAISE", "DRIP", "RINSE", "UNLOAD")

    def tool_coil(self, name: str, value: bool) -> None:
        """END_ETCH, HOIST_UP, HOIST_DOWN (commands), HEATER_ENABLE, PUMP_ENABLE (levels)."""
        with self.lock:
            self.sync()
            if name in LEVEL_COILS:
                if not value and self.cycle_active:
                    raise Reject(20, self.state_name())
                if name == "HEATER_ENABLE":
                    self.heater_enable = value
                else:
                    self.pump_enable = value
                return
            if not value:
                return  # writing 0 to a command coil does nothing
            if name == "END_ETCH":
                self.end_etch()
            elif name in ("HOIST_UP", "HOIST_DOWN"):
                self.move_hoist(up=name == "HOIST_UP")
            else:
                raise Reject(10)

    def tool_coil_value(self, name: str) -> bool:
        return {"HEATER_ENABLE": self.heater_enable, "PUMP_ENABLE": self.pump_enable}.get(
            name, False
        )

    def end_etch(self) -> None:
        """Coil END_ETCH: end the ETCH phase now (only in phase ETCH)."""
        if self.state is State.ALARM:
            raise Reject(23, str(self.blocking_alarm() or ""))
        if self.state is State.INIT:
            raise Reject(21, "INIT")
        if not (self.cycle_active and self.phase == "ETCH"):
            raise Reject(20, self.state_name())
        if not self.end_reason:
            self._end_etch(EndReason.HOST)

    def move_hoist(self, *, up: bool) -> None:
        """Coils HOIST_UP / HOIST_DOWN: manual move, only in IDLE, HEATING, READY."""
        if self.state is State.INIT:
            raise Reject(21, "INIT")
        if self.state is State.ALARM:
            raise Reject(23, str(self.blocking_alarm() or ""))
        if self.state not in (State.IDLE, State.HEATING, State.READY):
            raise Reject(20, self.state_name())
        self.check_interlocks("hoist_up" if up else "hoist_down")
        self.parked_target_mm = TOP_MM if up else BOTTOM_MM

    # -- the cycle ---------------------------------------------------------------------------------------
    def build_cycle(self) -> list[Step]:
        r = self.recipe
        travel_s = (BOTTOM_MM - TOP_MM) / r.lower_speed_mm_s
        load = (
            Step("LOAD", LOAD_S)
            if self.hoist.at_top
            else Step(
                "LOAD", LOAD_S, until=lambda: self.step_elapsed_s >= LOAD_S and self.hoist.at_top
            )
        )
        return [
            load,
            Step("LOWER", travel_s, until=lambda: self.hoist.at_bottom),
            Step(
                "ETCH",
                float(r.etch_time_max_s),
                on_start=self._start_etch,
                until=lambda: bool(self.end_reason),
            ),
            Step(
                "RAISE",
                travel_s,
                until=lambda: self.hoist.at_top,
                on_end=self._drained,
                hold_point=False,
            ),
            Step("DRIP", r.drip_s, hold_point=False),
            Step("RINSE", r.rinse_s + sum(RINSE_HANDLING_S), hold_point=False),
            Step("UNLOAD", UNLOAD_S, hold_point=False),
        ]

    def on_cycle_start(self) -> None:
        self._write_world_when_out(force=True)
        r = self.recipe
        self.cycle_mask = r.load_mask
        slots = [k for k in range(1, SLOTS + 1) if self.cycle_mask & (1 << (k - 1))]
        self.results = CycleResults(
            "", [SiteResult(k, "N" if k in slots else "X") for k in range(1, SLOTS + 1)]
        )
        self.carrier = Carrier(
            self.world, r.chemistry, {k: self.strip_id_at(k) for k in slots}, self.rng
        )
        self.rate_bias = 1.0 + self.rng.gauss(0.0, RATE_BIAS_SIGMA)
        self.parked_target_mm = TOP_MM
        self.etch_started = False
        self.end_reason = EndReason.NONE
        self.out_of_window = False
        self.etch_depth_um = 0.0
        self.etch_elapsed_s = 0
        self.etch_fraction_s = 0.0
        self.etch_temp_sum_c = 0.0
        self.final = {}

    def _start_etch(self) -> None:
        self.etch_started = True

    def _drained(self) -> None:
        if self.carrier is not None:
            self.bath.drag_out(self.carrier.strip_count)

    def position_defect(self) -> int:
        """Lowest applicable §5 defect of this cycle's positions (0: passed)."""
        defects = []
        if self.end_reason is EndReason.MAX_TIME and self.recipe.endpoint_mode in (1, 2):
            defects.append(5501)
        if self.out_of_window:
            defects.append(5502)
        return min(defects) if defects else 0

    def on_cycle_done(self) -> None:
        assert self.results is not None
        defect = self.position_defect()
        for row in self.results.rows:
            if row.result != "X":
                row.result, row.defect = ("F", defect) if defect else ("P", 0)
        self._release_carrier()

    def on_abort(self, by_alarm: bool) -> None:
        if not self.end_reason:
            self._end_etch(EndReason.ABORTED)
        # §5: F with the lowest applicable defect; 5501 (time limit) and 5502 (bath out of
        # window) that already applied come before 5503 (interrupted).
        defect = min(5503, self.position_defect() or 5503)
        if self.results is not None:
            for row in self.results.rows:
                if row.result != "X":
                    row.result, row.defect = ("F", defect) if self.etch_started else ("N", 0)
        self._release_carrier()

    def _release_carrier(self) -> None:
        """The carrier's outcome is written to the world once it is out of the etch tank."""
        assert self.results is not None
        self.world_outcome = {r.site: (r.result, r.defect) for r in self.results.rows}
        self._write_world_when_out()

    def _write_world_when_out(self, *, force: bool = False) -> None:
        if self.carrier is None or self.world_outcome is None:
            return
        if self.hoist.at_bottom and not force:
            return  # still etching (e.g. E-stop with the carrier down)
        self.carrier.write_world(self.time_s, self.world_outcome)
        self.carrier = None
        self.world_outcome = None

    def remaining_s(self) -> float:
        """CYCLE_REMAINING_S: nominal times of the steps left, the etch from its estimate."""
        r = self.recipe
        travel_s = (BOTTOM_MM - TOP_MM) / r.lower_speed_mm_s
        total = 0.0
        for index, step in enumerate(self.steps):
            if step.phase == "ETCH":
                seconds = float(self.etch_remaining_s())
            elif step.phase in ("LOWER", "RAISE"):
                seconds = travel_s
            else:
                seconds = step.duration_s
            total += max(0.0, seconds - (self.step_elapsed_s if index == 0 else 0.0))
        return total

    def etch_remaining_s(self) -> int:
        """IR 113 ETCH_REMAINING_S (§4 formula per endpoint mode)."""
        r = self.recipe
        if not self.cycle_active or self.end_reason:
            return 0
        to_max = max(0, r.etch_time_max_s - self.etch_elapsed_s)
        if r.endpoint_mode == 0:
            return max(0, r.etch_time_s - self.etch_elapsed_s)
        if r.endpoint_mode == 1:
            rate = self.estimate_now()
            if rate <= 0.0:
                return to_max
            left = 60.0 * max(0.0, r.depth_target_um - self.etch_depth_um) / rate
            return min(to_max, round(left))
        return to_max

    # -- register images -------------------------------------------------------------------------------
    def hoist_position_mm(self) -> float:
        """HOIST_POS; in RINSE the profile over the rinse tank (transfer, lower, rinse, raise)."""
        if self.phase != "RINSE" or not self.cycle_active:
            return self.hoist.pos_mm
        transfer, lower, raise_s, _ = RINSE_HANDLING_S
        t = self.phase_elapsed_s
        rinse_end = transfer + lower + self.recipe.rinse_s
        if t < transfer:
            return TOP_MM
        if t < transfer + lower:
            return BOTTOM_MM * (t - transfer) / lower
        if t < rinse_end:
            return BOTTOM_MM
        return max(TOP_MM, BOTTOM_MM * (1.0 - (t - rinse_end) / raise_s))
