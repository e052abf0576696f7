"""TM-4 process model on a hand-driven clock: mold-press.md §3/§8 phases and timings, the §5
cure model and results, §6 alarms and interlocks and the §4 IR/DI 100-125/16-22."""

from __future__ import annotations

import pytest

from sim.mold_press.cure import advance_cure, time_to_alpha
from sim.mold_press.model import MoldPressModel
from sim.mold_press.registers import MOLD_PRESS_REGISTERS, discrete_image
from sim.tool_model import State
from tests.support.modbus_model_bench import ModbusModelBench
from tests.support.model_bench import cleared, cleared_after, fixed
from tests.support.refusal import refusal

SHOT_PHASES = ("LOAD", "PREHEAT", "CLAMP", "TRANSFER", "CURE", "OPEN", "CLEAN", "UNLOAD")


class Bench(ModbusModelBench):
    """A mold press model (4 positions: result map IR 118, defects IR 122); heats to READY
    in 5 s steps, runs into a phase in 0.5 s steps."""

    model_type = MoldPressModel
    registers = MOLD_PRESS_REGISTERS
    result_map_ir, defects_ir, positions = 118, 122, 4
    ready_step_s, phase_step_s = 5.0, 0.5


@pytest.fixture
def bench() -> Bench:
    """A press READY with the default registers."""
    bench = Bench()
    bench.ready()
    return bench


# -- states and timings (§3, §8) -------------------------------------------------------------------


def test_mold_press_model_init_lasts_15_s_and_idles_with_heaters_off() -> None:
    bench = Bench()
    assert bench.until_in(State.IDLE) == pytest.approx(15.0, abs=1)
    bench.advance(600.0, step_s=10.0)
    assert bench.inputs()[100] == bench.inputs()[101] == 250


def test_mold_press_model_heats_at_5_c_per_min_and_is_ready_after_about_31_min() -> None:
    bench = Bench()
    bench.until_in(State.IDLE)
    bench.model.do_arm()
    assert bench.model.state is State.HEATING
    bench.advance(60.0)
    assert bench.inputs()[100] == pytest.approx(250 + 50, abs=2)
    assert not discrete_image(bench.model)[16]
    minutes = (60.0 + bench.until_in(State.READY)) / 60.0
    assert 31.0 * 0.95 <= minutes <= 31.0 * 1.05
    assert discrete_image(bench.model)[16]
    assert (bench.inputs()[100], bench.inputs()[101]) == pytest.approx((1750, 1750), abs=30)


def test_mold_press_model_shot_runs_the_manual_phases_in_179_s(bench: Bench) -> None:
    stock = bench.inputs()[106]
    bench.model.do_start()
    entered: dict[str, float] = {}
    began = bench.clock.t
    while bench.model.cycle_active:
        entered.setdefault(bench.model.phase, bench.clock.t - began)
        assert bench.inputs()[1] == SHOT_PHASES.index(bench.model.phase) + 1  # PHASE code
        bench.advance(0.5)
    total_s = bench.clock.t - began
    assert tuple(entered) == SHOT_PHASES
    ends = [*list(entered.values())[1:], total_s]
    durations = {phase: end - entered[phase] for phase, end in zip(entered, ends, strict=True)}
    nominal = {"LOAD": 10, "PREHEAT": 20, "CLAMP": 8, "TRANSFER": 13, "CURE": 90, "OPEN": 8}
    for phase, seconds in (nominal | {"CLEAN": 20, "UNLOAD": 10}).items():
        assert durations[phase] == pytest.approx(seconds, abs=0.6), phase
    assert total_s == pytest.approx(179.0, abs=0.6)
    assert bench.model.state is State.DONE
    assert bench.result_map() == "PPPP"
    assert bench.defects() == [0, 0, 0, 0]
    words = bench.inputs()
    assert words[106] == stock - 8  # PELLETS_PER_SHOT taken at LOAD
    assert words[110] == pytest.approx(130, abs=5)  # FILL_TIME 13.0 s
    assert words[113] == pytest.approx(910, abs=5)  # α at open, 103 s after transfer start
    assert words[114] == pytest.approx(209, abs=1)  # T_ALPHA03 at 175 °C
    assert (words[115], words[116]) == (1750, 1750)
    assert 475 <= words[117] <= 500  # CLAMP_FORCE_MIN ≥ 95 % of 500 kN
    assert 750 <= words[111] < 750 + 100  # PEAK_TRANSFER_P ≥ SP, below the 4112 limit
    assert abs(words[112] - 400) <= 15  # CULL_H within CULL_SP ± 0.15 mm


def test_mold_press_model_without_auto_clean_skips_clean() -> None:
    bench = Bench()
    bench.ready(AUTO_CLEAN=0)
    bench.model.do_start()
    phases: set[str] = set()
    while bench.model.cycle_active:
        phases.add(bench.model.phase)
        bench.advance(1.0)
    assert "CLEAN" not in phases
    assert bench.model.cycle_elapsed_s == pytest.approx(159.0, abs=0.6)


def test_mold_press_model_ack_returns_to_ready_and_results_last_until_start(
    bench: Bench,
) -> None:
    bench.model.apply_settings({"STRIP_ID_1": "LA2403-017"})
    bench.cycle()
    bench.model.do_ack()
    assert bench.model.state is State.READY
    assert bench.model.strip_id_at(1) == ""
    assert bench.result_map() == "PPPP"
    bench.model.do_start()
    assert all(address not in bench.inputs() for address in range(110, 126))


# -- cure model (§5) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "temperature_c", "seconds"),
    [(0.3, 175, 20.9), (0.8, 175, 65.2), (0.9, 175, 97.3), (0.8, 165, 95), (0.8, 185, 45)],
)
def test_mold_press_cure_model_matches_the_manual_points(
    alpha: float, temperature_c: float, seconds: float
) -> None:
    assert time_to_alpha(alpha, temperature_c) == pytest.approx(seconds, abs=0.5)
    assert advance_cure(0.0, temperature_c, seconds) == pytest.approx(alpha, abs=0.005)


def test_mold_press_model_alpha_pv_counts_from_transfer_start_and_is_0_outside_it(
    bench: Bench,
) -> None:
    bench.start_in("CLAMP", after_s=4.0)
    assert bench.inputs()[109] == 0
    bench.until(lambda: bench.model.phase == "CURE")
    bench.advance(65.2 - 13.0)  # 65.2 s after transfer start at 175 °C
    assert bench.inputs()[109] == pytest.approx(800, abs=10)
    assert bench.inputs()[108] == 52  # PHASE_ELAPSED_S: the cure timer starts at end of fill
    bench.until(lambda: bench.model.phase == "OPEN")
    bench.advance(1.0)
    assert bench.inputs()[109] == 0


# -- what the press reports while it runs (§4) -----------------------------------------------------


def test_mold_press_model_plunger_follows_the_three_stage_profile(bench: Bench) -> None:
    bench.start_in("CLAMP")
    assert discrete_image(bench.model)[18]  # home until the stroke starts
    bench.until(lambda: bench.model.phase == "TRANSFER", step_s=0.5)
    seen = []
    for seconds in (2.0, 6.0, 11.5):  # stage 1 at 6 mm/s, stage 2 at 3 mm/s, stage 3 at 2 mm/s
        bench.advance(seconds - bench.model.phase_elapsed_s, step_s=0.5)
        seen.append((bench.inputs()[104], bench.inputs()[105]))
    assert seen == [(120, 60), (200 + 80, 30), (400 + 30, 20)]
    assert not discrete_image(bench.model)[18]
    bench.until(lambda: bench.model.phase == "CURE")
    assert (bench.inputs()[104], bench.inputs()[105]) == (460, 0)  # fill position, holding


def test_mold_press_model_discrete_inputs_follow_the_shot(bench: Bench) -> None:
    bits = discrete_image(bench.model)
    assert [bits[k] for k in range(17, 23)] == [False, True, True, True, True, False]
    bench.start_in("CURE", after_s=10.0)
    bits = discrete_image(bench.model)
    assert (bits[16], bits[17], bits[18], bits[22]) == (True, True, False, True)
    assert (bench.inputs()[102], bench.inputs()[103]) == pytest.approx((500, 750), abs=10)
    bench.until(lambda: bench.model.phase == "CLEAN")
    bits = discrete_image(bench.model)
    assert (bits[17], bits[18], bits[22]) == (False, True, False)


def test_mold_press_model_vacuum_assist_off_never_reports_vacuum() -> None:
    bench = Bench()
    bench.ready(VACUUM_ASSIST=0)
    bench.start_in("CURE")
    assert not discrete_image(bench.model)[22]


def test_mold_press_model_load_mask_leaves_unloaded_positions_x() -> None:
    bench = Bench()
    bench.ready(LOAD_MASK=0b0101)
    assert bench.inputs()[107] == 0b0101
    bench.cycle()
    assert bench.result_map() == "PXPX"


# -- settings, PAUSE and interlocks (§3, §4, §6) ---------------------------------------------------


def test_mold_press_model_plunger_stages_out_of_order_refuse_arm_and_start(bench: Bench) -> None:
    bench.write(S2_END_POS=460, S3_END_POS=400)
    assert refusal(bench.model.do_start)[0] == 14
    assert refusal(bench.model.do_arm)[0] == 14


def test_mold_press_model_holding_ranges_are_the_manual_ranges() -> None:
    ranges = {d.name: (d.lo, d.hi) for d in MOLD_PRESS_REGISTERS.holding_defs if d.lo is not None}
    assert ranges["CHASE_TOP_SP"] == (1650, 1850)
    assert ranges["CURE_S"] == (60, 180)
    assert ranges["LOAD_MASK"] == (1, 15)
    assert ranges["ALPHA_MIN"] == (500, 990)
    assert ranges["PELLETS_PER_SHOT"] == (1, 16)
    defaults = MOLD_PRESS_REGISTERS.holding_words(Bench().model)
    example = [1750, 1750, 30, 500, 750, 200, 60, 400, 30, 460, 20, 90, 850, 1500, 20, 8, 400]
    assert [defaults[100 + k] for k in range(22)] == [*example, 50, 800, 1, 1, 15]


def test_mold_press_model_pause_only_before_clamp_and_holds_before_clamp(
    bench: Bench,
) -> None:
    bench.start_in("PREHEAT", after_s=5.0)
    bench.model.do_pause()
    bench.advance(60.0)
    assert (bench.model.state, bench.model.phase) == (State.PAUSED, "PREHEAT")
    assert not discrete_image(bench.model)[17]
    bench.model.do_resume()
    bench.until(lambda: bench.model.phase == "CLAMP")
    assert refusal(bench.model.do_pause) == (20, "RUNNING")
    bench.until(lambda: bench.model.phase == "CURE")
    assert refusal(bench.model.do_pause) == (20, "RUNNING")
    bench.finish()
    assert bench.result_map() == "PPPP"


@pytest.mark.parametrize(
    ("condition", "interlock"),
    [("DOOR", "DOOR"), ("HYDRAULIC", "HYDRAULIC"), ("AIR", "AIR"), ("LOAD", "LOAD")],
)
def test_mold_press_model_interlock_conditions_block_start(
    bench: Bench, condition: str, interlock: str
) -> None:
    bench.model.set_condition(condition, True)
    assert refusal(bench.model.do_start) == (22, interlock)
    bench.model.set_condition(condition, False)
    bench.model.do_start()
    assert bench.model.state is State.RUNNING


def test_mold_press_model_start_while_heating_names_temp() -> None:
    bench = Bench()
    bench.until_in(State.IDLE)
    bench.model.do_arm()
    bench.advance(60.0)
    assert refusal(bench.model.do_start) == (22, "TEMP")


def test_mold_press_model_short_pellet_stock_blocks_start_and_warns_low() -> None:
    bench = Bench(pellet_stock=20)
    bench.ready()
    bench.model.do_start()
    bench.advance(11.0)
    assert bench.model.active_alarms == [4201]  # < 4 × PELLETS_PER_SHOT: warning only
    assert bench.model.state is State.RUNNING
    bench.finish()
    bench.model.do_ack()
    bench.write(PELLETS_PER_SHOT=16)
    assert not discrete_image(bench.model)[21]
    assert refusal(bench.model.do_start) == (22, "PELLET")


# -- alarms (§3 hold points, §6) -------------------------------------------------------------------


def test_mold_press_model_hold_alarm_in_load_stops_before_clamp(bench: Bench) -> None:
    bench.start_in("LOAD", after_s=3.0)
    bench.model.set_condition("AIR", True)
    assert bench.model.state is State.ALARM
    bench.advance(120.0)
    assert bench.model.phase in ("LOAD", "PREHEAT")
    assert not discrete_image(bench.model)[17]
    # air still low
    assert cleared_after(bench.model, lambda: bench.model.fix(4005)) is State.PAUSED
    bench.model.do_resume()
    bench.finish()
    assert (bench.model.state, bench.result_map()) == (State.DONE, "PPPP")


def test_mold_press_model_hold_alarm_from_clamp_on_is_deferred_past_unload(
    bench: Bench,
) -> None:
    bench.start_in("CURE", after_s=20.0)
    bench.model.set_condition("AIR", True)
    assert bench.model.state is State.RUNNING
    assert 4005 in bench.model.active_alarms
    assert bench.finish() == pytest.approx(179.0 - 8 - 20 - 10 - 13 - 20, abs=1.0)
    assert bench.model.state is State.ALARM
    assert (bench.inputs()[1], bench.inputs()[2]) == (0, 4005)  # PHASE NONE, ALARM_CODE
    assert bench.result_map() == "PPPP"  # results available in ALARM
    assert fixed(bench.model, 4005) is State.DONE


@pytest.mark.parametrize(
    ("phase", "expected", "retract_speed", "clamped"),
    [("PREHEAT", "NNNN", 0, False), ("CURE", "FFFF", 66, True)],
)
def test_mold_press_model_estop_aborts_and_the_press_opens_after_clear(
    bench: Bench, phase: str, expected: str, retract_speed: int, clamped: bool
) -> None:
    """§3 A-class: the ram stops and retracts (7 s, from the fill position at 46/7 mm/s), the
    press opens and ejects once the E-stop is clear (8 s), ABORTED at the clear."""
    bench.start_in(phase, after_s=5.0)
    bench.model.set_condition("ESTOP", True)
    assert bench.model.state is State.ALARM
    assert (bench.inputs()[103], bench.inputs()[105], bench.inputs()[109]) == (0, retract_speed, 0)
    bench.advance(7.0)
    assert discrete_image(bench.model)[18]  # ram retracted
    assert discrete_image(bench.model)[17] is clamped  # closed while the E-stop is pressed
    assert fixed(bench.model, 4001) is State.ABORTED
    assert bench.result_map() == expected
    assert set(bench.defects()) == ({4507} if expected == "FFFF" else {0})
    bench.advance(8.0)
    bits = discrete_image(bench.model)
    assert (bits[17], bits[18], bench.inputs()[102], bench.inputs()[104]) == (False, True, 0, 0)


def test_mold_press_model_stroke_not_completed_aborts_as_a_short_shot(
    bench: Bench,
) -> None:
    bench.model.faults.alarm(4113, phase="TRANSFER", after_s=12.0)
    bench.start_in("TRANSFER", after_s=13.0)
    assert (bench.model.state, bench.model.blocking_alarm()) == (State.ALARM, 4113)
    assert not discrete_image(bench.model)[18]  # the abort sequence retracts it in 7 s
    bench.advance(7.0)
    assert discrete_image(bench.model)[18]  # ram retracted
    assert cleared(bench.model) is State.ABORTED
    assert (bench.result_map(), bench.defects()) == ("FFFF", [4501] * 4)


def test_mold_press_model_host_abort_in_cure_opens_the_press_and_fails_4507(
    bench: Bench,
) -> None:
    """ABORTED at once (README §5); the §8 abort sequence then retracts the ram (7 s) and
    opens and ejects (8 s)."""
    bench.start_in("CURE", after_s=30.0)
    bench.model.do_abort()
    assert bench.model.state is State.ABORTED
    assert (bench.result_map(), set(bench.defects())) == ("FFFF", {4507})
    bench.advance(15.0)
    words = bench.inputs()
    assert (words[102], words[103], words[104], words[105], words[109]) == (0, 0, 0, 0, 0)
    bits = discrete_image(bench.model)
    assert (bits[17], bits[18], bits[22]) == (False, True, False)
    bench.model.do_ack()
    assert bench.model.state is State.READY


def test_mold_press_model_hydraulic_loss_at_clamp_aborts_with_4111_before_transfer(
    bench: Bench,
) -> None:
    bench.model.faults.condition("HYDRAULIC", True, phase="CLAMP")
    bench.start_in("CLAMP")
    assert (bench.model.state, bench.model.active_alarms) == (State.RUNNING, [4004])  # deferred
    bench.until(lambda: 4111 in bench.model.active_alarms, step_s=0.5)
    assert (bench.model.state, bench.model.phase) == (State.ALARM, "CLAMP")
    assert bench.model.phase_elapsed_s == pytest.approx(10.0)  # force not reached within 10 s
    assert not discrete_image(bench.model)[17]
    fixed(bench.model, 4004)
    assert (bench.model.state, bench.result_map()) == (State.ABORTED, "NNNN")


def test_mold_press_model_hydraulics_back_within_10_s_clamp_2_s_late_and_mold(
    bench: Bench,
) -> None:
    bench.model.faults.condition("HYDRAULIC", True, phase="CLAMP", clear_after_s=5.0)
    bench.start_in("CLAMP")
    bench.until(lambda: bench.model.phase == "TRANSFER", step_s=0.5)
    assert discrete_image(bench.model)[17]
    bench.finish()
    assert bench.model.cycle_elapsed_s == pytest.approx(179.0 + 2.0, abs=0.6)
    assert (bench.model.state, bench.model.blocking_alarm()) == (State.ALARM, 4004)  # deferred
    assert bench.result_map() == "PPPP"


def test_mold_press_model_slow_fill_is_a_short_shot_and_two_in_a_row_hold() -> None:
    bench = Bench()
    bench.cycle(S3_SPEED=5)  # 3.33 + 6.67 + 12 s = 22 s > T_ALPHA03 20.9 s
    assert (bench.model.state, bench.result_map()) == (State.DONE, "FFFF")
    assert bench.defects() == [4501] * 4
    assert bench.inputs()[110] > bench.inputs()[114]
    bench.model.do_ack()
    bench.until_in(State.READY)
    bench.cycle()
    assert bench.model.state is State.ALARM  # 4119 held until the shot was through
    assert bench.model.blocking_alarm() == 4119
    assert cleared(bench.model) is State.DONE  # an event: goes with the first clear


def test_mold_press_model_cool_short_cure_is_under_cured() -> None:
    bench = Bench()
    bench.cycle(CHASE_TOP_SP=1650, CHASE_BOT_SP=1650, CURE_S=60)
    assert bench.defects() == [4502] * 4
    assert bench.inputs()[113] < 800


def test_mold_press_model_failed_heater_in_a_shot_raises_4101_and_marks_4504(
    bench: Bench,
) -> None:
    bench.start_in("CLAMP")
    bench.model.heater_top_ok = False  # cools at 2 °C/min: out of ±3 °C after 90 s
    bench.until(lambda: 4101 in bench.model.active_alarms)
    assert bench.model.phase == "CURE"
    assert bench.model.state is State.RUNNING  # deferred hold
    bench.finish()
    assert bench.model.state is State.ALARM
    assert bench.defects() == [4504] * 4
    assert bench.inputs()[115] < 1750 - 30 <= bench.inputs()[116]


def test_mold_press_model_chase_excursion_at_open_marks_4504(bench: Bench) -> None:
    bench.start_in("OPEN", after_s=1.0)
    bench.model.bottom_pv_c = 171.0  # a cold disturbance while the press opens
    bench.finish()
    assert bench.inputs()[115] < 1750 - 30
    assert bench.defects() == [4504] * 4


def test_mold_press_model_over_temperature_switches_the_heaters_off(bench: Bench) -> None:
    bench.model.raise_alarm(4103)
    assert bench.model.state is State.ALARM
    bench.advance(120.0)
    assert bench.inputs()[100] < 1750 - 30
    assert bench.inputs()[101] < 1750 - 30


def test_mold_press_model_chase_leaving_the_band_in_ready_falls_back_without_alarm(
    bench: Bench,
) -> None:
    bench.model.heater_bottom_ok = False
    bench.until(lambda: bench.model.state is State.HEATING, limit_s=300.0)
    bench.advance(60.0)
    assert bench.model.active_alarms == []  # deviation alarms only during a cycle


def test_mold_press_model_estop_outside_a_cycle_alarms_and_switches_the_heaters_off(
    bench: Bench,
) -> None:
    bench.model.set_condition("ESTOP", True)
    assert (bench.model.state, bench.model.blocking_alarm()) == (State.ALARM, 4001)
    bench.advance(120.0)
    assert bench.inputs()[100] < 1750 - 30
    # previous state re-evaluated
    assert cleared_after(bench.model, lambda: bench.model.fix(4001)) is State.HEATING


def test_mold_press_model_host_watchdog_warns_and_blocks_start(bench: Bench) -> None:
    bench.model.apply_settings({"HOST_WATCHDOG_S": 5})
    bench.advance(6.0)
    assert bench.model.active_alarms == [4003]
    assert bench.model.state is State.READY  # W class
    assert refusal(bench.model.do_start) == (22, "HOST_WDT")
    bench.model.apply_settings({"HOST_HEARTBEAT": 1})
    bench.model.do_start()
    assert bench.model.state is State.RUNNING


def test_mold_press_model_gives_the_same_shot_in_one_large_time_step() -> None:
    results = []
    for step_s in (0.5, 200.0):
        bench = Bench()
        bench.ready()
        bench.model.do_start()
        bench.advance(200.0, step_s=step_s)
        assert bench.model.state is State.DONE
        results.append({a: w for a, w in bench.inputs().items() if 100 <= a <= 125})
    assert results[0] == results[1]


def test_mold_press_after_an_estop_in_ready_ready_waits_60_s_in_band(bench: Bench) -> None:
    """§3: READY when both chases are within ±TEMP_BAND for 60 s, after an E-stop too."""
    assert bench.ready_after_heater_off_alarm("ESTOP", 4001) == pytest.approx(58.5, abs=0.6)


# -- the abort sequence (§3 A-class, §8 "Abort sequence 15 s") ------------------------------------


def test_mold_press_model_host_abort_retracts_the_ram_in_7_s_then_opens_and_ejects_in_8_s(
    bench: Bench,
) -> None:
    """ABORTED at once with PHASE NONE, no time left and CYCLE_ELAPSED_S held (README §5,
    §9.2); meanwhile the ram runs home from the fill position (46 mm in 7 s), the mold stays
    clamped until then, and the opening and ejection take the other 8 s of §8's 15 s."""
    bench.start_in("CURE", after_s=30.0)
    bench.model.do_abort()
    held_s = int(bench.model.cycle_elapsed_s)
    words, bits = bench.inputs(), discrete_image(bench.model)
    times = [words[a] for a in range(8, 12)]  # CYCLE_ELAPSED_S, CYCLE_REMAINING_S (u32)
    assert (bench.model.state, words[1], times) == (State.ABORTED, 0, [0, held_s, 0, 0])
    assert (words[104], words[105], words[103], words[109]) == (460, 66, 0, 0)
    assert (words[102], bits[17], bits[18]) == (pytest.approx(500, abs=10), True, False)
    bench.advance(3.5)
    assert (bench.inputs()[104], bench.inputs()[105]) == (230, 66)
    bench.advance(3.0)
    assert discrete_image(bench.model)[17] and not discrete_image(bench.model)[18]
    bench.advance(0.5)
    words, bits = bench.inputs(), discrete_image(bench.model)
    assert (words[102], words[104], words[105], bits[17], bits[18]) == (0, 0, 0, False, True)
    bench.advance(7.5)
    assert bench.model.abort_sequence.left_s == pytest.approx(0.5)  # ejecting
    bench.advance(0.5)
    assert not bench.model.abort_sequence.running
    assert (bench.inputs()[8], bench.inputs()[9], bench.model.state) == (0, held_s, State.ABORTED)


def test_mold_press_model_press_opens_once_the_estop_is_released_before_the_clear(
    bench: Bench,
) -> None:
    """§3: the press opens and ejects once E-stop and door are clear, not at ALARM_RESET: an
    E-stop held for a minute keeps the mold clamped; released, it opens while still in ALARM."""
    bench.start_in("CURE", after_s=30.0)
    bench.model.set_condition("ESTOP", True)
    bench.advance(60.0)
    assert discrete_image(bench.model)[17] and discrete_image(bench.model)[18]
    bench.model.set_condition("DOOR", True)
    bench.model.set_condition("ESTOP", False)
    bench.advance(10.0)
    assert discrete_image(bench.model)[17]  # the door is open: still clamped
    bench.model.set_condition("DOOR", False)
    bench.advance(1.0)
    assert (bench.model.state, bench.inputs()[102], discrete_image(bench.model)[17]) == (
        State.ALARM,
        0,
        False,
    )
    bench.advance(7.0)
    assert not bench.model.abort_sequence.running
    assert cleared(bench.model) is State.ABORTED


def test_mold_press_model_abort_sequence_refuses_no_command_and_ends_before_the_next_clamp(
    bench: Bench,
) -> None:
    """Decision (the laminator's abort vent): the sequence runs on after ACK and START; the
    next shot's LOAD and PREHEAT (>= 15 s) outlast it, so that shot clamps and molds as usual."""
    bench.start_in("TRANSFER", after_s=6.0)
    bench.model.do_abort()
    bench.model.do_ack()
    bench.model.do_start()
    assert (bench.model.state, bench.model.phase) == (State.RUNNING, "LOAD")
    assert bench.inputs()[104] > 0 and bench.inputs()[105] > 0  # still on its way home
    bench.until(lambda: bench.model.phase == "CLAMP", step_s=0.5)
    assert not bench.model.abort_sequence.running
    bench.until(lambda: bench.model.phase == "TRANSFER", step_s=0.5)
    assert discrete_image(bench.model)[17]
    bench.finish()
    assert (bench.model.state, bench.result_map()) == (State.DONE, "PPPP")


def test_mold_press_model_abort_sequence_reads_the_same_in_one_large_time_step() -> None:
    """The sequence is exact for any step (event-driven advance): the ram's position halfway
    and the press open after it read the same in 0.5 s and in one step."""
    seen = []
    for step_s in (0.5, 20.0):
        bench = Bench()
        bench.ready()
        bench.start_in("CURE", after_s=30.0)
        bench.model.do_abort()
        bench.advance(3.5, step_s=step_s)
        halfway = bench.inputs()[104]
        bench.advance(16.5, step_s=step_s)
        seen.append((halfway, bench.inputs()[102], bench.inputs()[104]))
    assert seen == [(230, 0, 0), (230, 0, 0)]
