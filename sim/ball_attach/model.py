"""BA-8 ball attach line process model (ball-attach.md §3-§8).

Eight convection zones with rate-limited first-order heaters (≈ 20 min from cold, ≈ 3 min
after a 20 °C change, including the 60 s in band), a nitrogen atmosphere with an O₂ reading,
flux and ball reservoirs, and a pipelined magazine: a strip enters the printer every 30 s
(PRINT 8 s, PLACE 12 s), crosses the 4000 mm oven at REFLow:SPEed while its temperature
follows the zones (:mod:`sim.ball_attach.profile`), and is inspected for 10 s
(:mod:`sim.ball_attach.balls`). A strip's timeline is fixed once it is fed; PAUSE and hold
alarms only stop feeding, so strips already in the line always finish.

The cycle engine of :class:`~sim.tool_model.ToolModel` runs two steps, FEED (until every strip
is fed) and DRAIN (until every strip has left inspection); strips themselves move in
:meth:`physics`, which runs in every state.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sim.ball_attach.balls import BallProcess, SiteBalls, attach_site
from sim.ball_attach.profile import (
    COOLING_ZONE_C,
    COOLING_ZONES,
    HEATED_ZONES,
    ZONE_LENGTH_MM,
    ProfileFigures,
    StripThermal,
    reflow_profile,
    transit_s,
    zone_at,
)
from sim.ball_attach.zones import (
    RIPPLE_MAX_C,
    Ripple,
    approach_error,
    cool,
    time_to_error_s,
)
from sim.params import ParamSpec
from sim.strip_tool import StripToolModel
from sim.tool_model import AlarmDef, CycleResults, Reject, SiteResult, State, Step
from sim.world import SiteState, StripState

MAX_STRIPS = 20
PRINT_S = 8.0
PLACE_S = 12.0
TAKT_S = 30.0
INSPECT_S = 10.0
DEFAULT_ZONES_C = (130.0, 160.0, 175.0, 185.0, 200.0, 220.0, 250.0, 250.0)
AMBIENT_C = 25.0
READY_BAND_C = 3.0
ALARM_BAND_C = 5.0
ALARM_BAND_S = 30.0
HEATER_FAULT_ZONE = 4  # 0-based: zone 5 loses its heater under the HEATER condition
O2_AIR_PPM = 209_000.0
O2_NITROGEN_PPM = 150.0
O2_TAU_S = 60.0
BALL_CAPACITY = 1_000_000
FLUX_CAPACITY_MM3 = 50_000.0
FLUX_WASTE = {"PRINT": 2.0, "PIN": 1.2}  # stencil/pin transfer: flux used per flux on lands
LAND_PER_BALL_DIAMETER = 0.8  # IPC-7095: land ≈ 75-80 % of the ball diameter
LOW_SUPPLY_PCT = 10.0
LOW_YIELD_FAILED_FRACTION = 0.10
IN_A_ROW = 3
STATUSES = ("WAIT", "PRINT", "PLACE", "REFLOW", "INSPECT", "DONE", "NOTRUN")
VALUE_FIELDS = 5

START_RESUME = frozenset({"start", "resume"})
MAGAZINE_COUNT = ParamSpec("MAGAZINE_COUNT", "int", 1, 1, MAX_STRIPS, recipe=False)


@dataclass
class StripRun:
    """One strip of the magazine in (or after) a cycle."""

    index: int
    strip_id: str
    input_map: str
    status: str = "WAIT"
    feed_s: float | None = None
    thermal: StripThermal = field(default_factory=StripThermal)
    max_o2_ppm: float = 0.0
    o2_alarm: bool = False
    print_failed: bool = False
    result: CycleResults | None = None


#: The heated zones' set-point parameters, by 0-based zone (looked up per zone per event).
ZONE_PARAMS = tuple(f"ZONE{n}" for n in range(1, HEATED_ZONES + 1))
_ALL_HEATERS_ON = (True,) * HEATED_ZONES
_ALL_HEATERS_OFF = (False,) * HEATED_ZONES
_HEATER_FAULT_ZONE_OFF = tuple(zone != HEATER_FAULT_ZONE for zone in range(HEATED_ZONES))


def _zone_specs() -> list[ParamSpec]:
    return [
        ParamSpec(name, "float", default, 25.0, 300.0, 1)
        for name, default in zip(ZONE_PARAMS, DEFAULT_ZONES_C, strict=True)
    ]


class BallAttachModel(StripToolModel):
    """The BA-8: magazine of 1-20 strips through flux, ball mount, reflow and inspection."""

    tool_name = "ball-attach"
    model_name = "BA-8"
    serial = "BA8-00042"
    firmware = "1.4.2"
    init_s = 30.0
    stable_s = 60.0

    alarm_defs = (
        AlarmDef(6001, "Emergency stop", "A"),
        AlarmDef(6002, "Cover opened during cycle", "H"),
        AlarmDef(6003, "Nitrogen supply low", "H"),
        AlarmDef(6004, "Compressed air low", "H"),
        AlarmDef(6005, "Exhaust low", "H"),
        AlarmDef(6101, "Flux empty", "H"),
        AlarmDef(6102, "Ball supply empty", "H"),
        AlarmDef(6103, "Ball pick-up incomplete", "H"),
        AlarmDef(6104, "Flux print failure", "H"),
        AlarmDef(6105, "Reflow zone temperature out of band", "H"),
        AlarmDef(6106, "Reflow heater fault", "A"),
        AlarmDef(6107, "Conveyor stop / jam", "A"),
        AlarmDef(6108, "O2 above limit", "W"),
        AlarmDef(6109, "Inspection yield low", "H"),
        AlarmDef(6110, "Input magazine empty", "H"),
        AlarmDef(6201, "Flux low", "W"),
        AlarmDef(6202, "Ball supply low", "W"),
    )
    interlock_table = (
        ("DOOR", START_RESUME),
        ("AIR", START_RESUME),
        ("N2", START_RESUME),
        ("EXHAUST", START_RESUME),
        ("TEMP", frozenset({"start"})),
        ("FLUX", START_RESUME),
        ("BALL", START_RESUME),
        ("MAGAZINE", frozenset({"start"})),
    )
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 6001,
        "DOOR": 6002,
        "N2": 6003,
        "AIR": 6004,
        "EXHAUST": 6005,
        "HEATER": 6106,
        "JAM": 6107,
    }
    param_specs: ClassVar[list[ParamSpec]] = [
        ParamSpec("FLUX_METHOD", "enum", "PRINT", choices=("PRINT", "PIN")),
        ParamSpec("FLUX_THICKNESS", "int", 50, 20, 150),
        ParamSpec("FLUX_SPEED", "int", 40, 10, 100),
        ParamSpec("BALL_DIAMETER", "float", 0.50, 0.25, 0.90, 2),
        ParamSpec("BALL_ALLOY", "enum", "SAC305", choices=("SAC305", "SAC405")),
        ParamSpec("BALL_COUNT", "int", 192, 1, 2000),
        *_zone_specs(),
        ParamSpec("REFLOW_SPEED", "float", 12.0, 5.0, 20.0, 1),
        ParamSpec("NITROGEN", "bool", True),
        ParamSpec("O2_LIMIT", "int", 500, 50, 2000),
        ParamSpec("PEAK_MIN", "float", 235.0, 200.0, 260.0, 1),
        ParamSpec("PEAK_MAX", "float", 245.0, 200.0, 260.0, 1),
        ParamSpec("TAL_MIN", "float", 50.0, 20.0, 150.0, 1),
        ParamSpec("TAL_MAX", "float", 70.0, 20.0, 150.0, 1),
        ParamSpec("INSP_OFFSET", "int", 25, 10, 100),
        ParamSpec("INSP_DIAMETER", "int", 15, 5, 30),
    ]
    factory_recipes: ClassVar[dict[str, dict[str, Any]]] = {"A-BALL050": {}}

    def __init__(
        self,
        *args: Any,
        ball_supply_pct: float = 100.0,
        flux_supply_pct: float = 100.0,
        **kwargs: Any,
    ) -> None:
        # Strip 1 of these lists is the common STRip:ID / STRip:MAP of the base (see properties).
        self.strip_ids = [""] * MAX_STRIPS
        self.input_maps = [""] * MAX_STRIPS
        super().__init__(*args, **kwargs)
        self.input_maps = ["1" * self.sites] * MAX_STRIPS
        self.magazine_count = 1
        self.zone_control_c = [AMBIENT_C] * HEATED_ZONES
        self.ripple = Ripple(random.Random(self.rng.getrandbits(64)), HEATED_ZONES)
        self.zone_out_of_band_s = [0.0] * HEATED_ZONES
        self.o2_ppm = O2_AIR_PPM
        self.balls_left = BALL_CAPACITY * ball_supply_pct / 100.0
        self.flux_left_mm3 = FLUX_CAPACITY_MM3 * flux_supply_pct / 100.0
        self.magazine: list[StripRun] = []
        self.next_feed_s = 0.0
        self.print_failures_in_row = 0
        self.low_yield_in_row = 0

    # == strip 1 is the common strip data ====================================================
    @property
    def strip_id(self) -> str:
        return self.strip_ids[0]

    @strip_id.setter
    def strip_id(self, value: str) -> None:
        self.strip_ids[0] = value

    @property
    def input_map(self) -> str:
        return self.input_maps[0]

    @input_map.setter
    def input_map(self, value: str) -> None:
        self.input_maps[0] = value

    # == settings ==============================================================================
    def set_magazine_count(self, text: str) -> None:
        """``MAGazine:COUNt``: strips in the next cycle (per-cycle data, 1-20)."""
        with self.lock:
            count = MAGAZINE_COUNT.parse(text)
            self.check("set")
            self.magazine_count = count

    def set_strip_id_at(self, index: int, strip_id: str) -> None:
        with self.lock:
            self.check("set")
            self.strip_ids[index - 1] = strip_id

    def set_input_map_at(self, index: int, value: str) -> None:
        with self.lock:
            if set(value) - {"0", "1"}:
                raise Reject(12, scpi=-151)
            if len(value) != self.sites:
                raise Reject(26)
            self.check("set")
            self.input_maps[index - 1] = value

    def load_recipe(self, name: str) -> None:
        """As the base; a recipe with another strip size resets every strip's map."""
        with self.lock:
            size = self.size
            super().load_recipe(name)
            if self.size != size:
                self.input_maps = ["1" * self.sites] * MAX_STRIPS

    def set_size(self, rows: int, cols: int) -> None:
        """A size change resets the maps of every strip of the magazine (§4)."""
        with self.lock:
            super().set_size(rows, cols)
            self.input_maps = ["1" * self.sites] * MAX_STRIPS

    def set_limits(self, texts: list[str]) -> None:
        """``REFLow:LIMits``: ranges, then the state matrix, then min < max (-221)."""
        with self.lock:
            names = ("PEAK_MIN", "PEAK_MAX", "TAL_MIN", "TAL_MAX")
            values = [
                self.params.specs[name].parse(text) for name, text in zip(names, texts, strict=True)
            ]
            self.check("set")
            if not (values[0] < values[1] and values[2] < values[3]):
                raise Reject(14)
            for name, value in zip(names, values, strict=True):
                self.params[name] = value
            if self.loaded_recipe is not None:
                self.recipe_edited = True

    def after_param_change(self, name: str) -> None:
        """A zone set-point change returns READY to HEATING (§3)."""
        if name.startswith("ZONE") and self.state in (State.HEATING, State.READY):
            self.in_band_s = 0.0
            self._set_state(State.HEATING)

    def do_reset(self) -> None:
        with self.lock:
            super().do_reset()
            self._clear_strip_data()
            self.magazine = []

    def on_ack(self) -> None:
        self._clear_strip_data()

    def _clear_strip_data(self) -> None:
        self.magazine_count = 1
        self.strip_ids = [""] * MAX_STRIPS
        self.input_maps = ["1" * self.sites] * MAX_STRIPS

    # == readings ==============================================================================
    def zone_air_c(self, zone: int) -> float:
        """Air temperature of a 0-based zone (0-7 heated, 8-9 cooling)."""
        return self._zone_air_at_c(zone, self.time_s)

    def _zone_air_at_c(self, zone: int, time_s: float) -> float:
        """Air of a zone at ``time_s`` near the model's time, as the heater (on or off as
        now, same set-point) makes it: a function of tool time, not of the steps taken."""
        if zone >= HEATED_ZONES:
            return COOLING_ZONE_C
        control, dt_s = self.zone_control_c[zone], time_s - self.time_s
        if not self._heaters_on()[zone]:
            return cool(control, AMBIENT_C, dt_s)
        setpoint = self.zone_setpoint_c(zone)
        return setpoint - approach_error(setpoint - control, dt_s) + self.ripple.at(zone, time_s)

    def zone_setpoint_c(self, zone: int) -> float:
        return float(self.params.values[ZONE_PARAMS[zone]])

    def _zone_setpoints_c(self) -> list[float]:
        """Every heated zone's set-point, for the loops over all of them (one call, not eight)."""
        values = self.params.values
        return [float(values[name]) for name in ZONE_PARAMS]

    def profile_figures(self) -> ProfileFigures:
        """``REFLow:PROFile?``: the profile of the working set-points (informative)."""
        zones = [self.zone_setpoint_c(z) for z in range(HEATED_ZONES)]
        return reflow_profile(zones, self.params["REFLOW_SPEED"])

    @property
    def ball_supply_pct(self) -> float:
        return 100.0 * self.balls_left / BALL_CAPACITY

    @property
    def flux_supply_pct(self) -> float:
        return 100.0 * self.flux_left_mm3 / FLUX_CAPACITY_MM3

    def strip_status(self, index: int) -> str:
        """``STRip<k>:STATus?``: status in the last (or running) cycle; NOTRUN if not in it."""
        return self.magazine[index - 1].status if index <= len(self.magazine) else "NOTRUN"

    def strip_results(self, index: int) -> CycleResults:
        """Results of strip ``index``: available once it has left the line; else 27."""
        run = self.magazine[index - 1] if index <= len(self.magazine) else None
        if run is None or run.result is None:
            raise Reject(27)
        return run.result

    # == supplies ==============================================================================
    def balls_needed(self, sites: int) -> int:
        return sites * int(self.params["BALL_COUNT"])

    def flux_needed_mm3(self, sites: int) -> float:
        """Flux for ``sites`` sites: lands × land area × print thickness × transfer waste."""
        land_mm = LAND_PER_BALL_DIAMETER * self.params["BALL_DIAMETER"]
        per_land = math.pi * land_mm**2 / 4.0 * self.params["FLUX_THICKNESS"] / 1000.0
        return self.balls_needed(sites) * per_land * FLUX_WASTE[self.params["FLUX_METHOD"]]

    def refill(self, *, balls: bool = True, flux: bool = True) -> None:
        """Operator refills the ball reservoir and/or the flux cartridge."""
        with self.lock:
            if balls:
                self.balls_left = float(BALL_CAPACITY)
            if flux:
                self.flux_left_mm3 = FLUX_CAPACITY_MM3

    def fix(self, code: int) -> None:
        """Operator remedies: refill (6101/6201 flux, 6102/6202 balls), clean the ball head
        (6103), clean the stencil (6104), load strips (6110); others as the base."""
        with self.lock:
            if code in (6101, 6201, 6102, 6202):
                self.refill(balls=code in (6102, 6202), flux=code in (6101, 6201))
            remedies = {6103: "PICKUP", 6104: "PRINT", 6110: "MAGAZINE"}
            if code in remedies:
                self.conditions[remedies[code]] = False
            super().fix(code)

    # == interlocks and alarm causes ==========================================================
    def interlock_active(self, name: str) -> bool:
        if name == "N2":
            return bool(self.params["NITROGEN"]) and self.conditions.get("N2", False)
        if name == "FLUX":
            return self.flux_left_mm3 < self.flux_needed_mm3(self.sites)
        if name == "BALL":
            return self.balls_left < self.balls_needed(self.sites)
        return super().interlock_active(name)

    def alarm_cause_persists(self, code: int) -> bool:
        causes = {
            6101: lambda: self.interlock_active("FLUX"),
            6102: lambda: self.interlock_active("BALL"),
            6105: lambda: any(self._zone_error_c(z) > ALARM_BAND_C for z in range(HEATED_ZONES)),
            6108: self._o2_high,
            6103: lambda: self.conditions.get("PICKUP", False),
            6110: lambda: self.conditions.get("MAGAZINE", False),
            6201: lambda: self.flux_supply_pct < LOW_SUPPLY_PCT,
            6202: lambda: self.ball_supply_pct < LOW_SUPPLY_PCT,
        }
        cause = causes.get(code)
        return cause() if cause is not None else super().alarm_cause_persists(code)

    def set_condition(self, name: str, active: bool) -> None:
        """As the base, except that N2 supply low is no alarm with nitrogen OFF (§6)."""
        with self.lock:
            if name.upper() == "N2" and not self.params["NITROGEN"]:
                self.conditions["N2"] = active
                return
            super().set_condition(name, active)

    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        """As the base; 6108 also marks the strips in the oven (6509, §6)."""
        with self.lock:
            super().raise_alarm(code, cause_for_s=cause_for_s)
            if code == 6108:
                for run in self.magazine:
                    if run.status == "REFLOW":
                        run.o2_alarm = True

    def conditions_in_band(self) -> bool:
        zones_ok = all(self._zone_error_c(z) <= READY_BAND_C for z in range(HEATED_ZONES))
        return zones_ok and not self._o2_high()

    def _zone_error_c(self, zone: int) -> float:
        return abs(self.zone_air_c(zone) - self.zone_setpoint_c(zone))

    def _o2_high(self) -> bool:
        return bool(self.params["NITROGEN"]) and self.o2_ppm > self.params["O2_LIMIT"]

    # == physics ===============================================================================
    def physics(self, dt_s: float) -> None:
        self._heat(dt_s)
        self._atmosphere(dt_s)
        self._watch_supplies()
        if not self.cycle_active:
            return
        self._watch_zones(dt_s)
        if self._o2_high():
            self.raise_alarm(6108)
        end_s = self.time_s
        self._feed(end_s - dt_s, end_s)
        self._watch_supplies()  # a feed took stock: the low warning comes with it
        for run in self.magazine:
            self._move(run, end_s - dt_s, end_s)
        if self.abort_on_clear and self.state is not State.ALARM and not self._strips_in_line():
            self._finish_aborted()

    def _watch_supplies(self) -> None:
        if self.ball_supply_pct < LOW_SUPPLY_PCT:
            self.raise_alarm(6202)
        if self.flux_supply_pct < LOW_SUPPLY_PCT:
            self.raise_alarm(6201)

    def _heaters_on(self) -> tuple[bool, ...]:
        """Whether each heated zone's heater runs: none unarmed or under ESTOP, and zone 5
        not under the HEATER condition."""
        if not self.armed or self.conditions.get("ESTOP", False):
            return _ALL_HEATERS_OFF
        if self.conditions.get("HEATER", False):
            return _HEATER_FAULT_ZONE_OFF
        return _ALL_HEATERS_ON

    def _heat(self, dt_s: float) -> None:
        """Closed form (:mod:`sim.ball_attach.zones`): exact for a step of any length."""
        control_c = self.zone_control_c
        setpoints_c = self._zone_setpoints_c()
        for zone, on in enumerate(self._heaters_on()):
            control = control_c[zone]
            if on:
                setpoint = setpoints_c[zone]
                control_c[zone] = setpoint - approach_error(setpoint - control, dt_s)
            else:
                control_c[zone] = cool(control, AMBIENT_C, dt_s)

    # == events ================================================================================
    def physics_settled(self) -> bool:
        """The zones' band checks (READY 3 °C, alarm 5 °C) cannot change before the next
        announced event: every heated zone's error is more than the ripple's bound away from
        each band edge (an error inside that bound is stepped on the grid, as a zone an armed
        tool does not heat, or one out of the alarm band while a cycle dwells towards 6105)."""
        if not self.armed:
            return True
        edges = self._band_edges_c()  # the same for every zone: asked once
        strips_dwell = len(edges) > 1  # the alarm band's edge counts during a cycle
        if self._heaters_on() is not _ALL_HEATERS_ON:
            return False
        control_c = self.zone_control_c
        for zone, setpoint in enumerate(self._zone_setpoints_c()):
            error = abs(setpoint - control_c[zone])
            if any(abs(error - edge) <= RIPPLE_MAX_C for edge in edges):
                return False
            if strips_dwell and error > ALARM_BAND_C:
                return False
        return True

    def _band_edges_c(self) -> tuple[float, ...]:
        """The zone errors at which a band check changes: READY's always (HEATING/READY and
        ACK look at it), the alarm band's only while 6105 is watched."""
        if self._zones_watched():
            return (READY_BAND_C, ALARM_BAND_C)
        return (READY_BAND_C,)

    def _event_driven(self) -> bool:
        """FEED and DRAIN end on conditions, but on strips' events that are announced."""
        return self.physics_settled()

    def physics_event_in_s(self) -> float | None:
        """The next of: a heated zone's error reaching a band's uncertain edge (it is then
        stepped), the O₂ reading crossing its limit, the next strip fed, and each strip's
        moves (PLACE, oven entry, each zone boundary, oven exit, inspection done)."""
        events = [self._o2_crossing_in_s()]
        if self.armed:
            edges = self._band_edges_c()
            control_c = self.zone_control_c
            for zone, setpoint in enumerate(self._zone_setpoints_c()):
                error = abs(setpoint - control_c[zone])
                for edge in edges:
                    if error > edge + RIPPLE_MAX_C:
                        events.append(time_to_error_s(error, edge + RIPPLE_MAX_C))
        if self.cycle_active:
            waiting = any(run.status == "WAIT" for run in self.magazine)
            if waiting and self.state is State.RUNNING and not self.abort_on_clear:
                events.append(max(0.0, self.next_feed_s - self.time_s))
            for run in self.magazine:
                events.extend(t - self.time_s for t in self._strip_moves(run))
        ahead = [t for t in events if t is not None and t > 1e-9]
        return min(ahead) if ahead else None

    def _strip_moves(self, run: StripRun) -> list[float]:
        """Tool times at which a strip in the line changes place (zone by zone in the oven)."""
        if run.feed_s is None or run.status in ("DONE", "NOTRUN"):
            return []
        speed = self.params["REFLOW_SPEED"]
        reflow_start = run.feed_s + PRINT_S + PLACE_S
        zone_s = ZONE_LENGTH_MM / speed
        oven = [reflow_start + k * zone_s for k in range(1, HEATED_ZONES + COOLING_ZONES)]
        reflow_end = reflow_start + transit_s(speed)
        moves = [run.feed_s + PRINT_S, reflow_start, *oven, reflow_end, reflow_end + INSPECT_S]
        return [t for t in moves if t > self.time_s + 1e-9]

    def _o2_crossing_in_s(self) -> float | None:
        """Tool seconds until the O₂ reading crosses O2_LIMIT (it approaches its target
        exponentially), or None if it does not."""
        if not self.params["NITROGEN"]:
            return None
        target, limit = self._o2_target_ppm(), float(self.params["O2_LIMIT"])
        if (self.o2_ppm - limit) * (target - limit) >= 0.0:
            return None
        return O2_TAU_S * math.log((self.o2_ppm - target) / (limit - target)) + 1e-6

    def _atmosphere(self, dt_s: float) -> None:
        target = self._o2_target_ppm()
        self.o2_ppm = target + (self.o2_ppm - target) * math.exp(-dt_s / O2_TAU_S)

    def _o2_target_ppm(self) -> float:
        nitrogen_flows = (
            self.armed and self.params["NITROGEN"] and not self.conditions.get("N2", False)
        )
        if not nitrogen_flows:
            return O2_AIR_PPM
        if self.conditions.get("O2", False):  # air ingress: process fault "O2"
            return float(max(3.0 * self.params["O2_LIMIT"], 1000.0))
        return O2_NITROGEN_PPM

    def _zones_watched(self) -> bool:
        """Whether 6105 is watched: during a cycle (§6), strips in the line or not (a paused
        or held magazine too), but not once an aborted cycle has no strip left in the line
        (after an A alarm the heaters may be off until the clear: that is no deviation)."""
        return self.cycle_active and (not self.abort_on_clear or self._strips_in_line())

    def _watch_zones(self, dt_s: float) -> None:
        """6105: a zone more than 5 °C off for 30 s while :meth:`_zones_watched`."""
        watched: bool | None = None  # asked once, and only if a zone is out of the band
        for zone in range(HEATED_ZONES):
            if self._zone_error_c(zone) > ALARM_BAND_C and (
                watched if watched is not None else (watched := self._zones_watched())
            ):
                self.zone_out_of_band_s[zone] += dt_s
                if self.zone_out_of_band_s[zone] > ALARM_BAND_S:
                    self.raise_alarm(6105)
            else:
                self.zone_out_of_band_s[zone] = 0.0

    # == the magazine ==========================================================================
    def build_cycle(self) -> list[Step]:
        return [
            Step(
                "FEED",
                0.0,
                until=lambda: all(run.status != "WAIT" for run in self.magazine),
                hold_point=False,
            ),
            Step("DRAIN", 0.0, until=lambda: not self._strips_in_line()),
        ]

    def on_cycle_start(self) -> None:
        self.magazine = [
            StripRun(k, self.strip_ids[k - 1], self.input_maps[k - 1])
            for k in range(1, self.magazine_count + 1)
        ]
        self.results = CycleResults("")  # the magazine as a whole; strips keep their own
        self.next_feed_s = self.time_s
        self.zone_out_of_band_s = [0.0] * HEATED_ZONES

    @property
    def feed_to_exit_s(self) -> float:
        return PRINT_S + PLACE_S + transit_s(self.params["REFLOW_SPEED"]) + INSPECT_S

    def _strips_in_line(self) -> bool:
        return any(run.status in ("PRINT", "PLACE", "REFLOW", "INSPECT") for run in self.magazine)

    def _feed(self, start_s: float, end_s: float) -> None:
        """Feed each strip whose takt slot comes in ``start_s``..``end_s`` while feeding is
        allowed (RUNNING): a long step feeds every strip it spans, at its slot."""
        while self.state is State.RUNNING and not self.abort_on_clear:
            run = next((r for r in self.magazine if r.status == "WAIT"), None)
            feed_s = max(self.next_feed_s, start_s)
            if run is None or feed_s > end_s or not self._strip_available(run):
                return
            self._feed_one(run, feed_s)

    def _feed_one(self, run: StripRun, feed_s: float) -> None:
        """The strip enters the printer at ``feed_s``, taking its flux and balls."""
        sites = run.input_map.count("1")
        self.balls_left -= self.balls_needed(sites)
        self.flux_left_mm3 -= self.flux_needed_mm3(sites)
        run.print_failed = self.conditions.get("PRINT", False)  # process fault: clogged stencil
        self.print_failures_in_row = self.print_failures_in_row + 1 if run.print_failed else 0
        if self.print_failures_in_row >= IN_A_ROW:
            self.print_failures_in_row = 0
            self.raise_alarm(6104, cause_for_s=0.0)
        run.feed_s = feed_s
        run.status = "PRINT"
        self.next_feed_s = feed_s + TAKT_S

    def _strip_available(self, run: StripRun) -> bool:
        """The strip is in the input magazine, the ball head picks a full set, and there is
        flux and ball stock for it; otherwise the hold alarm that says which is raised."""
        sites = run.input_map.count("1")
        if self.conditions.get("MAGAZINE", False):
            self.raise_alarm(6110)
        elif self.conditions.get("PICKUP", False):  # process fault: clogged ball head nozzles
            self.raise_alarm(6103)
        elif self.flux_left_mm3 < self.flux_needed_mm3(sites):
            self.raise_alarm(6101)
        elif self.balls_left < self.balls_needed(sites):
            self.raise_alarm(6102)
        else:
            return True
        return False

    def _move(self, run: StripRun, start_s: float, end_s: float) -> None:
        if run.feed_s is None or run.status in ("DONE", "NOTRUN"):
            return
        speed = self.params["REFLOW_SPEED"]
        reflow_start = run.feed_s + PRINT_S + PLACE_S
        reflow_end = reflow_start + transit_s(speed)
        exit_s = reflow_end + INSPECT_S
        a, b = max(start_s, reflow_start), min(end_s, reflow_end)
        if b > a:
            self._reflow(run, a - reflow_start, b - reflow_start, speed, reflow_start)
        if end_s >= exit_s - 1e-9:
            self._finish_strip(run, exit_s)
        elif end_s >= reflow_end:
            run.status = "INSPECT"
        elif end_s >= reflow_start:
            run.status = "REFLOW"
        else:
            run.status = "PLACE" if end_s >= run.feed_s + PRINT_S else "PRINT"

    def _reflow(
        self, run: StripRun, from_s: float, to_s: float, speed: float, reflow_start_s: float
    ) -> None:
        """Carry the strip from ``from_s`` to ``to_s`` (s after oven entry at tool time
        ``reflow_start_s``) through the zones, each in the air of the time the strip is in
        its middle: the profile does not depend on how the passage was cut into steps."""
        run.max_o2_ppm = max(run.max_o2_ppm, self.o2_ppm)
        # ``to_s`` may lie a rounding error past the oven's exit (it is computed from absolute
        # sim times); the last zone ends there, so stop rather than step in place forever.
        to_s = min(to_s, transit_s(speed))
        while to_s - from_s > 1e-9:
            zone = zone_at(speed * from_s + 1e-6)
            piece_end = min(to_s, (zone + 1) * ZONE_LENGTH_MM / speed)
            if piece_end <= from_s:
                break
            mid_s = reflow_start_s + (zone + 0.5) * ZONE_LENGTH_MM / speed
            run.thermal.advance(self._zone_air_at_c(zone, mid_s), piece_end - from_s)
            from_s = piece_end

    # == results ===============================================================================
    def _finish_strip(self, run: StripRun, exit_s: float) -> None:
        """Inspect the strip leaving the oven, record its results and the balls in the world."""
        figures = run.thermal.figures()
        p = self.params
        profile_ok = (
            p["PEAK_MIN"] <= figures.peak_c <= p["PEAK_MAX"]
            and p["TAL_MIN"] <= figures.tal_s <= p["TAL_MAX"]
        )
        o2_bad = bool(p["NITROGEN"]) and (run.o2_alarm or run.max_o2_ppm > p["O2_LIMIT"])
        strip_defects = [
            code
            for code, bad in ((6506, run.print_failed), (6508, not profile_ok), (6509, o2_bad))
            if bad
        ]
        strip = self._world_strip(run)
        rows = []
        for site in range(1, self.sites + 1):
            if run.input_map[site - 1] == "0":
                rows.append(SiteResult(site, "X", 0, ("",) * VALUE_FIELDS))
                continue
            balls = self._attach(strip.site(site))
            defects = self._site_defects(balls) + strip_defects
            defect = min(defects) if defects else 0
            rows.append(SiteResult(site, "F" if defect else "P", defect, _values(balls)))
            self._record_site(strip.site(site), defect, placed=True, balls=balls)
        self._close_strip(run, strip, rows, exit_s, figures, "inspected")
        failed = sum(1 for row in rows if row.result == "F")
        processed = failed + sum(1 for row in rows if row.result == "P")
        too_many = processed > 0 and failed / processed > LOW_YIELD_FAILED_FRACTION
        self.low_yield_in_row = self.low_yield_in_row + 1 if too_many else 0
        if self.low_yield_in_row >= IN_A_ROW:
            self.low_yield_in_row = 0
            self.raise_alarm(6109, cause_for_s=0.0)

    def _site_defects(self, balls: SiteBalls) -> list[int]:
        """Pass rules of §5 applied to one site's vision result."""
        nominal = self.params["BALL_DIAMETER"]
        tolerance = nominal * self.params["INSP_DIAMETER"] / 100.0
        checks = (
            (6501, balls.missing > 0),
            (6502, balls.extra > 0),
            (6503, balls.bridged > 0),
            (6504, balls.max_offset_um > self.params["INSP_OFFSET"]),
            (6505, abs(balls.mean_diameter_mm - nominal) > tolerance),
            (6506, balls.lands_residue),
        )
        return [code for code, failed in checks if failed]

    def _attach(self, state: SiteState) -> SiteBalls:
        process = BallProcess(
            self.params["BALL_DIAMETER"],
            int(self.params["BALL_COUNT"]),
            self.params["FLUX_THICKNESS"],
        )
        return attach_site(
            self.rng, process, pad_exposure_pct=state.pad_exposure_pct, warp_um=state.warp_um
        )

    def _world_strip(self, run: StripRun) -> StripState:
        """The strip in the shared world (a throw-away one when the host set no strip id)."""
        return self.world.strip(run.strip_id, *self.size)

    def _record_site(
        self, state: SiteState, defect: int, *, placed: bool, balls: SiteBalls | None
    ) -> None:
        """Write what is physically on the site into the world: balls placed, and (``balls``)
        their reflowed geometry; the defect, if any, under this tool's name."""
        if placed:
            state.balls_placed = int(self.params["BALL_COUNT"])
        if balls is not None:
            state.balls_missing = balls.missing
            state.balls_extra = balls.extra
            state.balls_bridged = balls.bridged
            state.ball_height_mean_um = balls.height_mean_um
            state.ball_height_min_um = balls.height_min_um
            state.coplanarity_um = balls.coplanarity_um
            state.ball_diameter_mm = balls.mean_diameter_mm
        if defect:
            state.defects[self.tool_name] = defect

    def _close_strip(
        self,
        run: StripRun,
        strip: StripState,
        rows: list[SiteResult],
        end_s: float,
        figures: ProfileFigures | None,
        event: str,
    ) -> None:
        cycle_s = end_s - run.feed_s if run.feed_s is not None else 0.0
        extra = (
            ("", "", "")
            if figures is None
            else (f"{figures.peak_c:.1f}", f"{figures.tal_s:.1f}", f"{run.max_o2_ppm:.0f}")
        )
        run.result = CycleResults(run.strip_id, rows, cycle_s, extra)
        run.status = "DONE" if run.feed_s is not None else "NOTRUN"
        if self.abort_on_clear:  # draining after an abort: the cycle ends with the last strip
            self._freeze_cycle_time()
        if run.strip_id:
            strip.record(end_s, self.tool_name, f"{event}: {run.result.result_map}")

    def _scrap(self, run: StripRun, defect: int, *, placed: bool, reflowed: bool) -> None:
        """End a strip early: every processed site F with ``defect`` and no vision values.
        ``placed``: its balls stay on the lands; ``reflowed``: and they were fully reflowed."""
        strip = self._world_strip(run)
        figures = run.thermal.figures() if run.status in ("REFLOW", "INSPECT") else None
        rows = []
        for site in range(1, self.sites + 1):
            if run.input_map[site - 1] == "0":
                rows.append(SiteResult(site, "X", 0, ("",) * VALUE_FIELDS))
                continue
            rows.append(SiteResult(site, "F", defect, ("",) * VALUE_FIELDS))
            balls = self._attach(strip.site(site)) if reflowed else None
            self._record_site(strip.site(site), defect, placed=placed, balls=balls)
        self._close_strip(run, strip, rows, self.time_s, figures, f"scrapped {defect}")

    def _not_run(self, run: StripRun) -> None:
        rows = [
            SiteResult(
                site, "X" if run.input_map[site - 1] == "0" else "N", 0, ("",) * VALUE_FIELDS
            )
            for site in range(1, self.sites + 1)
        ]
        self._close_strip(run, self._world_strip(run), rows, self.time_s, None, "not run")

    def on_abort(self, by_alarm: bool) -> None:
        """ABORT (and A alarms): the strip in PRINT/PLACE is ejected (6510), strips not fed are
        NOTRUN; strips in the oven complete (host abort) or were scrapped already (A alarm)."""
        for run in self.magazine:
            if run.status in ("PRINT", "PLACE"):
                self._scrap(run, 6510, placed=False, reflowed=False)
            elif run.status == "WAIT":
                self._not_run(run)

    def on_abort_class_alarm(self) -> None:
        """A alarm: as ABORT, but strips in the oven are F 6508 (§3); a strip already in
        inspection is not in the oven and completes normally, as at ABORT."""
        if not self.cycle_active:
            return
        for run in self.magazine:
            if run.status == "REFLOW":
                self._scrap(run, 6508, placed=True, reflowed=False)

    def _finish_aborted(self) -> None:
        """ABORTED only once the strips in the oven have left it (§3); drain until then."""
        if self._strips_in_line():
            self.abort_on_clear = True
            self.cycle_stopped = False  # the line moves on: its time runs until the last strip
            self.steps.clear()
            self.phase = "DRAIN"
            self._set_state(State.RUNNING)
            return
        super()._finish_aborted()

    def progress(self) -> tuple[int, int, int, int]:
        """``CYCLe:PROGress?`` in strips: exited, total, elapsed s, remaining s (estimate)."""
        with self.lock:
            finished = self.state in (State.DONE, State.ABORTED) or self.deferred_hold
            if not self.magazine or self.results is None or not (self.cycle_active or finished):
                return (0, 0, 0, 0)
            done = sum(1 for run in self.magazine if run.status == "DONE")
            if not self.cycle_active:
                return (done, len(self.magazine), int(self.results.cycle_s), 0)
            return (done, len(self.magazine), int(self.cycle_elapsed_s), int(self._remaining_s()))

    def _remaining_s(self) -> float:
        now = self.time_s
        next_feed = max(self.next_feed_s, now)
        ends = []
        for run in self.magazine:
            if run.status == "WAIT" and not self.abort_on_clear:
                ends.append(next_feed + self.feed_to_exit_s)
                next_feed += TAKT_S
            elif run.feed_s is not None and run.status != "DONE":
                ends.append(run.feed_s + self.feed_to_exit_s)
        return max(0.0, max(ends, default=now) - now)


def _values(balls: SiteBalls) -> tuple[str, ...]:
    """Result record value fields: missing, extra, bridged, max offset µm, mean diameter mm."""
    return (
        str(balls.missing),
        str(balls.extra),
        str(balls.bridged),
        f"{balls.max_offset_um:.1f}",
        f"{balls.mean_diameter_mm:.3f}",
    )
