"""MS-3 process model (metrology.md §1, §3, §5, §6, §8): modes and limits, calibration on the
reference gauge, enclosure temperature, the LOAD/ALIGN/MEASURE/UNLOAD cycle with per-site
timing, and per-site measurements of what the shared world holds for the strip."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from sim.metrology.gauge import measure
from sim.metrology.items import (
    ALIGN_S,
    ITEMS,
    LIMIT_PARAMS,
    LIMIT_RANGE,
    LOAD_S,
    MODES,
    NOT_MEASURABLE,
    UNLOAD_S,
    Values,
    format_values,
    judge,
)
from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, Reject, State, Step

CAL_S = 20.0
CAL_VALID_H = 24.0
CAL_DUE_H = 20.0
ENCLOSURE_BAND_C = (20.0, 26.0)
#: Enclosure temperature time constant, and where it drifts when the HVAC fails (sim decisions).
ENCLOSURE_TAU_S = 900.0
HVAC_FAILED_C = 29.0
UNMEASURABLE_IN_A_ROW = 3

STARTS = frozenset({"start", "resume"})
ALL_BLOCKED = frozenset({"start", "resume", "setup"})

#: Recipes stored at delivery: name -> (MODE, strip size, pitch mm). Formats A and B (README §4).
FACTORY_RECIPES: dict[str, tuple[str, tuple[int, int], tuple[float, float]]] = {
    "A-DIE": ("DIE", (3, 10), (17.3, 17.3)),
    "A-SLUG": ("SLUG", (3, 10), (17.3, 17.3)),
    "A-BALL": ("BALL", (3, 10), (17.3, 17.3)),
    "A-PKG": ("PKG", (3, 10), (17.3, 17.3)),
    "B-RECESS": ("RECESS", (8, 30), (5.3, 5.3)),
    "B-DIE": ("DIE", (8, 30), (5.3, 5.3)),
    "B-PKG": ("PKG", (8, 30), (5.3, 5.3)),
}


def _limit_specs() -> list[ParamSpec]:
    """``<item>.lo`` / ``<item>.hi`` for every item: -5000..5000 with the item's decimals."""
    lo, hi = LIMIT_RANGE
    specs = []
    for name, (_mode, item) in ITEMS.items():
        if item.decimals == 0:  # MISS: a count
            specs.append(ParamSpec(f"{name}.lo", "int", int(item.default_lo), lo, hi))
            specs.append(ParamSpec(f"{name}.hi", "int", int(item.default_hi), lo, hi))
        else:
            specs.append(ParamSpec(f"{name}.lo", "float", item.default_lo, lo, hi, item.decimals))
            specs.append(ParamSpec(f"{name}.hi", "float", item.default_hi, lo, hi, item.decimals))
    return specs


class MetrologyModel(StripToolModel):
    """The MS-3: no HEATING (LOAD goes IDLE -> READY); SETUP runs the calibration."""

    tool_name = "metrology"
    model_name = "MS-3"
    serial = "MS3-00057"
    firmware = "1.8.0"
    init_s = 15.0
    stable_s = 0.0  # nothing to heat: READY as soon as a recipe is loaded
    max_step_s = 5.0  # the only continuous physics (enclosure temperature) is integrated exactly

    alarm_defs = (
        AlarmDef(9001, "Emergency stop", "A"),
        AlarmDef(9002, "Cover opened during cycle", "H"),
        AlarmDef(9003, "Stage vacuum low", "H"),
        AlarmDef(9004, "Compressed air low", "H"),
        AlarmDef(9101, "Calibration failed", "H"),
        AlarmDef(9102, "Sensor signal low", "H"),
        AlarmDef(9103, "Alignment failed", "A"),
        AlarmDef(9104, "Stage motion fault", "A"),
        AlarmDef(9105, "Enclosure temperature out of range", "W"),
        AlarmDef(9201, "Calibration due", "W"),
    )
    interlock_table = (
        ("DOOR", ALL_BLOCKED),
        ("VACUUM", frozenset({"resume"})),
        ("AIR", ALL_BLOCKED),
        ("CAL", STARTS),
    )
    #: Conditions: ESTOP, DOOR (cover open), VACUUM (stage vacuum low), AIR (air low) raise
    #: their alarms; GAUGE (dirty reference gauge: CAL fails), SENSOR (dirty sensor window:
    #: every site 9515) and HVAC (enclosure drifts to 29 °C) act through the process.
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 9001,
        "DOOR": 9002,
        "VACUUM": 9003,
        "AIR": 9004,
    }
    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("MODE", "enum", "SLUG", choices=tuple(MODES)),
        *_limit_specs(),
    ]

    def __init__(
        self, *args: Any, epoch: datetime | None = None, ambient_c: float = 22.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, (mode, size, pitch) in FACTORY_RECIPES.items():
            self.recipes[name] = {
                "params": self.params.recipe_snapshot() | {"MODE": mode},
                "size": size,
                "pitch": pitch,
            }
        #: Tool local time at sim time 0 (CAL? timestamps).
        self.epoch = (epoch or datetime.now()).replace(microsecond=0)
        self.ambient_c = ambient_c
        self.enclosure_c = ambient_c
        self._band_checked_c = math.nan  # enclosure_in_band's last value (NaN: none yet)
        self._band_ok = False
        # Calibration: lost at power-up, kept by RST.
        self.cal_result = "NONE"
        self.cal_at_s: float | None = None  # the last CAL, PASS or FAIL
        self.passed_at_s: float | None = None  # the last passed CAL (9201 counts from it)
        self.cal_due_raised = False
        # Per cycle.
        self.cycle_mode = "SLUG"
        self.cycle_strip_id = ""
        self.readings: dict[int, Values] = {}
        self.unmeasurable_in_a_row = 0

    # == parameters ==========================================================================
    @property
    def mode(self) -> str:
        return str(self.params["MODE"])

    def set_mode(self, text: str) -> None:
        """``MODE``: set the working mode and reset every limit to its default (§4)."""
        with self.lock:
            self.set_param("MODE", text)
            for name, spec in self.params.specs.items():
                if name != "MODE":
                    self.params[name] = spec.default

    def mode_item(self, text: str) -> str:
        """A limit item of the working MODE (12 for an unknown item or one of another mode)."""
        name = text.upper()
        if name not in ITEMS or ITEMS[name][0] != self.mode:
            raise Reject(12)
        return name

    def set_limit(self, item_text: str, lo_text: str, hi_text: str) -> None:
        """``LIM``: 12 (item, type), 13 (range), state, then 14 when lo > hi (README §7 order)."""
        with self.lock:
            item = self.mode_item(item_text)
            lo = self.params.specs[f"{item}.lo"].parse(lo_text)
            hi = self.params.specs[f"{item}.hi"].parse(hi_text)
            self.check("set")
            if lo > hi:
                raise Reject(14)
            self.params[f"{item}.lo"] = lo
            self.params[f"{item}.hi"] = hi
            if self.loaded_recipe is not None:
                self.recipe_edited = True

    def limit_text(self, item: str) -> tuple[str, str]:
        return self.params.text(f"{item}.lo"), self.params.text(f"{item}.hi")

    def limits(self, mode: str) -> dict[str, tuple[float, float]]:
        params = self.params.values  # hot (every site): the dict, not __getitem__
        return {item: (params[lo], params[hi]) for item, lo, hi in LIMIT_PARAMS[mode]}

    # == states ==============================================================================
    def do_arm(self) -> None:
        """``LOAD``: there is no HEATING on this tool, the station is READY at once."""
        with self.lock:
            super().do_arm()
            self._set_state(State.READY)

    def interlock_active(self, name: str) -> bool:
        if name == "CAL":
            return not self.calibration_valid()
        if name == "VACUUM":  # stage vacuum low *with a strip loaded*
            return self.conditions.get("VACUUM", False) and self.cycle_active
        return super().interlock_active(name)

    def alarm_cause_persists(self, code: int) -> bool:
        if code == 9105:
            return not self.enclosure_in_band()
        if code == 9201:
            return self.calibration_due()
        return super().alarm_cause_persists(code)

    def fix(self, code: int) -> None:
        """Operator remedies: clean the reference gauge (9101), the sensor window (9102),
        repair the enclosure HVAC (9105); others as the base (condition restored)."""
        with self.lock:
            remedies = {9101: "GAUGE", 9102: "SENSOR", 9105: "HVAC"}
            if code in remedies:
                self.conditions[remedies[code]] = False
            super().fix(code)

    # == physics: enclosure temperature, calibration age ======================================
    def physics(self, dt_s: float) -> None:
        target = HVAC_FAILED_C if self.conditions.get("HVAC") else self.ambient_c
        self.enclosure_c += (target - self.enclosure_c) * (1.0 - math.exp(-dt_s / ENCLOSURE_TAU_S))
        if not self.enclosure_in_band():
            self.raise_alarm(9105)
        if self.calibration_due() and not self.cal_due_raised:
            self.cal_due_raised = True
            self.raise_alarm(9201)

    def physics_settled(self) -> bool:
        """The enclosure sits at its target (within a micro-kelvin, far below the 0.1 °C the
        tool reports) and its band alarm has nothing to say."""
        target = HVAC_FAILED_C if self.conditions.get("HVAC") else self.ambient_c
        return abs(target - self.enclosure_c) < 1e-6 and self.enclosure_in_band()

    def physics_event_in_s(self) -> float | None:
        """The calibration falls due (9201) CAL_DUE_H after the last passed CAL."""
        if self.passed_at_s is None or self.cal_due_raised:
            return None
        due_in_s = self.passed_at_s + CAL_DUE_H * 3600.0 - self.time_s
        return max(due_in_s, 0.0) + 1e-6

    def enclosure_in_band(self) -> bool:
        """The reported (0.1 °C) enclosure temperature is in its band. Asked on every step;
        the temperature settles at its target and then stays the same float, so the answer
        is kept for the last value seen."""
        enclosure_c = self.enclosure_c
        if enclosure_c != self._band_checked_c:
            self._band_checked_c = enclosure_c
            self._band_ok = ENCLOSURE_BAND_C[0] <= round(enclosure_c, 1) <= ENCLOSURE_BAND_C[1]
        return self._band_ok

    # == calibration (§3, §4 CAL / CAL?) ======================================================
    def hours_since_cal(self) -> float | None:
        return None if self.cal_at_s is None else (self.time_s - self.cal_at_s) / 3600.0

    def calibration_valid(self) -> bool:
        """Interlock CAL is off only after a passed CAL within 24 h (a FAIL invalidates it)."""
        hours = self.hours_since_cal()
        return self.cal_result == "PASS" and hours is not None and hours <= CAL_VALID_H

    def calibration_due(self) -> bool:
        """9201 (§6): over 20 h since the last *passed* CAL; a failed CAL since changes nothing."""
        if self.passed_at_s is None:
            return False
        return (self.time_s - self.passed_at_s) / 3600.0 > CAL_DUE_H

    def calibrate(self) -> None:
        """``CAL``: a 20 s SETUP operation on the built-in reference gauge."""
        with self.lock:
            self.check("setup")
            self.check_interlocks("setup")
            self.do_setup(CAL_S, self._calibration_done)

    def _calibration_done(self) -> None:
        self.cal_at_s = self.time_s
        if self.conditions.get("GAUGE"):
            self.cal_result = "FAIL"
            self.raise_alarm(9101)
        else:
            self.cal_result = "PASS"
            self.passed_at_s = self.time_s
            self.cal_due_raised = False

    def calibration(self) -> tuple[str, str, str]:
        """(result, timestamp, hours since) of the last CAL; empty fields when none."""
        if self.cal_at_s is None:
            return ("NONE", "", "")
        stamp = self.epoch + timedelta(seconds=self.cal_at_s)
        return (
            self.cal_result,
            stamp.strftime("%Y-%m-%dT%H:%M:%S"),
            f"{self.hours_since_cal():.1f}",
        )

    # == the cycle ===========================================================================
    def build_cycle(self) -> list[Step]:
        site_s = MODES[self.mode].site_s
        return [
            Step("LOAD", LOAD_S, on_end=self._strip_loaded),
            Step("ALIGN", ALIGN_S),
            *(
                Step("MEASURE", site_s, site=site, on_end=partial(self._measure_site, site))
                for site in self.sites_to_process()
            ),
            Step("UNLOAD", UNLOAD_S, hold_point=False),
        ]

    def on_cycle_start(self) -> None:
        self.cycle_mode = self.mode
        self.cycle_strip_id = self.strip_id
        self.readings = {}
        self.unmeasurable_in_a_row = 0
        self.new_results(len(MODES[self.cycle_mode].fields)).summary_extra = (self.cycle_mode,)

    def _strip_loaded(self) -> None:
        if self.conditions.get("VACUUM"):
            self.raise_alarm(9003)

    def _measure_site(self, site_id: int) -> None:
        """Measure one site from the world (§5); 9515 when the world has nothing to measure."""
        assert self.results is not None
        row = self.results.rows[site_id - 1]
        values = None
        if not self.conditions.get("SENSOR"):
            with self.world.lock:
                strip = self.world.get(self.cycle_strip_id) if self.cycle_strip_id else None
                site = strip.sites.get(site_id) if strip is not None else None
                values = measure(self.cycle_mode, site, self.rng)
        if values is None:
            row.result, row.defect = "F", NOT_MEASURABLE
            self.unmeasurable_in_a_row += 1
            if self.unmeasurable_in_a_row >= UNMEASURABLE_IN_A_ROW:
                self.unmeasurable_in_a_row = 0
                self.raise_alarm(9102)
        else:
            self.unmeasurable_in_a_row = 0
            self.readings[site_id] = values
            defect = judge(self.cycle_mode, values, self.limits(self.cycle_mode))
            row.result, row.defect = ("F", defect) if defect else ("P", 0)
        row.values = format_values(self.cycle_mode, values)
        if row.result == "F":
            self._record_defect(site_id, row.defect)

    def _record_defect(self, site_id: int, defect: int) -> None:
        with self.world.lock:
            strip = self.world.get(self.cycle_strip_id) if self.cycle_strip_id else None
            if strip is not None and site_id in strip.sites:
                strip.sites[site_id].defects.setdefault(self.tool_name, defect)

    def on_cycle_done(self) -> None:
        with self.world.lock:
            strip = self.world.get(self.cycle_strip_id) if self.cycle_strip_id else None
            if strip is not None and self.results is not None:
                strip.record(
                    self.time_s,
                    self.tool_name,
                    f"{self.cycle_mode} P={self.results.count('P')} F={self.results.count('F')}",
                )

    def progress(self) -> tuple[int, int, int, int]:
        """``PROG?``: the active cycle, in DONE/ABORTED the finished one, else zeros."""
        with self.lock:
            if not (self.cycle_active or self.state in (State.DONE, State.ABORTED)):
                return (0, 0, 0, 0)
            return super().progress()

    # == results =============================================================================
    def item_readings(self, item_text: str) -> tuple[str, int, list[float]]:
        """``RSTAT?``: (item, decimals, readings over measured sites) of an item of the cycle's MODE."""
        name = item_text.upper()
        if name not in ITEMS:
            raise Reject(12)
        results = self.require_results()
        mode_name, item = ITEMS[name]
        if mode_name != str(results.summary_extra[0]):
            raise Reject(12)
        field = next(f.name for f in MODES[mode_name].fields if f.item == name)
        readings = [v for values in self.readings.values() if (v := values.get(field)) is not None]
        return name, item.decimals, readings


def summary_of(readings: list[float]) -> tuple[float, float, float, float]:
    """Mean, sample standard deviation (0 for one reading), min, max."""
    std = statistics.stdev(readings) if len(readings) > 1 else 0.0
    return statistics.fmean(readings), std, min(readings), max(readings)
