"""DB-4 process model on a hand-driven clock: §8 timings, heat-up, cure kinetics, placement
scatter, pass criteria, supplies, alarms and what each MODE leaves in the world."""

from __future__ import annotations

import math
import random
import statistics
from typing import Any

import pytest

from sim.die_bonder.model import DieBonderModel
from sim.die_bonder.process import (
    ProcessSpread,
    SiteOutcome,
    SiteSettings,
    advance_cure,
    bond_site,
    t95_s,
)
from sim.tool_model import State
from tests.support.model_bench import ModelBench, cleared, cleared_after, fixed, released
from tests.support.refusal import refusal


class Bench(ModelBench):
    """A DB-4 model powered up to IDLE, and READY with ``recipe`` if one is given."""

    model_type = DieBonderModel
    until_step_s = 0.5

    def __init__(self, seed: int = 7, recipe: str | None = None, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        self.advance(30.0)
        assert self.model.state is State.IDLE
        if recipe is not None:
            self.ready(recipe)

    def ready(self, recipe: str) -> float:
        self.model.load_recipe(recipe)
        return self.until_in(State.READY, step_s=0.25)

    def run_strip(self, recipe: str, strip_id: str, input_map: str | None = None) -> None:
        if self.model.loaded_recipe != recipe or self.model.state is not State.READY:
            self.ready(recipe)
        self.model.set_strip_id(strip_id)
        if input_map is not None:
            self.model.set_input_map(input_map)
        self.model.do_start()
        self.until_in(State.DONE, State.ALARM, State.ABORTED, step_s=0.25)


# -- §8 timings ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("recipe", "expected_s"), [("A-SMALL-1", 84.0), ("A-SMALL-2", 129.0), ("B-FC", 1331.0)]
)
def test_die_bonder_strip_cycle_takes_the_manual_time(recipe: str, expected_s: float) -> None:
    bench = Bench()
    if recipe == "A-SMALL-2":
        bench.run_strip("A-SMALL-1", "S1")
        bench.model.do_ack()
    bench.run_strip(recipe, "S1")
    assert bench.model.state is State.DONE
    assert bench.results.cycle_s == pytest.approx(expected_s, abs=0.6)


def test_die_bonder_example_strip_takes_86_7_s_and_reports_progress_as_the_manual() -> None:
    bench = Bench(recipe="A-EQUAL")
    bench.model.set_input_map("1" * 29 + "0")
    bench.model.do_start()
    bench.advance(14.0)
    assert bench.model.progress() == (12, 29, 14, 73)
    bench.until_in(State.DONE)
    assert f"{bench.results.cycle_s:.1f}" == "86.7"


def test_die_bonder_flip_chip_site_takes_1_5_s_plus_bond_time() -> None:
    bench = Bench(recipe="B-FC")
    assert bench.model.site_time_s() == pytest.approx(5.5)
    bench.model.set_param("BOND_TIME", "2.0")
    assert bench.model.site_time_s() == pytest.approx(3.5)
    bench.model.set_input_map("1" + "0" * 239)
    bench.until_in(State.READY)
    bench.model.do_start()
    assert bench.until_in(State.DONE, step_s=0.1) == pytest.approx(4 + 3 + 3.5 + 4, abs=0.15)


@pytest.mark.parametrize(
    ("recipe", "cure", "expected_s"),
    [("A-EQUAL", True, 480.0), ("A-EQUAL", False, 90.0), ("B-FC", True, 90.0)],
)
def test_die_bonder_heats_up_in_the_manual_time(recipe: str, cure: bool, expected_s: float) -> None:
    bench = Bench()
    bench.model.set_param("CURE_STATE", "ON" if cure else "OFF")
    bench.model.recipes[recipe]["params"]["CURE_STATE"] = cure
    assert bench.ready(recipe) == pytest.approx(expected_s, abs=1.0)


def test_die_bonder_head_reaches_band_in_30_s_then_30_s_stable() -> None:
    bench = Bench()
    bench.model.load_recipe("B-FC")
    bench.advance(29.5)
    assert bench.model.zone_deviation_c("HEAD") > 3.0
    bench.advance(1.0)
    assert bench.model.zone_deviation_c("HEAD") <= 3.0


def test_die_bonder_refuses_start_while_heating_naming_temp() -> None:
    bench = Bench()
    bench.model.load_recipe("A-EQUAL")
    bench.advance(10.0)
    assert refusal(bench.model.do_start) == (22, "TEMP")


# -- cure kinetics (process-reference §2.3) ---------------------------------------------------
@pytest.mark.parametrize(("temperature_c", "minutes"), [(150.0, 16.4), (170.0, 9.2), (200.0, 4.2)])
def test_die_bonder_cure_t95_follows_the_netzsch_points(
    temperature_c: float, minutes: float
) -> None:
    assert t95_s(temperature_c) / 60.0 == pytest.approx(minutes, rel=0.02)
    assert advance_cure(0.0, temperature_c, t95_s(temperature_c)) == pytest.approx(0.95)


def test_die_bonder_snap_cure_leaves_the_degree_of_cure_in_the_world() -> None:
    bench = Bench()
    bench.run_strip("A-EQUAL", "LA1")
    expected = advance_cure(0.0, 175.0, 60.0)
    strip = bench.world_strip("LA1")
    cure = [strip.site(k).adhesive_cure for k in range(1, 31)]
    assert all(expected <= alpha <= expected + 0.02 for alpha in cure)


# -- placement scatter (process-reference §2.6) -----------------------------------------------
def bond(
    rng: random.Random,
    mode: str = "EPOXY",
    spread: ProcessSpread | None = None,
    *,
    die_present: bool = False,
    **changes: Any,
) -> SiteOutcome:
    """A site bonded with the default settings but ``changes`` (SiteSettings fields), no bias."""
    values: dict[str, Any] = dict(
        mode=mode,
        volume_nl=1200,
        volume_tol_pct=10,
        zref="BASE",
        place_force_n=2.0,
        blt_um=25.0,
        tol_xy_um=25.0,
        tol_theta_deg=0.5,
        bond_force_n=30.0,
    )
    settings = SiteSettings(**(values | changes))
    return bond_site(
        rng, settings, spread or ProcessSpread(), bias_um=(0, 0), die_present=die_present
    )


def test_die_bonder_placement_scatter_has_the_reference_statistics() -> None:
    rng = random.Random(20240311)
    outcomes = [bond(rng) for _ in range(4000)]
    placed = [o for o in outcomes if o.placed]
    dx = [o.dx_um for o in placed if o.dx_um is not None]
    theta = [o.dtheta_deg for o in placed if o.dtheta_deg is not None]
    blt = [o.blt_um for o in placed if o.blt_um is not None]
    volume = [o.volume_nl for o in outcomes if o.volume_nl is not None]
    assert statistics.fmean(dx) == pytest.approx(0.0, abs=0.4)
    assert statistics.stdev(dx) == pytest.approx(20.0 / 3.0, rel=0.05)
    assert statistics.stdev(theta) == pytest.approx(0.5 / 3.0, rel=0.05)
    assert statistics.fmean(blt) == pytest.approx(25.0, rel=0.01)
    assert statistics.stdev(blt) / 25.0 == pytest.approx(0.10, rel=0.05)
    assert statistics.stdev(volume) / 1200 == pytest.approx(0.01, rel=0.1)
    assert sum(not o.picked for o in outcomes) <= 2  # 3 failed pick-ups in a row: ~8e-6


def test_die_bonder_flip_chip_places_five_times_tighter_and_scatters_bond_force() -> None:
    rng = random.Random(5)
    outcomes = [bond(rng, "FLIPCHIP") for _ in range(2000)]
    dx = [o.dx_um for o in outcomes if o.dx_um is not None]
    force = [o.force_n for o in outcomes if o.force_n is not None]
    assert statistics.stdev(dx) == pytest.approx(20.0 / 15.0, rel=0.08)
    assert statistics.stdev(force) / 30.0 == pytest.approx(0.03, rel=0.1)
    assert all(o.volume_nl is None and o.blt_um is None for o in outcomes)


def test_die_bonder_same_seed_gives_the_same_strip() -> None:
    maps = []
    for _ in range(2):
        bench = Bench(seed=11)
        bench.run_strip("B-GLUE", "LB1")
        assert bench.model.results is not None
        maps.append([row.values for row in bench.model.results.rows])
    assert maps[0] == maps[1]


# -- pass criteria and defects (§5) -----------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "changes", "spread", "defect"),
    [
        ("EPOXY", {"volume_tol_pct": 2}, ProcessSpread(volume_cv=0.2), 2501),
        ("EPOXY", {}, ProcessSpread(vision_fail=1.0), 2502),
        ("EPOXY", {"tol_xy_um": 5.0}, ProcessSpread(xy_spec_um=300.0), 2503),
        ("EPOXY", {"tol_theta_deg": 0.1}, ProcessSpread(theta_spec_deg=30.0), 2504),
        ("EPOXY", {}, ProcessSpread(blt_cv=2.0), 2505),
        ("FLIPCHIP", {}, ProcessSpread(bond_force_cv=1.0), 2506),
        ("PLATE", {}, ProcessSpread(pick_attempt_fail=1.0), 2507),
        ("EPOXY", {}, ProcessSpread(site_fiducial_fail=1.0), 2508),
        ("GAPFILL", {}, ProcessSpread(), 2509),
    ],
)
def test_die_bonder_judges_each_defect(
    mode: str, changes: dict[str, Any], spread: ProcessSpread, defect: int
) -> None:
    rng = random.Random(3)
    codes = {bond(rng, mode, spread, **changes).defect for _ in range(200)}
    assert defect in codes


def test_die_bonder_reports_the_lowest_defect_and_empty_fields_per_mode() -> None:
    rng = random.Random(1)
    spread = ProcessSpread(volume_cv=0.5, vision_fail=1.0, xy_spec_um=300, theta_spec_deg=30)
    worst = bond(rng, "EPOXY", spread, volume_tol_pct=2, tol_xy_um=5.0, tol_theta_deg=0.1)
    assert set(worst.defects) >= {2502, 2503, 2504} and worst.defect == min(worst.defects)
    gap = bond(rng, "GAPFILL", die_present=True, volume_nl=8640)
    assert gap.values()[:4] == ("", "", "", "") and gap.values()[5] == "" and gap.defect == 0
    skipped = bond(rng, spread=ProcessSpread(site_fiducial_fail=1.0), die_present=True)
    assert skipped.values() == ("",) * 6 and not skipped.placed


def test_die_bonder_checks_settings_at_start() -> None:
    bench = Bench(recipe="A-SMALL-2")
    bench.model.set_param("DISP_PATT", "STAR")
    assert refusal(bench.model.do_start)[0] == 14
    bench.model.set_param("DISP_PATT", "FILL")
    bench.model.set_param("PLACE_ZREF", "DIE")
    refusal(bench.model.do_start)
    bench.model.set_param("MODE", "PLATE")
    bench.until_in(State.READY)
    bench.model.do_start()
    assert bench.model.state is State.RUNNING


# -- the world ----------------------------------------------------------------------------------
def test_die_bonder_writes_each_mode_into_the_world() -> None:
    bench = Bench()
    bench.run_strip("A-SMALL-1", "LA7", "1" * 29 + "0")
    bench.model.do_ack()
    bench.run_strip("A-SMALL-2", "LA7")
    strip = bench.world_strip("LA7")
    assert bench.model.results is not None
    first, last = strip.site(1), strip.site(30)
    assert first.die_placed and first.gap_filled and first.bond_line_um is not None
    assert first.adhesive_volume_nl is not None and abs(first.die_dx_um or 99) < 40
    assert not last.die_placed and not last.gap_filled
    assert (bench.model.results.rows[29].result, bench.model.results.rows[29].defect) == ("F", 2509)
    assert last.defects == {"die-bonder": 2509}
    assert bench.model.results.summary_extra == ("GAPFILL", "0")

    bench.model.do_ack()
    bench.run_strip("B-FC", "LB7")
    bench.model.do_ack()
    bench.model.recipes["B-PLATE"]["params"]["PLACE_ZREF"] = "DIE"
    bench.run_strip("B-PLATE", "LB7", "0" + "1" * 239)
    flip = bench.world_strip("LB7")
    assert all(flip.site(k).flip_chip_bonded and flip.site(k).die_placed for k in range(1, 241))
    assert all(flip.site(k).plate_placed for k in range(2, 241) if not flip.site(k).defects)
    assert not flip.site(1).plate_placed


def test_die_bonder_plate_on_die_reference_without_die_is_not_processed() -> None:
    bench = Bench()
    bench.model.recipes["B-PLATE"]["params"]["PLACE_ZREF"] = "DIE"
    bench.run_strip("B-PLATE", "LB8")
    assert {(r.result, r.defect) for r in bench.results.rows} == {("F", 2508)}
    assert bench.results.summary_extra == ("PLATE", "0")


def test_die_bonder_consumes_adhesive_dies_and_plates() -> None:
    bench = Bench(dies=1000, plates=1000)
    bench.run_strip("A-LARGE", "LA9")
    assert bench.model.syringe_nl == pytest.approx(5_000_000 - 30 * 18400, rel=0.002)
    assert bench.model.dies == 1000 - int(bench.model.results.summary_extra[1])
    assert bench.model.syringe_pct() == int(100 * bench.model.syringe_nl / 5_000_000) in (88, 89)


# -- alarms (§6) --------------------------------------------------------------------------------
def test_die_bonder_holds_before_a_site_when_the_syringe_is_empty_and_resumes_it() -> None:
    bench = Bench(syringe_nl=6000)
    bench.run_strip("A-EQUAL", "LA10")
    model = bench.model
    assert model.state is State.ALARM and model.active_alarms == [2201, 2101]
    assert model.results is not None and model.results.result_map[:6].count("N") == 1
    assert refusal(model.do_resume) == (23, "2101")
    assert cleared_after(model, lambda: model.fix(2101)) is State.PAUSED
    assert model.active_alarms == []
    bench.run(model.do_resume, State.DONE)
    assert "N" not in model.results.result_map


def test_die_bonder_pause_during_cure_takes_effect_at_the_end_of_cure() -> None:
    bench = Bench(recipe="A-EQUAL")
    bench.model.do_start()
    bench.advance(4 + 3 + 30 * 0.54 + 10)
    assert bench.model.phase == "CURE"
    bench.model.do_pause()
    bench.advance(45.0)
    assert bench.model.phase == "CURE" and bench.model.steps[0].phase == "CURE"
    bench.advance(10.0)
    assert bench.model.steps[0].phase == "UNLOAD" and bench.model.halted
    bench.run(bench.model.do_resume, State.DONE)


def test_die_bonder_abort_class_alarm_fails_the_site_in_progress_and_leaves_the_rest() -> None:
    bench = Bench(recipe="A-EQUAL")
    bench.model.faults.condition("ESTOP", site=5)
    bench.model.set_strip_id("LA11")
    bench.run(bench.model.do_start, State.ALARM)
    model = bench.model
    assert model.active_alarms == [2001]
    assert cleared_after(model, lambda: model.set_condition("ESTOP", False)) is State.ABORTED
    assert bench.results.result_map[4:] == "F" + "N" * 25
    assert bench.results.rows[4].defect == 2510 and bench.results.rows[4].values == ("",) * 6
    strip = bench.world_strip("LA11")
    assert strip.site(5).defects == {"die-bonder": 2510}


@pytest.mark.parametrize(("condition", "alarm"), [("ESTOP", 2001), ("HEATER", 2111)])
def test_die_bonder_heaters_off_after_an_abort_alarm_raise_no_out_of_band_alarm(
    condition: str, alarm: int
) -> None:
    """Decision 7 (docs/tools/die-bonder.md): zones cooling with the heaters off in a stopped
    cycle are no process deviation; the clear after the release aborts the strip."""
    bench = Bench(recipe="A-EQUAL")
    model = bench.model
    model.faults.condition(condition, site=5)
    model.set_strip_id("LA13")
    bench.run(model.do_start, State.ALARM)
    bench.advance(600.0)  # the operator takes ten minutes to release it
    assert model.temperature_c("STAGE") < model.setpoint_c("STAGE") - 10.0
    assert model.active_alarms == [alarm]
    assert released(model, condition) is State.ABORTED
    assert model.active_alarms == []
    assert model.results is not None and model.results.result_map[4:] == "F" + "N" * 25
    model.do_ack()
    assert model.state is State.HEATING
    bench.until_in(State.READY)


def test_die_bonder_strip_fiducial_failure_aborts_with_every_site_not_processed() -> None:
    bench = Bench(spread=ProcessSpread(strip_fiducial_fail=1.0))
    bench.run_strip("A-EQUAL", "LA12")
    assert bench.model.active_alarms == [2104]
    assert cleared(bench.model) is State.ABORTED
    assert bench.model.results is not None and bench.model.results.result_map == "N" * 30


@pytest.mark.parametrize(
    ("alarm", "spread", "changes"),
    [
        (2102, ProcessSpread(volume_cv=0.3), {"DISP_TOL": "2"}),
        (2103, ProcessSpread(pick_attempt_fail=1.0), {}),
        (2105, ProcessSpread(), {"PLACE_TOL_XY": "5.0", "PLACE_TOL_THETA": "0.10"}),
    ],
)
def test_die_bonder_holds_after_three_consecutive_failures(
    alarm: int, spread: ProcessSpread, changes: dict[str, str]
) -> None:
    bench = Bench(spread=spread, recipe="A-EQUAL")
    for name, text in changes.items():
        bench.model.set_param(name, text)
    bench.run(bench.model.do_start, State.ALARM)
    model = bench.model
    assert alarm in model.active_alarms
    done = bench.results.result_map.count("P") + bench.results.result_map.count("F")
    assert cleared(model) is State.PAUSED  # an event alarm: gone with the first clear
    bench.advance(5.0)
    assert bench.results.result_map.count("P") + bench.results.result_map.count("F") == done
    model.do_abort()
    assert model.state is State.ABORTED


def test_die_bonder_wafer_map_end_holds_before_the_site() -> None:
    bench = Bench(dies=2)
    bench.run_strip("A-EQUAL", "LA13")
    assert bench.model.active_alarms == [2202, 2106]
    assert bench.model.progress()[0] == 2  # two dies placed, the third site not started
    fixed(bench.model, 2106)
    bench.run(bench.model.do_resume, State.DONE)


@pytest.mark.parametrize(
    ("recipe", "options", "interlock"),
    [
        ("A-EQUAL", {"syringe_nl": 1000}, "EPOXY"),
        ("A-EQUAL", {"dies": 0}, "DIE"),
        ("B-FC", {"dies": 0}, "DIE"),
        ("B-PLATE", {"plates": 0}, "PLATE"),
    ],
)
def test_die_bonder_empty_supply_interlocks_start(
    recipe: str, options: dict[str, int], interlock: str
) -> None:
    bench = Bench(**options, recipe=recipe)
    assert bench.model.active_interlocks() == [interlock]
    assert refusal(bench.model.do_start) == (22, interlock)


def test_die_bonder_plate_feeder_empty_holds_mid_strip() -> None:
    bench = Bench(plates=3)
    bench.run_strip("B-PLATE", "LB14")
    assert 2107 in bench.model.active_alarms


def test_die_bonder_warns_when_placement_calibration_is_due_and_calibration_clears_it() -> None:
    bench = Bench()
    model = bench.model
    bench.advance(24 * 3600.0 + 60.0)
    assert model.active_alarms == [2203]
    bias = model.placement_bias_um()
    model.calibrate()
    assert model.state is State.SETUP
    assert refusal(model.load_recipe, "A-EQUAL") == (21, "SETUP")
    bench.advance(40.5)
    assert model.state is State.IDLE
    dx, dy, stamp = model.calibration
    assert (dx, dy) == (round(bias[0], 1), round(bias[1], 1)) and len(stamp) == 19
    assert max(abs(v) for v in model.placement_bias_um()) < 0.01  # 0.5 s of new drift
    model.clear_alarms()
    assert model.active_alarms == []


@pytest.mark.parametrize(
    ("recipe", "zone", "alarm"),
    [("B-FC", "STAGE", 2108), ("B-FC", "HEAD", 2109), ("A-EQUAL", "CURE", 2110)],
)
def test_die_bonder_raises_the_out_of_band_alarm_after_30_s_more_than_10_c_off(
    recipe: str, zone: str, alarm: int
) -> None:
    bench = Bench(recipe=recipe)
    model = bench.model
    model.set_param("CURE_TIME", "600")  # a cycle long enough for the slow cure track
    bench.until_in(State.READY)
    model.do_start()
    model.set_condition(f"{zone}_COLD", True)  # heat loss beyond the heater's capacity
    bench.until_in(State.ALARM, step_s=0.1)
    cooling_s = 10.0 / (model.zones[zone].heat_rate_c_s / 2.0)
    assert model.cycle_elapsed_s == pytest.approx(cooling_s + 30.0, abs=0.2)
    assert model.active_alarms == [alarm]
    assert cleared(model) is State.ALARM  # still off by more than 10 °C
    model.fix(alarm)
    bench.advance(120.0)  # the zone heats back
    assert cleared(model) is State.PAUSED


@pytest.mark.parametrize(("condition", "alarm"), [("HEATER", 2111), ("FORCE_SENSOR", 2112)])
def test_die_bonder_service_faults_alarm_outside_a_cycle(condition: str, alarm: int) -> None:
    bench = Bench(recipe="A-EQUAL")
    bench.model.set_condition(condition, True)
    assert bench.model.state is State.ALARM and bench.model.active_alarms == [alarm]
    assert fixed(bench.model, alarm) in (State.READY, State.HEATING)


def test_die_bonder_vacuum_alarm_clears_but_the_interlock_blocks_resume() -> None:
    bench = Bench(recipe="A-EQUAL")
    bench.model.faults.condition("VACUUM", site=3)
    bench.run(bench.model.do_start, State.ALARM, step_s=0.1)
    assert bench.model.active_alarms == [2003]
    assert cleared(bench.model) is State.PAUSED
    assert refusal(bench.model.do_resume) == (22, "VACUUM")
    bench.model.set_condition("VACUUM", False)
    bench.run(bench.model.do_resume, State.DONE)


def test_die_bonder_cure_track_is_only_heated_when_used() -> None:
    bench = Bench(recipe="B-FC")
    assert bench.model.temperature_c("CURE") == pytest.approx(25.0)
    assert bench.model.temperature_c("HEAD") == pytest.approx(280.0)
    assert math.isclose(bench.model.temperature_c("STAGE"), 60.0)


def test_die_bonder_vacuum_low_before_start_holds_at_load_before_any_site() -> None:
    """§6 2003 (H): VACUUM blocks only RESUME; a cycle started with the vacuum already low holds
    after LOAD instead of bonding the strip on a loose work holder."""
    bench = Bench(recipe="A-EQUAL")
    model = bench.model
    model.set_condition("VACUUM", True)
    model.do_start()
    bench.advance(4.5)
    assert model.state is State.ALARM and model.active_alarms == [2003]
    bench.advance(10.0)
    assert model.results is not None and model.results.result_map == "N" * 30
    assert cleared(model) is State.PAUSED
    assert refusal(model.do_resume) == (22, "VACUUM")
    model.set_condition("VACUUM", False)
    bench.run(model.do_resume, State.DONE)
    assert "N" not in model.results.result_map


@pytest.mark.parametrize(("condition", "alarm"), [("HEATER", 2111), ("ESTOP", 2001)])
def test_die_bonder_after_a_heater_off_alarm_ready_waits_30_s_in_band(
    condition: str, alarm: int
) -> None:
    """§3: READY only once the required zones have been within ±3.0 °C for 30 s, after a heater
    fault or E-stop in READY too (not on the dwell it had before the alarm)."""
    bench = Bench(recipe="A-EQUAL")
    model = bench.model
    model.set_condition(condition, True)
    bench.advance(60.0)
    assert model.zone_deviation_c("STAGE") > 3.0
    model.fix(alarm)
    bench.until(model.conditions_in_band, step_s=0.5)
    bench.advance(1.0)
    assert cleared(model) is State.HEATING
    assert refusal(model.do_start) == (22, "TEMP")
    assert bench.until_in(State.READY, step_s=0.25) == pytest.approx(29.0, abs=0.6)


def test_die_bonder_host_abort_fails_only_the_site_in_progress() -> None:
    """§3 / §5 2510: ABORT mid-site fails that site (empty values, no die counted); ABORT while
    halted between sites after a PAUSE fails none; the rest stay N."""
    bench = Bench(recipe="A-EQUAL")
    model = bench.model
    model.do_start()
    bench.advance(7.0 + 2 * 0.54 + 0.2)  # inside site 3
    model.do_abort()
    assert model.state is State.ABORTED and model.results is not None
    assert model.results.result_map == "PPF" + "N" * 27
    assert model.results.rows[2].defect == 2510 and model.results.rows[2].values == ("",) * 6
    assert model.results.summary_extra == ("EPOXY", "2")
    model.do_ack()
    bench.until_in(State.READY)
    model.do_start()
    bench.advance(7.0 + 2 * 0.54 + 0.2)
    model.do_pause()
    bench.advance(2.0)  # site 3 completes, the cycle halts before site 4
    model.do_abort()
    assert model.results is not None and model.results.result_map == "PPP" + "N" * 27


def test_die_bonder_raises_no_deviation_alarm_outside_a_cycle() -> None:
    """Interfaces README §5: READY falls back to HEATING when a zone leaves its band;
    process-deviation alarms (2108-2110) are raised only during a cycle."""
    bench = Bench(recipe="A-EQUAL")
    model = bench.model
    model.set_condition("STAGE_COLD", True)
    bench.advance(300.0)
    assert model.zone_deviation_c("STAGE") > 10.0
    assert model.state is State.HEATING and model.active_alarms == []
    assert refusal(model.do_start) == (22, "TEMP")
