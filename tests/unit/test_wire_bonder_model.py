"""WB-3 process model (wire-bonder.md §3, §5, §6, §8; process-reference.md §2.4-2.5) and its
§4 command set without a link, on a hand-driven clock: exact sim seconds, no wall time."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace

import pytest

from sim.tool_model import State
from sim.wire_bonder.bonding import BondRates, BondSettings, bond_unit, mean_pull_gf, us_factor
from sim.wire_bonder.commands import WireBonderCommands
from sim.wire_bonder.model import WireBonderModel
from tests.support.model_bench import ModelBench, cleared, cleared_after, fixed, released
from tests.support.refusal import refusal

DEFAULTS = BondSettings("AU", 25, 45, 55, 250, 50)
QUIET = {"nsop_ppm": 0, "nsol_ppm": 0, "short_tail_ppm": 0, "wire_break_ppm": 0, "efo_fail_ppm": 0}


class Bench(ModelBench):
    """A WB-3 model (seed 7)."""

    model_type = WireBonderModel
    until_step_s = 0.25

    def __init__(self, **options: object) -> None:
        super().__init__(seed=7, **options)

    def ready(self, program: str = "A64", **params: str) -> WireBonderModel:
        """READY with ``program``, then with ``params`` (PAR) set."""
        self.until(lambda: self.model.state is State.IDLE, 30)
        self.model.load_recipe(program)
        self.until(lambda: self.model.state is State.READY, 900, 1.0)
        for name, text in params.items():
            self.model.set_param(name, text)
        self.until(lambda: self.model.state is State.READY, 60)
        return self.model

    def held_by(self, condition: str, after_s: float, step_s: float = 0.05) -> WireBonderModel:
        """READY, then a cycle run until ``condition``, set ``after_s`` into BOND, stops it."""
        model = self.ready()
        model.faults.condition(condition, phase="BOND", after_s=after_s)
        self.run(model.do_start, State.ALARM, step_s)
        return model

    def run_strip(self, strip_id: str = "S1", program: str = "A64") -> WireBonderModel:
        model = self.ready(program)
        model.set_strip_id(strip_id)
        model.do_start()
        self.until_in(State.DONE, State.ABORTED, State.ALARM)
        return model


@pytest.fixture
def bench() -> Bench:
    """A WB-3 with no random bond failures."""
    return Bench(**QUIET)


def rows(model: WireBonderModel) -> list[tuple[str, int, tuple[str, ...]]]:
    assert model.results is not None
    return [(r.result, r.defect, r.values) for r in model.results.rows]


# -- timing (§3, §8) ------------------------------------------------------------------------------
def test_wire_bonder_init_lasts_20_s() -> None:
    bench = Bench()
    took = bench.until(lambda: bench.model.state is State.IDLE, 30, 0.5)
    assert took == pytest.approx(20.0, abs=0.5)


def test_wire_bonder_heats_at_20_c_per_min_and_is_ready_after_30_s_in_band() -> None:
    bench = Bench()
    bench.until(lambda: bench.model.state is State.IDLE, 30)
    bench.model.load_recipe("A64")
    assert bench.model.state is State.HEATING
    bench.advance(60.0)
    assert bench.model.stage_pv_c == pytest.approx(45.0, abs=0.5)
    took = 60.0 + bench.until(lambda: bench.model.state is State.READY, 900, 1.0)
    assert took == pytest.approx(6.8 * 60, rel=0.1)  # §8: 25 -> 150 °C + 30 s stable ≈ 6.8 min


@pytest.mark.parametrize(
    ("program", "size", "pitch_mm", "wires"),
    [("A64", (3, 10), (17.3, 17.3), 64), ("B16", (8, 30), (5.3, 5.3), 16)],
)
def test_wire_bonder_strip_takes_about_216_s_in_format_a_and_684_s_in_format_b(
    program: str, size: tuple[int, int], pitch_mm: tuple[float, float], wires: int
) -> None:
    model = Bench(**QUIET).run_strip("S1", program)
    units = size[0] * size[1]
    assert (model.state, model.size, model.pitch_mm) == (State.DONE, size, pitch_mm)
    assert model.results is not None
    assert model.results.cycle_s == pytest.approx(units * (wires * 0.080 + 1.5) + 17, rel=0.02)
    assert {r for r, _, _ in rows(model)} == {"P"}
    assert model.results.summary_extra == (str(units * wires),)


def test_wire_bonder_wire_time_is_45_ms_plus_bond_times(bench: Bench) -> None:
    model = bench.ready(B1_TIME="50", B2_TIME="50")
    bench.run(model.do_start, State.DONE)
    assert bench.results.cycle_s == pytest.approx(30 * (64 * 0.145 + 1.5) + 17, rel=0.02)


# -- bond physics (process-reference §2.4, §2.5) -----------------------------------------------
def test_wire_bonder_nsop_rate_matches_ppm_setting_with_fixed_seed() -> None:
    rng = random.Random(11)
    rates = BondRates(nsop_ppm=2000, nsol_ppm=0, short_tail_ppm=0, wire_break_ppm=0, efo_fail_ppm=0)
    runs = [bond_unit(rng, 1, 64, DEFAULTS, rates) for _ in range(3000)]
    bonds = sum(run.attempted for run in runs)
    nsop = sum(run.stats().nsop for run in runs)
    expected = bonds * 2000e-6
    assert abs(nsop - expected) < 4 * expected**0.5  # Poisson: within 4 sigma


def test_wire_bonder_default_non_stick_rates_are_within_1_to_50_ppm() -> None:
    rates = BondRates()
    assert 1 <= rates.nsop_ppm <= 50 and 1 <= rates.nsol_ppm <= 50
    assert us_factor(45, 45) == 1.0 and us_factor(80, 45) == 1.0


def test_wire_bonder_nsop_rises_with_low_ultrasonic_power() -> None:
    rates = BondRates(nsop_ppm=200, nsol_ppm=0, short_tail_ppm=0, wire_break_ppm=0, efo_fail_ppm=0)

    def failures(b1_us: int) -> int:
        rng = random.Random(3)
        settings = replace(DEFAULTS, b1_us_pct=b1_us)
        return sum(1 for _ in range(1000) if bond_unit(rng, 1, 64, settings, rates).stats().nsop)

    assert failures(15) > 5 * failures(45)


def test_wire_bonder_pull_strength_of_25_um_gold_is_about_10_gf_sigma_1() -> None:
    rng = random.Random(5)
    pulls = [bond_unit(rng, 1, 64, DEFAULTS, BondRates()).pull_gf for _ in range(500)]
    values = [p for p in pulls if p is not None]
    assert 8.0 <= statistics.mean(values) <= 12.0
    assert statistics.stdev(values) == pytest.approx(1.0, rel=0.15)
    assert mean_pull_gf(replace(DEFAULTS, wire_d_um=33)) > mean_pull_gf(DEFAULTS)


def test_wire_bonder_fab_and_loop_scatter_within_tolerance_at_defaults() -> None:
    model = Bench(**QUIET).run_strip()
    fabs = [float(v[4]) for _, _, v in rows(model)]
    loops = [int(v[5]) for _, _, v in rows(model)]
    assert all(abs(f - 50) < 2 for f in fabs) and len(set(fabs)) > 1
    assert all(abs(loop - 250) < 10 for loop in loops)


def test_wire_bonder_fab_at_the_edge_of_the_ratio_fails_3506_and_low_loop_fails_3507() -> None:
    bench = Bench(**QUIET)
    model = bench.ready(FAB_D="38")  # 1.52 × WIRE_D: the EFO forms small balls
    bench.run(model.do_start, State.DONE)
    assert {(r, d) for r, d, _ in rows(model)} == {("F", 3506)}
    model.do_ack()
    model.set_param("FAB_D", "50")
    model.set_param("LOOP_H", "100")  # below 6 × WIRE_D: loops come out high
    bench.until(lambda: model.state is State.READY, 60)
    bench.run(model.do_start, State.DONE)
    assert {(r, d) for r, d, _ in rows(model)} == {("F", 3507)}
    assert all(v[0] == "64" for _, _, v in rows(model))


# -- world ------------------------------------------------------------------------------------
def test_wire_bonder_bonds_only_sites_with_a_die_and_records_the_world(bench: Bench) -> None:
    strip = bench.world.strip("KNOWN-1", 3, 10)
    for site_id, site in strip.sites.items():
        site.die_placed = site_id % 2 == 1
    strip.site(3).flip_chip_bonded = True
    model = bench.run_strip("KNOWN-1")
    for site_id, (result, defect, values) in enumerate(rows(model), start=1):
        state = strip.site(site_id)
        if site_id % 2 == 1 and site_id != 3:
            assert (result, defect, values[0]) == ("P", 0, "64")
            assert (state.wires_bonded, state.wires_total) == (64, 64)
            assert state.wire_pull_gf is not None and 6 < state.wire_pull_gf < 14
        else:
            assert (result, defect, values) == ("F", 3505, ("0", "64", "0", "0", "", ""))
            assert state.defects["wire-bonder"] == 3505 and state.wires_bonded == 0
    assert bench.results.summary_extra == (str(14 * 64),)


def test_wire_bonder_bonds_every_site_of_a_strip_the_world_has_not_seen(bench: Bench) -> None:
    model = bench.run_strip("NEW-1")
    assert {r for r, _, _ in rows(model)} == {"P"}
    strip = bench.world_strip("NEW-1")
    assert strip.site(30).wires_bonded == 64


def test_wire_bonder_skips_input_map_zero_sites(bench: Bench) -> None:
    model = bench.ready()
    model.set_input_map("0" + "1" * 28 + "0")
    bench.run(model.do_start, State.DONE)
    assert model.results is not None and model.results.result_map == "X" + "P" * 28 + "X"
    assert rows(model)[0][2] == ("",) * 6


# -- consumables --------------------------------------------------------------------------------
def test_wire_bonder_counts_two_capillary_bonds_and_3_mm_of_wire_per_wire() -> None:
    model = Bench(**QUIET).run_strip()
    assert model.capillary_bonds == 2 * 30 * 64
    assert model.wire_m == pytest.approx(500.0 - 0.003 * 30 * 64)


def test_wire_bonder_cons_counts_each_wire_as_it_is_bonded_mid_unit(bench: Bench) -> None:
    """§5: each wire adds 2 bonds and 3 mm; CONS? mid-unit reports the wires bonded so far,
    not the counter of the last finished unit."""
    model = bench.ready()
    model.do_start()
    bench.until(lambda: model.unit is not None, 60, 0.05)
    bench.advance(25 * 0.080 + 0.01)  # 25 wires of unit 1 bonded
    bonds, limit, wire_m = WireBonderCommands(model).execute("CONS?")[len("CONS=") :].split(",")
    assert (int(bonds), int(limit), wire_m) == (50, 1_000_000, f"{500.0 - 25 * 0.003:.1f}")
    bench.advance(39 * 0.080 + 0.5)  # unit 1 finished
    assert WireBonderCommands(model).execute("CONS?").startswith("CONS=128,")


def test_wire_bonder_capillary_life_warns_at_90_percent_and_holds_before_the_next_unit() -> None:
    bench = Bench(capillary_bonds=99_000, **QUIET)
    model = bench.ready(CAP_LIMIT="100000")
    assert model.active_alarms == [3201]  # W: no state change
    assert model.state is State.READY
    bench.run(model.do_start, State.ALARM)
    done, total, _, _ = model.progress()
    assert model.active_alarms == [3201, 3108] and model.current_unit() == done + 1
    assert model.capillary_bonds >= 100_000 > model.capillary_bonds - 128
    # the capillary must be changed; CAPRESET is allowed in ALARM (the remedy for 3108)
    assert cleared_after(model, model.reset_capillary) is State.PAUSED
    assert model.active_alarms == []
    bench.run(model.do_resume, State.DONE)
    assert {r for r, _, _ in rows(model)} == {"P"} and (done, total) != (30, 30)


def test_wire_bonder_capillary_worn_out_by_the_last_unit_holds_before_unload() -> None:
    """§6 3108 (H), README §6: CAP_LIMIT reached on the strip's last unit holds after that unit
    (§3); the strip is unloaded after CAPRESET, ALMCLR and RESUME."""
    bench = Bench(capillary_bonds=100_000 - 30 * 128 + 10, **QUIET)
    model = bench.ready(CAP_LIMIT="100000")
    model.do_start()
    bench.until(lambda: model.state in (State.ALARM, State.DONE), 400)
    assert model.state is State.ALARM and model.active_alarms == [3201, 3108]
    assert (model.phase, model.current_unit(), *model.progress()[:2]) == ("BOND", 30, 30, 30)
    bench.advance(10.0)
    assert model.phase == "BOND"  # held: the strip is not unloaded yet
    model.reset_capillary()
    assert cleared(model) is State.PAUSED
    bench.run(model.do_resume, State.DONE)
    assert {r for r, _, _ in rows(model)} == {"P"}


def test_wire_bonder_wire_spool_empty_holds_and_blocks_resume_until_a_new_spool() -> None:
    bench = Bench(wire_m=5 * 64 * 0.003 + 0.05, **QUIET)
    model = bench.ready()
    assert 3202 in model.active_alarms  # W: spool low (< 50 m)
    bench.run(model.do_start, State.ALARM)
    assert 3109 in model.active_alarms
    assert (model.current_unit(), *model.progress()[:2]) == (6, 5, 30)  # the manual's 17,16,29
    assert refusal(model.do_resume) == (23, "3109")
    # operator loads a new spool
    assert cleared_after(model, lambda: model.fix(3109)) is State.PAUSED
    bench.run(model.do_resume, State.DONE)
    assert {r for r, _, _ in rows(model)} == {"P"}


def test_wire_bonder_spool_empty_and_capillary_limit_are_start_interlocks() -> None:
    bench = Bench(wire_m=0.1, **QUIET)
    model = bench.ready()
    assert refusal(model.do_start) == (22, "WIRE")
    model.fix(3109)
    model.capillary_bonds = model.cap_limit
    assert refusal(model.do_start) == (22, "CAPILLARY")


# -- non-stick limit, wire break, EFO ------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "defect", "alarm", "fields"),
    [
        ("nsop_ppm", 3501, 3101, ("0", "64", "1", "0")),  # ball did not stick on wire 1
        ("nsol_ppm", 3502, 3102, ("0", "64", "0", "1")),  # stitch did not stick on wire 1
        ("short_tail_ppm", 3503, 3103, ("1", "64", "0", "0")),  # wire 1 bonded, tail short
    ],
)
def test_wire_bonder_consecutive_failed_units_raise_hold_alarm_at_end_of_unit(
    rate: str, defect: int, alarm: int, fields: tuple[str, ...]
) -> None:
    bench = Bench(**{**QUIET, rate: 1e6})
    model = bench.ready(CONSEC_LIM="2")
    bench.run(model.do_start, State.ALARM)
    assert model.active_alarms == [alarm]
    assert (model.current_unit(), *model.progress()[:2]) == (2, 2, 30)
    assert [(r, d, v[:4]) for r, d, v in rows(model)[:2]] == [("F", defect, fields)] * 2
    assert cleared(model) is State.PAUSED  # event alarm: goes with the first clear
    model.do_abort()
    assert model.state is State.ABORTED
    assert model.results is not None and model.results.result_map == "FF" + "N" * 28


@pytest.mark.parametrize(
    ("rate", "alarm", "first_unit"),
    [
        ("wire_break_ppm", 3104, ("F", 3504, ("63", "64"))),
        ("efo_fail_ppm", 3105, ("P", 0, ("64", "64"))),
    ],
)
def test_wire_bonder_wire_break_or_efo_fail_stops_at_once_and_the_unit_ends_after_resume(
    rate: str, alarm: int, first_unit: tuple[str, int, tuple[str, str]]
) -> None:
    bench = Bench(**{**QUIET, rate: 1e6})
    model = bench.ready()
    bench.run(model.do_start, State.ALARM, 0.01)
    assert model.active_alarms == [alarm] and model.current_unit() == 1
    assert model.progress()[0] == 0  # unit 1 is still in progress
    model.rates = BondRates(**{k: 0 for k in QUIET})
    assert cleared(model) is State.PAUSED
    bench.run(model.do_resume, State.DONE)
    result, defect, values = rows(model)[0]
    assert (result, defect, values[:2]) == first_unit
    assert {r for r, _, _ in rows(model)[1:]} == {"P"}


def test_wire_bonder_injected_wire_break_mid_unit_marks_the_unit_3504() -> None:
    bench = Bench(**QUIET)
    model = bench.ready()
    model.faults.alarm(3104, phase="BOND", after_s=1.5 + 10 * 0.08 + 0.01)
    bench.run(model.do_start, State.ALARM, 0.05)
    assert model.current_unit() == 1
    model.clear_alarms()
    bench.run(model.do_resume, State.DONE)
    assert rows(model)[0][:2] == ("F", 3504) and rows(model)[0][2][0] == "63"


# -- alarms of each class mid-cycle, pause, abort ------------------------------------------------
def test_wire_bonder_a_class_alarm_mid_unit_fails_that_unit_3508_and_leaves_the_rest_n() -> None:
    bench = Bench(**QUIET)
    model = bench.held_by("ESTOP", 1.5 + 32 * 0.08)  # mid unit 1
    assert model.active_alarms == [3001]
    result, defect, values = rows(model)[0]
    assert (result, defect) == ("F", 3508) and 30 <= int(values[0]) <= 33
    assert {r for r, _, _ in rows(model)[1:]} == {"N"}
    assert cleared_after(model, lambda: model.set_condition("ESTOP", False)) is State.ABORTED


def test_wire_bonder_estop_held_for_minutes_mid_cycle_clears_to_aborted_without_3107() -> None:
    """README §6: the stage cooling under an E-stop that stopped the cycle is no process
    deviation: no 3107, and the clear after the release goes to ABORTED."""
    bench = Bench(**QUIET)
    model = bench.held_by("ESTOP", 1.5 + 32 * 0.08)  # mid unit 1
    bench.advance(300.0)  # five minutes pressed: the stage is far below STAGE_T
    assert abs(model.stage_pv_c - model.stage_sp_c) > 10.0
    assert model.active_alarms == [3001]
    assert released(model, "ESTOP") is State.ABORTED


def test_wire_bonder_strip_fiducial_not_found_in_align_leaves_every_unit_n(bench: Bench) -> None:
    model = bench.ready()
    model.faults.alarm(3110, phase="ALIGN", after_s=2.0)
    bench.run(model.do_start, State.ALARM)
    assert cleared(model) is State.ABORTED
    assert model.results is not None and model.results.result_map == "N" * 30


def test_wire_bonder_h_alarm_mid_unit_holds_at_the_end_of_that_unit(bench: Bench) -> None:
    model = bench.held_by("AIR", 1.5 + 20 * 0.08)  # mid unit 1
    assert model.progress()[0] == 0  # unit 1 not done yet: it is finished first
    bench.advance(30.0)
    assert (model.current_unit(), model.progress()[0]) == (1, 1)
    assert cleared_after(model, lambda: model.set_condition("AIR", False)) is State.PAUSED
    refusal(model.do_start)
    bench.run(model.do_resume, State.DONE)


def test_wire_bonder_w_alarm_mid_cycle_changes_no_state(bench: Bench) -> None:
    model = bench.ready()
    model.faults.alarm(3202, phase="BOND", after_s=10.0)
    bench.run(model.do_start, State.DONE)
    assert model.active_alarms == [3202]
    model.clear_alarms()
    assert model.active_alarms == []


def test_wire_bonder_pause_takes_effect_at_the_end_of_the_current_unit(bench: Bench) -> None:
    model = bench.ready()
    model.do_start()
    bench.until(lambda: model.current_unit() == 2 and model.unit is not None, 2000, 0.05)
    model.do_pause()
    assert model.state is State.PAUSED
    bench.advance(60.0)
    assert (model.current_unit(), model.progress()[0]) == (2, 2)
    bench.run(model.do_resume, State.DONE)


def test_wire_bonder_host_abort_fails_the_unit_in_progress_3508(bench: Bench) -> None:
    model = bench.ready()
    model.do_start()
    bench.until(lambda: model.current_unit() == 4 and model.unit is not None, 2000, 0.05)
    bench.advance(1.0)
    model.do_abort()
    assert model.state is State.ABORTED
    assert model.results is not None and model.results.result_map == "PPPF" + "N" * 26
    assert rows(model)[3][1] == 3508


# -- interlocks, settings and conditions --------------------------------------------------------
def test_wire_bonder_start_checks_state_then_settings_then_interlocks_in_table_order() -> None:
    bench = Bench(**QUIET)
    bench.until(lambda: bench.model.state is State.IDLE, 30)
    model = bench.model
    assert refusal(model.do_start)[0] == 24
    model.load_recipe("A64")
    assert refusal(model.do_start) == (22, "TEMP")
    bench.until(lambda: model.state is State.READY, 900, 1.0)
    model.set_param("FAB_D", "80")  # 3.2 × WIRE_D
    model.set_condition("AIR", True)
    model.set_condition("DOOR", True)
    assert refusal(model.do_start)[0] == 14
    model.set_param("FAB_D", "60")
    assert refusal(model.do_start) == (22, "DOOR")
    model.set_condition("DOOR", False)
    assert refusal(model.do_start) == (22, "AIR")
    assert model.active_alarms == []  # conditions outside a cycle raise no alarm


def test_wire_bonder_copper_needs_forming_gas(bench: Bench) -> None:
    model = bench.ready()
    model.set_param("WIRE_MAT", "CU")
    model.set_param("GAS_FLOW", "0.3")
    assert refusal(model.do_start)[0] == 14
    model.set_param("GAS_FLOW", "0.6")
    model.set_condition("GAS", True)
    assert refusal(model.do_start) == (22, "GAS")
    model.set_condition("GAS", False)
    model.faults.condition("GAS", phase="BOND", after_s=5.0)
    bench.run(model.do_start, State.ALARM, 0.05)
    assert model.active_alarms == [3003]


def test_wire_bonder_stage_out_of_band_for_30_s_in_a_cycle_raises_3107(bench: Bench) -> None:
    model = bench.held_by("STAGE", 1.0, 0.5)
    assert model.active_alarms == [3107]
    assert model.stage_sp_c - model.stage_pv_c > 10.0


def test_wire_bonder_stage_alarm_3107_stays_while_the_stage_is_still_out_of_band() -> None:
    """README §6: a deviation still present is a persisting cause; ALMCLR must not let the
    host RESUME bonding on a stage 15 °C cold. It goes once the stage is back within 10 °C."""
    bench = Bench(**QUIET)
    model = bench.held_by("STAGE", 1.0, 0.5)
    bench.advance(10.0)
    assert cleared(model) is State.ALARM
    assert model.active_alarms == [3107]
    assert refusal(model.do_resume) == (23, "3107")
    model.fix(3107)  # heater power back: the stage heats at 20 °C/min
    bench.until(lambda: abs(model.stage_pv_c - model.stage_sp_c) <= 10.0, 120)
    assert cleared(model) is State.PAUSED
    assert model.active_alarms == []


def test_wire_bonder_stage_deviation_counts_while_the_cycle_is_held_in_alarm(bench: Bench) -> None:
    """§6 3107 "during a cycle": a cycle held in ALARM by another hold is still active
    (README §5), so a stage out of band for 30 s there raises 3107 and RESUME is refused."""
    model = bench.held_by("AIR", 3.0)
    model.set_condition("STAGE", True)
    bench.advance(100.0)  # > 10 °C off after 60 s, then 30 s more
    assert model.active_alarms == [3004, 3107]
    assert released(model, "AIR") is State.ALARM
    assert refusal(model.do_resume) == (23, "3107")


def test_wire_bonder_stage_out_of_band_outside_a_cycle_only_falls_back_to_heating() -> None:
    """README §5: READY falls back to HEATING when the stage leaves the band; deviation
    alarms (3107) are raised only during a cycle; back in band for 30 s it is READY again."""
    bench = Bench(**QUIET)
    model = bench.ready()
    model.set_condition("STAGE", True)
    bench.advance(200.0)  # the stage sags 25 °C, far more than 30 s
    assert model.state is State.HEATING and model.active_alarms == []
    assert refusal(model.do_start) == (22, "TEMP")
    model.fix(3107)
    took = bench.until(lambda: model.state is State.READY, 200, 0.5)
    assert took == pytest.approx((25.0 - 3.0) / (20.0 / 60.0) + 30.0, abs=1.0)


def test_wire_bonder_ack_with_the_stage_out_of_band_returns_to_heating(bench: Bench) -> None:
    """README §5: ACK -> READY, or HEATING if conditions are out of band."""
    model = bench.run_strip()
    assert model.state is State.DONE
    model.set_condition("STAGE", True)
    bench.advance(100.0)
    model.do_ack()
    assert model.state is State.HEATING and model.active_alarms == []


def test_wire_bonder_estop_outside_a_cycle_switches_the_heater_off_until_released() -> None:
    """§6 3001 (A) in READY: ALARM, heater off while pressed (decision); released and
    cleared, the previous state is re-evaluated: the stage has cooled, so HEATING."""
    bench = Bench(**QUIET)
    model = bench.ready()
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM and model.active_alarms == [3001]
    bench.advance(60.0)
    assert model.stage_pv_c == pytest.approx(150.0 - 10.0, abs=0.2)  # free cooling 10 °C/min
    assert cleared_after(model, lambda: model.set_condition("ESTOP", False)) is State.HEATING
    assert model.active_alarms == []


def test_wire_bonder_gas_alarm_stays_while_gas_is_low_and_abort_ends_the_held_cycle() -> None:
    """§6 3003 (H, Cu): held at the end of the unit while the gas is low (RESUME 23); ABORT in
    ALARM is ABORTED once cleared (README §5), finished units kept, the rest N."""
    bench = Bench(**QUIET)
    model = bench.ready()
    model.set_param("WIRE_MAT", "CU")
    model.faults.condition("GAS", phase="BOND", after_s=3.0)
    bench.run(model.do_start, State.ALARM, 0.05)
    bench.advance(20.0)
    assert (model.current_unit(), model.progress()[0]) == (1, 1)  # unit 1 finished first
    assert cleared(model) is State.ALARM
    assert model.active_alarms == [3003]
    assert refusal(model.do_resume) == (23, "3003")
    model.do_abort()
    assert model.state is State.ALARM
    assert fixed(model, 3003) is State.ABORTED
    assert model.results is not None and model.results.result_map == "P" + "N" * 29


def test_wire_bonder_heater_fault_is_an_abort_alarm_in_any_state(bench: Bench) -> None:
    model = bench.ready()
    model.set_condition("HEATER", True)
    assert model.state is State.ALARM and model.active_alarms == [3111]
    assert released(model, "HEATER") in (State.HEATING, State.READY)


def test_wire_bonder_cover_open_while_paused_only_blocks_resume(bench: Bench) -> None:
    model = bench.ready()
    model.do_start()
    bench.advance(20.0)
    model.do_pause()
    bench.advance(20.0)
    model.set_condition("DOOR", True)
    assert model.state is State.PAUSED and model.active_alarms == []
    assert refusal(model.do_resume) == (22, "DOOR")
    model.set_condition("DOOR", False)
    model.do_resume()
    model.set_condition("DOOR", True)
    assert model.active_alarms == [3002] and model.state is State.ALARM


def test_wire_bonder_impedance_alarm_goes_with_a_new_capillary(bench: Bench) -> None:
    model = bench.held_by("IMPEDANCE", 3.0)
    assert model.active_alarms == [3106]
    bench.advance(20.0)
    model.reset_capillary()
    assert cleared(model) is State.PAUSED
    assert model.capillary_bonds == 0


def test_wire_bonder_impedance_fault_present_at_start_holds_before_the_first_unit() -> None:
    """§6 3106 (H) is no START interlock: a cracked capillary already there when the cycle
    starts is found at the first unit and holds the cycle before it bonds with it."""
    bench = Bench(**QUIET)
    model = bench.ready()
    model.set_condition("IMPEDANCE", True)
    assert model.state is State.READY and model.active_alarms == []
    model.do_start()
    bench.until(lambda: model.state in (State.ALARM, State.DONE), 400)
    assert model.active_alarms == [3106]
    assert (model.current_unit(), model.progress()[0], model.capillary_bonds) == (1, 0, 0)
    model.reset_capillary()
    model.clear_alarms()
    bench.run(model.do_resume, State.DONE)
    assert {r for r, _, _ in rows(model)} == {"P"}


class Tool:
    """Command text in, reply or catalogue code out, on a manual clock."""

    def __init__(self, **options: object) -> None:
        self.bench = Bench(**{**QUIET, **options})
        self.model = self.bench.model
        self.commands = WireBonderCommands(self.model)

    def __call__(self, text: str) -> str:
        return self.commands.execute(text)

    def code(self, text: str) -> int:
        return refusal(self.commands.execute, text)[0]

    def idle(self) -> Tool:
        self.bench.until(lambda: self.model.state is State.IDLE, 30)
        return self

    def ready(self, program: str = "A64") -> Tool:
        self.idle()
        assert self(f"PROG {program}") == "OK"
        self.bench.until(lambda: self.model.state is State.READY, 900, 1.0)
        return self

    def done(self) -> Tool:
        self.ready()
        assert self("STRIP LA2403-017") == "OK"
        assert self("MAP 30,0") == "OK"
        assert self("START") == "OK"
        self.bench.until(lambda: self.model.state is State.DONE, 2000)
        return self


def test_wire_bonder_identity_status_and_busy_during_init() -> None:
    tool = Tool()
    assert tool("IDN?") == "IDN=GENERIC,WB-3,WB3-00042,3.4.2"
    assert tool("idn?") == tool("IDN?")  # keywords are case-insensitive
    assert tool("STAT?") == "STAT=INIT,NONE,0,0,0,0"
    assert tool.code("PROG A64") == 21
    assert tool("LASTERR?") == "LASTERR=21,Busy;INIT"
    tool.idle()
    assert tool("STAT?") == "STAT=IDLE,NONE,0,0,0,0"


def test_wire_bonder_program_commands() -> None:
    tool = Tool().idle()
    assert tool("PROG?") == "PROG=,0"
    assert tool("PLIST? 1") == "PLIST=2,A64,B16"
    assert tool("PLIST? 3") == "PLIST=2"
    assert tool.code("PSAVE") == 24
    assert tool.code("PROG C99") == 25
    assert tool.code("PROG bad/name") == 12
    assert tool("PROG B16") == "OK"
    assert tool("STAT?") == "STAT=HEATING,NONE,0,0,0,0"
    assert tool("PROG?") == "PROG=B16,16"
    assert tool("SIZE?") == "SIZE=8,30"
    assert tool("PITCH?") == "PITCH=5.300,5.300"
    assert tool("PAR LOOP_H,180") == "OK"
    assert tool("PROG?") == "PROG=B16*,16"
    assert tool("PSAVE B16-LOW") == "OK"
    assert tool("PROG?") == "PROG=B16*,16"
    assert tool("PSAVE") == "OK"
    assert tool("PROG?") == "PROG=B16,16"
    assert tool("PLIST? 1") == "PLIST=3,A64,B16,B16-LOW"
    assert tool("UNLOAD") == "OK"
    assert tool("STAT?") == "STAT=IDLE,NONE,0,0,0,0"
    assert tool("PROG?") == "PROG=,0"
    assert tool("PAR? WIRES") == "PAR=WIRES,0"
    assert tool("UNLOAD") == "OK"  # no-op in IDLE
    assert tool("PROG B16-LOW") == "OK"
    assert tool("PAR? LOOP_H") == "PAR=LOOP_H,180"


def test_wire_bonder_program_storage_holds_32() -> None:
    tool = Tool().idle()
    tool("PROG A64")
    for n in range(30):
        assert tool(f"PSAVE P{n:02d}") == "OK"
    assert tool.code("PSAVE ONE-TOO-MANY") == 28
    assert tool("PSAVE A64") == "OK"  # overwriting is fine
    assert tool("PLIST? 31") == "PLIST=32,P28,P29"


@pytest.mark.parametrize(
    ("name", "default", "low", "high", "inside", "reply"),
    [
        ("WIRE_D", "25", "17", "51", "33.4", "33"),
        ("STAGE_T", "150.0", "74.9", "220.1", "175.26", "175.3"),
        ("B1_FORCE", "25", "9", "101", "40", "40"),
        ("B1_TIME", "15", "4", "51", "10", "10"),
        ("B1_US", "45", "-1", "101", "0", "0"),
        ("B2_FORCE", "60", "19", "151", "150", "150"),
        ("B2_TIME", "20", "4", "51", "50", "50"),
        ("B2_US", "55", "-1", "101", "1e2", "100"),
        ("LOOP_H", "250", "99", "401", "+300", "300"),
        ("FAB_D", "50", "29", "81", "45", "45"),
        ("GAS_FLOW", "0.6", "0.1", "2.1", "1.25", "1.2"),
        ("CONSEC_LIM", "3", "0", "11", "10", "10"),
        ("CAP_LIMIT", "1000000", "99999", "2000001", "2000000", "2000000"),
    ],
)
def test_wire_bonder_parameters_have_manual_ranges_and_decimals(
    name: str, default: str, low: str, high: str, inside: str, reply: str
) -> None:
    tool = Tool().idle()
    assert tool(f"PAR? {name}") == f"PAR={name},{default}"
    assert tool.code(f"PAR {name},{low}") == 13
    assert tool.code(f"PAR {name},{high}") == 13
    assert tool.code(f"PAR {name},abc") == 12
    assert tool(f"par {name.lower()},{inside}") == "OK"
    assert tool(f"PAR? {name}") == f"PAR={name},{reply}"


def test_wire_bonder_enumerations_and_read_only_parameters() -> None:
    tool = Tool().idle()
    assert tool("PAR? WIRE_MAT") == "PAR=WIRE_MAT,AU"
    assert tool("PAR WIRE_MAT,cu") == "OK"
    assert tool("PAR? WIRE_MAT") == "PAR=WIRE_MAT,CU"
    assert tool.code("PAR WIRE_MAT,AG") == 12
    assert tool.code("PAR WIRES,32") == 12
    assert tool.code("PAR? NOPE") == 12
    assert tool.code("PAR STAGE_T") == 12


def test_wire_bonder_reset_restores_defaults_but_keeps_machine_settings() -> None:
    tool = Tool().ready()
    tool("PAR CAP_LIMIT,500000")
    tool("PAR STAGE_T,180")
    tool("SIZE 4,10")
    tool("STRIP X1")
    assert tool("RESET") == "OK"
    assert tool("STAT?") == "STAT=IDLE,NONE,0,0,0,0"
    assert tool("PROG?") == "PROG=,0"
    assert tool("PAR? STAGE_T") == "PAR=STAGE_T,150.0"
    assert tool("PAR? CAP_LIMIT") == "PAR=CAP_LIMIT,500000"
    assert tool("SIZE?") == "SIZE=3,10"
    assert tool("STRIP?") == "STRIP="
    assert tool("PITCH?") == "PITCH=17.300,17.300"


def test_wire_bonder_strip_data_and_map_pieces() -> None:
    tool = Tool().idle()
    assert tool("STRIP LA2403-017") == "OK"
    assert tool("STRIP?") == "STRIP=LA2403-017"
    assert tool.code("STRIP way-too-long-strip-id-21") == 12
    assert tool("STRIP") == "OK" and tool("STRIP?") == "STRIP="
    assert tool("SIZE 8,30") == "OK"
    assert tool("MAP? 1") == "MAP=1," + "1" * 200
    assert tool("MAP? 201") == "MAP=201," + "1" * 40
    assert tool("MAP 201," + "0" * 40) == "OK"
    assert tool("MAP 5,00") == "OK"
    assert tool("MAP? 1") == "MAP=1,1111" + "00" + "1" * 194
    assert tool.code("MAP 1," + "1" * 201) == 12
    assert tool.code("MAP 1,12") == 12
    assert tool.code("MAP 240,11") == 26
    assert tool.code("MAP? 241") == 13
    assert tool("SIZE 3,10") == "OK"
    assert tool("MAP? 1") == "MAP=1," + "1" * 30  # a size change resets the map
    assert tool.code("SIZE 33,10") == 13
    assert tool.code("SIZE 32,33") == 13
    assert tool.code("PITCH 0.5,5") == 13
    assert tool("PITCH 5.3,5.3004") == "OK"
    assert tool("PITCH?") == "PITCH=5.300,5.300"


def test_wire_bonder_cycle_results_queries() -> None:
    tool = Tool()
    tool.idle()
    assert (tool.code("RSUM?"), tool.code("RES? 1"), tool.code("RMAP? 1")) == (27, 27, 27)
    assert tool("RCNT?") == "RCNT=0"
    tool.done()
    assert tool("STAT?") == "STAT=DONE,NONE,0,29,29,0"
    summary = tool("RSUM?").split(",")
    assert summary[:6] == ["RSUM=LA2403-017", "30", "29", "0", "1", "0"]
    assert float(summary[6]) == pytest.approx(29 * (64 * 0.08 + 1.5) + 17, rel=0.02)
    assert summary[7] == str(29 * 64)
    assert tool("RCNT?") == "RCNT=30"
    assert tool("RMAP? 1") == "RMAP=1," + "P" * 29 + "X"
    assert tool("RMAP? 30") == "RMAP=30,X"
    records = tool("RES? 28,4").removeprefix("RES=").split(";")
    assert len(records) == 3 and records[2] == "30,X,0,,,,,,"
    assert records[0].startswith("28,P,0,64,64,0,0,")
    assert tool("RES? 1").count(";") == 0
    assert tool.code("RES? 1,5") == 13
    assert tool.code("RES? 1,0") == 13
    assert tool.code("RES? 31") == 13
    assert tool.code("RMAP? 31") == 13
    assert tool.code("RES? 1,2,3") == 12
    assert tool.code("START") == 20
    assert tool("LASTERR?") == "LASTERR=20,Not allowed in state;DONE"
    assert tool("ACK") == "OK"
    assert tool("STAT?") == "STAT=READY,NONE,0,0,0,0"
    assert tool("STRIP?") == "STRIP="
    assert tool("MAP? 1") == "MAP=1," + "1" * 30
    assert tool("RCNT?") == "RCNT=30"  # results stay readable until the next START


def test_wire_bonder_status_reports_phase_site_and_counts_during_a_cycle() -> None:
    tool = Tool().ready()
    tool("START")
    assert tool("STAT?") == "STAT=RUNNING,LOAD,0,0,30,0"
    tool.bench.advance(12.0 + 3 * (64 * 0.08 + 1.5) + 1.0)
    assert tool("STAT?") == "STAT=RUNNING,BOND,4,3,30,0"
    assert tool("PAUSE") == "OK"
    assert tool("PAUSE") == "OK"  # no-op in PAUSED
    assert tool("STAT?").startswith("STAT=PAUSED,BOND,4,3,30")
    tool.bench.advance(10.0)
    assert tool("STAT?") == "STAT=PAUSED,BOND,4,4,30,0"
    assert (tool.code("PAR STAGE_T,160"), tool.code("ACK"), tool("CAPRESET")) == (20, 20, "OK")
    assert tool("RESUME") == "OK"
    tool.bench.advance(3.0)  # unit 5: index done, wires under way
    assert tool.code("CAPRESET") == 20  # RUNNING
    assert tool("ABORT") == "OK"
    assert tool("STAT?") == "STAT=ABORTED,NONE,0,5,30,0"


def test_wire_bonder_temperature_consumables_and_capillary_reset() -> None:
    tool = Tool(capillary_bonds=950_000, wire_m=42.04).idle()
    assert tool("TEMP?") == "TEMP=25.0,150.0"
    assert tool("CONS?") == "CONS=950000,1000000,42.0"
    assert tool("ALM?") == "ALM=2,3201,3202"
    assert tool("ALMTXT? 3201") == "ALMTXT=3201,W,Capillary life 90 %"
    assert tool("ALMTXT? 3110") == "ALMTXT=3110,A,Strip fiducial not found"
    assert (tool.code("ALMTXT? 3999"), tool.code("ALMTXT? x")) == (12, 12)
    assert tool("CAPRESET") == "OK"
    assert tool("ALMCLR") == "OK"
    assert (tool("CONS?"), tool("ALM?")) == ("CONS=0,1000000,42.0", "ALM=1,3202")


def test_wire_bonder_alarm_and_interlock_rejections_carry_details() -> None:
    tool = Tool().ready()
    tool.model.set_condition("DOOR", True)
    assert tool.code("START") == 22
    assert tool("LASTERR?") == "LASTERR=22,Interlock active;DOOR"
    tool.model.set_condition("ESTOP", True)
    assert tool("STAT?") == "STAT=ALARM,NONE,0,0,0,1"
    assert tool.code("START") == 23
    assert tool("LASTERR?") == "LASTERR=23,Alarm active;3001"
    assert tool.code("ABORT") == 23  # no active cycle
    assert tool("CAPRESET") == "OK"  # allowed in ALARM
    tool.bench.advance(120.0)  # the heater is off while the E-stop is pressed
    tool.model.set_condition("ESTOP", False)
    tool("ALMCLR")
    assert tool("STAT?").startswith("STAT=HEATING")


def test_wire_bonder_syntax_and_unknown_commands() -> None:
    tool = Tool().idle()
    assert tool.code("FLY") == 10
    assert tool("LASTERR?") == "LASTERR=10,Unknown command"
    assert tool.code("") == 11
    assert tool.code(" STAT?") == 11
    assert tool.code("ST4T?") == 11
    assert tool.code("START 1") == 12
    assert tool.code("STAT? 1") == 12
    assert tool.code("PLIST?") == 12
    assert tool.code("PLIST? 0") == 13
    assert tool("LASTERR?") == "LASTERR=13,Out of range"  # details only for codes 20-23


@pytest.mark.parametrize(("condition", "alarm"), [("ESTOP", 3001), ("HEATER", 3111)])
def test_wire_bonder_after_a_heater_off_alarm_ready_waits_30_s_in_band(
    condition: str, alarm: int
) -> None:
    """§3: READY once the stage has been within ±3.0 °C of STAGE_T for 30 s, after an E-stop
    or a heater fault too."""
    bench = Bench()
    bench.ready()
    assert bench.ready_after_heater_off_alarm(condition, alarm) == pytest.approx(28.5, abs=0.6)
