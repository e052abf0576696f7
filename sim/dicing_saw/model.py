"""DS-2 dicing saw process model (dicing-saw.md): spindle warm-up, blade life and setup,
gang cut of every line in CUT:PASSes passes, kerf checks, singulation of the world's strips.

Timing (§8): LOAD 10 + ALIGN 8 + ROTATE 4 + CLEAN 30 + UNLOAD 10 s, each line pass
(extent + 10 mm) / feed + 0.5 s, a kerf check 2 s: Format B ≈ 275 s, Format A ≈ 154 s.
PAUSE and hold-class alarms take effect at the end of the current line pass (or kerf check);
abort-class alarms stop at once and stop the spindle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sim.dicing_saw.blade import EXPOSURE_MIN_MM, IDLE_LOAD_PCT, Blade, max_speed_krpm
from sim.dicing_saw.cut_plan import Line, bounding_lines, is_checked, plan_lines
from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, Reject, SiteResult, State, Step
from sim.world import StripState

HANDLING_S = {"LOAD": 10.0, "ALIGN": 8.0, "ROTATE": 4.0, "CLEAN": 30.0, "UNLOAD": 10.0}
KERF_CHECK_S = 2.0
BLADE_SETUP_S = 45.0
WARMUP_COLD_S = 300.0
WARMUP_WARM_S = 60.0
COLD_AFTER_STOP_S = 1800.0
OVERLOAD_PCT = 90.0
OVERLOAD_S = 1.0
COOLANT_LOW_FRACTION = 0.8
COOLANT_LOW_S = 5.0
SPEED_DEVIATION = 0.05
SPEED_DEVIATION_S = 1.0
#: Fault-injected conditions: flow and speed that the saw then measures.
COOLANT_LOW_FLOW_FRACTION = 0.6
SPEED_SAG_FRACTION = 0.92
#: Chance that a singulated unit leaves the chuck when its vacuum fails (alarm 7003).
UNIT_LOSS_ON_VACUUM_LOSS = 0.3
ALIGN_SIGMA_UM = 3.0
LINE_OFFSET_SIGMA_UM = 1.5
SITE_SIGMA_UM = 0.8

#: One kerf-check measurement at a site: chipping, kerf offset, kerf width (µm).
Measurement = tuple[float, float, float]

START_RESUME = frozenset({"start", "resume"})
START_RESUME_SETUP = frozenset({"start", "resume", "setup"})


class DicingSawModel(StripToolModel):
    """The DS-2: one strip per cycle, gang cut, kerf checks at bounding sites."""

    tool_name = "dicing-saw"
    model_name = "DS-2"
    serial = "DS2-00388"
    firmware = "1.7.4"
    heating_name = "WARMUP"
    warm_interlock = "WARMUP"
    init_s = 20.0
    stable_s = 0.0
    max_step_s = 0.5
    default_size = (8, 30)
    default_pitch_mm = (5.3, 5.3)

    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("spindle_speed_krpm", "float", 30.0, 10.0, 60.0, 1),
        ParamSpec("blade_thickness_um", "int", 250, 15, 350),
        ParamSpec("blade_limit", "int", 20000, 1000, 50000, recipe=False),
        ParamSpec("cut_feed_mm_s", "float", 40.0, 1.0, 100.0, 1),
        ParamSpec("cut_height_mm", "float", 0.080, 0.030, 1.000, 3),
        ParamSpec("cut_passes", "int", 2, 1, 3),
        ParamSpec("cut_check", "int", 5, 0, 50),
        ParamSpec("cut_offset_limit_um", "int", 25, 5, 100),
        ParamSpec("cut_chipping_limit_um", "int", 50, 10, 200),
        ParamSpec("coolant_flow_l_min", "float", 1.5, 0.5, 3.0, 1),
    ]
    alarm_defs = (
        AlarmDef(7001, "Emergency stop", "A"),
        AlarmDef(7002, "Cover opened during cycle", "A"),
        AlarmDef(7003, "Chuck vacuum low", "A"),
        AlarmDef(7004, "Compressed air low", "H"),
        AlarmDef(7101, "Spindle overload", "A"),
        AlarmDef(7102, "Blade breakage detected", "A"),
        AlarmDef(7103, "Blade life reached", "H"),
        AlarmDef(7104, "Coolant flow low", "H"),
        AlarmDef(7105, "Kerf offset over limit", "H"),
        AlarmDef(7106, "Chipping over limit 3 times in a row", "H"),
        AlarmDef(7107, "Alignment failed", "A"),
        AlarmDef(7108, "Spindle speed deviation", "A"),
        AlarmDef(7109, "Blade exposure insufficient", "H"),
        AlarmDef(7201, "Blade life 90 %", "W"),
    )
    interlock_table = (
        ("DOOR", START_RESUME_SETUP),
        ("AIR", START_RESUME_SETUP),
        ("VACUUM", frozenset({"resume"})),
        ("COOLANT", START_RESUME),
        ("WARMUP", frozenset({"start", "setup"})),
        ("BLADE", START_RESUME),
    )
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 7001,
        "DOOR": 7002,
        "VACUUM": 7003,
        "AIR": 7004,
    }

    def __init__(self, *args: Any, blade_count: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recipes["B-SING"] = {
            "params": self.params.recipe_snapshot(),
            "size": (8, 30),
            "pitch": (5.3, 5.3),
        }
        self.recipes["A-SING"] = {
            "params": self.params.recipe_snapshot(),
            "size": (3, 10),
            "pitch": (17.3, 17.3),
        }
        self.blade = Blade.new(self.rng, blade_count)
        self.blade_setup_valid = False
        self.exposure_measured_mm = 0.0
        self.chipping_checks_over = 0
        # Spindle and coolant.
        self.spindle_on = False
        self.spindle_stopped_at: float | None = None  # None: not run since power-up (cold)
        self.warmup_remaining_s = 0.0
        self.load_pct = 0.0
        self.overload_s = 0.0
        self.coolant_low_s = 0.0
        self.speed_off_s = 0.0
        # Per cycle.
        self.bounds: dict[int, tuple[int, int, int, int]] = {}
        self.current_pass: Line | None = None
        self.lines_started: set[int] = set()
        self.lines_cut: set[int] = set()
        self.passes_cut = 0
        self.total_passes = 0
        self.cut_chipping_um: dict[int, dict[int, float]] = {}  # line -> site -> physical chipping
        self.measured: dict[int, list[Measurement]] = {}  # site -> kerf checks at that site
        self.align_um = {"CH1": 0.0, "CH2": 0.0}
        self.units_may_move = False
        self.strip: StripState | None = None
        self._check_blade_life(in_cycle=False)

    # == spindle and coolant =================================================================
    @property
    def spindle_krpm(self) -> float:
        """Actual spindle speed (sags under the fault-injected SPEED condition)."""
        if not self.spindle_on:
            return 0.0
        sag = SPEED_SAG_FRACTION if self.conditions.get("SPEED") else 1.0
        return float(self.params["spindle_speed_krpm"]) * sag

    @property
    def coolant_l_min(self) -> float:
        """Actual coolant flow: on while the spindle runs (low under the COOLANT condition)."""
        if not self.spindle_on:
            return 0.0
        low = COOLANT_LOW_FLOW_FRACTION if self.conditions.get("COOLANT") else 1.0
        return float(self.params["coolant_flow_l_min"]) * low

    def _start_spindle(self) -> None:
        cold = (
            self.spindle_stopped_at is None
            or self.time_s - self.spindle_stopped_at >= COLD_AFTER_STOP_S
        )
        self.warmup_remaining_s = WARMUP_COLD_S if cold else WARMUP_WARM_S
        self.spindle_on = True

    def _stop_spindle(self) -> None:
        """Blade out of the cut, spindle stopped: speed and load read 0 from this instant."""
        if self.spindle_on:
            self.spindle_on = False
            self.spindle_stopped_at = self.time_s
        self.current_pass = None
        self.load_pct = 0.0

    def on_arm(self) -> None:
        """RECipe:LOAD: start the spindle (§3); on a running spindle warm up 60 s, but never
        cut short a cold warm-up still in progress (300 s after power-up or a long stop)."""
        if self.spindle_on:
            self.warmup_remaining_s = max(self.warmup_remaining_s, WARMUP_WARM_S)
        else:
            self._start_spindle()

    def on_disarm(self) -> None:
        self._stop_spindle()

    def on_abort_class_alarm(self) -> None:
        self._stop_spindle()

    def conditions_in_band(self) -> bool:
        return self.spindle_on and self.warmup_remaining_s <= 0.0

    def physics_settled(self) -> bool:
        """Nothing counts towards 7101, 7104 or 7108 and the spindle need not start: the
        warm-up count-down is linear (its end is an event), the load follows the cut."""
        if (
            not self.spindle_on
            and self.armed
            and self.state in (State.HEATING, State.READY)
            and self.blocking_alarm() is None
        ):
            return False
        moving = self.cycle_active and self._cycle_moving()
        if not moving:
            return True
        params = self.params.values  # asked on every step: the dict, not __getitem__
        feed = float(params["cut_feed_mm_s"])
        cutting = self.current_pass is not None
        thickness = int(params["blade_thickness_um"])
        if cutting and self.blade.cut_load_pct(feed, thickness) > OVERLOAD_PCT:
            return False
        if self.coolant_l_min < COOLANT_LOW_FRACTION * float(params["coolant_flow_l_min"]):
            return False
        speed_set = float(params["spindle_speed_krpm"])
        return abs(self.spindle_krpm - speed_set) <= SPEED_DEVIATION * speed_set

    def physics_event_in_s(self) -> float | None:
        """The spindle's warm-up ends."""
        if self.spindle_on and self.warmup_remaining_s > 0.0:
            return self.warmup_remaining_s
        return None

    def physics(self, dt_s: float) -> None:
        if self.spindle_on:
            self.warmup_remaining_s = max(0.0, self.warmup_remaining_s - dt_s)
        elif (
            self.armed
            and self.state in (State.HEATING, State.READY)
            and self.blocking_alarm() is None
        ):
            self._start_spindle()  # back from an abort-class stop: warm up again
        moving = self.cycle_active and self._cycle_moving()
        cutting = moving and self.current_pass is not None
        feed = float(self.params["cut_feed_mm_s"])
        if cutting:
            self.load_pct = self.blade.cut_load_pct(feed, int(self.params["blade_thickness_um"]))
        else:
            self.load_pct = IDLE_LOAD_PCT if self.spindle_on else 0.0
        self.overload_s = (
            self.overload_s + dt_s if cutting and self.load_pct > OVERLOAD_PCT else 0.0
        )
        if self.overload_s >= OVERLOAD_S - 1e-9:
            self.overload_s = 0.0
            self.raise_alarm(7101)
        flow_low = self.coolant_l_min < COOLANT_LOW_FRACTION * float(
            self.params["coolant_flow_l_min"]
        )
        self.coolant_low_s = self.coolant_low_s + dt_s if moving and flow_low else 0.0
        if self.coolant_low_s >= COOLANT_LOW_S - 1e-9:
            self.raise_alarm(7104)
        speed_set = float(self.params["spindle_speed_krpm"])
        speed_off = abs(self.spindle_krpm - speed_set) > SPEED_DEVIATION * speed_set
        self.speed_off_s = self.speed_off_s + dt_s if moving and speed_off else 0.0
        if self.speed_off_s >= SPEED_DEVIATION_S - 1e-9:
            self.speed_off_s = 0.0
            self.raise_alarm(7108)

    # == blade ===============================================================================
    def _check_blade_group(self, *, allowed_in_alarm: bool) -> None:
        """Setup group (README §5) with the §3 deviation: also in PAUSED (and ALARM for CHANge),
        once the cycle has actually stopped at the end of its line pass."""
        self.advance()
        if self.state is State.PAUSED or (allowed_in_alarm and self.state is State.ALARM):
            if self.cycle_active and not self.halted:
                raise Reject(20, self.state_name())
            return
        self.check("setup")

    def change_blade(self) -> None:
        """``BLADe:CHANge``: a new blade is on the spindle; count 0, setup invalid."""
        with self.lock:
            self._check_blade_group(allowed_in_alarm=True)
            self._new_blade()

    def _new_blade(self) -> None:
        self.blade = Blade.new(self.rng)
        self.blade_setup_valid = False
        self.exposure_measured_mm = 0.0
        self.chipping_checks_over = 0

    def fix(self, code: int) -> None:
        """Operator remedy: a new blade for the blade alarms (7102 broken, 7103 life, 7109
        exposure, 7201 life 90 %), recorded as ``BLADe:CHANge`` would; others as base."""
        with self.lock:
            if code in (7102, 7103, 7109, 7201):
                self._new_blade()
            super().fix(code)

    def setup_blade(self) -> None:
        """``BLADe:SETup``: 45 s in SETUP measuring the exposure; needs the spindle running."""
        with self.lock:
            self._check_blade_group(allowed_in_alarm=False)
            if self.state is State.IDLE:
                raise Reject(24)
            if self.state is State.HEATING:
                raise Reject(22, self.warm_interlock)
            self.check_interlocks("setup")
            self.do_setup(BLADE_SETUP_S, self._blade_setup_done)

    def _blade_setup_done(self) -> None:
        self.exposure_measured_mm = round(self.blade.exposure_mm + self.rng.gauss(0.0, 0.002), 3)
        self.blade_setup_valid = self.exposure_measured_mm >= EXPOSURE_MIN_MM
        if not self.blade_setup_valid:
            self.raise_alarm(7109)

    def exposure_reading_mm(self) -> float:
        """``BLADe:EXPosure?``: the last measured exposure, 0.000 while the setup is invalid."""
        return self.exposure_measured_mm if self.blade_setup_valid else 0.0

    def _check_blade_life(self, *, in_cycle: bool) -> None:
        limit = int(self.params["blade_limit"])
        if self.blade.count >= 0.9 * limit:
            self.raise_alarm(7201)
        if in_cycle and self.blade.count >= limit:
            self.raise_alarm(7103)

    def after_param_change(self, name: str) -> None:
        if name == "blade_limit":
            self._check_blade_life(in_cycle=False)

    # == alarms and interlocks ===============================================================
    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        with self.lock:
            if code == 7102:
                self.blade.broken = True
            if code == 7003 and self.cycle_active:
                self.units_may_move = True
            # A blocking alarm during BLADe:SETup abandons it (ToolModel.raise_alarm): the
            # setup stays invalid and the clear returns to WARMUP/READY (or PAUSED).
            super().raise_alarm(code, cause_for_s=cause_for_s)

    def alarm_cause_persists(self, code: int) -> bool:
        limit = int(self.params["blade_limit"])
        persists = {
            7102: self.blade.broken,
            7103: self.blade.count >= limit,
            7104: self.conditions.get("COOLANT", False),
            7108: self.conditions.get("SPEED", False),
            7201: self.blade.count >= 0.9 * limit,
        }
        return persists.get(code, False) or super().alarm_cause_persists(code)

    def interlock_active(self, name: str) -> bool:
        if name == "BLADE":
            return not self.blade_setup_valid or self.blade.count >= int(self.params["blade_limit"])
        if name == "VACUUM":
            return self.cycle_active and self.conditions.get("VACUUM", False)
        return super().interlock_active(name)

    # == the cycle ===========================================================================
    def do_start(self) -> None:
        """START: state step first, then the §4 blade-thickness/speed check (-221), interlocks."""
        with self.lock:
            self.check("start")
            thickness = int(self.params["blade_thickness_um"])
            if float(self.params["spindle_speed_krpm"]) > max_speed_krpm(thickness):
                raise Reject(14)
            super().do_start()

    def build_cycle(self) -> list[Step]:
        rows, cols = self.size
        lines = plan_lines(rows, cols, *self.pitch_mm)
        self.bounds = bounding_lines(rows, cols)
        passes = int(self.params["cut_passes"])
        check_every = int(self.params["cut_check"])
        feed = float(self.params["cut_feed_mm_s"])
        steps = [
            self._handling("LOAD", on_end=self._strip_on_chuck),
            self._handling("ALIGN", on_end=self._align),
        ]
        for line in lines:
            if line.channel == "CH2" and line.boundary == 0:
                steps.append(self._handling("ROTATE"))
            for pass_no in range(1, passes + 1):
                final = pass_no == passes
                steps.append(
                    Step(
                        line.channel,
                        line.pass_s(feed),
                        on_start=self._pass_starter(line),
                        on_end=self._pass_ender(line, final),
                    )
                )
            if is_checked(line.number, check_every):
                steps.append(Step(line.channel, KERF_CHECK_S, on_end=self._checker(line)))
        steps += [self._handling("CLEAN"), self._handling("UNLOAD")]
        self.total_passes = len(lines) * passes
        return steps

    def _handling(self, phase: str, **hooks: Any) -> Step:
        return Step(phase, HANDLING_S[phase] * self.rng.uniform(0.98, 1.02), **hooks)

    def on_cycle_start(self) -> None:
        self.new_results(3)
        self.strip = self.world.strip(self.strip_id, *self.size)
        self.current_pass = None
        self.lines_started = set()
        self.lines_cut = set()
        self.passes_cut = 0
        self.cut_chipping_um = {}
        self.measured = {}
        self.units_may_move = False

    def _strip_on_chuck(self) -> None:
        """The strip is loaded: a chuck vacuum already low (VACUUM does not block START, §6)
        is now low with a strip loaded, so it raises 7003 before anything is cut."""
        if self.conditions.get("VACUUM", False):
            self.raise_alarm(7003)

    def _align(self) -> None:
        self.align_um = {channel: self.rng.gauss(0.0, ALIGN_SIGMA_UM) for channel in ("CH1", "CH2")}

    def _pass_starter(self, line: Line) -> Callable[[], None]:
        def start() -> None:
            self.current_pass = line
            self.lines_started.add(line.number)

        return start

    def _pass_ender(self, line: Line, final: bool) -> Callable[[], None]:
        def end() -> None:
            self.current_pass = None
            self.blade.cut_pass()
            self.passes_cut += 1
            if final:
                self._finish_line(line)
            self._check_blade_life(in_cycle=True)

        return end

    def _finish_line(self, line: Line) -> None:
        """The final pass of a line is done: its chipping is physical fact from now on."""
        feed = float(self.params["cut_feed_mm_s"])
        speed = float(self.params["spindle_speed_krpm"])
        self.lines_cut.add(line.number)
        self.cut_chipping_um[line.number] = {
            site: self.blade.chipping_um(self.rng, feed, speed) for site in line.sites
        }

    def _checker(self, line: Line) -> Callable[[], None]:
        return lambda: self._kerf_check(line)

    def _kerf_check(self, line: Line) -> None:
        """Camera check of a cut line at every inspected site it bounds (7105, 7106)."""
        thickness = int(self.params["blade_thickness_um"])
        line_offset = self.align_um[line.channel] + self.rng.gauss(0.0, LINE_OFFSET_SIGMA_UM)
        line_width = self.blade.kerf_width_um(self.rng, thickness)
        inspected = [site for site in line.sites if self.input_map[site - 1] == "1"]
        offsets, chips = [], []
        for site in inspected:
            chip = self.cut_chipping_um[line.number][site]
            offset = line_offset + self.rng.gauss(0.0, SITE_SIGMA_UM)
            width = line_width + self.rng.gauss(0.0, SITE_SIGMA_UM)
            self.measured.setdefault(site, []).append((chip, offset, width))
            offsets.append(abs(round(offset)))
            chips.append(round(chip))
        if not inspected:
            return
        if max(offsets) > int(self.params["cut_offset_limit_um"]):
            self.raise_alarm(7105)
        if max(chips) > int(self.params["cut_chipping_limit_um"]):
            self.chipping_checks_over += 1
            if self.chipping_checks_over >= 3:
                self.chipping_checks_over = 0
                self.raise_alarm(7106)
        else:
            self.chipping_checks_over = 0

    def on_cycle_done(self) -> None:
        self._close_cycle()

    def on_abort(self, by_alarm: bool) -> None:
        self.current_pass = None
        if self.results is not None:
            self._close_cycle()

    def _close_cycle(self) -> None:
        """Judge every site from what was cut and checked, and singulate the world's strip."""
        assert self.results is not None
        for row in self.results.rows:
            self._judge(row)
        self.results.summary_extra = (str(self.passes_cut), str(self.blade.count))
        if self.strip is not None:
            self._singulate(self.strip)

    def _judge(self, row: SiteResult) -> None:
        """§5 record and pass rule: values from the checked lines bounding the site (also
        when the site was not singulated or lost), defect the lowest that applies (README §8)."""
        lines = self.bounds[row.site]
        if row.result == "X":
            return
        singulated = all(n in self.lines_cut for n in lines)
        if not singulated and not any(n in self.lines_started for n in lines):
            row.result, row.defect = "N", 0
            return
        defects = []
        checks = self.measured.get(row.site, [])
        if checks:
            chip = round(max(c for c, _, _ in checks))
            worst_offset: float = max((o for _, o, _ in checks), key=abs)
            offset = round(worst_offset)
            width = round(sum(w for _, _, w in checks) / len(checks))
            row.values = (str(chip), str(offset), str(width))
            if chip > int(self.params["cut_chipping_limit_um"]):
                defects.append(7501)
            if abs(offset) > int(self.params["cut_offset_limit_um"]):
                defects.append(7502)
        if not singulated:
            defects.append(7504)
        elif self.units_may_move and self.rng.random() < UNIT_LOSS_ON_VACUUM_LOSS:
            defects.append(7503)
        row.result, row.defect = ("F", min(defects)) if defects else ("P", 0)

    def _singulate(self, strip: StripState) -> None:
        assert self.results is not None
        for row in self.results.rows:
            lines = self.bounds[row.site]
            site = strip.site(row.site)
            if all(n in self.lines_cut for n in lines):
                site.singulated = True
                site.chipping_um = round(max(self.cut_chipping_um[n][row.site] for n in lines), 1)
            if row.result == "F":
                site.defects.setdefault(self.tool_name, row.defect)
        passed = self.results.count("P")
        strip.record(self.time_s, self.tool_name, f"diced passes={self.passes_cut} P={passed}")

    def progress(self) -> tuple[int, int, int, int]:
        """``CYCLe:PROGress?`` in line passes: done, total, elapsed s, remaining s."""
        with self.lock:
            if self.cycle_active:
                return (
                    self.passes_cut,
                    self.total_passes,
                    int(self.cycle_elapsed_s),
                    int(self.remaining_estimate_s()),
                )
            if self.results is not None and self.state in (State.DONE, State.ABORTED):
                return (self.passes_cut, self.total_passes, int(self.results.cycle_s), 0)
            return (0, 0, 0, 0)
