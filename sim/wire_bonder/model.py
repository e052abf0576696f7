"""WB-3 process model (wire-bonder.md §1, §3-§8): heated stage, bond programs, the strip
cycle unit by unit, consumables (capillary and wire spool), alarms and interlocks.

Cycle: LOAD 8 s, ALIGN 4 s, then per unit to bond a consumables check (the hold point
between units), index + pattern recognition 1.5 s and the wires (t_w = 45 ms + B1_TIME +
B2_TIME each), then UNLOAD 5 s: 30 × (64 × 0.080 + 1.5) + 17 ≈ 216 s for Format A / A64.
A unit whose die the world does not know of is not bonded (3505, unit fiducial not found).
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, Reject, State, Step
from sim.wire_bonder.bonding import (
    FIDUCIAL,
    INTERRUPTED,
    NSOL,
    NSOP,
    SHORT_TAIL,
    WIRE_BREAK,
    BondRates,
    BondSettings,
    UnitRun,
    UnitStats,
    bond_unit,
)
from sim.world import StripState

AMBIENT_C = 25.0
HEAT_RATE_C_PER_S = 20.0 / 60.0  # §3/§8: 20 °C/min
COOL_RATE_C_PER_S = 10.0 / 60.0  # sim decision: free cooling of the stage
STAGE_BAND_C = 3.0  # §3: READY within ±3.0 °C for 30 s
DEVIATION_C, DEVIATION_S = 10.0, 30.0  # alarm 3107
STAGE_SAG_C = 25.0  # condition STAGE: the heater cannot hold the set-point by this much
LOAD_S, ALIGN_S, UNLOAD_S, INDEX_S = 8.0, 4.0, 5.0, 1.5  # §8
WIRE_BASE_S = 0.045  # §8: t_w = 45 ms + B1_TIME + B2_TIME
CAP_BONDS_PER_WIRE = 2  # §5
WIRE_M_PER_WIRE = 0.003  # §5: ≈ 3 mm of wire per wire
SPOOL_M = 500.0  # sim decision: a full spool
SPOOL_LOW_M = 50.0  # alarm 3202
CAP_WARNING_FRACTION = 0.9  # alarm 3201
RESUMABLE = frozenset({"start", "resume"})
CONSEC_ALARMS = {NSOP: 3101, NSOL: 3102, SHORT_TAIL: 3103}


class WireBonderModel(StripToolModel):
    """The WB-3 behind its framed front; every command of §4.1 lands on a method here."""

    tool_name = "wire-bonder"
    model_name = "WB-3"
    serial = "WB3-00042"
    firmware = "3.4.2"
    init_s = 20.0
    stable_s = 30.0

    alarm_defs = (
        AlarmDef(3001, "Emergency stop", "A"),
        AlarmDef(3002, "Cover opened during cycle", "A"),
        AlarmDef(3003, "Forming gas flow low", "H"),
        AlarmDef(3004, "Compressed air low", "H"),
        AlarmDef(3101, "NSOP limit", "H"),
        AlarmDef(3102, "NSOL limit", "H"),
        AlarmDef(3103, "Short tail limit", "H"),
        AlarmDef(3104, "Wire break / fly-out", "H"),
        AlarmDef(3105, "EFO / FAB fail", "H"),
        AlarmDef(3106, "Ultrasonic impedance out of range", "H"),
        AlarmDef(3107, "Stage temperature out of band", "H"),
        AlarmDef(3108, "Capillary life reached", "H"),
        AlarmDef(3109, "Wire spool empty", "H"),
        AlarmDef(3110, "Strip fiducial not found", "A"),
        AlarmDef(3111, "Heater fault", "A"),
        AlarmDef(3201, "Capillary life 90 %", "W"),
        AlarmDef(3202, "Wire spool low", "W"),
    )
    interlock_table = (
        ("DOOR", RESUMABLE),
        ("AIR", RESUMABLE),
        ("GAS", RESUMABLE),
        ("TEMP", frozenset({"start"})),
        ("CAPILLARY", RESUMABLE),
        ("WIRE", RESUMABLE),
    )
    #: Physical conditions a fault can switch, and the alarm each raises during a cycle.
    #: GAS (3003) is handled in physics: it only matters with Cu wire.
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 3001,
        "DOOR": 3002,
        "AIR": 3004,
        "IMPEDANCE": 3106,
        "HEATER": 3111,
    }
    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("WIRE_MAT", "enum", "AU", choices=("AU", "CU")),
        ParamSpec("WIRE_D", "int", 25, 18, 50),
        ParamSpec("STAGE_T", "float", 150.0, 75.0, 220.0, decimals=1),
        ParamSpec("B1_FORCE", "int", 25, 10, 100),
        ParamSpec("B1_TIME", "int", 15, 5, 50),
        ParamSpec("B1_US", "int", 45, 0, 100),
        ParamSpec("B2_FORCE", "int", 60, 20, 150),
        ParamSpec("B2_TIME", "int", 20, 5, 50),
        ParamSpec("B2_US", "int", 55, 0, 100),
        ParamSpec("LOOP_H", "int", 250, 100, 400),
        ParamSpec("FAB_D", "int", 50, 30, 80),
        ParamSpec("GAS_FLOW", "float", 0.6, 0.2, 2.0, decimals=1),
        ParamSpec("CONSEC_LIM", "int", 3, 1, 10),
        ParamSpec("CAP_LIMIT", "int", 1_000_000, 100_000, 2_000_000, recipe=False),
        ParamSpec("WIRES", "int", 0, 0, 9999),  # read-only: set by the bond program
    ]
    read_only_params = frozenset({"WIRES"})
    default_size = (3, 10)
    default_pitch_mm = (17.3, 17.3)
    factory_recipes: ClassVar[dict[str, dict[str, Any]]] = {
        "A64": {"WIRES": 64},
        "B16": {"WIRES": 16},
    }
    factory_layouts: ClassVar[dict[str, tuple[tuple[int, int], tuple[float, float]]]] = {
        "A64": ((3, 10), (17.3, 17.3)),
        "B16": ((8, 30), (5.3, 5.3)),
    }

    def __init__(
        self,
        *args: Any,
        stage_c: float = AMBIENT_C,
        capillary_bonds: int = 0,
        wire_m: float = SPOOL_M,
        spool_m: float = SPOOL_M,
        nsop_ppm: float = BondRates.nsop_ppm,
        nsol_ppm: float = BondRates.nsol_ppm,
        short_tail_ppm: float = BondRates.short_tail_ppm,
        wire_break_ppm: float = BondRates.wire_break_ppm,
        efo_fail_ppm: float = BondRates.efo_fail_ppm,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, (size, pitch) in self.factory_layouts.items():
            self.recipes[name]["size"], self.recipes[name]["pitch"] = size, pitch
        self.stage_pv_c = stage_c
        self.capillary_bonds = capillary_bonds
        self.wire_m = wire_m
        self.spool_m = spool_m
        self.rates = BondRates(nsop_ppm, nsol_ppm, short_tail_ppm, wire_break_ppm, efo_fail_ppm)
        self.deviation_s = 0.0
        self.wire_s = WIRE_BASE_S
        self.consecutive = dict.fromkeys(CONSEC_ALARMS, 0)
        self.strip: StripState | None = None
        self.strip_known = False
        self.unit: UnitRun | None = None
        self.unit_wires_done = 0  # wires of ``unit`` finished in completed parts
        self.part_wires = 0  # wires planned in the part now running
        self.part_step: Step | None = None
        self._consumable_warnings()

    # == physics =============================================================================
    @property
    def heater_on(self) -> bool:
        return self.armed and not self.conditions.get("HEATER") and not self.conditions.get("ESTOP")

    @property
    def stage_sp_c(self) -> float:
        return float(self.params.values["STAGE_T"])  # hot: not via __getitem__

    def physics(self, dt_s: float) -> None:
        target = AMBIENT_C
        if self.heater_on:
            target = self.stage_sp_c - (STAGE_SAG_C if self.conditions.get("STAGE") else 0.0)
        if self.stage_pv_c < target:
            self.stage_pv_c = min(target, self.stage_pv_c + HEAT_RATE_C_PER_S * dt_s)
        else:
            self.stage_pv_c = max(target, self.stage_pv_c - COOL_RATE_C_PER_S * dt_s)
        # README §5: a cycle held in ALARM is still active; 3107 counts there too (§6), not in
        # one an A alarm stopped (the E-stop's heater off is its safe state).
        if self.cycle_watched() and abs(self.stage_pv_c - self.stage_sp_c) > DEVIATION_C:
            self.deviation_s += dt_s
            if self.deviation_s > DEVIATION_S:
                self.deviation_s = 0.0
                self.raise_alarm(3107)
        else:
            self.deviation_s = 0.0
        if self.gas_low and self.cycle_active:
            self.raise_alarm(3003)

    def physics_settled(self) -> bool:
        """The stage is at its goal and nothing counts towards 3107 or 3003: nothing moves."""
        target = AMBIENT_C
        if self.heater_on:
            target = self.stage_sp_c - (STAGE_SAG_C if self.conditions.get("STAGE") else 0.0)
        deviating = self.cycle_watched() and abs(self.stage_pv_c - self.stage_sp_c) > DEVIATION_C
        return (
            self.stage_pv_c == target and not deviating and not (self.gas_low and self.cycle_active)
        )

    def conditions_in_band(self) -> bool:
        return self.heater_on and abs(self.stage_pv_c - self.stage_sp_c) <= STAGE_BAND_C

    @property
    def gas_low(self) -> bool:
        """Forming gas below 80 % of GAS_FLOW matters only for Cu wire (3003, interlock GAS)."""
        return self.params.values["WIRE_MAT"] == "CU" and bool(self.conditions.get("GAS"))

    # == consumables =========================================================================
    @property
    def cap_limit(self) -> int:
        return int(self.params["CAP_LIMIT"])

    @property
    def spool_empty(self) -> bool:
        """Less wire left than one unit of the loaded program needs."""
        return self.wire_m < max(1, int(self.params["WIRES"])) * WIRE_M_PER_WIRE

    def consumables_now(self) -> tuple[int, float]:
        """CONS?: bond counter and wire left with the wires of the running unit bonded so far
        (§5: each wire adds 2 bonds and uses 3 mm; the counters are booked per unit part)."""
        running = self.wires_done_now() - self.unit_wires_done
        return (
            self.capillary_bonds + CAP_BONDS_PER_WIRE * running,
            max(0.0, self.wire_m - WIRE_M_PER_WIRE * running),
        )

    def _use_wire(self, wires: int) -> None:
        self.capillary_bonds += CAP_BONDS_PER_WIRE * wires
        self.wire_m = max(0.0, self.wire_m - WIRE_M_PER_WIRE * wires)
        self._consumable_warnings()

    def _consumable_warnings(self) -> None:
        if self.capillary_bonds >= CAP_WARNING_FRACTION * self.cap_limit:
            self.raise_alarm(3201)
        if self.wire_m < SPOOL_LOW_M:
            self.raise_alarm(3202)

    def reset_capillary(self) -> None:
        """CAPRESET: a new capillary (setup group, and also PAUSED and ALARM; §4.1)."""
        with self.lock:
            if self.state in (State.PAUSED, State.ALARM):
                self.advance()
            else:
                self.check("setup")
            self.capillary_bonds = 0
            self.conditions["IMPEDANCE"] = False

    def fix(self, code: int) -> None:
        """Operator remedies: new spool (3109, 3202), new capillary (3108, 3201), gas (3003),
        heater power (3107), others as the base (the alarm's condition goes away)."""
        with self.lock:
            if code in (3109, 3202):
                self.wire_m = self.spool_m
            elif code in (3108, 3201):
                self.capillary_bonds = 0
            elif code == 3003:
                self.conditions["GAS"] = False
            elif code == 3107:
                self.conditions["STAGE"] = False
            super().fix(code)

    # == interlocks and alarms ================================================================
    def interlock_active(self, name: str) -> bool:
        if name == "GAS":
            return self.gas_low
        if name == "CAPILLARY":
            return self.capillary_bonds >= self.cap_limit
        if name == "WIRE":
            return self.spool_empty
        return super().interlock_active(name)

    def alarm_cause_persists(self, code: int) -> bool:
        """Conditions still present keep their alarm through ALMCLR (README §6); 3107 stays
        while the stage is still more than 10 °C off STAGE_T (a deviation not yet ended)."""
        persists = {
            3003: lambda: self.gas_low,
            3107: lambda: abs(self.stage_pv_c - self.stage_sp_c) > DEVIATION_C,
            3108: lambda: self.capillary_bonds >= self.cap_limit,
            3109: lambda: self.spool_empty,
            3201: lambda: self.capillary_bonds >= CAP_WARNING_FRACTION * self.cap_limit,
            3202: lambda: self.wire_m < SPOOL_LOW_M,
        }
        check = persists.get(code)
        return check() if check is not None else super().alarm_cause_persists(code)

    def holds_at_once(self, code: int) -> bool:
        """§3: 3104 and 3105 stop at once; other holds at the end of the current unit."""
        return code in (3104, 3105)

    def set_condition(self, name: str, active: bool) -> None:
        """As the base, with two decisions (docs/tools/wire-bonder.md): opening the cover while
        the cycle is halted (PAUSED, ALARM) raises no alarm, it only blocks RESUME; a heater
        fault raises 3111 in any state."""
        with self.lock:
            name = name.upper()
            was = self.conditions.get(name, False)
            if name == "DOOR" and active and not self._cycle_moving():
                self.conditions[name] = True
                return
            super().set_condition(name, active)
            if name == "HEATER" and active and not was and not self.cycle_active:
                self.raise_alarm(3111)

    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        """An injected wire break (3104) during a unit breaks the wire being bonded (3504)."""
        with self.lock:
            unit = self.unit
            if code == 3104 and unit is not None and WIRE_BREAK not in {c for _, c in unit.events}:
                unit.break_wire(max(1, self.wires_done_now()))
            super().raise_alarm(code, cause_for_s=cause_for_s)

    # == settings ==============================================================================
    def check_settings(self) -> None:
        """§4.2 checks at START: 1.5 × WIRE_D ≤ FAB_D ≤ 3.0 × WIRE_D; Cu needs GAS_FLOW ≥ 0.4."""
        wire_d = self.params["WIRE_D"]
        if not 1.5 * wire_d <= self.params["FAB_D"] <= 3.0 * wire_d:
            raise Reject(14)
        if self.params["WIRE_MAT"] == "CU" and self.params["GAS_FLOW"] < 0.4 - 1e-9:
            raise Reject(14)

    def after_param_change(self, name: str) -> None:
        if name == "CAP_LIMIT":
            self._consumable_warnings()

    def bond_settings(self) -> BondSettings:
        p = self.params.values
        return BondSettings(
            p["WIRE_MAT"], p["WIRE_D"], p["B1_US"], p["B2_US"], p["LOOP_H"], p["FAB_D"]
        )

    def save_program(self, name: str | None = None) -> None:
        """PSAVE: into the loaded program, or a copy of it as ``name``; 24 if none is loaded."""
        with self.lock:
            self.check("set")
            if self.loaded_recipe is None:
                raise Reject(24)
            self.save_recipe(name)

    # == the cycle =============================================================================
    def build_cycle(self) -> list[Step]:
        self.wire_s = WIRE_BASE_S + (self.params["B1_TIME"] + self.params["B2_TIME"]) / 1000.0
        wires = int(self.params["WIRES"])
        steps = [Step("LOAD", self._jitter(LOAD_S)), Step("ALIGN", self._jitter(ALIGN_S))]
        sites = self.sites_to_process()
        for site in sites:
            steps += [
                Step("BOND", 0.0, site=site, on_end=self._check_consumables),
                Step(
                    "BOND",
                    self._jitter(INDEX_S),
                    site=site,
                    on_end=partial(self._recognize, site),
                    hold_point=False,
                ),
                Step(
                    "BOND",
                    wires * self.wire_s,
                    site=site,
                    on_start=partial(self._begin_unit, site),
                    on_end=self._end_unit,
                ),
            ]
        if sites:
            # A capillary worn out by the last unit still raises 3108 in the cycle, held
            # at the end of that unit, before UNLOAD (README §6: interlock arising in a cycle).
            steps.append(Step("BOND", 0.0, site=sites[-1], on_end=self._check_capillary))
        steps.append(Step("UNLOAD", self._jitter(UNLOAD_S), on_end=self._unload))
        return steps

    def _jitter(self, duration_s: float) -> float:
        return duration_s * self.rng.uniform(0.98, 1.02)

    def on_cycle_start(self) -> None:
        self.new_results(6)
        rows, cols = self.size
        self.strip_known = bool(self.strip_id) and self.world.get(self.strip_id) is not None
        self.strip = self.world.strip(self.strip_id, rows, cols)
        self.unit = None
        self.consecutive = dict.fromkeys(CONSEC_ALARMS, 0)
        self._update_summary()

    def _check_consumables(self) -> None:
        """The hold point before each unit: capillary life (3108), wire for the unit (3109)
        and a cracked capillary present since before START (3106 is no interlock)."""
        self._check_capillary()
        if self.conditions.get("IMPEDANCE"):
            self.raise_alarm(3106)
        if self.spool_empty:
            self.raise_alarm(3109)

    def _check_capillary(self) -> None:
        if self.capillary_bonds >= self.cap_limit:
            self.raise_alarm(3108)

    def die_present(self, site: int) -> bool:
        """A die glued face-up on the site; strips the world does not know are taken as bondable."""
        if not self.strip_known or self.strip is None:
            return True
        state = self.strip.sites.get(site)
        return state is not None and state.die_placed and not state.flip_chip_bonded

    def _recognize(self, site: int) -> None:
        """End of index + PR: no die means no unit fiducial (3505); the unit is not bonded."""
        if self.die_present(site):
            return
        wires = int(self.params["WIRES"])
        self._finish_row(site, UnitStats(0, wires, 0, 0, None, None, {FIDUCIAL}), None, FIDUCIAL)
        self.steps[0].hold_point = True
        if len(self.steps) > 1 and self.steps[1].site == site:
            del self.steps[1]

    def _begin_unit(self, site: int) -> None:
        step = self.steps[0]
        run = bond_unit(self.rng, site, int(self.params["WIRES"]), self.bond_settings(), self.rates)
        self.unit, self.unit_wires_done, self.part_step = run, 0, step
        self.part_wires = run.attempted
        if run.interruption is not None:
            kind, wire = run.interruption
            self.part_wires = wire if kind == "break" else wire - 1
            step.on_end, step.hold_point = self._interrupt, False
            rest = run.attempted - self.part_wires
            self.steps.insert(
                1,
                Step(
                    "BOND",
                    rest * self.wire_s,
                    site=site,
                    on_start=self._continue_unit,
                    on_end=self._end_unit,
                ),
            )
        step.duration_s = self.part_wires * self.wire_s

    def _interrupt(self) -> None:
        """A wire break (3104) or EFO failure (3105): the tool stops at once, mid-unit."""
        assert self.unit is not None and self.unit.interruption is not None
        self._end_part()
        self.raise_alarm(3104 if self.unit.interruption[0] == "break" else 3105)

    def _continue_unit(self) -> None:
        assert self.unit is not None
        self.part_step = self.steps[0]
        self.part_wires = self.unit.attempted - self.unit_wires_done

    def _end_part(self) -> None:
        self._use_wire(self.part_wires)
        self.unit_wires_done += self.part_wires
        self.part_wires, self.part_step = 0, None

    def wires_done_now(self) -> int:
        """Wires of the unit in progress finished so far (the running part counts pro rata)."""
        running = 0
        if (
            self.part_step is not None
            and self.steps
            and self.steps[0] is self.part_step
            and self.step_started
        ):
            running = min(self.part_wires, int(self.step_elapsed_s / self.wire_s + 1e-9))
        return self.unit_wires_done + running

    def _end_unit(self) -> None:
        run = self.unit
        assert run is not None
        self._end_part()
        stats = run.stats()
        defects = stats.judged(self.bond_settings())
        code = min(defects) if defects else 0
        self._finish_row(run.site, stats, run.pull_gf, code)
        self._count_consecutive(code)
        self.unit = None

    def _count_consecutive(self, code: int) -> None:
        """CONSEC_LIM bonded units in a row failing the same non-stick/tail code -> hold alarm."""
        for defect, alarm in CONSEC_ALARMS.items():
            self.consecutive[defect] = self.consecutive[defect] + 1 if code == defect else 0
            if self.consecutive[defect] >= self.params["CONSEC_LIM"]:
                self.consecutive[defect] = 0
                self.raise_alarm(alarm, cause_for_s=0.0)

    def on_abort(self, by_alarm: bool) -> None:
        """§3: the unit in progress (bonding begun) is F 3508; units not reached stay N."""
        run = self.unit
        if run is None or self.results is None:
            return
        done = self.wires_done_now()
        self._use_wire(done - self.unit_wires_done)
        stats = run.stats(done)
        self._finish_row(
            run.site,
            stats,
            run.pull_gf if stats.wires_bonded else None,
            min(stats.defects | {INTERRUPTED}),
        )
        self.unit, self.part_step = None, None

    def _unload(self) -> None:
        if self.strip is not None and self.results is not None:
            r = self.results
            self.strip.record(
                self.time_s, self.tool_name, f"wire bonded P={r.count('P')} F={r.count('F')}"
            )

    # == results and world =======================================================================
    def _finish_row(self, site: int, stats: UnitStats, pull_gf: float | None, code: int) -> None:
        assert self.results is not None
        row = self.results.rows[site - 1]
        row.result, row.defect = ("F", code) if code else ("P", 0)
        fab = "" if stats.mean_fab_um is None else f"{stats.mean_fab_um:.1f}"
        loop = "" if stats.mean_loop_um is None else str(round(stats.mean_loop_um))
        row.values = (
            str(stats.wires_bonded),
            str(stats.wires_total),
            str(stats.nsop),
            str(stats.nsol),
            fab,
            loop,
        )
        self._update_summary()
        state = self.strip.sites.get(site) if self.strip is not None else None
        if state is None:
            return
        state.wires_bonded, state.wires_total = stats.wires_bonded, stats.wires_total
        state.wire_pull_gf = (
            round(pull_gf, 2) if pull_gf is not None and stats.wires_bonded else None
        )
        if code:
            state.defects[self.tool_name] = code

    def _update_summary(self) -> None:
        assert self.results is not None
        bonded = sum(int(r.values[0]) for r in self.results.rows if r.values and r.values[0])
        self.results.summary_extra = (str(bonded),)

    def progress(self) -> tuple[int, int, int, int]:
        """STAT? counts: the active cycle, in DONE/ABORTED the finished one, else zeros."""
        if not (self.cycle_active or self.state in (State.DONE, State.ABORTED)):
            return (0, 0, 0, 0)
        return super().progress()

    def current_unit(self) -> int:
        """STAT? site: the unit the cycle is at, 0 if none."""
        return (self.current_site or 0) if self.cycle_active else 0

    def on_ack(self) -> None:
        super().on_ack()
        self.strip = None

    def do_reset(self) -> None:
        with self.lock:
            super().do_reset()
            self.unit, self.part_step, self.strip = None, None, None
