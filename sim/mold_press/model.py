"""TM-4 process model: chase heaters, pellet feed, clamp, three-stage transfer, Kamal-Sourour
cure, cull height, and per-position results (mold-press.md §3-§6)."""

from __future__ import annotations

from typing import Any, ClassVar

from sim.modbus_model import ModbusToolModel, Setting
from sim.mold_press.abort_sequence import AbortSequence
from sim.mold_press.cure import advance_cure, time_to_alpha
from sim.tool_model import AlarmDef, CycleResults, Reject, SiteResult, State, Step

PHASES = ("NONE", "LOAD", "PREHEAT", "CLAMP", "TRANSFER", "CURE", "OPEN", "CLEAN", "UNLOAD")
AMBIENT_C = 25.0
HEAT_RATE_C_PER_S = 5.0 / 60.0  # mold-press.md §8: 5 °C/min
COOL_RATE_C_PER_S = 2.0 / 60.0
MOLD_CAP_UM = 275.0  # mold cap above the carrier (sim decision, docs/tools/mold-press.md)
SUBSTRATE_UM = 360.0  # Format A substrate, die-bonder.md §1

START_BLOCKERS = frozenset({"start", "resume"})
#: Phases whose chase temperatures make CHASE_TEMP_MIN/MAX (mold-press.md §4: "CLAMP–OPEN").
SHOT_TEMP_PHASES = frozenset({"CLAMP", "TRANSFER", "CURE", "OPEN"})
OVER_TEMP_C = 200.0  # alarm 4103
CLAMP_S = 8.0  # §3 nominal CLAMP
CLAMP_FORCE_WAIT_S = 10.0  # alarm 4111: force not reached within this time


class MoldPressModel(ModbusToolModel):
    tool_name = "mold-press"
    model_name = "TM-4"
    serial = "TM4-00021"
    firmware = "2.3.1"
    init_s = 15.0
    stable_s = 60.0
    positions = 4

    alarm_defs = (
        AlarmDef(4001, "Emergency stop", "A", (1, 0)),
        AlarmDef(4002, "Safety door opened during cycle", "A", (1, 1)),
        AlarmDef(4003, "Host watchdog timeout", "W", (1, 2)),
        AlarmDef(4004, "Hydraulic pressure low", "H", (1, 3)),
        AlarmDef(4005, "Compressed air low", "H", (1, 4)),
        AlarmDef(4101, "Top chase temperature out of band", "H", (2, 0)),
        AlarmDef(4102, "Bottom chase temperature out of band", "H", (2, 1)),
        AlarmDef(4103, "Chase over-temperature", "A", (2, 2)),
        AlarmDef(4104, "Heater or thermocouple fault", "A", (2, 3)),
        AlarmDef(4105, "Preheater fault", "H", (2, 4)),
        AlarmDef(4111, "Clamp force not reached", "A", (3, 0)),
        AlarmDef(4112, "Transfer pressure high", "A", (3, 1)),
        AlarmDef(4113, "Transfer stroke not completed", "A", (3, 2)),
        AlarmDef(4114, "Pellet jam", "H", (3, 3)),
        AlarmDef(4115, "Pellet supply empty", "H", (3, 4)),
        AlarmDef(4116, "Cull height out of tolerance", "W", (3, 5)),
        AlarmDef(4117, "Auto-clean failure", "W", (3, 6)),
        AlarmDef(4118, "Ejector fault", "A", (3, 7)),
        AlarmDef(4119, "Consecutive short shots", "H", (3, 8)),
        AlarmDef(4201, "Pellet supply low", "W", (4, 0)),
    )
    interlock_table = (
        ("ESTOP", START_BLOCKERS),
        ("DOOR", START_BLOCKERS),
        ("TEMP", frozenset({"start"})),
        ("HYDRAULIC", START_BLOCKERS),
        ("AIR", START_BLOCKERS),
        ("LOAD", frozenset({"start"})),
        ("HOST_WDT", START_BLOCKERS),
        ("PELLET", START_BLOCKERS),
    )
    condition_alarms: ClassVar[dict[str, int]] = {
        "ESTOP": 4001,
        "DOOR": 4002,
        "HYDRAULIC": 4004,
        "AIR": 4005,
    }

    #: HR 100-121 (mold-press.md §4) at power-on, engineering units.
    setting_defaults: ClassVar[dict[str, Setting]] = {
        "CHASE_TOP_SP": 175.0,  # °C
        "CHASE_BOT_SP": 175.0,  # °C
        "TEMP_BAND": 3.0,  # °C
        "CLAMP_FORCE_SP": 500,  # kN
        "TRANSFER_P_SP": 7.5,  # MPa
        "S1_END_POS": 20.0,  # mm
        "S1_SPEED": 6.0,  # mm/s
        "S2_END_POS": 40.0,
        "S2_SPEED": 3.0,
        "S3_END_POS": 46.0,
        "S3_SPEED": 2.0,
        "CURE_S": 90,
        "PELLET_PREHEAT_SP": 85.0,  # °C
        "SUBSTRATE_PREHEAT_SP": 150.0,  # °C
        "PREHEAT_S": 20,
        "PELLETS_PER_SHOT": 8,
        "CULL_SP": 4.0,  # mm
        "CULL_TOL": 0.5,  # mm
        "ALPHA_MIN": 0.8,  # degree of cure
        "AUTO_CLEAN": 1,
        "VACUUM_ASSIST": 1,
        "LOAD_MASK": 15,
    }

    def __init__(self, *args: Any, pellet_stock: int = 400, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.top_pv_c = AMBIENT_C
        self.bottom_pv_c = AMBIENT_C
        self.heater_top_ok = True
        self.heater_bottom_ok = True
        self.pellet_stock = pellet_stock
        self.clamp_force_kn = 0.0
        self.transfer_p_mpa = 0.0
        self.ram_mm = 0.0  # plunger position when not stroking (0 = home)
        self.ram_stroking = False
        self.alpha = 0.0
        self.curing = False
        self.shot: dict[str, float] = {}
        self.short_shots_in_row = 0
        self.out_of_band_s = {"top": 0.0, "bottom": 0.0}
        self.transfer_started = False
        self.abort_sequence = AbortSequence()
        self.cycle_mask = 0
        self.cycle_strip_ids: dict[int, str] = {}

    @property
    def band_c(self) -> float:
        return self.setting("TEMP_BAND")

    def phase_names(self) -> tuple[str, ...]:
        return PHASES

    # -- physics --------------------------------------------------------------------------------
    def heaters_on(self) -> bool:
        """Chase heaters run while armed, off under E-stop and over-temperature (§6, 4103)."""
        return self.armed and not self.conditions.get("ESTOP") and 4103 not in self.active_alarms

    def tool_physics(self, dt_s: float) -> None:
        heating = self.heaters_on()
        self.top_pv_c = self._heater(
            self.top_pv_c, self.setting("CHASE_TOP_SP"), dt_s, heating and self.heater_top_ok
        )
        self.bottom_pv_c = self._heater(
            self.bottom_pv_c, self.setting("CHASE_BOT_SP"), dt_s, heating and self.heater_bottom_ok
        )
        if self.over_temperature():
            self.raise_alarm(4103)
        if self.abort_sequence.running and self.abort_sequence.advance(
            dt_s, may_open=self.may_open_after_abort()
        ):
            self.clamp_force_kn = 0.0  # §3: the press opens and ejects
        if self.curing:
            self.alpha = advance_cure(self.alpha, self.chase_mean_c, dt_s)
        if self.cycle_active and self.phase in SHOT_TEMP_PHASES:
            self.shot["temp_min"] = min(
                self.shot.get("temp_min", 999.0), self.top_pv_c, self.bottom_pv_c
            )
            self.shot["temp_max"] = max(
                self.shot.get("temp_max", -999.0), self.top_pv_c, self.bottom_pv_c
            )
        if self.cycle_active and self.state is State.RUNNING:
            self._watch_band(dt_s)

    def may_open_after_abort(self) -> bool:
        """§3: an aborted shot's press opens and ejects once E-stop and door are clear."""
        return not (self.conditions.get("ESTOP") or self.conditions.get("DOOR"))

    def physics_event_in_s(self) -> float | None:
        """The host watchdog, and the end of a stage of the abort sequence."""
        events = (
            super().physics_event_in_s(),
            self.abort_sequence.event_in_s(may_open=self.may_open_after_abort()),
        )
        ahead = [t for t in events if t is not None]
        return min(ahead) if ahead else None

    def physics_settled(self) -> bool:
        """Both chase halves sit at their goal (the heater snaps onto it), none is over
        200 °C, and a running shot counts no time out of band; the cure is exact for any
        step at a constant temperature."""
        heating = self.heaters_on()
        top = self.setting("CHASE_TOP_SP") if heating and self.heater_top_ok else AMBIENT_C
        bottom = self.setting("CHASE_BOT_SP") if heating and self.heater_bottom_ok else AMBIENT_C
        if self.top_pv_c != top or self.bottom_pv_c != bottom or max(top, bottom) > OVER_TEMP_C:
            return False
        if not (self.cycle_active and self.state is State.RUNNING):
            return True
        return (
            abs(top - self.setting("CHASE_TOP_SP")) <= self.band_c
            and abs(bottom - self.setting("CHASE_BOT_SP")) <= self.band_c
        )

    def _heater(self, pv: float, sp: float, dt_s: float, on: bool) -> float:
        target = sp if on else AMBIENT_C
        error = target - pv
        rate = max(-COOL_RATE_C_PER_S, min(HEAT_RATE_C_PER_S, error / 20.0))
        return pv + rate * dt_s if abs(error) > 1e-6 else target

    def _watch_band(self, dt_s: float) -> None:
        for side, pv, sp, code in (
            ("top", self.top_pv_c, self.setting("CHASE_TOP_SP"), 4101),
            ("bottom", self.bottom_pv_c, self.setting("CHASE_BOT_SP"), 4102),
        ):
            if abs(pv - sp) > self.band_c:
                self.out_of_band_s[side] += dt_s
                if self.out_of_band_s[side] > 10.0:
                    self.raise_alarm(code, cause_for_s=0.0)
            else:
                self.out_of_band_s[side] = 0.0

    def over_temperature(self) -> bool:
        return self.top_pv_c > OVER_TEMP_C or self.bottom_pv_c > OVER_TEMP_C

    @property
    def chase_mean_c(self) -> float:
        return (self.top_pv_c + self.bottom_pv_c) / 2.0

    def conditions_in_band(self) -> bool:
        return (
            abs(self.top_pv_c - self.setting("CHASE_TOP_SP")) <= self.band_c
            and abs(self.bottom_pv_c - self.setting("CHASE_BOT_SP")) <= self.band_c
        )

    # -- interlocks and settings -------------------------------------------------------------
    @property
    def strip_present(self) -> int:
        """Load-position sensors: the handler loads what LOAD_MASK asks unless a LOAD fault is set."""
        return 0 if self.conditions.get("LOAD") else self.setting_int("LOAD_MASK")

    def interlock_active(self, name: str) -> bool:
        if name == "LOAD":
            return self.strip_present != self.setting_int("LOAD_MASK")
        if name == "PELLET":
            return self.pellet_stock < self.setting_int("PELLETS_PER_SHOT")
        return super().interlock_active(name)

    def alarm_cause_persists(self, code: int) -> bool:
        if code == 4115:
            return self.pellet_stock < self.setting_int("PELLETS_PER_SHOT")
        if code == 4201:  # mold-press.md §6: stock < 4 x PELLETS_PER_SHOT
            return self.pellet_stock < 4 * self.setting_int("PELLETS_PER_SHOT")
        if code == 4104:
            return not (self.heater_top_ok and self.heater_bottom_ok)
        if code == 4103:
            return self.over_temperature()
        return super().alarm_cause_persists(code)

    def fix(self, code: int) -> None:
        """Operator remedies: refill pellets (4115, 4201), repair heaters (4104), others as base."""
        with self.lock:
            if code in (4115, 4201):
                self.pellet_stock = 400
            if code == 4104:
                self.heater_top_ok = self.heater_bottom_ok = True
            super().fix(code)

    def check_settings(self) -> None:
        if not self.setting("S1_END_POS") < self.setting("S2_END_POS") < self.setting("S3_END_POS"):
            raise Reject(14)

    def pause_allowed(self) -> bool:
        return self.phase in ("LOAD", "PREHEAT")

    def defers_hold(self) -> bool:
        return self.phase not in ("LOAD", "PREHEAT", "NONE")

    def on_abort_class_alarm(self) -> None:
        """§3: an A-class alarm stops the ram (it retracts in the abort sequence, started by
        :meth:`on_abort` when a cycle was active)."""
        self.curing = False
        self._stop_ram()

    def _stop_ram(self) -> None:
        """The ram stops where it is and the transfer pressure goes."""
        if self.ram_stroking:
            self.ram_mm = self._stroke()[0]
            self.ram_stroking = False
        self.transfer_p_mpa = 0.0

    # -- the plunger ------------------------------------------------------------------------------
    @property
    def plunger_pos_mm(self) -> float:
        """IR 104: on the three-stage profile while filling, on its way home in an abort
        sequence, else where the ram rests."""
        if self.ram_stroking:
            return self._stroke()[0]
        if self.abort_sequence.retracting:
            return self.abort_sequence.ram_mm()
        return self.ram_mm

    @property
    def plunger_speed_mm_s(self) -> float:
        """IR 105: the speed of the current stage while filling, the retraction's in an abort
        sequence, else 0."""
        if self.ram_stroking:
            return self._stroke()[1]
        return self.abort_sequence.ram_speed_mm_s()

    def _stroke(self) -> tuple[float, float]:
        """Plunger (position mm, speed mm/s) the elapsed TRANSFER time into the fill (§1, §4:
        stage k runs at Sk_SPEED up to Sk_END_POS)."""
        t_s, pos_mm = self.step_elapsed_s, 0.0
        for stage in ("S1", "S2", "S3"):
            end_mm, speed = self.setting(f"{stage}_END_POS"), self.setting(f"{stage}_SPEED")
            stage_s = (end_mm - pos_mm) / speed
            if t_s < stage_s:
                return pos_mm + speed * t_s, speed
            t_s -= stage_s
            pos_mm = end_mm
        return pos_mm, 0.0

    # -- the shot --------------------------------------------------------------------------------
    def fill_time_s(self) -> float:
        s1, s2, s3 = (self.setting(n) for n in ("S1_END_POS", "S2_END_POS", "S3_END_POS"))
        v1, v2, v3 = (self.setting(n) for n in ("S1_SPEED", "S2_SPEED", "S3_SPEED"))
        return s1 / v1 + (s2 - s1) / v2 + (s3 - s2) / v3

    def build_cycle(self) -> list[Step]:
        steps = [
            Step("LOAD", 10.0, on_start=self._load),
            Step("PREHEAT", float(self.setting_int("PREHEAT_S")), on_end=self._preheat_done),
            Step("CLAMP", CLAMP_S, on_start=self._clamp, hold_point=False),
            Step(
                "TRANSFER",
                self.fill_time_s(),
                on_start=self._transfer,
                on_end=self._filled,
                hold_point=False,
            ),
            Step("CURE", float(self.setting_int("CURE_S")), hold_point=False),
            Step("OPEN", 8.0, on_start=self._open, hold_point=False),
        ]
        if self.setting_int("AUTO_CLEAN"):
            steps.append(Step("CLEAN", 20.0, hold_point=False))
        steps.append(Step("UNLOAD", 10.0, on_end=self._unload, hold_point=False))
        return steps

    def on_cycle_start(self) -> None:
        self.cycle_mask = self.setting_int("LOAD_MASK")
        self.cycle_strip_ids = {k: self.strip_id_at(k) for k in range(1, self.positions + 1)}
        rows = [
            SiteResult(k, "N" if self.cycle_mask & (1 << (k - 1)) else "X")
            for k in range(1, self.positions + 1)
        ]
        self.results = CycleResults("", rows)
        self.shot = {}
        self.alpha = 0.0
        self.transfer_started = False

    def _load(self) -> None:
        per_shot = self.setting_int("PELLETS_PER_SHOT")
        if self.pellet_stock < per_shot:
            self.raise_alarm(4115)
            return
        self.pellet_stock -= per_shot
        if self.pellet_stock < 4 * per_shot:
            self.raise_alarm(4201, cause_for_s=0.0)

    def _preheat_done(self) -> None:
        self.shot["t_alpha03_s"] = time_to_alpha(0.3, self.chase_mean_c)

    def _clamp(self) -> None:
        target = self.setting("CLAMP_FORCE_SP")
        if self.conditions.get("HYDRAULIC"):
            # §6 4111: the press keeps building force for up to 10 s, 2 s past the nominal CLAMP.
            self.clamp_force_kn = 0.8 * target
            waiting_s = CLAMP_FORCE_WAIT_S - CLAMP_S
            self.steps.insert(
                1, Step("CLAMP", waiting_s, on_end=self._clamp_waited, hold_point=False)
            )
            return
        self._clamp_force_built()

    def _clamp_waited(self) -> None:
        if self.conditions.get("HYDRAULIC"):
            self.raise_alarm(4111)
        else:
            self._clamp_force_built()

    def _clamp_force_built(self) -> None:
        target = self.setting("CLAMP_FORCE_SP")
        self.clamp_force_kn = target * (1.0 + self.rng.gauss(0.0, 0.004))
        self.shot["clamp_min_kn"] = target * (0.995 + self.rng.gauss(0.0, 0.002))

    def _transfer(self) -> None:
        self.transfer_started = True
        self.curing = True
        self.alpha = 0.0
        self.ram_stroking = True
        sp = self.setting("TRANSFER_P_SP")
        self.transfer_p_mpa = sp
        self.shot["peak_p_mpa"] = sp * (1.0 + abs(self.rng.gauss(0.01, 0.01)))

    def _filled(self) -> None:
        self.shot["fill_s"] = self.fill_time_s() * (1.0 + self.rng.gauss(0.0, 0.01))
        self.ram_stroking = False
        self.ram_mm = self.setting("S3_END_POS")

    def _open(self) -> None:
        self.shot["alpha_open"] = self.alpha
        self.curing = False
        self.transfer_p_mpa = 0.0
        self.clamp_force_kn = 0.0
        self.ram_mm = 0.0
        cull = self.setting("CULL_SP") + self.rng.gauss(0.0, 0.05)
        self.shot["cull_mm"] = cull
        if abs(cull - self.setting("CULL_SP")) > self.setting("CULL_TOL"):
            self.raise_alarm(4116, cause_for_s=0.0)

    def shot_defect(self) -> int:
        """Lowest defect code that applies to the whole shot (mold-press.md §5)."""
        s = self.shot
        defects = []
        if s.get("fill_s", 0.0) > s.get("t_alpha03_s", 1e9):
            defects.append(4501)
        if s.get("alpha_open", 1.0) < self.setting("ALPHA_MIN"):
            defects.append(4502)
        if abs(s.get("cull_mm", 0.0) - self.setting("CULL_SP")) > self.setting("CULL_TOL"):
            defects.append(4503)
        lo_limit = min(self.setting("CHASE_TOP_SP"), self.setting("CHASE_BOT_SP")) - self.band_c
        hi_limit = max(self.setting("CHASE_TOP_SP"), self.setting("CHASE_BOT_SP")) + self.band_c
        if s.get("temp_min", lo_limit) < lo_limit or s.get("temp_max", hi_limit) > hi_limit:
            defects.append(4504)
        if s.get("clamp_min_kn", 1e9) < 0.95 * self.setting("CLAMP_FORCE_SP"):
            defects.append(4505)
        if s.get("peak_p_mpa", 1e9) < 0.9 * self.setting("TRANSFER_P_SP"):
            defects.append(4506)
        return min(defects) if defects else 0

    def _unload(self) -> None:
        defect = self.shot_defect()
        if defect == 4501:
            self.short_shots_in_row += 1
            if self.short_shots_in_row >= 2:
                self.raise_alarm(4119, cause_for_s=0.0)
        else:
            self.short_shots_in_row = 0
        assert self.results is not None
        for row in self.results.rows:
            if row.result == "X":
                continue
            row.result, row.defect = ("F", defect) if defect else ("P", 0)
            self._mold_strip(self.cycle_strip_ids.get(row.site, ""), defect)

    def _mold_strip(self, strip_id: str, defect: int) -> None:
        strip = self.world.get(strip_id) if strip_id else None
        if strip is None:
            return
        for site in strip.sites.values():
            site.molded = True
            site.mold_alpha = self.shot.get("alpha_open")
            site.mold_defect = defect
            carrier = site.film_thickness_um if site.film_thickness_um is not None else SUBSTRATE_UM
            site.package_thickness_um = carrier + MOLD_CAP_UM + self.rng.gauss(0.0, 3.0)
            site.warp_um = abs(self.rng.gauss(15.0, 5.0))
            if defect:
                site.defects.setdefault(self.tool_name, defect)
        strip.record(self.time_s, self.tool_name, f"molded defect={defect}")

    def on_abort(self, by_alarm: bool) -> None:
        """§3: F once TRANSFER started, else N; the defect is 4507, or 4501 when the stroke
        did not complete (alarm 4113): §5 reports the lowest code that applies. The abort
        sequence (§8, 15 s) starts: the ram retracts, then the press opens and ejects."""
        self.curing = False
        self._stop_ram()
        self.abort_sequence.begin(self.ram_mm)
        self.ram_mm = 0.0
        defect = 4501 if 4113 in self.active_alarms else 4507
        if self.results is None:
            return
        for row in self.results.rows:
            if row.result == "X":
                continue
            row.result, row.defect = ("F", defect) if self.transfer_started else ("N", 0)
