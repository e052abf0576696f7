"""UVL-3 model on a hand-driven clock: the ablation numbers (laser.md §4, §8), the source and
calibration life cycle (§3, §6), the cycle's results and what it leaves in the world."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest

from sim.fronts.scpi import ScpiFront
from sim.laser.ablation import (
    INSPECT_PER_SITE_S,
    LaserSettings,
    Pattern,
    ablate_via,
    area_rate_mm2_s,
    average_power_w,
    breakthrough_pulses,
    depth_per_pulse_um,
    recess_passes,
    recess_time_s,
    via_time_s,
)
from sim.laser.model import PATTERNS, LaserModel
from sim.laser.server import laser_commands
from sim.tool_model import State
from tests.support.model_bench import ModelBench, cleared, cleared_after, released
from tests.support.refusal import refusal

CLEAN = {"via_block_rate": 0.0, "residue_rate": 0.0, "fiducial_miss_rate": 0.0}


class Rig(ModelBench):
    """A laser model (seed 5, no random defects) past its 20 s of INIT."""

    model_type = LaserModel

    def __init__(self, **options: Any) -> None:
        super().__init__(seed=5, **(CLEAN | options))
        self.advance(25.0)

    def warms_up(self, warmup_left_s: float, then_s: float) -> None:
        """Still WARMUP ``warmup_left_s`` on, READY ``then_s`` after that (§3)."""
        self.advance(warmup_left_s)
        assert self.model.state_name() == "WARMUP"
        self.advance(then_s)
        assert self.model.state is State.READY

    def ready(self, recipe: str = "B-IO16") -> LaserModel:
        self.model.load_recipe(recipe)
        self.advance(WARMUP_COLD_S + 5)
        self.model.calibrate()
        self.advance(31.0)
        assert self.model.state is State.READY
        return self.model

    def cycle(self, strip_id: str = "FB1", *, seconds: float = 100.0) -> LaserModel:
        self.model.set_strip_id(strip_id)
        self.model.do_start()
        self.advance(seconds)
        return self.model


WARMUP_COLD_S = 600.0


@pytest.fixture
def rig() -> Rig:
    return Rig()


# == ablation model (§4) ===========================================================================
def test_laser_ablation_numbers_match_the_manual() -> None:
    d = depth_per_pulse_um(1.20)
    assert d == pytest.approx(0.199, abs=5e-4)
    assert breakthrough_pulses(25.0, d) == 126
    assert via_time_s(126, 50) == pytest.approx(0.0050, abs=5e-5)
    assert area_rate_mm2_s(50, 25) == pytest.approx(7.81, abs=0.005)
    assert recess_passes(12.0, 1.20) == 21
    assert recess_time_s(4.0, 12.0, 1.20, 50, 25) == pytest.approx(10.75, abs=0.005)
    assert average_power_w(1.20, 25, 50) == pytest.approx(0.295, abs=5e-4)


@pytest.mark.parametrize(
    ("max_pulses", "endpoint", "pulses", "opened", "pad_damage"),
    [
        (250, True, 126, True, False),  # endpoint on: stops at breakthrough
        (100, True, 100, False, False),  # too few pulses: PI left
        (252, False, 252, True, False),  # endpoint off: twice breakthrough is still safe
        (253, False, 253, True, True),
    ],
)
def test_laser_via_stops_at_breakthrough_or_its_pulses_and_past_twice_it_damages_the_pad(
    max_pulses: int, endpoint: bool, pulses: int, opened: bool, pad_damage: bool
) -> None:
    d = depth_per_pulse_um(1.20)
    via = ablate_via(25.0, d, max_pulses, endpoint=endpoint)
    assert (via.pulses, via.open, via.pad_damage) == (pulses, opened, pad_damage)
    assert via.depth_um == pytest.approx(min(pulses * d, 25.0), abs=1e-12)


def test_laser_fluence_at_threshold_never_opens_a_via() -> None:
    assert depth_per_pulse_um(0.10) == 0.0
    assert breakthrough_pulses(25.0, 0.0) is None
    assert not ablate_via(25.0, 0.0, 5000, endpoint=True).open


def test_laser_format_b_strip_times_match_the_manual() -> None:
    settings = LaserSettings(1.20, 50, 25, 250, True, 12.0)
    overhead_s = 10.0 + 8.0 + 10.0 + 240 * INSPECT_PER_SITE_S
    io16 = overhead_s + 240 * settings.nominal_site_s(PATTERNS["IO16"], 25.0)
    die4 = overhead_s + 240 * settings.nominal_site_s(PATTERNS["IO16-DIE4"], 25.0)
    assert io16 == pytest.approx(83.0, abs=1.0)
    assert die4 == pytest.approx(2664.0, abs=2.0)
    assert settings.nominal_site_s(Pattern(0, 4.0), 25.0) == pytest.approx(0.10 + 10.75, abs=0.01)


# == source, warm-up, calibration (§3, §6) ==========================================================
def test_laser_warmup_is_600_s_cold_and_60_s_after_a_short_stop(rig: Rig) -> None:
    model = rig.model
    assert model.state is State.IDLE and model.power_w() == 0.0
    model.load_recipe("B-IO16")
    rig.warms_up(590.0, 15.0)
    assert model.power_w() == pytest.approx(0.295, abs=0.002)
    model.unload_recipe()
    assert model.power_w() == 0.0
    rig.advance(29 * 60.0)
    model.load_recipe("B-IO16")
    rig.warms_up(55.0, 10.0)
    model.do_reset()  # *RST switches the source off too
    rig.advance(30 * 60.0)
    model.load_recipe("B-IO16")
    rig.advance(120.0)
    assert model.state_name() == "WARMUP"


def test_laser_calibration_is_lost_at_power_up_and_kept_by_reset(rig: Rig) -> None:
    model = rig.model
    assert model.active_interlocks() == ["CAL"]
    assert model.calibration_text() == '0.000,""'
    assert refusal(model.calibrate)[0] == 24
    model.load_recipe("B-IO16")
    assert refusal(model.calibrate) == (22, "WARMUP")
    rig.advance(605.0)
    assert refusal(model.do_start) == (22, "CAL")
    model.calibrate()
    rig.advance(29.0)
    assert model.state is State.SETUP
    rig.advance(2.0)
    assert model.state is State.READY and model.active_interlocks() == []
    ratio = float(model.calibration_text().split(",")[0])
    assert ratio == pytest.approx(1.0, abs=0.02)
    model.do_reset()
    assert model.active_interlocks() == []


def test_laser_calibration_out_of_tolerance_raises_8101_and_leaves_cal() -> None:
    rig = Rig(source_efficiency=0.85)
    model = rig.model
    model.load_recipe("B-IO16")
    rig.advance(605.0)
    model.calibrate()
    rig.advance(31.0)
    assert model.state is State.ALARM and model.active_alarms == [8101]
    assert float(model.calibration_text().split(",")[0]) == pytest.approx(0.85, abs=0.02)
    assert cleared(model) is State.READY
    assert "CAL" in model.active_interlocks()


def test_laser_calibration_with_the_source_switched_off_measures_nothing(rig: Rig) -> None:
    """§4: the calibration needs the source on; a key switched off mid-calibration leaves the
    power meter dark: ratio 0.000, 8101, and the CAL interlock still blocks START."""
    model = rig.model
    model.load_recipe("B-IO16")
    rig.advance(605.0)
    model.calibrate()
    rig.advance(10.0)
    model.set_condition("KEY", True)
    rig.advance(25.0)
    assert model.calibration_text().startswith("0.000,")
    assert model.state is State.ALARM and model.active_alarms == [8101]
    released(model, "KEY")
    assert model.state_name() == "WARMUP" and "CAL" in model.active_interlocks()


def test_laser_calibration_due_after_8_h_and_invalid_after_24_h(rig: Rig) -> None:
    model = rig.ready()
    rig.advance(8 * 3600.0)
    assert 8201 in model.active_alarms and model.state is State.READY
    model.clear_alarms()
    assert 8201 in model.active_alarms  # the cause persists
    rig.advance(16 * 3600.0)
    assert "CAL" in model.active_interlocks()
    model.calibrate()
    rig.advance(31.0)
    model.clear_alarms()
    assert model.active_alarms == [] and model.active_interlocks() == []


def test_laser_source_hours_above_20000_warn_with_8202() -> None:
    rig = Rig(source_hours=19999.99)
    rig.model.load_recipe("B-IO16")
    rig.advance(60.0)
    assert rig.model.active_alarms == [8202] and rig.model.source_hours > 20000


def test_laser_key_switch_off_stops_the_source_and_warms_up_again(rig: Rig) -> None:
    model = rig.ready()
    model.set_condition("KEY", True)
    rig.advance(1.0)
    assert model.power_w() == 0.0 and model.state_name() == "WARMUP"
    assert model.active_interlocks() == ["KEY", "WARMUP"]
    model.set_condition("KEY", False)
    rig.warms_up(30.0, 40.0)


# == the cycle (§5) =================================================================================
def test_laser_io16_cycle_opens_every_via_and_writes_the_world(rig: Rig) -> None:
    model = rig.ready()
    model.set_input_map("0" + "1" * 239)
    rig.cycle()
    assert model.state is State.DONE
    results = rig.results
    assert results.result_map == "X" + "P" * 239
    assert results.cycle_s == pytest.approx(83.0, abs=1.0)
    assert results.summary_extra == ("IO16", str(239 * 16))
    assert results.rows[1].values[:3] == ("16", "16", "")
    assert 124 <= int(results.rows[1].values[3]) <= 129
    assert model.progress() == (239, 239, int(results.cycle_s), 0)
    strip = rig.world_strip("FB1")
    skipped, site = strip.site(1), strip.site(2)
    assert skipped.via_depth_um is None and skipped.defects == {}
    assert (site.film_thickness_um, site.via_depth_um, site.via_depth_min_um) == (25.0, 25.0, 25.0)
    assert site.residual_pi_um == 0.0 and site.area_recess_depth_um is None and site.defects == {}


def test_laser_die4_recess_depth_scatters_about_the_target(rig: Rig) -> None:
    model = rig.ready("B-IO16-DIE4")
    rig.cycle(seconds=2700.0)
    results = model.results
    assert model.state is State.DONE and results is not None
    assert results.cycle_s == pytest.approx(2664.0, abs=3.0)
    depths = [float(row.values[2]) for row in results.rows]
    assert statistics.mean(depths) == pytest.approx(12.0, abs=0.15)
    assert statistics.stdev(depths) == pytest.approx(0.5, abs=0.15)
    failed = [row for row in results.rows if row.result == "F"]
    assert all(row.defect == 8504 and abs(float(row.values[2]) - 12.0) > 2.0 for row in failed)
    strip = rig.world_strip("FB1")
    assert strip.site(7).area_recess_depth_um == pytest.approx(
        float(results.rows[6].values[2]), abs=0.05
    )


def test_laser_recess_deeper_than_the_film_is_refused_at_start_only(rig: Rig) -> None:
    model = rig.ready()
    model.set_param("recess_depth_um", "30")
    model.save_recipe("DEEP")
    model.select_pattern("IO16-DIE4")
    assert refusal(model.do_start)[0] == 14
    model.load_recipe("DEEP")  # IO16: no area recess, no conflict
    model.select_pattern("IO16")


def test_laser_world_film_thickness_sets_the_breakthrough(rig: Rig) -> None:
    model = rig.ready()
    strip = rig.world.strip("THICK", 8, 30)
    for site in strip.sites.values():
        site.film_thickness_um = 40.0  # FILM:THICKness still says 25.0
    rig.cycle("THICK")
    results = model.results
    assert results is not None and results.count("P") == 240
    mean_pulses = statistics.mean(int(row.values[3]) for row in results.rows)
    assert mean_pulses == pytest.approx(202, abs=3)  # ⌈40 / 0.199⌉, not 126
    site = strip.site(1)
    assert (site.film_thickness_um, site.via_depth_min_um, site.residual_pi_um) == (40.0, 40.0, 0.0)


def test_laser_three_sites_in_a_row_without_breakthrough_hold_with_8107(rig: Rig) -> None:
    model = rig.ready()
    model.set_param("via_max_pulses", "100")
    rig.cycle()
    results = rig.results
    assert model.state is State.ALARM and model.active_alarms == [8107]
    assert results.result_map[:4] == "FFFN" and results.rows[0].values[:2] == ("0", "16")
    assert cleared(model) is State.PAUSED
    model.do_resume()
    rig.advance(5.0)
    assert model.state is State.ALARM and results.result_map[:7] == "FFFFFFN"


def test_laser_endpoint_off_with_too_many_pulses_damages_every_pad(rig: Rig) -> None:
    model = rig.ready()
    model.set_param("via_endpoint", "OFF")
    model.set_param("via_max_pulses", "300")
    rig.cycle()
    results = model.results
    assert results is not None and model.state is State.DONE
    assert {(row.result, row.defect, row.values[3]) for row in results.rows} == {("F", 8503, "300")}
    site = rig.world_strip("FB1").site(5)
    assert site.via_depth_um == 25.0 and site.residual_pi_um == 0.0


def test_laser_abort_mid_site_marks_it_8506_with_the_vias_done(rig: Rig) -> None:
    model = rig.ready()
    model.set_strip_id("FB1")
    model.do_start()
    site_s = 0.10 + 16 * 0.005
    rig.advance(18.0 + 10 * site_s + 0.10 + 0.0425)  # site 11: field move + 8 vias
    assert model.shutter() == "OPEN"
    model.do_abort()
    results = model.results
    assert results is not None and model.state is State.ABORTED and model.shutter() == "CLOSED"
    row = results.rows[10]
    assert (row.result, row.defect) == ("F", 8506)
    vias_done = int(row.values[0])
    assert 6 <= vias_done <= 9 and row.values[1] == "16"
    assert results.summary_extra == ("IO16", str(10 * 16 + vias_done))
    assert results.result_map == "P" * 10 + "F" + "N" * 229
    site = rig.world_strip("FB1").site(11)
    assert (site.via_depth_min_um, site.residual_pi_um) == (0.0, 25.0)
    assert site.defects == {"laser": 8506}


def test_laser_site_without_fiducial_is_8505_and_adds_no_vias() -> None:
    rig = Rig(fiducial_miss_rate=1.0)
    rig.ready()
    rig.cycle()
    results = rig.results
    assert {(r.result, r.defect, r.values) for r in results.rows} == {
        ("F", 8505, ("0", "16", "", ""))
    }
    assert results.summary_extra == ("IO16", "0")
    assert rig.world_strip("FB1").site(1).via_depth_um is None


def test_laser_residue_found_at_inspect_is_8502() -> None:
    rig = Rig(residue_rate=1.0)
    model = rig.ready()
    model.set_strip_id("FB1")
    model.do_start()
    rig.advance(18.0 + 240 * 0.18 + 1.0)
    assert model.phase == "INSPECT" and model.results is not None
    assert model.results.count("P") == 240
    rig.advance(30.0)
    assert {(r.result, r.defect) for r in model.results.rows} == {("F", 8502)}


def test_laser_power_drift_during_a_cycle_holds_at_the_end_of_the_site(rig: Rig) -> None:
    model = rig.ready()
    model.source_efficiency = 0.85
    rig.cycle(seconds=18.5)
    results = rig.results
    assert model.state is State.ALARM and model.active_alarms == [8101]
    assert results.result_map[:2] == "PN" and model.shutter() == "CLOSED"
    assert model.power_w() == pytest.approx(0.85 * 0.295, abs=0.005)


def test_laser_door_opened_mid_cycle_aborts_and_restarts_the_source(rig: Rig) -> None:
    model = rig.ready()
    model.faults.condition("DOOR", phase="ABLATE", after_s=17.3)
    rig.cycle(seconds=40.0)
    assert model.state is State.ALARM and model.active_alarms == [8002] and model.power_w() == 0.0
    assert cleared_after(model, lambda: model.set_condition("DOOR", False)) is State.ABORTED
    results = rig.results
    assert results.count("F") == 1 and results.count("P") + results.count("N") == 239
    assert math.isclose(results.cycle_s, 35.3, abs_tol=0.5)
    model.do_ack()
    assert model.state_name() == "WARMUP"
    rig.advance(65.0)
    assert model.state is State.READY


@pytest.mark.parametrize(
    ("cause", "code"),
    [("ESTOP", 8001), ("KEY", 8003), ("CHILLER", 8005), (8102, 8102), (8103, 8103), (8104, 8104)],
)
def test_laser_abort_class_alarm_closes_the_shutter_at_once(cause: str | int, code: int) -> None:
    rig = Rig()
    model = rig.ready()
    if isinstance(cause, str):
        model.faults.condition(cause, phase="ABLATE", after_s=5.0)
    else:
        model.faults.alarm(cause, phase="ABLATE", after_s=5.0)
    rig.cycle(seconds=30.0)
    results = model.results
    assert model.state is State.ALARM and model.active_alarms == [code]
    assert model.power_w() == 0.0 and model.shutter() == "CLOSED" and results is not None
    assert [(r.site, r.defect) for r in results.rows if r.result == "F"] == [(28, 8506)]
    if isinstance(cause, str):
        model.set_condition(cause, False)
    assert cleared(model) is State.ABORTED
    assert results.cycle_s == pytest.approx(23.0, abs=0.01)


# == the SCPI front (no socket) =====================================================================
def test_laser_front_serves_pattern_commands_with_the_manuals_errors(rig: Rig) -> None:
    front = ScpiFront(rig.model, laser_commands(rig.model))

    def error_after(message: str) -> str:
        assert front.handle(message) is None
        return front.handle("SYST:ERR?") or ""

    assert front.handle("PATT:CAT?") == '"IO16","IO16-DIE4","IO32","IO32-DIE4"'
    assert error_after('PATT:SEL "IO32-DIE4"') == '0,"No error"'
    assert front.handle("PATT:SEL?") == '"IO32-DIE4"'
    assert front.handle("PATT:VIAS?") == "32"
    assert front.handle("PATT:AREA?") == "4.00"
    assert error_after('PATT:SEL "IO64"') == '25,"Recipe not found"'
    assert error_after("PATT:SEL IO16") == '-104,"Data type error"'
    assert error_after('PATT:SEL ""') == '-151,"Invalid string data"'
    assert error_after("LAS:FLU 3.5") == '-222,"Data out of range"'
    assert error_after("VIA:ENDP MAYBE") == '-224,"Illegal parameter value"'
    assert error_after("LAS:CAL") == '24,"No recipe loaded"'
    assert error_after("VIA:ENDP 0") == '0,"No error"'
    assert front.handle("VIA:ENDP?") == "0"
    assert front.handle("LAS:FLU?") == "1.20"
    assert front.handle("FILM:THICK?") == "25.0"
    assert front.handle("LAS:CAL?") == '0.000,""' and front.handle("LAS:SHUT?") == "CLOSED"
    assert front.handle("LAS:POW?") == "0.000" and front.handle("LAS:HOUR?") == "1250"
    assert front.handle("ALAR:TEXT? 8107") == '8107,H,"Via open rate low"'


# == holds, aborts and interlocks (§3, §6) ==========================================================
def test_laser_init_lasts_20_s_and_refuses_commands_as_busy() -> None:
    bench = ModelBench(LaserModel, seed=5, **CLEAN)
    model = bench.model
    bench.at(19.5)
    assert model.state is State.INIT
    assert refusal(lambda: model.load_recipe("B-IO16")) == (21, "INIT")
    bench.at(20.5)
    assert model.state is State.IDLE


def test_laser_fume_extraction_low_holds_at_the_end_of_the_site(rig: Rig) -> None:
    model = rig.ready("B-IO16-DIE4")  # sites of ≈ 11 s
    rig.cycle(seconds=18.0 + 3.0)
    model.set_condition("EXHAUST", True)
    assert model.state is State.ALARM and model.active_alarms == [8004]
    assert model.shutter() == "OPEN"  # the site in progress is finished first
    rig.advance(9.0)
    results = model.results
    assert results is not None and results.result_map[:2] == "PN"
    assert model.shutter() == "CLOSED" and model.power_w() > 0.0  # H: the source stays on
    # the extraction is still low
    assert cleared_after(model, lambda: model.set_condition("EXHAUST", False)) is State.PAUSED
    model.set_condition("EXHAUST", True)  # low again while paused: the hold alarm again
    assert model.state is State.ALARM and model.active_alarms == [8004]
    released(model, "EXHAUST")
    model.do_resume()
    rig.advance(12.0)
    assert model.state is State.RUNNING and results.result_map[:3] == "PPN"


def test_laser_pause_takes_effect_at_the_end_of_the_site(rig: Rig) -> None:
    model = rig.ready("B-IO16-DIE4")
    rig.cycle(seconds=18.0 + 3.0)
    model.do_pause()
    assert model.state is State.PAUSED and model.shutter() == "OPEN"
    rig.advance(9.0)
    results = model.results
    assert results is not None and results.result_map[:2] == "PN"
    assert model.shutter() == "CLOSED"
    rig.advance(60.0)
    assert results.result_map[:2] == "PN"  # nothing moves while paused


def test_laser_alignment_failure_aborts_with_every_site_n(rig: Rig) -> None:
    model = rig.ready()
    model.faults.alarm(8106, phase="ALIGN", after_s=2.0)
    rig.cycle(seconds=30.0)
    assert model.state is State.ALARM and model.active_alarms == [8106]
    assert model.power_w() == 0.0
    model.clear_alarms()
    results = model.results
    assert model.state is State.ABORTED and results is not None
    assert results.result_map == "N" * 240 and results.summary_extra == ("IO16", "0")


def test_laser_emergency_stop_outside_a_cycle_stops_the_source(rig: Rig) -> None:
    model = rig.ready()
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM and model.active_alarms == [8001]
    assert model.power_w() == 0.0
    released(model, "ESTOP")
    assert model.state_name() == "WARMUP"
    rig.warms_up(55.0, 10.0)


def test_laser_start_checks_the_conflict_before_interlocks_in_table_order(rig: Rig) -> None:
    model = rig.ready()
    model.set_condition("EXHAUST", True)
    model.set_condition("DOOR", True)
    assert refusal(model.do_start) == (22, "DOOR")
    assert refusal(model.calibrate) == (22, "DOOR")
    model.set_condition("DOOR", False)
    model.calibrate()  # EXHAUST does not block the calibration
    assert model.state is State.SETUP
    rig.advance(31.0)
    assert refusal(model.do_start) == (22, "EXHAUST")
    model.select_pattern("IO16-DIE4")
    model.set_param("recess_depth_um", "25.0")
    assert refusal(model.do_start)[0] == 14
    model.set_condition("EXHAUST", False)
    model.set_condition("VACUUM", True)  # no strip on the chuck: VACUUM blocks RESUME only
    model.set_param("recess_depth_um", "12.0")
    model.do_start()
    assert model.state is State.RUNNING
