"""BA-8 process model on a hand-driven clock: profile figures, magazine timing, the §3 rules for
PAUSE/hold/ABORT/abort-class alarms, ball physics and what the world records."""

from __future__ import annotations

import random
import statistics

import pytest

from sim.ball_attach.balls import (
    BallProcess,
    attach_site,
    ball_positions,
    binomial,
    coplanarity,
    fit_plane,
)
from sim.ball_attach.model import BallAttachModel
from sim.ball_attach.profile import reflow_profile, transit_s
from sim.clock import SimClock
from sim.tool_model import State
from sim.world import World
from tests.support.model_bench import ModelBench, cleared, cleared_after, fixed, released
from tests.support.refusal import refusal

DEFAULT_ZONES = [130.0, 160.0, 175.0, 185.0, 200.0, 220.0, 250.0, 250.0]


class Bench(ModelBench):
    """A BA-8 model past its 30 s of INIT."""

    model_type = BallAttachModel
    advance_step_s = 5.0

    def __init__(self, seed: int = 0, **options: object) -> None:
        super().__init__(seed=seed, **options)
        self.advance(31.0)

    def ready(self) -> float:
        self.model.load_recipe("A-BALL050")
        return self.until_in(State.READY)

    def magazine(self, ids: list[str], maps: list[str] | None = None) -> None:
        m = self.model
        m.set_magazine_count(str(len(ids)))
        for k, strip_id in enumerate(ids, start=1):
            m.set_strip_id_at(k, strip_id)
            if maps:
                m.set_input_map_at(k, maps[k - 1])

    def cycle(
        self, ids: list[str], state: State, maps: list[str] | None = None, step_s: float = 1.0
    ) -> float:
        """START a magazine of ``ids`` and run it until ``state``; the sim seconds it took."""
        self.magazine(ids, maps)
        return self.run(self.model.do_start, state, step_s)

    def start(self, ids: list[str], after_s: float, maps: list[str] | None = None) -> None:
        """START a magazine of ``ids`` and run it ``after_s`` seconds on a 1 s grid."""
        self.magazine(ids, maps)
        self.model.do_start()
        self.advance(after_s, 1.0)

    def paused_with_an_empty_line(self) -> None:
        """Strips A and B; PAUSE while A prints, so A leaves the line and B waits."""
        self.start(["A", "B"], 5)
        self.model.do_pause()
        self.until(lambda: self.model.strip_status(1) == "DONE", step_s=5.0)


@pytest.fixture
def bench() -> Bench:
    b = Bench(seed=3)
    b.ready()
    return b


# == reflow profile (§4) ===========================================================================
def test_ball_attach_profile_at_defaults_matches_the_manual() -> None:
    p = reflow_profile(DEFAULT_ZONES, 12.0)
    assert p.peak_c == pytest.approx(241.7, abs=0.2)
    assert p.tal_s == pytest.approx(60.4, abs=0.2)
    assert p.soak_s == pytest.approx(108.2, abs=0.2)
    assert p.max_ramp_c_s == pytest.approx(2.62, abs=0.2)
    assert p.max_cool_c_s == pytest.approx(-5.04, abs=0.2)
    assert transit_s(12.0) == pytest.approx(333.3, abs=0.1)


def test_ball_attach_slower_conveyor_gives_a_longer_time_above_liquidus() -> None:
    slow, fast = reflow_profile(DEFAULT_ZONES, 10.0), reflow_profile(DEFAULT_ZONES, 14.0)
    assert slow.tal_s > 60.4 > fast.tal_s
    assert slow.peak_c > fast.peak_c


def test_ball_attach_model_reports_the_profile_of_its_set_points(bench: Bench) -> None:
    figures = bench.model.profile_figures()
    assert (round(figures.peak_c, 1), round(figures.soak_s, 1)) == (241.7, 108.2)
    bench.model.set_param("ZONE7", "240")
    assert bench.model.profile_figures().peak_c < 241.7


# == heating (§3, §8) ================================================================================
def test_ball_attach_heats_from_cold_in_about_twenty_minutes() -> None:
    b = Bench()
    heat_s = b.ready()
    assert 18 * 60 <= heat_s <= 22 * 60
    assert b.model.o2_ppm <= 500


def test_ball_attach_zone_change_in_ready_returns_to_heating_for_about_three_minutes(
    bench: Bench,
) -> None:
    bench.model.set_param("ZONE5", "220")
    assert bench.model.state is State.HEATING
    settle_s = bench.until_in(State.READY)
    assert 150 <= settle_s <= 220


def test_ball_attach_nitrogen_off_reads_air_and_does_not_block_ready(bench: Bench) -> None:
    bench.model.set_param("NITROGEN", "OFF")
    bench.advance(600)
    assert bench.model.o2_ppm > 200_000 and bench.model.state is State.READY


def test_ball_attach_heating_waits_for_oxygen_with_nitrogen_on() -> None:
    b = Bench()
    b.model.load_recipe("A-BALL050")
    b.model.set_param("O2_LIMIT", "50")  # 150 ppm under N2 never gets below 50
    b.advance(3000)
    assert b.model.state is State.HEATING and b.model.interlock_active("TEMP")


# == the pipelined magazine (§1, §8) ================================================================
@pytest.mark.parametrize("strips", [1, 2, 5, 20])
def test_ball_attach_magazine_takes_363_plus_30_per_extra_strip(bench: Bench, strips: int) -> None:
    elapsed = bench.cycle([f"T{k}" for k in range(1, strips + 1)], State.DONE, step_s=5.0)
    assert elapsed == pytest.approx(363.3 + 30 * (strips - 1), abs=5.0)
    assert bench.results.cycle_s == pytest.approx(363.3 + 30 * (strips - 1), abs=1.5)
    for k in range(1, strips + 1):
        assert bench.model.strip_results(k).cycle_s == pytest.approx(363.3, abs=0.1)
    assert bench.model.progress()[:2] == (strips, strips)


def test_ball_attach_strip_statuses_follow_the_takt(bench: Bench) -> None:
    m = bench.model
    bench.magazine(["A", "B", "C"])
    m.do_start()
    seen = []
    for t in (4, 14, 34, 44, 54, 75):
        bench.advance(t - (bench.clock.t - m.cycle_start_s), 1.0)
        seen.append(tuple(m.strip_status(k) for k in (1, 2, 3, 4)))
    assert seen == [
        ("PRINT", "WAIT", "WAIT", "NOTRUN"),
        ("PLACE", "WAIT", "WAIT", "NOTRUN"),
        ("REFLOW", "PRINT", "WAIT", "NOTRUN"),
        ("REFLOW", "PLACE", "WAIT", "NOTRUN"),
        ("REFLOW", "REFLOW", "WAIT", "NOTRUN"),
        ("REFLOW", "REFLOW", "PLACE", "NOTRUN"),
    ]
    assert m.phase == "DRAIN"
    bench.advance(285, 1.0)  # 360 s: strip 1 inspecting
    assert m.strip_status(1) == "INSPECT"
    done, total, elapsed, remaining = m.progress()
    assert (done, total, elapsed) == (0, 3, 360) and remaining == pytest.approx(63, abs=1)


def test_ball_attach_strip_data_beyond_the_count_is_ignored(bench: Bench) -> None:
    m = bench.model
    bench.magazine(["A", "B"])
    m.set_strip_id_at(5, "IGNORED")
    bench.run(m.do_start, State.DONE)
    assert m.strip_status(5) == "NOTRUN"
    assert refusal(m.strip_results, 5)[0] == 27
    m.do_ack()
    assert m.magazine_count == 1 and m.strip_ids == [""] * 20
    assert m.strip_status(1) == "DONE"  # statuses and results stay until the next START


def test_ball_attach_size_change_resets_every_strip_map(bench: Bench) -> None:
    m = bench.model
    m.set_input_map_at(3, "0" + "1" * 29)
    m.set_size(2, 10)
    assert m.input_maps == ["1" * 20] * 20 and m.input_map == "1" * 20
    assert refusal(m.set_input_map_at, 2, "1" * 30)[0] == 26


def test_ball_attach_limits_need_min_below_max_after_range_and_state(bench: Bench) -> None:
    m = bench.model
    assert refusal(m.set_limits, ["245", "235", "50", "70"])[0] == 14  # min above max
    assert refusal(m.set_limits, ["245", "265", "50", "70"])[0] == 13  # out of range


# == PAUSE, hold, ABORT, abort-class alarms (§3) =======================================================
def test_ball_attach_pause_stops_feeding_but_strips_in_the_line_finish(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B", "C"], 35)  # B in PRINT
    m.do_pause()
    assert m.state is State.PAUSED
    bench.advance(500, 5.0)
    assert [m.strip_status(k) for k in (1, 2, 3)] == ["DONE", "DONE", "WAIT"]
    assert m.state is State.PAUSED and m.phase == "FEED"
    bench.run(m.do_resume, State.DONE)
    assert m.strip_results(3).result_map.count("P") >= 28


def test_ball_attach_ball_supply_empty_holds_feeding_and_resumes_after_refill() -> None:
    b = Bench(seed=2, ball_supply_pct=0.7)  # 7000 balls: one strip of 5760
    m = b.model
    b.ready()
    b.start(["A", "B"], 40)
    assert m.state is State.ALARM and m.active_alarms == [6202, 6102]
    assert (m.strip_status(1), m.strip_status(2)) == ("REFLOW", "WAIT")
    assert cleared(m) is State.ALARM  # the reservoir is still empty
    b.advance(400, 5.0)
    assert m.strip_status(1) == "DONE"  # the oven went on
    assert fixed(m, 6102) is State.PAUSED
    assert m.active_alarms == []
    b.run(m.do_resume, State.DONE)
    assert m.strip_status(2) == "DONE"


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("DOOR", 6002),
        ("N2", 6003),
        ("AIR", 6004),
        ("EXHAUST", 6005),
        ("PICKUP", 6103),
        ("MAGAZINE", 6110),
    ],
)
def test_ball_attach_hold_conditions_stop_feeding_until_fixed(
    bench: Bench, condition: str, code: int
) -> None:
    m = bench.model
    bench.start(["A", "B", "C"], 35)  # A in the oven, B printing
    m.set_condition(condition, True)
    bench.advance(30, 1.0)  # past C's feed slot at 60 s
    assert code in m.active_alarms and m.state is State.ALARM
    assert [m.strip_status(k) for k in (1, 2, 3)] == ["REFLOW", "REFLOW", "WAIT"]
    assert cleared_after(m, lambda: m.fix(code)) is State.PAUSED
    m.do_resume()
    bench.until(lambda: not m.cycle_active)  # N2: three strips with 6509 also raise 6109
    assert m.strip_status(3) == "DONE"


def test_ball_attach_flux_empty_holds_before_the_next_print() -> None:
    b = Bench(flux_supply_pct=0.2)  # 100 mm³: one strip needs 72 mm³ at the defaults
    b.ready()
    m = b.model
    b.start(["A", "B"], 40)
    assert m.active_alarms == [6201, 6101] and m.strip_status(2) == "WAIT"
    assert m.interlock_active("FLUX")


def test_ball_attach_conveyor_jam_is_abort_class(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B"], 40)
    m.set_condition("JAM", True)
    assert m.state is State.ALARM and m.active_alarms == [6107]
    assert [{r.defect for r in m.strip_results(k).rows} for k in (1, 2)] == [{6508}, {6510}]
    assert fixed(m, 6107) is State.ABORTED


def test_ball_attach_recipe_with_another_size_resets_every_map(bench: Bench) -> None:
    m = bench.model
    m.set_size(2, 10)
    m.save_recipe("A-SMALL")
    m.set_size(3, 10)
    m.set_input_map_at(4, "0" * 30)
    m.load_recipe("A-SMALL")
    assert m.input_maps == ["1" * 20] * 20


def test_ball_attach_abort_ejects_the_strip_at_the_front_and_drains_the_oven(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B", "C", "D", "E"], 100)  # A, B, C in REFLOW; D in PLACE; E waiting
    m.do_abort()
    assert m.state is State.RUNNING and m.phase == "DRAIN"
    bench.until(lambda: m.state is State.ABORTED)
    assert m.time_s - m.cycle_start_s == pytest.approx(60 + 363.3, abs=1.5)
    maps = [m.strip_results(k).result_map for k in range(1, 6)]
    assert all(maps[k].count("P") >= 28 for k in range(3))
    assert maps[3] == "F" * 30 and {r.defect for r in m.strip_results(4).rows} == {6510}
    assert maps[4] == "N" * 30 and m.strip_status(5) == "NOTRUN"
    assert bench.world_strip("D").site(1).defects == {"ball-attach": 6510}


def test_ball_attach_estop_fails_the_strips_in_the_oven_with_6508(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B", "C", "D", "E"], 100, ["1" * 29 + "0"] * 5)
    m.set_condition("ESTOP", True)
    assert m.state is State.ALARM
    codes = [{r.defect for r in m.strip_results(k).rows} for k in range(1, 6)]
    assert codes == [{6508, 0}, {6508, 0}, {6508, 0}, {6510, 0}, {0}]
    assert m.strip_results(1).result_map == "F" * 29 + "X"
    assert m.strip_results(5).result_map == "N" * 29 + "X"
    assert cleared_after(m, lambda: m.set_condition("ESTOP", False)) is State.ABORTED
    site = bench.world_strip("A").site(1)
    assert site.balls_placed == 192 and site.ball_height_mean_um is None


def test_ball_attach_abort_class_alarm_lets_the_strip_in_inspection_complete(
    bench: Bench,
) -> None:
    m = bench.model
    bench.start(["A", "B"], 358)  # A inspecting, B in REFLOW
    m.raise_alarm(6107)
    assert {r.defect for r in m.strip_results(2).rows} == {6508}  # in the oven
    assert m.strip_status(1) == "INSPECT"  # §3: as ABORT, inspection completes normally
    bench.advance(10, 1.0)
    assert m.strip_status(1) == "DONE" and m.strip_results(1).count("P") >= 28
    assert bench.world_strip("A").site(1).coplanarity_um is not None
    assert fixed(m, 6107) is State.ABORTED


def test_ball_attach_oxygen_excursion_marks_strips_in_the_oven_6509(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B"], 100)
    m.set_condition("O2", True)
    bench.advance(60, 1.0)
    assert 6108 in m.active_alarms and m.state is State.RUNNING
    m.set_condition("O2", False)
    bench.until(lambda: m.state is State.DONE)
    for k in (1, 2):
        result = m.strip_results(k)
        assert {r.defect for r in result.rows} <= {6501, 6502, 6503, 6509}
        assert int(result.summary_extra[2]) > 500
    m.clear_alarms()
    assert m.active_alarms == []


def test_ball_attach_profile_outside_the_limits_fails_the_whole_strip_6508(bench: Bench) -> None:
    m = bench.model
    m.set_limits(["245", "255", "50", "70"])  # peak 241.7 is too cool
    bench.cycle(["A"], State.DONE)
    assert {r.defect for r in m.strip_results(1).rows} <= {6501, 6502, 6503, 6508}
    assert m.strip_results(1).count("F") == 30


@pytest.mark.parametrize(
    ("param", "value", "defect"),
    [("INSP_OFFSET", "10", 6504), ("INSP_DIAMETER", "5", 6505)],
)
def test_ball_attach_tight_inspection_limits_fail_offset_or_diameter(
    bench: Bench, param: str, value: str, defect: int
) -> None:
    m = bench.model
    m.set_param(param, value)  # offsets reach ~13 µm; reflowed balls are ~5.4 % wider
    bench.cycle(["A"], State.DONE)
    defects = [r.defect for r in m.strip_results(1).rows]
    assert defects.count(defect) >= 20


def test_ball_attach_three_low_yield_strips_raise_6109(bench: Bench) -> None:
    m = bench.model
    for strip_id in ("R1", "R2", "R3", "R4"):
        strip = bench.world.strip(strip_id, 3, 10)
        for site in strip.sites.values():
            site.pad_exposure_pct = 80.0  # residual copper over a fifth of the lands
    bench.cycle(["R1", "R2", "R3", "R4"], State.ALARM, step_s=5.0)
    assert m.active_alarms == [6109]
    assert m.strip_status(3) == "DONE" and m.strip_status(4) == "REFLOW"
    bench.until(lambda: m.strip_status(4) == "DONE")  # already in the oven: it completes
    site = bench.world_strip("R1").site(1)
    assert site.balls_missing > 0 and site.defects == {"ball-attach": 6501}
    assert cleared(m) is State.DONE  # every strip was fed and has left: the magazine is complete


def test_ball_attach_three_failed_prints_raise_6104_and_flag_flux(bench: Bench) -> None:
    m = bench.model
    m.set_condition("PRINT", True)
    bench.cycle(["A", "B", "C"], State.ALARM)
    assert m.active_alarms == [6104]
    fixed(m, 6104)
    m.do_resume()
    bench.until(lambda: not m.cycle_active)
    for k in (1, 2, 3):
        assert m.strip_results(k).count("F") == 30
        assert {r.defect for r in m.strip_results(k).rows} <= {6501, 6502, 6503, 6506}
    assert m.active_alarms == [6109]  # and three strips that bad are a low inspection yield


def test_ball_attach_heater_fault_is_abort_class_and_the_zone_leaves_its_band(bench: Bench) -> None:
    m = bench.model
    bench.start(["A"], 50)
    m.set_condition("HEATER", True)
    assert 6106 in m.active_alarms and m.state is State.ALARM
    bench.advance(120, 1.0)
    assert m.zone_air_c(4) < 190.0


def test_ball_attach_zone_out_of_band_for_30_s_holds_with_6105(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B", "C"], 10)
    m.zone_control_c[2] -= 20.0  # a cold draught: zone 3 needs over a minute to recover
    bench.advance(25, 1.0)
    assert 6105 not in m.active_alarms  # under 30 s out of band it is not an alarm yet
    bench.advance(10, 1.0)
    assert m.active_alarms == [6105] and m.state is State.ALARM
    assert cleared(m) is State.ALARM  # zone 3 is still more than 5 °C off
    bench.advance(90, 1.0)
    assert cleared(m) is State.PAUSED


def test_ball_attach_zone_out_of_band_in_a_paused_cycle_with_an_empty_line_raises_6105(
    bench: Bench,
) -> None:
    m = bench.model
    bench.paused_with_an_empty_line()  # the line is empty, B waits
    m.zone_control_c[2] -= 20.0
    bench.advance(25, 1.0)
    assert m.active_alarms == [] and m.state is State.PAUSED
    bench.advance(10, 1.0)  # §6: "for 30 s in any zone during a cycle"
    assert m.active_alarms == [6105] and m.state is State.ALARM


def test_ball_attach_estop_clears_to_aborted_though_the_zones_cooled(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B"], 50)
    m.set_condition("ESTOP", True)  # heaters off; the oven's strips are scrapped at once
    bench.advance(120, 1.0)
    assert m.active_alarms == [6001]  # a stopped cycle's cold zones are no 6105
    assert released(m, "ESTOP") is State.ABORTED


def test_ball_attach_supplies_are_consumed_per_ball_and_flux_land(bench: Bench) -> None:
    m = bench.model
    balls_before, flux_before = m.ball_supply_pct, m.flux_supply_pct
    bench.cycle(["A", "B"], State.DONE, ["1" * 30, "1" * 15 + "0" * 15])
    assert balls_before - m.ball_supply_pct == pytest.approx(45 * 192 / 1e6 * 100)
    assert flux_before - m.flux_supply_pct == pytest.approx(m.flux_needed_mm3(45) / 50_000 * 100)


def test_ball_attach_interlocks_in_table_order(bench: Bench) -> None:
    m = bench.model
    for name in ("MAGAZINE", "EXHAUST", "DOOR"):
        m.set_condition(name, True)
    assert m.active_interlocks() == ["DOOR", "EXHAUST", "MAGAZINE"]
    assert refusal(m.do_start) == (22, "DOOR")
    m.set_condition("N2", True)
    m.set_param("NITROGEN", "OFF")
    assert "N2" not in m.active_interlocks()


# == ball physics (process-reference §2.8) ============================================================
def test_ball_attach_192_balls_are_the_four_outer_rings_of_16_by_16() -> None:
    positions = ball_positions(192)
    assert len(set(positions)) == 192
    assert all(max(abs(x), abs(y)) > 3.5 for x, y in positions)  # none in the 8 × 8 centre
    assert max(abs(x) for x, _ in positions) == 7.5


def test_ball_attach_coplanarity_of_a_tilted_plane_is_zero() -> None:
    points = [(x, y, 400.0 + 3.0 * x - 2.0 * y) for x, y in ball_positions(192)]
    a, b, c = fit_plane(points)
    assert (a, b, c) == pytest.approx((400.0, 3.0, -2.0))
    assert coplanarity(points) == pytest.approx(0.0, abs=1e-9)


def test_ball_attach_coplanarity_measures_a_bow_and_one_tall_ball() -> None:
    positions = ball_positions(192)
    radius_sq = max(x * x + y * y for x, y in positions)
    bowed = [(x, y, 20.0 * (x * x + y * y) / radius_sq) for x, y in positions]
    assert 12.0 < coplanarity(bowed) < 20.0
    one_tall = [(x, y, 50.0 if (x, y) == positions[0] else 0.0) for x, y in positions]
    assert coplanarity(one_tall) == pytest.approx(50.0, rel=0.05)


def test_ball_attach_defects_are_ppm_per_ball() -> None:
    rng = random.Random(11)
    process = BallProcess(0.50, 192, 50)
    sites = [attach_site(rng, process, pad_exposure_pct=None, warp_um=None) for _ in range(3000)]
    balls = 3000 * 192
    missing = sum(s.missing for s in sites) / balls * 1e6
    extra = sum(s.extra for s in sites) / balls * 1e6
    assert 7 <= missing <= 42 and 2 <= extra <= 26  # 20 and 10 ppm (Poisson bounds)
    heights = [s.height_mean_um for s in sites if s.height_mean_um is not None]
    assert statistics.mean(heights) == pytest.approx(400.0, abs=2.0)  # 0.80 × 0.50 mm
    assert statistics.mean(s.mean_diameter_mm for s in sites) == pytest.approx(0.527, abs=0.002)
    assert max(s.max_offset_um for s in sites) < 25.0  # INSPection:OFFSet default
    coplanarities = [s.coplanarity_um for s in sites[:200] if s.coplanarity_um is not None]
    assert 15.0 < statistics.mean(coplanarities) < 40.0


def test_ball_attach_thin_flux_loses_balls_and_thick_flux_bridges() -> None:
    rng = random.Random(5)
    thin, thick = (
        [attach_site(rng, process, pad_exposure_pct=None, warp_um=None) for _ in range(1500)]
        for process in (BallProcess(0.5, 192, 20), BallProcess(0.5, 192, 150))
    )
    assert sum(s.missing for s in thin) > 2 * sum(s.missing for s in thick)
    assert sum(s.bridged for s in thick) > 3 * sum(s.bridged for s in thin)


def test_ball_attach_residual_copper_blocks_lands() -> None:
    rng = random.Random(1)
    site = attach_site(rng, BallProcess(0.5, 192, 50), pad_exposure_pct=70.0, warp_um=None)
    assert site.lands_residue and 30 <= site.missing <= 90
    clean = attach_site(rng, BallProcess(0.5, 192, 50), pad_exposure_pct=96.0, warp_um=None)
    assert not clean.lands_residue


def test_ball_attach_binomial_has_the_right_mean() -> None:
    rng = random.Random(4)
    draws = [binomial(rng, 192, 0.01) for _ in range(4000)]
    assert statistics.mean(draws) == pytest.approx(1.92, abs=0.1)
    assert binomial(rng, 192, 0.0) == 0 and binomial(rng, 192, 1.0) == 192


def test_ball_attach_writes_the_balls_into_the_world(bench: Bench) -> None:
    strip = bench.world.strip("W1", 3, 10)
    strip.site(5).pad_exposure_pct = 60.0
    strip.site(6).warp_um = 15.0
    bench.cycle(["W1"], State.DONE, ["1" * 29 + "0"])
    good, bad, skipped = strip.site(6), strip.site(5), strip.site(30)
    assert good.balls_placed == 192 and good.ball_height_min_um is not None
    assert good.ball_height_mean_um == pytest.approx(400.0, abs=5.0)
    assert good.coplanarity_um is not None and 10.0 < good.coplanarity_um < 60.0
    assert good.ball_diameter_mm == pytest.approx(0.527, abs=0.005)
    assert bad.balls_missing > 40 and bad.defects == {"ball-attach": 6501}
    assert skipped.balls_placed == 0 and skipped.defects == {}
    assert strip.history[-1][1] == "ball-attach"


def test_ball_attach_reflow_ends_at_the_oven_exit_even_past_it_by_rounding() -> None:
    """At large sim times (reflow_start + transit) - reflow_start overshoots the exit by ~4e-11 s;
    the zone walk must stop at the exit instead of stepping in place forever."""
    from sim.ball_attach.model import StripRun

    model = BallAttachModel(SimClock(1.0), World())
    run = StripRun(index=1, strip_id="S", input_map="1" * 30)
    speed = 12.0
    start = 987_654.321
    to_s = (start + transit_s(speed)) - start
    assert to_s > transit_s(speed)
    model._reflow(run, 0.0, to_s, speed, start)  # returns: no infinite loop
    assert run.thermal.figures().peak_c > 25.0, "the strip went through the (cold) oven"


def test_ball_attach_site_draws_repeat_with_the_seed_and_scatter_heights_by_one_percent() -> None:
    process = BallProcess(0.50, 192, 50)
    first = [attach_site(random.Random(9), process, pad_exposure_pct=70.0, warp_um=12.0)]
    again = [attach_site(random.Random(9), process, pad_exposure_pct=70.0, warp_um=12.0)]
    assert first == again and first[0].missing > 0 and first[0].coplanarity_um is not None
    rng = random.Random(2)
    flat = [attach_site(rng, process, pad_exposure_pct=None, warp_um=None) for _ in range(300)]
    lowest = [s.height_min_um for s in flat if not (s.missing or s.extra or s.bridged)]
    # The lowest of 192 balls at 400 µm ± 1 % (4 µm): about 2.8 σ below, ≈ 389 µm.
    assert statistics.median(v for v in lowest if v is not None) == pytest.approx(389.0, abs=1.5)


# == manual statements pinned by the s9 audit (§3-§6) ===============================================
def test_ball_attach_ack_resets_the_magazine_data_but_keeps_the_results(bench: Bench) -> None:
    m = bench.model
    bench.cycle(["A", "B"], State.DONE, ["1" * 29 + "0", "1" * 30], 5.0)
    m.do_ack()  # §4: MAGazine:COUNt and all STRip<k>:ID|MAP are reset by CYCLe:ACKnowledge
    assert (m.magazine_count, m.strip_ids[:2], m.input_maps[0]) == (1, ["", ""], "1" * 30)
    assert m.strip_status(2) == "DONE" and m.strip_results(2).strip_id == "B"
    m.do_reset()  # and by *RST, which clears the results too
    assert m.strip_status(1) == "NOTRUN" and refusal(m.strip_results, 1)[0] == 27


def test_ball_attach_strip_cycle_time_is_its_own_feed_to_exit(bench: Bench) -> None:
    m = bench.model
    bench.cycle(["A", "B", "C"], State.DONE, step_s=5.0)
    times = [m.strip_results(k).cycle_s for k in (1, 2, 3)]  # §5 summary; §8: 363 s each
    assert times == pytest.approx([363.3] * 3, abs=0.1)


def test_ball_attach_nitrogen_supply_low_is_nothing_with_nitrogen_off(bench: Bench) -> None:
    m = bench.model
    m.set_param("NITROGEN", "OFF")
    bench.start(["A", "B"], 10)
    m.set_condition("N2", True)  # §6: 6003 and interlock N2 only with nitrogen ON
    assert m.active_alarms == [] and m.state is State.RUNNING
    assert m.active_interlocks() == []


def test_ball_attach_cover_opened_in_a_cycle_holds_until_closed_and_cleared(bench: Bench) -> None:
    m = bench.model
    bench.start(["A", "B"], 10)
    m.set_condition("DOOR", True)
    assert m.active_alarms == [6002] and m.state is State.ALARM
    # the cover is still open
    assert cleared_after(m, lambda: m.set_condition("DOOR", False)) is State.PAUSED
    m.set_condition("DOOR", True)  # opened again while PAUSED: still "during cycle"
    assert m.active_alarms == [6002] and refusal(m.do_resume)[0] == 23
    released(m, "DOOR")
    m.do_resume()
    assert m.state is State.RUNNING


def test_ball_attach_start_while_heating_is_refused_with_temp() -> None:
    b = Bench()
    b.model.load_recipe("A-BALL050")
    b.advance(60)
    assert b.model.state is State.HEATING
    assert refusal(b.model.do_start) == (22, "TEMP")  # §6 TEMP; README §5 note 3


def test_ball_attach_estop_outside_a_cycle_stops_the_heaters_and_returns_after_clear(
    bench: Bench,
) -> None:
    m = bench.model
    m.set_condition("ESTOP", True)
    assert m.state is State.ALARM and m.active_alarms == [6001]
    bench.advance(120, 5.0)
    assert m.zone_air_c(7) < 245.0  # heaters off: the 250 °C zone cools
    assert released(m, "ESTOP") is State.HEATING  # previous state re-evaluated (README §6)
    bench.until(lambda: m.state is State.READY)


def test_ball_attach_abort_of_a_paused_magazine_with_an_empty_line_is_aborted_at_once(
    bench: Bench,
) -> None:
    m = bench.model
    bench.paused_with_an_empty_line()
    m.do_abort()  # §3: ABORTED when the last strip has exited: none is left in the line
    assert m.state is State.ABORTED
    assert m.strip_status(2) == "NOTRUN" and m.strip_results(2).result_map == "N" * 30
    assert m.strip_results(1).count("P") >= 28


def test_ball_attach_abort_class_alarm_cleared_during_inspection_drains_then_aborts(
    bench: Bench,
) -> None:
    m = bench.model
    bench.start(["A", "B"], 358)  # A inspecting
    m.set_condition("JAM", True)
    assert fixed(m, 6107) is State.RUNNING  # §3: ABORTED only when the last strip has exited
    assert m.phase == "DRAIN"
    bench.advance(10, 1.0)
    assert m.state is State.ABORTED and m.strip_status(1) == "DONE"


def test_ball_attach_after_an_estop_in_ready_ready_waits_60_s_in_band() -> None:
    """§3: READY once all zones have been within ±3.0 °C for 60 s, after an E-stop too."""
    bench = Bench()
    bench.ready()
    assert bench.ready_after_heater_off_alarm("ESTOP", 6001) == pytest.approx(58.5, abs=0.6)
