"""DB-4 die bonder process model (die-bonder.md): modes EPOXY / GAPFILL / FLIPCHIP / PLATE,
heater zones, supplies (syringe, dies, plates), placement calibration drift, the strip cycle
LOAD -> ALIGN -> BOND (per site) -> CURE -> UNLOAD, and what it does to the world's strips.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sim.die_bonder.process import (
    AMBIENT_C,
    BAND_C,
    DEVIATION_C,
    DEVIATION_S,
    ProcessSpread,
    SiteOutcome,
    SiteSettings,
    advance_cure,
    bond_site,
    make_zones,
)
from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, Reject, State, Step
from sim.world import SiteState, StripState

MODES = ("EPOXY", "GAPFILL", "FLIPCHIP", "PLATE")
ZONES = ("STAGE", "HEAD", "CURE")
SYRINGE_NL = 5_000_000
SYRINGE_LOW_FRACTION = 0.10
DIE_LOW = 50
CALIBRATION_DUE_S = 24 * 3600.0
CALIBRATION_S = 40.0
LOAD_S, ALIGN_S, UNLOAD_S = 4.0, 3.0, 4.0
#: Sim decision: the placement bias drifts linearly after each calibration at N(0, 0.2) µm/h per axis.
DRIFT_SIGMA_UM_PER_H = 0.2

FORMAT_A = ((3, 10), (17.3, 17.3))
FORMAT_B = ((8, 30), (5.3, 5.3))

_START_RESUME = frozenset({"start", "resume"})
_START_RESUME_SETUP = frozenset({"start", "resume", "setup"})
#: Conditions whose alarm is raised whenever they arise, not only during a cycle.
_ALWAYS_RAISED = frozenset({"ESTOP", "HEATER", "FORCE_SENSOR"})
#: Heater zone -> set-point parameter, out-of-band alarm, "losing heat" condition.
_ZONE_SP = {"STAGE": "STAGE_TEMP", "HEAD": "BOND_TEMP", "CURE": "CURE_TEMP"}
#: The condition that makes a zone lose heat (asked per zone on every step).
_ZONE_COLD = {zone: f"{zone}_COLD" for zone in ZONES}
_ZONE_ALARM = {"STAGE": 2108, "HEAD": 2109, "CURE": 2110}


class DieBonderModel(StripToolModel):
    """The DB-4: one strip per cycle, site by site in ascending order."""

    tool_name = "die-bonder"
    model_name = "DB-4"
    serial = "DB4-00117"
    firmware = "2.3.1"
    init_s = 30.0
    stable_s = 30.0
    default_size, default_pitch_mm = FORMAT_A

    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("MODE", "enum", "EPOXY", choices=MODES),
        ParamSpec("DISP_VOL", "int", 600, 10, 30000),
        ParamSpec("DISP_PATT", "enum", "STAR", choices=("DOT", "STAR", "CROSS", "RING", "FILL")),
        ParamSpec("DISP_TOL", "int", 10, 2, 30),
        ParamSpec("PLACE_ZREF", "enum", "BASE", choices=("BASE", "TOP", "DIE")),
        ParamSpec("PLACE_FORCE", "float", 2.0, 0.5, 50.0, 1),
        ParamSpec("PLACE_BLT", "float", 25.0, 12.0, 75.0, 1),
        ParamSpec("PLACE_TOL_XY", "float", 25.0, 5.0, 100.0, 1),
        ParamSpec("PLACE_TOL_THETA", "float", 0.50, 0.10, 3.00, 2),
        ParamSpec("BOND_FORCE", "float", 30.0, 1.0, 500.0, 1),
        ParamSpec("BOND_TEMP", "float", 280.0, 150.0, 350.0, 1),
        ParamSpec("BOND_TIME", "float", 4.0, 0.3, 10.0, 1),
        ParamSpec("STAGE_TEMP", "float", 60.0, 25.0, 200.0, 1),
        ParamSpec("CURE_STATE", "bool", True),
        ParamSpec("CURE_TEMP", "float", 175.0, 100.0, 200.0, 1),
        ParamSpec("CURE_TIME", "int", 60, 10, 1800),
    ]
    #: §1 typical recipes, stored at delivery.
    factory_recipes: ClassVar[dict[str, dict[str, Any]]] = {
        "A-SMALL-1": {"MODE": "EPOXY", "PLACE_ZREF": "BASE", "DISP_PATT": "STAR", "DISP_VOL": 600},
        "A-SMALL-2": {
            "MODE": "GAPFILL",
            "PLACE_ZREF": "BASE",
            "DISP_PATT": "RING",
            "DISP_VOL": 8640,
        },
        "A-EQUAL": {"MODE": "EPOXY", "PLACE_ZREF": "BASE", "DISP_PATT": "STAR", "DISP_VOL": 1200},
        "A-LARGE": {"MODE": "EPOXY", "PLACE_ZREF": "TOP", "DISP_PATT": "FILL", "DISP_VOL": 18400},
        "B-GLUE": {"MODE": "EPOXY", "PLACE_ZREF": "BASE", "DISP_PATT": "STAR", "DISP_VOL": 220},
        "B-FC": {"MODE": "FLIPCHIP", "PLACE_ZREF": "BASE"},
        "B-PLATE": {"MODE": "PLATE", "PLACE_ZREF": "BASE", "DISP_PATT": "DOT", "DISP_VOL": 100},
    }
    factory_formats: ClassVar[dict[str, tuple[tuple[int, int], tuple[float, float]]]] = {
        "B-GLUE": FORMAT_B,
        "B-FC": FORMAT_B,
        "B-PLATE": FORMAT_B,
    }

    alarm_defs = (
        AlarmDef(2001, "Emergency stop", "A"),
        AlarmDef(2002, "Cover opened during cycle", "A"),
        AlarmDef(2003, "Work-holder vacuum low", "H"),
        AlarmDef(2004, "Compressed air low", "H"),
        AlarmDef(2101, "Syringe empty", "H"),
        AlarmDef(2102, "Adhesive volume check failed 3 times in a row", "H"),
        AlarmDef(2103, "Pick-up failed 3 times in a row", "H"),
        AlarmDef(2104, "Strip fiducial not found", "A"),
        AlarmDef(2105, "Placement out of tolerance 3 times in a row", "H"),
        AlarmDef(2106, "Wafer map end", "H"),
        AlarmDef(2107, "Plate feeder empty", "H"),
        AlarmDef(2108, "Stage temperature out of band", "H"),
        AlarmDef(2109, "Bond head temperature out of band", "H"),
        AlarmDef(2110, "Cure track temperature out of band", "H"),
        AlarmDef(2111, "Heater fault", "A"),
        AlarmDef(2112, "Bond force sensor fault", "A"),
        AlarmDef(2201, "Syringe low", "W"),
        AlarmDef(2202, "Die supply low", "W"),
        AlarmDef(2203, "Placement calibration due", "W"),
    )
    interlock_table = (
        ("DOOR", _START_RESUME_SETUP),
        ("VACUUM", frozenset({"resume"})),
        ("AIR", _START_RESUME_SETUP),
        ("TEMP", frozenset({"start"})),
        ("EPOXY", _START_RESUME),
        ("DIE", _START_RESUME),
        ("PLATE", _START_RESUME),
    )
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 2001,
        "DOOR": 2002,
        "VACUUM": 2003,
        "AIR": 2004,
        "HEATER": 2111,
        "FORCE_SENSOR": 2112,
    }

    def __init__(
        self,
        *args: Any,
        syringe_nl: int = SYRINGE_NL,
        dies: int = 10_000,
        plates: int = 10_000,
        spread: ProcessSpread | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, (size, pitch) in self.factory_formats.items():
            self.recipes[name].update(size=size, pitch=pitch)
        self.spread = spread or ProcessSpread()
        self.zones = make_zones()
        self.out_of_band_s = dict.fromkeys(ZONES, 0.0)
        self.syringe_nl = float(syringe_nl)
        self.dies = dies
        self.plates = plates
        # Placement calibration: bias grows linearly from the last calibration (or power-up).
        self.power_up_s = self.time_s
        self.power_up_wall = datetime.now().replace(microsecond=0)
        self.calibration_ref_s = self.time_s
        self.drift_um_per_h = self._new_drift()
        self.calibration: tuple[float, float, str] = (0.0, 0.0, "")
        # Consecutive-failure counters of alarms 2102 / 2103 / 2105 (they run across strips).
        self.chains = {2102: 0, 2103: 0, 2105: 0}
        # Per-cycle data.
        self.strip: StripState | None = None
        self.curing: dict[int, float] = {}  # site -> degree of cure of this cycle's adhesive
        self.starting_site = False

    # == parameters ===========================================================================
    @property
    def mode(self) -> str:
        return str(self.params.values["MODE"])

    def site_settings(self) -> SiteSettings:
        p = self.params.values
        return SiteSettings(
            mode=p["MODE"],
            volume_nl=p["DISP_VOL"],
            volume_tol_pct=p["DISP_TOL"],
            zref=p["PLACE_ZREF"],
            place_force_n=p["PLACE_FORCE"],
            blt_um=p["PLACE_BLT"],
            tol_xy_um=p["PLACE_TOL_XY"],
            tol_theta_deg=p["PLACE_TOL_THETA"],
            bond_force_n=p["BOND_FORCE"],
        )

    def check_settings(self) -> None:
        """§4 checks (-221): GAPFILL needs PATTern RING or FILL; ZREF DIE only in PLATE."""
        if self.mode == "GAPFILL" and self.params["DISP_PATT"] not in ("RING", "FILL"):
            raise Reject(14)
        if self.params["PLACE_ZREF"] == "DIE" and self.mode != "PLATE":
            raise Reject(14)

    def cure_in_cycle(self) -> bool:
        """The CURE phase runs when CURE:STATe ON and MODE is not FLIPCHIP (§3)."""
        return bool(self.params["CURE_STATE"]) and self.mode != "FLIPCHIP"

    def site_time_s(self) -> float:
        """§8 per-site time of the MODE."""
        volume = self.params["DISP_VOL"]
        if self.mode == "FLIPCHIP":
            return 1.5 + float(self.params["BOND_TIME"])
        if self.mode == "GAPFILL":
            return 0.20 + volume / 5000.0
        return 0.30 + volume / 5000.0

    # == heaters ==============================================================================
    def required_zones(self) -> tuple[str, ...]:
        """Stage always; bond head only in FLIPCHIP; cure track when it is used (§3)."""
        if self.mode == "FLIPCHIP":
            return ("STAGE", "HEAD")
        return ("STAGE", "CURE") if self.params.values["CURE_STATE"] else ("STAGE",)

    def setpoint_c(self, zone: str) -> float:
        return float(self.params.values[_ZONE_SP[zone]])  # hot: not via __getitem__

    def temperature_c(self, zone: str) -> float:
        return self.zones[zone].pv_c

    def zone_deviation_c(self, zone: str) -> float:
        return abs(self.zones[zone].pv_c - self.setpoint_c(zone))

    def conditions_in_band(self) -> bool:
        return all(self.zone_deviation_c(zone) <= BAND_C for zone in self.required_zones())

    def physics_settled(self) -> bool:
        """Every zone sits at its goal (the ramps end exactly on it) and no required zone
        counts towards its deviation alarm; the adhesive cure is exact for any step at a
        constant temperature."""
        powered = (
            self.armed and not self.conditions.get("ESTOP") and not self.conditions.get("HEATER")
        )
        required = self.required_zones()
        for name, zone in self.zones.items():
            on = powered and name in required and not self.conditions.get(_ZONE_COLD[name], False)
            if zone.pv_c != (self.setpoint_c(name) if on else AMBIENT_C):
                return False
        return not (
            self.cycle_watched()
            and any(self.zone_deviation_c(zone) > DEVIATION_C for zone in required)
        )

    def physics_event_in_s(self) -> float | None:
        """The placement calibration falls due (2203)."""
        if self.state is State.INIT or self.calibration_due():
            return None
        return CALIBRATION_DUE_S - (self.time_s - self.calibration_ref_s) + 1e-6

    def physics(self, dt_s: float) -> None:
        powered = (
            self.armed and not self.conditions.get("ESTOP") and not self.conditions.get("HEATER")
        )
        required = self.required_zones()
        for name, zone in self.zones.items():
            zone.advance(
                dt_s,
                self.setpoint_c(name),
                powered=powered and name in required,
                losing_heat=self.conditions.get(_ZONE_COLD[name], False),
            )
        if self.curing:
            self._cure_adhesive(dt_s)
        if self.state is not State.INIT:
            self._watch_supplies_and_calibration()
        if self.cycle_watched():  # not once stopped: heaters off are the E-stop's safe state
            self._watch_deviation(dt_s)

    def _watch_deviation(self, dt_s: float) -> None:
        required = self.required_zones()  # parameters: an alarm raised below leaves them
        for zone in ZONES:
            if zone in required and self.zone_deviation_c(zone) > DEVIATION_C:
                self.out_of_band_s[zone] += dt_s
                if self.out_of_band_s[zone] >= DEVIATION_S:
                    self.raise_alarm(_ZONE_ALARM[zone])
            else:
                self.out_of_band_s[zone] = 0.0

    # == supplies and calibration =============================================================
    def syringe_pct(self) -> int:
        """SUPPly:EPOXy?: whole percent remaining (rounded down)."""
        return int(100.0 * self.syringe_nl / SYRINGE_NL)

    def syringe_empty(self) -> bool:
        """Empty = not enough left for one site at DISPense:VOLume (reported as 0 %)."""
        return self.syringe_nl < self.params["DISP_VOL"]

    def replace_syringe(self) -> None:
        """Operator: a full syringe (the tool detects it itself)."""
        with self.lock:
            self.syringe_nl = float(SYRINGE_NL)

    def load_dies(self, count: int = 10_000) -> None:
        """Operator: next wafer / tray with ``count`` good dies."""
        with self.lock:
            self.dies = count

    def load_plates(self, count: int = 10_000) -> None:
        """Operator: new plate reel."""
        with self.lock:
            self.plates = count

    def placement_bias_um(self) -> tuple[float, float]:
        hours = (self.time_s - self.calibration_ref_s) / 3600.0
        return (self.drift_um_per_h[0] * hours, self.drift_um_per_h[1] * hours)

    def _new_drift(self) -> tuple[float, float]:
        return (
            self.rng.gauss(0.0, DRIFT_SIGMA_UM_PER_H),
            self.rng.gauss(0.0, DRIFT_SIGMA_UM_PER_H),
        )

    def calibration_due(self) -> bool:
        """> 24 h since CALibrate:PLACe (counted from power-up if never calibrated)."""
        return self.time_s - self.calibration_ref_s > CALIBRATION_DUE_S

    def _watch_supplies_and_calibration(self) -> None:
        if self.syringe_nl < SYRINGE_LOW_FRACTION * SYRINGE_NL:
            self.raise_alarm(2201)
        if self.dies < DIE_LOW:
            self.raise_alarm(2202)
        if self.calibration_due():
            self.raise_alarm(2203)

    def calibrate(self) -> None:
        """CALibrate:PLACe: SETUP for 40 s, then the measured offset is corrected."""
        with self.lock:
            self.check("setup")
            self.check_interlocks("setup")
            self.do_setup(CALIBRATION_S, self._calibrated)

    def _calibrated(self) -> None:
        dx, dy = self.placement_bias_um()
        stamp = self.power_up_wall + timedelta(seconds=self.time_s - self.power_up_s)
        # "+ 0.0" turns a rounded -0.0 into 0.0 (README §3: no sign on zero).
        self.calibration = (
            round(dx, 1) + 0.0,
            round(dy, 1) + 0.0,
            stamp.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        self.calibration_ref_s = self.time_s
        self.drift_um_per_h = self._new_drift()

    # == alarms and interlocks ===================================================================
    def interlock_active(self, name: str) -> bool:
        mode = self.mode
        if name == "VACUUM":
            return self.cycle_active and self.conditions.get("VACUUM", False)
        if name == "EPOXY":
            return mode != "FLIPCHIP" and self.syringe_empty()
        if name == "DIE":
            return mode in ("EPOXY", "FLIPCHIP") and self.dies <= 0
        if name == "PLATE":
            return mode == "PLATE" and self.plates <= 0
        return super().interlock_active(name)

    def set_condition(self, name: str, active: bool) -> None:
        """As the base, and heater / force-sensor faults raise their A alarm outside a cycle too."""
        with self.lock:
            name = name.upper()
            arising = active and not self.conditions.get(name, False)
            super().set_condition(name, active)
            if arising and name in _ALWAYS_RAISED and not self.cycle_active:
                self.raise_alarm(self.condition_alarms[name])

    def alarm_cause_persists(self, code: int) -> bool:
        persisting: dict[int, Callable[[], bool]] = {
            # 2003 goes with the first clear; the VACUUM interlock then blocks RESUME (§6).
            2003: lambda: False,
            2101: self.syringe_empty,
            2106: lambda: self.dies <= 0,
            2107: lambda: self.plates <= 0,
            2201: lambda: self.syringe_nl < SYRINGE_LOW_FRACTION * SYRINGE_NL,
            2202: lambda: self.dies < DIE_LOW,
            2203: self.calibration_due,
            **{
                alarm: functools.partial(self._zone_out, zone)
                for zone, alarm in _ZONE_ALARM.items()
            },
        }
        check = persisting.get(code)
        return check() if check is not None else super().alarm_cause_persists(code)

    def _zone_out(self, zone: str) -> bool:
        return zone in self.required_zones() and self.zone_deviation_c(zone) > DEVIATION_C

    def fix(self, code: int) -> None:
        """Operator remedy for ``code``: new syringe, wafer or reel; heat loss gone; others as base."""
        with self.lock:
            if code in (2101, 2201):
                self.replace_syringe()
            elif code in (2106, 2202):
                self.load_dies()
            elif code == 2107:
                self.load_plates()
            for zone, alarm in _ZONE_ALARM.items():
                if code == alarm:
                    self.conditions[f"{zone}_COLD"] = False
            super().fix(code)

    def holds_at_once(self, code: int) -> bool:
        """A supply alarm raised as a site is about to start holds before that site (§3)."""
        return self.starting_site

    def progress(self) -> tuple[int, int, int, int]:
        """CYCLe:PROGress? with seconds rounded: the §9 example reads ``12,29,14,73`` at
        14 s into a strip of 86.7 s."""
        with self.lock:
            if not self.progress_reported():
                return (0, 0, 0, 0)
            assert self.results is not None
            done, total, _, _ = super().progress()
            elapsed = self.cycle_elapsed_s if self.cycle_active else self.results.cycle_s
            remaining = self.remaining_estimate_s() if self.cycle_active else 0.0
            return (done, total, round(elapsed), round(remaining))

    # == the cycle ===============================================================================
    def build_cycle(self) -> list[Step]:
        steps = [
            Step("LOAD", LOAD_S, on_start=self._load_strip, on_end=self._check_vacuum),
            Step("ALIGN", ALIGN_S, on_end=self._align),
        ]
        site_s = self.site_time_s()
        for site in self.sites_to_process():
            steps.append(
                Step(
                    "BOND",
                    site_s,
                    site=site,
                    on_start=functools.partial(self._site_start, site),
                    on_end=functools.partial(self._site_end, site),
                )
            )
        if self.cure_in_cycle():
            steps.append(Step("CURE", float(self.params["CURE_TIME"])))
        steps.append(Step("UNLOAD", UNLOAD_S, on_end=self._unload))
        return steps

    def on_cycle_start(self) -> None:
        results = self.new_results(6)
        results.summary_extra = (self.mode, "0")
        self.strip = None
        self.curing = {}

    def _load_strip(self) -> None:
        rows, cols = self.size
        self.strip = self.world.strip(self.strip_id, rows, cols)
        self.strip.record(self.time_s, self.tool_name, f"loaded, MODE {self.mode}")

    def _check_vacuum(self) -> None:
        """The strip is on the work holder with its vacuum on: vacuum already low when the
        cycle started raises 2003 now (§6), which holds before the first site; the base only
        raises it when the vacuum drops during the cycle."""
        if self.conditions.get("VACUUM", False):
            self.raise_alarm(self.condition_alarms["VACUUM"])

    def _align(self) -> None:
        if self.rng.random() < self.spread.strip_fiducial_fail:
            self.raise_alarm(2104)

    def _supply_alarms(self) -> list[int]:
        """Supplies the next site needs but does not have (die-bonder.md §6)."""
        mode = self.mode
        missing = []
        if mode != "FLIPCHIP" and self.syringe_empty():
            missing.append(2101)
        if mode in ("EPOXY", "FLIPCHIP") and self.dies <= 0:
            missing.append(2106)
        if mode == "PLATE" and self.plates <= 0:
            missing.append(2107)
        return missing

    def _site_start(self, site: int) -> None:
        missing = self._supply_alarms()
        if not missing:
            return
        # The site is not started: it starts afresh after RESUME.
        self.step_started = False
        self.starting_site = True
        try:
            for code in missing:
                self.raise_alarm(code)
        finally:
            self.starting_site = False

    def _site_end(self, site: int) -> None:
        assert self.results is not None and self.strip is not None
        world_site = self.strip.site(site)
        outcome = bond_site(
            self.rng,
            self.site_settings(),
            self.spread,
            bias_um=self.placement_bias_um(),
            die_present=world_site.die_placed,
        )
        self._consume(outcome)
        row = self.results.rows[site - 1]
        row.result = "F" if outcome.defect else "P"
        row.defect = outcome.defect
        row.values = outcome.values()
        used = int(self.results.summary_extra[1]) + (1 if outcome.placed else 0)
        self.results.summary_extra = (self.mode, str(used))
        self._write_world(site, world_site, outcome)
        self._count_failures(outcome)

    def _consume(self, outcome: SiteOutcome) -> None:
        if outcome.volume_nl is not None:
            self.syringe_nl = max(0.0, self.syringe_nl - outcome.volume_nl)
        if outcome.placed and self.mode == "PLATE":
            self.plates -= 1
        elif outcome.placed:
            self.dies -= 1

    def _write_world(self, site: int, state: SiteState, outcome: SiteOutcome) -> None:
        mode = self.mode
        if outcome.defect:
            state.defects.setdefault(self.tool_name, outcome.defect)
        if outcome.dispensed and mode in ("EPOXY", "GAPFILL"):
            # The site's degree of cure is that of its newest adhesive (gap fill included).
            self.curing[site] = 0.0
            state.adhesive_cure = 0.0
        if mode == "EPOXY" and outcome.dispensed:
            state.adhesive_volume_nl = float(outcome.volume_nl or 0)
        if mode == "GAPFILL":
            state.gap_filled = state.gap_filled or not outcome.failed(2509)
        if not outcome.placed:
            return
        if mode == "PLATE":
            state.plate_placed = True
            return
        state.die_placed = True
        state.die_dx_um, state.die_dy_um, state.die_dtheta_deg = (
            outcome.dx_um,
            outcome.dy_um,
            outcome.dtheta_deg,
        )
        if mode == "EPOXY":
            state.bond_line_um = outcome.blt_um
        else:
            state.flip_chip_bonded = True

    def _count_failures(self, outcome: SiteOutcome) -> None:
        """Consecutive sites failing the volume, pick-up or placement check (alarms 2102/2103/2105)."""
        checks = {
            2102: (outcome.dispensed, outcome.failed(2501, 2502, 2509)),
            2103: (outcome.picked is not None, outcome.failed(2507)),
            2105: (outcome.placed, outcome.failed(2503, 2504)),
        }
        for alarm, (checked, failed) in checks.items():
            if not checked:
                continue
            self.chains[alarm] = self.chains[alarm] + 1 if failed else 0
            if self.chains[alarm] >= 3:
                self.chains[alarm] = 0
                self.raise_alarm(alarm)

    def _cure_adhesive(self, dt_s: float) -> None:
        """Adhesive placed in this cycle cures on the stage, and on the cure track in CURE."""
        if self.strip is None:
            return
        temperature = (
            self.temperature_c("CURE") if self.phase == "CURE" else self.temperature_c("STAGE")
        )
        for site, alpha in self.curing.items():
            self.curing[site] = advance_cure(alpha, temperature, dt_s)
            self.strip.site(site).adhesive_cure = self.curing[site]

    def _unload(self) -> None:
        assert self.results is not None
        if self.strip is not None:
            r = self.results
            self.strip.record(
                self.time_s, self.tool_name, f"{self.mode} done: {r.count('P')} P, {r.count('F')} F"
            )
        self.curing = {}

    def on_abort(self, by_alarm: bool) -> None:
        """A-class alarm or host abort: the site in progress is F 2510, the rest stay N (§3)."""
        self.curing = {}
        if self.results is None:
            return
        site = self.current_site
        if self.phase == "BOND" and self.step_started and site is not None:
            row = self.results.rows[site - 1]
            if row.result == "N":
                row.result, row.defect = "F", 2510
                if self.strip is not None:
                    self.strip.site(site).defects.setdefault(self.tool_name, 2510)
