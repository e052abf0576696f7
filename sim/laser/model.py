"""UVL-3 process model (laser.md §3-§8): laser source with warm-up and power calibration, the
stored patterns, the LOAD/ALIGN/ABLATE/INSPECT/UNLOAD cycle site by site, alarms and
interlocks, and what the laser leaves in the world's PI film strips.

The physics of a site is in :mod:`sim.laser.ablation`; this module owns states and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sim.laser.ablation import (
    INSPECT_PER_SITE_S,
    SITE_OVERHEAD_S,
    LaserSettings,
    Pattern,
    SitePlan,
    ViaOutcome,
    average_power_w,
    plan_site,
)
from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, Reject, SiteResult, State, Step
from sim.world import StripState

#: Patterns stored at delivery (laser.md §1).
PATTERNS: dict[str, Pattern] = {
    "IO16": Pattern(16, 0.0),
    "IO16-DIE4": Pattern(16, 4.0),
    "IO32": Pattern(32, 0.0),
    "IO32-DIE4": Pattern(32, 4.0),
}
LOAD_S, ALIGN_S, UNLOAD_S = 10.0, 8.0, 10.0
WARMUP_COLD_S, WARMUP_WARM_S = 600.0, 60.0
COLD_AFTER_OFF_S = 30 * 60.0
CALIBRATION_S = 30.0
CAL_DUE_S = 8 * 3600.0  # 8201
CAL_VALID_S = 24 * 3600.0  # interlock CAL
CAL_RATIO_LIMITS = (0.900, 1.100)
CAL_RATIO_SIGMA = 0.004  # repeatability of the internal power meter
POWER_MONITOR_LIMIT = 0.10  # 8101 during a cycle
SOURCE_HOURS_LIMIT = 20000.0  # 8202
VIA_FAIL_RUN = 3  # 8107

_START_RESUME = frozenset({"start", "resume"})
_START_RESUME_CAL = frozenset({"start", "resume", "calibrate"})


@dataclass
class FiringSite:
    """The site the laser is working on: its id and plan (``plan`` None: fiducial not found)."""

    site: int
    plan: SitePlan | None


class LaserModel(StripToolModel):
    """The simulated UVL-3. Options: ``source_hours`` (initial), ``source_efficiency`` (source
    output / nominal; below 0.9 the calibration fails with 8101), ``via_block_rate`` (debris per
    via, 8501), ``residue_rate`` (carbon residue per open via, 8502), ``fiducial_miss_rate``
    (per site, 8505)."""

    tool_name = "laser"
    model_name = "UVL-3"
    serial = "UVL3-00042"
    firmware = "3.1.4"
    heating_name = "WARMUP"
    warm_interlock = "WARMUP"
    init_s = 20.0
    stable_s = 0.0
    max_step_s = 5.0
    default_size = (8, 30)
    default_pitch_mm = (5.3, 5.3)

    alarm_defs = (
        AlarmDef(8001, "Emergency stop", "A"),
        AlarmDef(8002, "Enclosure door opened during cycle", "A"),
        AlarmDef(8003, "Laser key switch off", "A"),
        AlarmDef(8004, "Fume extraction low", "H"),
        AlarmDef(8005, "Chiller fault", "A"),
        AlarmDef(8101, "Laser power out of tolerance", "H"),
        AlarmDef(8102, "Laser source fault", "A"),
        AlarmDef(8103, "Shutter fault", "A"),
        AlarmDef(8104, "Scanner fault", "A"),
        AlarmDef(8105, "Focus error", "H"),
        AlarmDef(8106, "Alignment failed", "A"),
        AlarmDef(8107, "Via open rate low", "H"),
        AlarmDef(8201, "Power calibration due", "W"),
        AlarmDef(8202, "Laser source hours high", "W"),
    )
    interlock_table = (
        ("DOOR", _START_RESUME_CAL),
        ("KEY", _START_RESUME_CAL),
        ("EXHAUST", _START_RESUME),
        ("CHILLER", _START_RESUME_CAL),
        ("VACUUM", frozenset({"resume"})),
        ("WARMUP", frozenset({"start", "calibrate"})),
        ("CAL", _START_RESUME),
    )
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 8001,
        "DOOR": 8002,
        "KEY": 8003,
        "EXHAUST": 8004,
        "CHILLER": 8005,
        "VACUUM": 8105,  # a chuck losing vacuum lifts the film out of focus
    }
    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("pattern", "str", "IO16", max_len=16),
        ParamSpec("fluence_j_cm2", "float", 1.20, 0.20, 3.00, decimals=2),
        ParamSpec("frequency_khz", "int", 50, 10, 200),
        ParamSpec("spot_um", "int", 25, 10, 60),
        ParamSpec("film_thickness_um", "float", 25.0, 12.5, 125.0, decimals=1),
        ParamSpec("via_max_pulses", "int", 250, 10, 5000),
        ParamSpec("via_endpoint", "bool", True),
        ParamSpec("recess_depth_um", "float", 12.0, 1.0, 100.0, decimals=1),
        ParamSpec("recess_tolerance_um", "float", 2.0, 0.5, 10.0, decimals=1),
    ]
    #: One recipe per stored pattern at delivery (the manual's example loads "B-IO16").
    factory_recipes: ClassVar[dict[str, dict[str, Any]]] = {
        f"B-{name}": {"pattern": name} for name in PATTERNS
    }

    def __init__(
        self,
        *args: Any,
        source_hours: float = 1250.0,
        source_efficiency: float = 1.0,
        via_block_rate: float = 2e-4,
        residue_rate: float = 1e-4,
        fiducial_miss_rate: float = 5e-4,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source_hours = source_hours
        self.source_efficiency = source_efficiency
        self.via_block_rate = via_block_rate
        self.residue_rate = residue_rate
        self.fiducial_miss_rate = fiducial_miss_rate
        self.clock_origin = datetime.now().replace(microsecond=0)
        # Laser source.
        self.source_on = False
        self.source_off_at_s: float | None = None  # None: never on since power-up (cold)
        self.warm_s = 0.0
        self.warmup_s = WARMUP_COLD_S
        # Power calibration (lost at power-up, kept by *RST).
        self.calibrated_at_s: float | None = None
        self.cal_gain = 1.0
        self.last_cal: tuple[float, str] | None = None
        self.cal_started_s = 0.0
        # Cycle.
        self.strip: StripState | None = None
        self.strip_loaded = False
        self.firing: FiringSite | None = None
        self.site_plans: dict[int, SitePlan] = {}
        self.site_defects: dict[int, set[int]] = {}
        self.vias_ablated = 0
        self.via_fail_run = 0

    # == settings and patterns ===============================================================
    @property
    def pattern(self) -> Pattern:
        return PATTERNS[self.params["pattern"]]

    def pattern_catalog(self) -> list[str]:
        return sorted(PATTERNS)

    def select_pattern(self, name: str) -> None:
        """``PATTern:SELect``: name rules (-151), state matrix, then 25 for an unknown pattern."""
        with self.lock:
            if not name:
                raise Reject(12, scpi=-151)
            self.params.specs["pattern"].parse(name)
            self.check("set")
            if name not in PATTERNS:
                raise Reject(25)
            self.params["pattern"] = name
            if self.loaded_recipe is not None:
                self.recipe_edited = True

    def settings(self) -> LaserSettings:
        p = self.params
        return LaserSettings(
            p["fluence_j_cm2"],
            p["frequency_khz"],
            p["spot_um"],
            p["via_max_pulses"],
            p["via_endpoint"],
            p["recess_depth_um"],
        )

    # == laser source, warm-up, calibration ==================================================
    @property
    def power_factor(self) -> float:
        """Delivered / set fluence: source output corrected by the last passing calibration."""
        return self.source_efficiency * self.cal_gain

    def power_w(self) -> float:
        """Average power at the work plane at the current settings; 0 with the source off."""
        if not self.source_on:
            return 0.0
        p = self.params
        return average_power_w(
            p["fluence_j_cm2"] * self.power_factor, p["spot_um"], p["frequency_khz"]
        )

    def _source_allowed(self) -> bool:
        if any(self.conditions.get(name, False) for name in ("KEY", "CHILLER", "ESTOP")):
            return False
        return not any(self.alarm_by_code[c].alarm_class == "A" for c in self.active_alarms)

    def _switch_source(self, on: bool) -> None:
        if on == self.source_on:
            return
        if on:
            off_for = None if self.source_off_at_s is None else self.time_s - self.source_off_at_s
            self.warmup_s = (
                WARMUP_COLD_S if off_for is None or off_for >= COLD_AFTER_OFF_S else WARMUP_WARM_S
            )
            self.warm_s = 0.0
        else:
            self.source_off_at_s = self.time_s
        self.source_on = on

    def on_arm(self) -> None:
        self._switch_source(self._source_allowed())

    def on_disarm(self) -> None:
        self._switch_source(False)

    def on_abort_class_alarm(self) -> None:
        self._switch_source(False)

    def conditions_in_band(self) -> bool:
        return self.source_on and self.warm_s >= self.warmup_s

    def physics(self, dt_s: float) -> None:
        if self.source_on and not self._source_allowed():
            self._switch_source(False)
        if (
            not self.source_on
            and self.armed
            and self.state is State.HEATING
            and self._source_allowed()
        ):
            self._switch_source(True)  # WARMUP again after an A-class alarm, key or chiller
        if self.source_on:
            self.warm_s += dt_s
            self.source_hours += dt_s / 3600.0
        for code in (8201, 8202):
            if code not in self.active_alarms and self.alarm_cause_persists(code):
                self.raise_alarm(code)

    def physics_settled(self) -> bool:
        """Warm time and source hours grow linearly (exact for any step); the source switches
        only on a state or condition change, which a request or an event brings."""
        source_should_switch = (self.source_on and not self._source_allowed()) or (
            not self.source_on
            and self.armed
            and self.state is State.HEATING
            and self._source_allowed()
        )
        return not source_should_switch

    def physics_event_in_s(self) -> float | None:
        """The source ends its warm-up, the calibration falls due (8201) and the source passes
        its hour limit (8202)."""
        due: list[float] = []
        if self.source_on and self.warm_s < self.warmup_s:
            due.append(self.warmup_s - self.warm_s)
        age = self.calibration_age_s
        if age is not None and age <= CAL_DUE_S:
            due.append(CAL_DUE_S - age + 1e-6)
        if self.source_on and self.source_hours <= SOURCE_HOURS_LIMIT:
            due.append((SOURCE_HOURS_LIMIT - self.source_hours) * 3600.0 + 1e-6)
        return min(due, default=None)

    @property
    def calibration_age_s(self) -> float | None:
        return None if self.calibrated_at_s is None else self.time_s - self.calibrated_at_s

    def alarm_cause_persists(self, code: int) -> bool:
        if code == 8201:
            age = self.calibration_age_s
            return age is not None and age > CAL_DUE_S
        if code == 8202:
            return self.source_hours > SOURCE_HOURS_LIMIT
        return super().alarm_cause_persists(code)

    def interlock_active(self, name: str) -> bool:
        if name == "CAL":
            age = self.calibration_age_s
            return age is None or age > CAL_VALID_S
        if name == "VACUUM":
            return self.strip_loaded and self.conditions.get("VACUUM", False)
        return super().interlock_active(name)

    def calibrate(self) -> None:
        """``LASer:CALibrate``: SETUP for 30 s; needs the source on (IDLE 24, WARMUP 22)."""
        with self.lock:
            self.check("setup")
            if self.state is State.IDLE:
                raise Reject(24)
            self.check_interlocks("calibrate")
            self.cal_started_s = self.time_s
            self.do_setup(CALIBRATION_S, self._calibration_done)

    def _calibration_done(self) -> None:
        """The power meter compares measured with expected power; a source that was off at any
        moment of the measurement (key, chiller) gives nothing to measure: ratio 0.000, 8101."""
        ratio = round(self.source_efficiency * (1.0 + self.rng.gauss(0.0, CAL_RATIO_SIGMA)), 3)
        off_at = self.source_off_at_s
        if not self.source_on or (off_at is not None and off_at >= self.cal_started_s):
            ratio = 0.0
        self.last_cal = (ratio, self.timestamp())
        lo, hi = CAL_RATIO_LIMITS
        if lo <= ratio <= hi:
            self.calibrated_at_s = self.time_s
            self.cal_gain = 1.0 / ratio
        else:
            self.calibrated_at_s = None
            self.cal_gain = 1.0
            self.raise_alarm(8101, cause_for_s=0.0)

    def calibration_text(self) -> str:
        """``LASer:CALibrate?``: ratio and timestamp of the last calibration since power-up."""
        if self.last_cal is None:
            return '0.000,""'
        ratio, stamp = self.last_cal
        return f'{ratio:.3f},"{stamp}"'

    def timestamp(self) -> str:
        """Tool local time: the host's time when the simulator started, plus sim time."""
        return (self.clock_origin + timedelta(seconds=self.time_s)).strftime("%Y-%m-%dT%H:%M:%S")

    def shutter(self) -> str:
        firing = self.firing
        open_ = (
            firing is not None
            and firing.plan is not None
            and self.step_elapsed_s >= SITE_OVERHEAD_S
        )
        return "OPEN" if open_ else "CLOSED"

    def _close_shutter(self) -> None:
        """No site in progress any more (end of site, abort)."""
        self.firing = None

    # == cycle ===============================================================================
    def do_start(self) -> None:
        """START; the settings conflict of §4 is checked at START only (after the state)."""
        with self.lock:
            self.check("start")
            p = self.params
            if self.pattern.area_mm2 > 0.0 and p["recess_depth_um"] >= p["film_thickness_um"]:
                raise Reject(14)
            super().do_start()

    def build_cycle(self) -> list[Step]:
        settings = self.settings()
        site_s = settings.nominal_site_s(self.pattern, self.params["film_thickness_um"])
        sites = self.sites_to_process()
        steps = [
            Step("LOAD", LOAD_S, on_start=self._load),
            Step("ALIGN", ALIGN_S),
            *(self._site_step(site, site_s) for site in sites),
            Step("INSPECT", INSPECT_PER_SITE_S * len(sites), on_end=self._inspect),
            Step("UNLOAD", UNLOAD_S, on_end=self._unload, hold_point=False),
        ]
        return steps

    def _site_step(self, site: int, estimate_s: float) -> Step:
        step = Step("ABLATE", estimate_s, site=site)
        step.on_start = lambda: self._begin_site(step)
        step.on_end = lambda: self._end_site(step)
        return step

    def on_cycle_start(self) -> None:
        results = self.new_results(4)
        results.summary_extra = (self.params["pattern"], "0")
        self.strip = self.world.strip(self.strip_id, *self.size)
        self.site_plans = {}
        self.site_defects = {}
        self.vias_ablated = 0
        self.via_fail_run = 0
        self.firing = None

    def _load(self) -> None:
        self.strip_loaded = True

    def _thickness_um(self, site: int) -> float:
        """The film's real thickness (world), else the FILM:THICKness setting, recorded."""
        assert self.strip is not None
        state = self.strip.site(site)
        if state.film_thickness_um is None:
            state.film_thickness_um = self.params["film_thickness_um"]
        return state.film_thickness_um

    def _begin_site(self, step: Step) -> None:
        assert step.site is not None
        if abs(self.power_factor - 1.0) > POWER_MONITOR_LIMIT:
            self.raise_alarm(8101, cause_for_s=0.0)
        if self.rng.random() < self.fiducial_miss_rate:
            self.firing = FiringSite(step.site, None)
            step.duration_s = SITE_OVERHEAD_S
            return
        plan = plan_site(
            self.rng,
            self.settings(),
            self.pattern,
            thickness_um=self._thickness_um(step.site),
            power_factor=self.power_factor,
            via_block_rate=self.via_block_rate,
        )
        self.firing = FiringSite(step.site, plan)
        step.duration_s = plan.duration_s

    def _end_site(self, step: Step) -> None:
        firing = self.firing
        self._close_shutter()
        if firing is None:
            return
        if firing.plan is None:
            self._record(firing.site, {8505}, (), None, None)
            return
        plan = firing.plan
        defects: set[int] = set()
        if not all(v.open for v in plan.vias):
            defects.add(8501)
        if any(v.pad_damage for v in plan.vias):
            defects.add(8503)
        if (
            plan.recess_depth_um is not None
            and abs(plan.recess_depth_um - self.params["recess_depth_um"])
            > self.params["recess_tolerance_um"]
        ):
            defects.add(8504)
        self.site_plans[firing.site] = plan
        self._record(firing.site, defects, plan.vias, plan.recess_depth_um, plan)
        self._count_via_failures(8501 in defects)

    def _count_via_failures(self, failed: bool) -> None:
        """8107 after three processed sites in a row with 8501 (the count restarts)."""
        self.via_fail_run = self.via_fail_run + 1 if failed else 0
        if self.via_fail_run >= VIA_FAIL_RUN:
            self.via_fail_run = 0
            self.raise_alarm(8107, cause_for_s=0.0)

    def _record(
        self,
        site: int,
        defects: set[int],
        vias_done: tuple[ViaOutcome, ...],
        recess_depth_um: float | None,
        plan: SitePlan | None,
    ) -> None:
        """Result row, summary count and world state of a site the laser finished or left."""
        assert self.results is not None
        self.site_defects[site] = defects
        vias_total = self.pattern.vias
        row = self.results.rows[site - 1]
        row.result, row.defect = ("F", min(defects)) if defects else ("P", 0)
        mean_pulses = (
            str(round(sum(v.pulses for v in vias_done) / len(vias_done))) if vias_done else ""
        )
        depth_text = "" if recess_depth_um is None else f"{recess_depth_um:.1f}"
        row.values = (str(sum(v.open for v in vias_done)), str(vias_total), depth_text, mean_pulses)
        self.vias_ablated += len(vias_done)
        self.results.summary_extra = (self.params["pattern"], str(self.vias_ablated))
        self._write_world(site, row, vias_done, recess_depth_um, plan)

    def _write_world(
        self,
        site: int,
        row: SiteResult,
        vias_done: tuple[ViaOutcome, ...],
        recess_depth_um: float | None,
        plan: SitePlan | None,
    ) -> None:
        assert self.strip is not None
        state = self.strip.site(site)
        if row.result == "F":
            state.defects[self.tool_name] = row.defect
        if plan is None:
            return  # fiducial not found: the laser did not touch the site
        depths = [v.depth_um for v in vias_done] + [0.0] * (self.pattern.vias - len(vias_done))
        state.via_depth_um = sum(depths) / len(depths)
        state.via_depth_min_um = min(depths)
        state.residual_pi_um = max(0.0, plan.thickness_um - state.via_depth_min_um)
        if recess_depth_um is not None:
            state.area_recess_depth_um = recess_depth_um

    def _inspect(self) -> None:
        """Vision after ablation: carbon residue in open vias (8502), likelier near threshold."""
        assert self.results is not None
        fluence = self.params["fluence_j_cm2"] * self.power_factor
        p_residue = self.residue_rate * max(1.0, (0.5 / fluence) ** 2)
        for site, plan in self.site_plans.items():
            if any(v.open and self.rng.random() < p_residue for v in plan.vias):
                defects = self.site_defects[site] | {8502}
                self.site_defects[site] = defects
                row = self.results.rows[site - 1]
                row.result, row.defect = "F", min(defects)
                assert self.strip is not None
                self.strip.site(site).defects[self.tool_name] = row.defect

    def _unload(self) -> None:
        self.strip_loaded = False
        if self.strip is not None and self.results is not None:
            self.strip.record(
                self.time_s,
                self.tool_name,
                f"laser {self.params['pattern']} {self.results.result_map.count('P')} P",
            )

    def on_abort(self, by_alarm: bool) -> None:
        """The site in progress is F 8506 with the vias done so far; the rest stay N."""
        firing = self.firing
        self._close_shutter()
        self.strip_loaded = False
        if firing is None or self.results is None:
            return
        if firing.plan is None:
            self._record(firing.site, {8506}, (), None, None)
            return
        elapsed = self.step_elapsed_s
        vias_done = firing.plan.vias_done(elapsed)
        self._record(
            firing.site, {8506}, vias_done, firing.plan.recess_depth_at(elapsed), firing.plan
        )
