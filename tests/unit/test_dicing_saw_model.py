"""DS-2 process model on a hand-stepped clock: warm-up, blade setup and life, the §8 cycle
timing, kerf checks, singulation of the world's strips, and the §6 alarms of the model."""

from __future__ import annotations

import random
import statistics

import pytest

from sim.dicing_saw.blade import Blade, max_speed_krpm
from sim.dicing_saw.cut_plan import bounding_lines, plan_lines
from sim.dicing_saw.model import DicingSawModel
from sim.tool_model import State
from tests.support.model_bench import ModelBench, cleared, cleared_after, released
from tests.support.refusal import refusal


class Bench(ModelBench):
    """A DS-2 model (seed 1) past its 20 s of INIT."""

    model_type = DicingSawModel
    until_step_s = 0.25

    def __init__(self, *, blade_count: int = 0) -> None:
        super().__init__(seed=1, blade_count=blade_count)
        self.advance(21.0)

    def start(self, strip_id: str = "FB1", for_s: float = 0.0) -> None:
        """The host's STRIP and START, then ``for_s`` of the cycle."""
        self.model.set_strip_id(strip_id)
        self.model.do_start()
        self.advance(for_s)

    def cycle(self, strip_id: str = "FB1") -> float:
        """A cycle to its end (DONE, ABORTED or ALARM); its cycle time."""
        self.start(strip_id)
        self.until_in(State.DONE, State.ABORTED, State.ALARM, limit_s=1000.0, step_s=1.0)
        return float(self.results.cycle_s)


def make_saw(*, blade_count: int = 0) -> tuple[DicingSawModel, Bench]:
    bench = Bench(blade_count=blade_count)
    return bench.model, bench


def ready_saw(
    recipe: str = "B-SING", *, blade_setup: bool = True, **kwargs: int
) -> tuple[DicingSawModel, Bench]:
    """A saw READY with ``recipe`` and, unless told not to, its blade set up."""
    saw, bench = make_saw(**kwargs)
    saw.load_recipe(recipe)
    bench.until_in(State.READY)
    if blade_setup:
        saw.setup_blade()
        bench.until_in(State.READY)
    return saw, bench


def test_dicing_saw_init_takes_20_s_then_idle() -> None:
    bench = ModelBench(DicingSawModel)
    bench.at(19.0)
    assert bench.model.state is State.INIT
    bench.at(20.5)
    assert bench.model.state is State.IDLE


def test_dicing_saw_warmup_is_300_s_cold_60_s_warm_and_300_s_after_30_min_stopped() -> None:
    saw, bench = make_saw()
    saw.load_recipe("B-SING")
    assert saw.state_name() == "WARMUP"
    assert bench.until_in(State.READY) == pytest.approx(300.0, abs=1.0)
    saw.unload_recipe()
    bench.advance(600.0)
    saw.load_recipe("B-SING")
    assert bench.until_in(State.READY) == pytest.approx(60.0, abs=1.0)
    saw.unload_recipe()
    bench.advance(1800.0)
    saw.load_recipe("B-SING")
    assert bench.until_in(State.READY) == pytest.approx(300.0, abs=1.0)


def test_dicing_saw_speed_change_in_ready_keeps_ready() -> None:
    saw, bench = ready_saw(blade_setup=False)
    saw.set_param("spindle_speed_krpm", "35.0")
    bench.advance(1.0)
    assert saw.state is State.READY
    assert saw.spindle_krpm == 35.0


def test_dicing_saw_blade_setup_takes_45_s_and_is_needed_after_power_up_and_change() -> None:
    saw, bench = ready_saw(blade_setup=False)
    assert saw.active_interlocks() == ["BLADE"]
    assert saw.exposure_reading_mm() == 0.0
    saw.setup_blade()
    assert saw.state is State.SETUP
    assert bench.until_in(State.READY) == pytest.approx(45.0, abs=0.5)
    assert saw.active_interlocks() == []
    assert 1.05 < saw.exposure_reading_mm() < 1.25
    saw.change_blade()
    assert saw.active_interlocks() == ["BLADE"]
    assert saw.blade.count == 0


def test_dicing_saw_reset_keeps_blade_setup_and_count() -> None:
    saw, _ = ready_saw(blade_count=1234)
    saw.do_reset()
    assert saw.state is State.IDLE
    assert saw.blade_setup_valid
    assert saw.blade.count == 1234
    assert not saw.spindle_on


def test_dicing_saw_blade_setup_needs_the_spindle() -> None:
    saw, _ = make_saw()
    assert refusal(saw.setup_blade)[0] == 24
    saw.load_recipe("B-SING")
    assert refusal(saw.setup_blade) == (22, "WARMUP")


def test_dicing_saw_blade_setup_on_a_worn_blade_raises_7109_and_stays_invalid() -> None:
    saw, bench = make_saw(blade_count=40000)
    saw.set_param("blade_limit", "50000")
    saw.load_recipe("B-SING")
    bench.until_in(State.READY)
    saw.setup_blade()
    bench.until_in(State.ALARM)
    assert 7109 in saw.active_alarms
    assert saw.exposure_reading_mm() == 0.0
    assert cleared(saw) is State.READY
    assert "BLADE" in saw.active_interlocks()


@pytest.mark.parametrize(
    ("thickness_um", "max_krpm"),
    [(15, 30.0), (25, 30.0), (26, 40.0), (50, 40.0), (51, 35.0), (80, 35.0), (250, 35.0)],
)
def test_dicing_saw_max_speed_follows_the_blade_table(thickness_um: int, max_krpm: float) -> None:
    assert max_speed_krpm(thickness_um) == max_krpm


def test_dicing_saw_start_refuses_speed_over_the_blade_limit_with_14() -> None:
    saw, _ = ready_saw()
    saw.set_param("spindle_speed_krpm", "40.0")
    assert refusal(saw.do_start)[0] == 14
    assert saw.state is State.READY


@pytest.mark.parametrize(
    ("recipe", "size", "passes", "cycle_s"),
    [("B-SING", (8, 30), 80, 275.0), ("A-SING", (3, 10), 30, 154.0)],
)
def test_dicing_saw_cycle_takes_275_s_and_80_line_passes_in_format_b_154_s_and_30_in_a(
    recipe: str, size: tuple[int, int], passes: int, cycle_s: float
) -> None:
    saw, bench = ready_saw(recipe)
    assert saw.size == size
    assert bench.cycle() == pytest.approx(cycle_s, abs=3.0)
    assert saw.state is State.DONE
    assert saw.progress()[:2] == (passes, passes)
    assert bench.results.summary_extra == (str(passes), str(passes))
    assert bench.results.count("P") == size[0] * size[1]


def test_dicing_saw_line_pass_time_follows_extent_feed_and_index() -> None:
    line = plan_lines(8, 30, 5.3, 5.3)[0]
    assert line.channel == "CH1"
    assert line.pass_s(40.0) == pytest.approx((159.0 + 10.0) / 40.0 + 0.5)


def test_dicing_saw_cut_plan_bounds_each_site_by_four_lines() -> None:
    lines = {line.number: line for line in plan_lines(8, 30, 5.3, 5.3)}
    assert len(lines) == 40
    for site, numbers in bounding_lines(8, 30).items():
        assert all(site in lines[n].sites for n in numbers)
        assert sum(site in line.sites for line in lines.values()) == 4


def test_dicing_saw_progress_counts_line_passes_while_running() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=10 + 8 + 3 * 4.725 + 1.5)  # LOAD, ALIGN (±2 %), three CH1 passes
    done, total, elapsed, remaining = saw.progress()
    assert (done, total) == (3, 80)
    assert elapsed == 33
    assert remaining == pytest.approx(275 - 33, abs=3)
    assert saw.phase == "CH1"


def test_dicing_saw_singulates_every_site_and_records_chipping_in_the_world() -> None:
    saw, bench = ready_saw()
    saw.set_input_map("0" + "1" * 239)
    bench.cycle("FB7")
    strip = bench.world_strip("FB7")
    assert all(site.singulated and site.chipping_um is not None for site in strip.sites.values())
    assert not any("dicing-saw" in site.defects for site in strip.sites.values())
    first = bench.results.rows[0]
    assert (first.result, first.values) == ("X", ("", "", ""))


def test_dicing_saw_kerf_check_values_only_at_sites_bounded_by_checked_lines() -> None:
    _, bench = ready_saw()
    bench.cycle()
    rows = {row.site: row for row in bench.results.rows}
    # Line 5 is the CH1 boundary between rows 4 and 5; line 10 is CH2 boundary 0 (left of col 1).
    assert all(rows[s].values[0] != "" for s in range(91, 151))
    assert rows[31].values[0] != ""
    assert rows[32].values == ("", "", "")
    chip, offset, width = (int(v) for v in rows[91].values)
    assert 5 < chip < 50
    assert abs(offset) < 25
    assert 255 < width < 268


def test_dicing_saw_no_kerf_check_when_check_is_zero() -> None:
    saw, bench = ready_saw()
    saw.set_param("cut_check", "0")
    cycle_s = bench.cycle()
    assert cycle_s == pytest.approx(275.0 - 16.0, abs=3.0)
    assert all(row.values == ("", "", "") and row.result == "P" for row in bench.results.rows)


def test_dicing_saw_counts_blade_line_passes_and_warns_at_90_percent() -> None:
    saw, bench = ready_saw(blade_count=17990)
    assert 7201 not in saw.active_alarms
    bench.cycle()
    assert saw.blade.count == 18070
    assert saw.active_alarms == [7201]
    assert saw.state is State.DONE  # a warning changes no state


def test_dicing_saw_blade_life_holds_at_end_of_line_pass_and_resumes_after_change_and_setup() -> (
    None
):
    saw, bench = ready_saw(blade_count=19990)
    bench.start()
    bench.until_in(State.ALARM, step_s=0.5)
    bench.advance(10.0)
    assert saw.active_alarms == [7201, 7103]
    assert saw.blade.count == 20000
    assert saw.passes_cut == 10  # held at the end of the 10th pass
    # cause persists until the blade is changed
    assert cleared_after(saw, saw.change_blade) is State.PAUSED
    assert saw.active_alarms == []
    assert refusal(saw.do_resume) == (22, "BLADE")
    saw.setup_blade()
    assert saw.state is State.SETUP
    bench.until_in(State.PAUSED)
    bench.run(saw.do_resume, State.DONE, 1.0)
    assert bench.results.summary_extra == ("80", "70")
    assert bench.results.count("P") == 240


def test_dicing_saw_pause_takes_effect_at_end_of_line_pass() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=18.0 + 1.0)  # 1 s into the first CH1 pass
    saw.do_pause()
    assert saw.state is State.PAUSED
    bench.advance(60.0)
    assert saw.passes_cut == 1
    assert saw.halted
    bench.run(saw.do_resume, State.DONE, 1.0)


def test_dicing_saw_blade_change_in_paused_waits_for_the_end_of_the_pass() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=19.0)
    saw.do_pause()
    assert refusal(saw.change_blade) == (20, "PAUSED")
    bench.advance(5.0)
    saw.change_blade()
    assert "BLADE" in saw.active_interlocks()


def test_dicing_saw_abort_class_alarm_stops_spindle_and_leaves_uncut_sites_f7504() -> None:
    saw, bench = ready_saw()
    bench.start(
        "FB9", for_s=10 + 8 + 18 * 4.725 + 2 + 4 + 11 * 1.81 + 2 + 0.5
    )  # 5 CH2 lines + 1 pass
    saw.set_condition("ESTOP", True)
    assert saw.state is State.ALARM
    assert not saw.spindle_on
    assert cleared_after(saw, lambda: saw.set_condition("ESTOP", False)) is State.ABORTED
    rows = bench.results.rows
    cut_cols = {1, 2, 3, 4}  # CH2 boundaries 0-4 cut, boundary 5 one pass
    for row in rows:
        col = (row.site - 1) % 30 + 1
        if col in cut_cols:
            assert row.result == "P", row
        else:
            assert (row.result, row.defect) == ("F", 7504), row
    strip = bench.world_strip("FB9")
    assert strip.site(1).singulated and not strip.site(30).singulated
    assert strip.site(30).defects == {"dicing-saw": 7504}
    saw.do_ack()
    assert saw.state_name() == "WARMUP"
    assert bench.until_in(State.READY) == pytest.approx(60.0, abs=1.0)


def test_dicing_saw_alignment_failure_leaves_every_site_n() -> None:
    saw, bench = ready_saw()
    saw.faults.alarm(7107, phase="ALIGN", after_s=4.0)
    bench.cycle()
    assert cleared(saw) is State.ABORTED
    assert bench.results.count("N") == 240


def test_dicing_saw_vacuum_loss_loses_singulated_units_f7503() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=200.0)  # deep into CH2
    saw.set_condition("VACUUM", True)
    assert saw.active_alarms == [7003]
    defects = {row.defect for row in bench.results.rows}
    assert 7503 in defects and 7504 in defects


def test_dicing_saw_feed_too_high_overloads_the_spindle_7101() -> None:
    saw, bench = ready_saw()
    saw.set_param("cut_feed_mm_s", "100.0")
    bench.start(for_s=18.0 + 2.0)  # 1 s over 90 % within the first 2.19 s pass
    assert saw.active_alarms == [7101]
    assert saw.state is State.ALARM
    assert saw.load_pct == 0.0  # spindle stopped


def test_dicing_saw_coolant_low_for_5_s_holds_7104_until_flow_restored() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=30.0)
    saw.set_condition("COOLANT", True)
    bench.advance(4.0)
    assert 7104 not in saw.active_alarms
    bench.advance(10.0)
    assert saw.active_alarms == [7104]
    assert cleared_after(saw, lambda: saw.set_condition("COOLANT", False)) is State.PAUSED


def test_dicing_saw_speed_deviation_aborts_7108() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=30.0)
    saw.set_condition("SPEED", True)
    bench.advance(1.5)
    assert saw.active_alarms == [7108]
    assert saw.abort_on_clear


def test_dicing_saw_kerf_offset_over_limit_holds_7105_and_fails_sites_7502() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=18.5)
    saw.align_um["CH1"] = 40.0  # strip misaligned along Y
    bench.until_in(State.ALARM, step_s=0.5)
    assert saw.active_alarms == [7105]
    saw.clear_alarms()
    bench.run(saw.do_resume, State.DONE, 1.0)
    assert {row.defect for row in bench.results.rows if 91 <= row.site <= 150} == {7502}


def test_dicing_saw_worn_blade_chips_over_limit_and_holds_7106_after_three_checks() -> None:
    saw, bench = ready_saw(blade_count=30000)
    saw.set_param("blade_limit", "50000")
    bench.start()
    bench.until_in(State.ALARM, step_s=0.5)
    assert 7106 in saw.active_alarms
    assert saw.progress()[0] >= 2 * 15  # at least three checked lines (every 5th line, 2 passes)
    saw.do_abort()
    assert cleared(saw) is State.ABORTED
    defects = {row.defect for row in bench.results.rows}
    assert 7501 in defects and 7504 in defects  # checked singulated sites chip over the limit


def test_dicing_saw_blade_breakage_persists_until_blade_change() -> None:
    saw, bench = ready_saw()
    saw.faults.alarm(7102, phase="CH1", after_s=2.0)
    bench.cycle()
    assert saw.state is State.ALARM
    saw.clear_alarms()
    assert saw.active_alarms == [7102]
    saw.change_blade()
    assert cleared(saw) is State.ABORTED


def test_dicing_saw_chipping_rises_with_blade_wear_and_feed() -> None:
    rng = random.Random(3)

    def mean_chip(count: int, feed: float) -> float:
        blade = Blade(count, 1.1)
        return statistics.fmean(blade.chipping_um(rng, feed, 30.0) for _ in range(4000))

    new, drifting, worn = mean_chip(0, 40.0), mean_chip(25000, 40.0), mean_chip(30000, 40.0)
    assert new == pytest.approx(15.0, rel=0.05)
    assert drifting > 2.2 * new
    assert worn > 50.0  # over the default CUT:CHIPping:LIMit
    assert mean_chip(0, 80.0) == pytest.approx(new * 2**0.5, rel=0.05)


def test_dicing_saw_interlocks_name_the_first_active_in_table_order() -> None:
    saw, _ = ready_saw()
    saw.set_condition("COOLANT", True)
    saw.set_condition("AIR", True)
    assert refusal(saw.do_start) == (22, "AIR")
    assert saw.active_interlocks() == ["AIR", "COOLANT"]
    saw.set_condition("AIR", False)
    assert refusal(saw.do_start)[1] == "COOLANT"
    saw.set_condition("DOOR", True)
    refusal(saw.setup_blade)


def test_dicing_saw_air_low_holds_7004_until_supply_restored() -> None:
    saw, bench = ready_saw()
    bench.start(for_s=30.0)
    saw.set_condition("AIR", True)
    assert saw.active_alarms == [7004]
    bench.advance(10.0)
    assert saw.halted and saw.state is State.ALARM
    assert cleared_after(saw, lambda: saw.set_condition("AIR", False)) is State.PAUSED
    bench.run(saw.do_resume, State.DONE, 1.0)


def test_dicing_saw_vacuum_interlock_only_with_a_strip_on_the_chuck() -> None:
    saw, bench = ready_saw()
    saw.conditions["VACUUM"] = True  # low vacuum with the chuck empty: no interlock, no alarm
    assert saw.active_interlocks() == []
    saw.conditions["VACUUM"] = False
    bench.start(for_s=25.0)
    saw.do_pause()
    bench.advance(10.0)
    saw.set_condition("VACUUM", True)
    assert "VACUUM" in saw.active_interlocks()
    assert saw.active_alarms == [7003]


def test_dicing_saw_estop_during_blade_setup_abandons_the_setup() -> None:
    saw, bench = ready_saw(blade_setup=False)
    saw.setup_blade()
    bench.advance(20.0)
    saw.set_condition("ESTOP", True)
    bench.advance(60.0)
    assert saw.state is State.ALARM
    released(saw, "ESTOP")
    assert saw.state_name() == "WARMUP"  # spindle stopped by the E-stop
    bench.until_in(State.READY)
    assert "BLADE" in saw.active_interlocks()


# == audit against dicing-saw.md (s9) ========================================================
def test_dicing_saw_reloading_a_recipe_during_the_cold_warmup_does_not_shorten_it() -> None:
    """§3: 300 s of warm-up after power-up; a second RECipe:LOAD 100 s in is no warm start."""
    saw, bench = make_saw()
    saw.load_recipe("B-SING")
    bench.advance(100.0)
    saw.load_recipe("A-SING")
    assert saw.state_name() == "WARMUP"
    assert 100.0 + bench.until_in(State.READY) == pytest.approx(300.0, abs=1.0)


def test_dicing_saw_vacuum_already_low_at_start_aborts_7003_before_any_cut() -> None:
    """§6: VACUUM only blocks RESUME, so START goes; once the strip is on the chuck the
    vacuum is low with a strip loaded: 7003 (A) before the first line pass."""
    saw, bench = ready_saw()
    saw.conditions["VACUUM"] = True  # low with the chuck still empty: START is allowed
    bench.start(for_s=40.0)
    assert saw.active_alarms == [7003]
    assert saw.state is State.ALARM
    assert saw.passes_cut == 0
    assert not saw.spindle_on
    saw.conditions["VACUUM"] = False
    assert cleared(saw) is State.ABORTED
    assert bench.results.count("N") == 240


def abort_after_line_5_check(chipping_limit_um: int) -> DicingSawModel:
    """A Format B cycle stopped by E-stop right after the kerf check of line 5 (rows 4|5)."""
    saw, bench = ready_saw()
    saw.set_param("cut_chipping_limit_um", str(chipping_limit_um))
    bench.start(for_s=10 + 8 + 5 * 2 * 4.725 + 2.0 + 0.5)  # LOAD, ALIGN, 5 lines, check
    assert saw.passes_cut == 10 and saw.measured
    saw.set_condition("ESTOP", True)
    assert released(saw, "ESTOP") is State.ABORTED
    return saw


def test_dicing_saw_unsingulated_sites_report_the_values_of_their_checked_lines() -> None:
    """§5: the values are the worst over the checked lines bounding the site, empty only if
    none was checked, whether or not the site was singulated."""
    saw = abort_after_line_5_check(chipping_limit_um=200)
    assert saw.results is not None
    rows = {row.site: row for row in saw.results.rows}
    for site in range(91, 151):  # rows 4 and 5: bounded by the checked line 5
        assert (rows[site].result, rows[site].defect) == ("F", 7504)
        chip, offset, width = (int(v) for v in rows[site].values)
        assert 0 < chip < 200 and abs(offset) < 25 and 250 < width < 270
    assert rows[31].values == ("", "", "")  # row 2: lines 2 and 3, neither checked


def test_dicing_saw_a_site_failing_several_checks_reports_the_lowest_defect() -> None:
    """README §8: chipping over the limit (7501) on a site the abort left unsingulated
    (7504) is reported 7501."""
    saw = abort_after_line_5_check(chipping_limit_um=10)
    assert saw.results is not None
    checked = [row for row in saw.results.rows if 91 <= row.site <= 150]
    over = [row for row in checked if int(row.values[0]) > 10]
    assert over
    assert all((row.result, row.defect) == ("F", 7501) for row in over)
    assert all(row.defect == 7504 for row in checked if row not in over)


def test_dicing_saw_hold_alarm_mid_pass_finishes_the_line_pass_first() -> None:
    """§3: an H alarm takes effect at the end of the current line pass (spindle running)."""
    saw, bench = ready_saw()
    bench.start(for_s=18.0 + 1.0)  # 1 s into the first 4.7 s CH1 pass
    saw.set_condition("AIR", True)
    assert saw.state is State.ALARM and not saw.halted
    bench.advance(10.0)
    assert saw.halted
    assert saw.passes_cut == 1
    assert saw.spindle_on and saw.current_pass is None


def test_dicing_saw_speed_deviation_needs_1_s_before_7108() -> None:
    """§6 7108: more than 5 % off the set-point for 1 s; a shorter sag raises nothing."""
    saw, bench = ready_saw()
    bench.start(for_s=30.0)
    saw.set_condition("SPEED", True)
    bench.advance(0.5)
    saw.set_condition("SPEED", False)
    bench.advance(5.0)
    assert saw.active_alarms == []
    assert saw.state is State.RUNNING


def test_dicing_saw_blade_limit_is_a_machine_setting_kept_by_reset_and_recipes() -> None:
    """§4: BLADe:LIMit is not stored in recipes; lowering it to the count warns 7201 at
    once and the BLADE interlock blocks START."""
    saw, _ = ready_saw(blade_count=4000)
    saw.set_param("blade_limit", "4000")
    assert saw.active_alarms == [7201]
    assert refusal(saw.do_start) == (22, "BLADE")
    saw.do_reset()
    saw.load_recipe("B-SING")
    assert saw.params["blade_limit"] == 4000


def test_dicing_saw_spindle_reads_no_speed_and_no_load_at_once_after_an_abort_class_alarm() -> None:
    """§3: an A-class alarm retracts the blade and stops the spindle; MEASure:SPINdle? at
    that instant reports neither the set speed nor the cutting load."""
    saw, bench = ready_saw()
    bench.start(for_s=20.0)  # in the first CH1 pass
    assert saw.load_pct > 30.0
    saw.set_condition("ESTOP", True)
    assert (saw.spindle_krpm, saw.load_pct, saw.coolant_l_min) == (0.0, 0.0, 0.0)


def test_dicing_saw_host_abort_mid_line_leaves_touched_rows_f7504_and_the_rest_n() -> None:
    """§3/§5 and README §4: ABORT during the third CH1 line: rows 1-3
    (touched by lines 1-3) are F 7504, rows 4-8 were never reached (N); the interrupted pass is not counted."""
    saw, bench = ready_saw()
    bench.start(for_s=18.0 + 2 * 9.45 + 1.0)  # 1 s into line 3, pass 1
    saw.do_abort()
    assert saw.state is State.ABORTED
    rows = bench.results.rows
    assert all((r.result, r.defect) == ("F", 7504) for r in rows if r.site <= 90)
    assert all((r.result, r.defect) == ("N", 0) for r in rows if r.site > 90)
    assert saw.progress()[:2] == (4, 80)
    assert bench.results.summary_extra == ("4", "4")
