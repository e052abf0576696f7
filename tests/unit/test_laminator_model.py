"""LM-8 process model on a hand-driven clock: timings of §9, profile of §3, alarms of §7,
results of §5 and what the laminated strips carry in the world."""

from __future__ import annotations

import random
import statistics

import pytest

from sim.clock import SimClock
from sim.laminator import serve
from sim.laminator.dwell_log import max_abs_and_max_of_normals, max_of_normals
from sim.laminator.model import LaminatorModel
from sim.laminator.registers import LAMINATOR_REGISTERS, discrete_image
from sim.tool_model import State
from sim.world import World
from tests.support.modbus_model_bench import ModbusModelBench
from tests.support.model_bench import cleared, cleared_after, fixed
from tests.support.refusal import refusal


class Bench(ModbusModelBench):
    """A laminator model (8 positions: result map IR 110, defects IR 118)."""

    model_type = LaminatorModel
    registers = LAMINATOR_REGISTERS
    result_map_ir, defects_ir, positions = 110, 118, 8


@pytest.fixture
def bench() -> Bench:
    return Bench()


# -- timings (§9) --------------------------------------------------------------------------------


def test_laminator_model_init_lasts_10_s(bench: Bench) -> None:
    assert bench.until_in(State.IDLE) == pytest.approx(10.0, abs=1.0)


def test_laminator_model_heats_up_at_8_c_per_min_to_ready_in_about_11_min(bench: Bench) -> None:
    bench.until_in(State.IDLE)
    bench.model.do_arm()
    assert bench.model.state is State.HEATING
    bench.advance(60.0)
    assert bench.model.top.pv_c == pytest.approx(25.0 + 8.0, abs=0.2)
    minutes = (60.0 + bench.until_in(State.READY)) / 60.0
    assert 11.0 * 0.9 <= minutes <= 11.0 * 1.1
    assert bench.inputs()[102] == 1000


def test_laminator_model_full_cycle_takes_about_94_min_with_the_manual_phases(bench: Bench) -> None:
    bench.ready(LOAD_MASK=0b11)
    bench.model.do_start()
    entered: dict[str, float] = {}
    began = bench.clock.t
    while bench.model.state is not State.DONE:
        entered.setdefault(bench.model.phase, bench.clock.t - began)
        bench.advance(1.0)
    total_s = bench.clock.t - began
    ends = [*list(entered.values())[1:], total_s]
    durations = {phase: end - entered[phase] for phase, end in zip(entered, ends, strict=True)}
    assert durations["CLOSE"] == pytest.approx(20, abs=2)
    assert durations["EVACUATE"] == pytest.approx(120 + 300, abs=5)
    assert durations["PRESSURIZE"] == pytest.approx(30, abs=2)
    assert durations["RAMP"] == pytest.approx(17.5 * 60, abs=5)
    assert durations["DWELL"] == pytest.approx(45 * 60, abs=2)
    assert durations["COOL"] == pytest.approx(22.5 * 60, abs=10)
    assert durations["VENT"] == pytest.approx(60, abs=2)
    assert total_s / 60.0 == pytest.approx(94.0, abs=1.0)
    assert bench.result_map() == "PPXXXXXX"
    words = bench.inputs()
    assert words[130] == 2700
    assert words[127] <= 20  # MAX_TEMP_DEV within TEMP_BAND
    assert 1700 <= words[126] <= 1720
    assert 190 <= words[128] <= 200
    assert words[129] <= 20
    assert words[8] * 65536 + words[9] == round(total_s)  # CYCLE_ELAPSED_S held in DONE
    bench.advance(600.0)
    assert bench.inputs()[9] == round(total_s) % 65536


def test_laminator_model_remaining_time_matches_the_manual_example(bench: Bench) -> None:
    bench.ready()
    bench.model.do_start()
    bench.until(lambda: bench.model.cycle_elapsed_s >= 3180)
    words = bench.inputs()
    assert (words[0], words[1]) == (4, 5)  # RUNNING, DWELL
    assert words[10] * 65536 + words[11] == pytest.approx(2450, abs=10)


def test_laminator_model_returns_from_unload_to_standby_after_ack(bench: Bench) -> None:
    bench.cycle()
    assert bench.model.top.pv_c == pytest.approx(80.0, abs=2.0)
    bench.model.do_ack()
    assert bench.model.state is State.HEATING
    minutes = bench.until_in(State.READY) / 60.0
    assert 2.5 <= minutes <= (2.5 + 1.0) * 1.1


def test_laminator_model_pumps_down_to_2_kpa_in_about_120_s(bench: Bench) -> None:
    bench.start_in("EVACUATE")
    assert bench.until(lambda: bench.model.chamber.pressure_kpa <= 2.0) == pytest.approx(120, abs=5)


def test_laminator_model_builds_2_mpa_in_30_s(bench: Bench) -> None:
    bench.start_in("PRESSURIZE")
    assert bench.until(lambda: bench.model.phase == "RAMP") == pytest.approx(30, abs=2)
    assert bench.inputs()[103] == 200


# -- set-point profile and holds (§3) ---------------------------------------------------------------


def test_laminator_model_ramps_the_active_setpoint_at_ramp_rate(bench: Bench) -> None:
    bench.start_in("RAMP", after_s=120.0, RAMP_RATE=25)
    assert bench.inputs()[102] == pytest.approx(1000 + 2.5 * 2 * 10, abs=2)


def test_laminator_model_pause_in_dwell_freezes_the_timer_and_holds_conditions(
    bench: Bench,
) -> None:
    bench.start_in("DWELL", after_s=100.0)
    remaining = bench.inputs()[107]
    bench.model.do_pause()
    assert bench.model.state is State.PAUSED
    bench.advance(600.0)
    words = bench.inputs()
    assert words[107] == remaining and words[1] == 5
    assert words[102] == 1700 and words[103] == pytest.approx(200, abs=2)
    assert discrete_image(bench.model)[16] and discrete_image(bench.model)[18]
    bench.run(bench.model.do_resume, State.DONE)
    assert bench.result_map() == "PPPPPPPP"


def test_laminator_model_pause_in_ramp_freezes_the_ramp(bench: Bench) -> None:
    bench.start_in("RAMP", after_s=300.0)
    bench.model.do_pause()
    setpoint = bench.inputs()[102]
    bench.advance(900.0)
    assert bench.inputs()[102] == setpoint
    assert bench.model.top.pv_c == pytest.approx(setpoint / 10, abs=1.0)


def test_laminator_model_pause_in_evacuate_freezes_the_timer_but_keeps_pumping(
    bench: Bench,
) -> None:
    bench.start_in("EVACUATE", after_s=30.0)
    bench.model.do_pause()
    bench.advance(600.0)
    assert bench.model.phase == "EVACUATE" and bench.model.evac_hold_s == 0.0
    assert bench.model.chamber.pressure_kpa < 1.0


def test_laminator_model_pause_in_close_takes_effect_at_end_of_phase(bench: Bench) -> None:
    bench.start_in("CLOSE", after_s=5.0)
    bench.model.do_pause()
    assert bench.model.state is State.PAUSED
    bench.advance(300.0)
    assert bench.model.phase == "CLOSE" and bench.model.chamber.pressure_kpa == pytest.approx(101.3)
    bench.model.do_resume()
    bench.advance(5.0)
    assert bench.model.phase == "EVACUATE"


def test_laminator_model_pause_in_vent_completes_the_cycle(bench: Bench) -> None:
    bench.start_in("VENT", after_s=5.0)
    bench.model.do_pause()
    bench.advance(120.0)
    assert bench.model.state is State.DONE


def test_laminator_model_hold_alarm_in_cool_freezes_the_ramp(bench: Bench) -> None:
    bench.start_in("COOL", after_s=300.0)
    bench.model.set_condition("COOLING_WATER", True)
    assert (bench.model.state, bench.inputs()[2]) == (State.ALARM, 1005)
    setpoint = bench.inputs()[102]
    bench.advance(600.0)
    assert bench.inputs()[102] == setpoint
    assert cleared_after(bench.model, lambda: bench.model.fix(1005)) is State.PAUSED
    bench.run(bench.model.do_resume, State.DONE)
    assert bench.result_map() == "PPPPPPPP"


# -- settings and interlocks (§4, §7) --------------------------------------------------------------


def test_laminator_model_cross_check_refuses_arm_and_start(bench: Bench) -> None:
    bench.until_in(State.IDLE)
    bench.write(PLATEN_SP=1600, STANDBY_SP=1101)
    assert refusal(bench.model.do_arm)[0] == 14
    bench.write(STANDBY_SP=1100)
    bench.model.do_arm()
    bench.until_in(State.READY)
    bench.write(PLATEN_SP=1500)
    assert refusal(bench.model.do_start)[0] == 14


def test_laminator_model_load_interlock_follows_the_loader(bench: Bench) -> None:
    bench.ready(LOAD_MASK=0b1010)
    assert bench.inputs()[105] == 0b1010
    bench.model.set_condition("LOAD", True)
    assert bench.inputs()[105] == 0 and bench.inputs()[14] == 1 << 5
    assert refusal(bench.model.do_start) == (22, "LOAD")


def test_laminator_model_start_in_heating_names_temp(bench: Bench) -> None:
    bench.until_in(State.IDLE)
    bench.model.do_arm()
    bench.model.set_condition("DOOR", True)
    assert refusal(bench.model.do_start) == (22, "TEMP")


# -- alarms (§7) and results (§5) ---------------------------------------------------------------------


def test_laminator_model_abort_before_pressing_leaves_positions_n(bench: Bench) -> None:
    bench.start_in("EVACUATE", after_s=30.0, LOAD_MASK=0b11)
    bench.model.do_abort()
    assert bench.model.state is State.ABORTED
    assert bench.result_map() == "NNXXXXXX" and bench.defects()[:2] == [0, 0]


def test_laminator_model_abort_after_pressing_fails_positions_1504_and_vents_60_s(
    bench: Bench,
) -> None:
    bench.start_in("RAMP", 10.0, {1: "S-1"})
    bench.model.do_abort()
    assert bench.result_map() == "FXXXXXXX" and bench.defects()[0] == 1504
    assert discrete_image(bench.model)[19]  # door stays locked while venting
    bench.advance(30.0)
    assert discrete_image(bench.model)[19]
    bench.advance(31.0)
    assert not discrete_image(bench.model)[19]
    assert (bench.inputs()[103], bench.inputs()[104]) == (0, 1013)
    site = bench.world_strip("S-1").site(1)
    assert site.defects == {"laminator": 1504} and site.lamination_voids


def test_laminator_model_estop_aborts_and_enters_aborted_after_clear(bench: Bench) -> None:
    bench.start_in("DWELL", after_s=60.0, LOAD_MASK=0b1)
    bench.model.set_condition("ESTOP", True)
    assert (bench.model.state, bench.inputs()[2], bench.inputs()[16]) == (State.ALARM, 1001, 0b1)
    assert cleared_after(bench.model, lambda: bench.model.fix(1001)) is State.ABORTED
    assert bench.result_map() == "FXXXXXXX" and bench.defects()[0] == 1504


def test_laminator_model_door_opened_in_cycle_is_an_abort_alarm(bench: Bench) -> None:
    bench.start_in("CLOSE", after_s=5.0)
    bench.model.set_condition("DOOR", True)
    assert (bench.model.state, bench.inputs()[2], bench.inputs()[16]) == (State.ALARM, 1002, 0b10)


@pytest.mark.parametrize(
    ("condition", "code", "defect", "word_bit"),
    [
        ("HEATER_WEAK_TOP", 1104, 1501, (2, 3)),
        ("PRESS_LEAK", 1112, 1502, (3, 1)),
        ("VACUUM_LEAK", 1122, 1503, (3, 3)),
    ],
)
def test_laminator_model_dwell_deviation_warns_and_marks_the_load(
    bench: Bench, condition: str, code: int, defect: int, word_bit: tuple[int, int]
) -> None:
    bench.start_in("DWELL", 60.0, {1: "S-1"}, LOAD_MASK=0b11)
    bench.model.set_condition(condition, True)
    bench.advance(200.0)
    words = bench.inputs()
    assert code in bench.model.active_alarms and bench.model.state is State.RUNNING
    assert words[15] == 1 and words[15 + word_bit[0]] == 1 << word_bit[1]
    bench.model.fix(code)
    bench.until_in(State.DONE)
    assert bench.result_map() == "FFXXXXXX" and bench.defects()[:2] == [defect, defect]
    site = bench.world_strip("S-1").site(5)
    assert site.defects == {"laminator": defect}
    assert site.lamination_voids is (code != 1104)
    bench.model.clear_alarms()
    assert code not in bench.model.active_alarms


def test_laminator_model_dwell_timer_runs_only_in_band(bench: Bench) -> None:
    bench.start_in("DWELL", after_s=100.0)
    bench.model.set_condition("HEATER_WEAK_BOT", True)
    bench.advance(120.0)
    frozen = bench.model.dwell_actual_s
    bench.advance(600.0)
    assert bench.model.dwell_actual_s == frozen and bench.inputs()[107] == round(2700 - frozen)
    bench.model.fix(1104)
    bench.until_in(State.DONE)
    assert bench.inputs()[130] == 2700 and bench.inputs()[127] > 20


def test_laminator_model_short_pressure_without_alarm_still_leaves_voids(bench: Bench) -> None:
    bench.start_in("DWELL", 60.0, {1: "S-1"})
    bench.model.set_condition("PRESS_LEAK", True)
    bench.advance(20.0)
    bench.model.fix(1112)
    bench.until_in(State.DONE)
    assert 1112 not in bench.model.active_alarms and bench.result_map()[0] == "P"
    assert bench.world_strip("S-1").site(1).lamination_voids


@pytest.mark.parametrize(
    ("condition", "phase", "code", "minimum_s"),
    [("VACUUM_LEAK", "EVACUATE", 1121, 600.0), ("PRESS_VALVE", "PRESSURIZE", 1111, 120.0)],
)
def test_laminator_model_process_timeouts_abort_before_pressing(
    bench: Bench, condition: str, phase: str, code: int, minimum_s: float
) -> None:
    bench.ready(LOAD_MASK=0b1)
    bench.model.set_condition(condition, True)
    bench.start_in(phase)
    took = bench.until_in(State.ALARM)
    assert took == pytest.approx(minimum_s, abs=3.0)
    assert bench.inputs()[2] == code
    assert fixed(bench.model, code) is State.ABORTED
    assert bench.result_map()[0] == "N"


def test_laminator_model_slow_cooling_warns_1131_without_marking(bench: Bench) -> None:
    bench.start_in("COOL", LOAD_MASK=0b1)
    bench.model.set_condition("COOLING_WEAK", True)
    bench.advance(400.0)
    assert 1131 in bench.model.active_alarms and bench.model.state is State.RUNNING
    bench.until_in(State.DONE)
    assert bench.result_map()[0] == "P"


def test_laminator_model_hydraulic_loss_holds_at_once_and_keeps_pressure(bench: Bench) -> None:
    bench.start_in("DWELL", after_s=30.0)
    bench.model.set_condition("HYDRAULIC", True)
    assert (bench.model.state, bench.inputs()[2]) == (State.ALARM, 1004)
    remaining = bench.inputs()[107]
    bench.advance(300.0)
    assert bench.inputs()[107] == remaining and bench.inputs()[103] == pytest.approx(200, abs=2)
    assert fixed(bench.model, 1004) is State.PAUSED
    bench.model.do_resume()
    assert bench.model.state is State.RUNNING


def test_laminator_model_heatup_timeout_is_a_hold_alarm_and_heating_continues(bench: Bench) -> None:
    bench.until_in(State.IDLE)
    bench.model.set_condition("HEATER_WEAK_TOP", True)
    bench.model.do_arm()
    took = bench.until_in(State.ALARM)
    assert took == pytest.approx(1800, abs=2) and bench.inputs()[2] == 1105
    assert cleared(bench.model) is State.HEATING
    bench.model.fix(1105)
    bench.until_in(State.READY)


def test_laminator_model_runaway_heater_trips_overtemperature_until_cooled(bench: Bench) -> None:
    bench.ready()
    bench.model.set_condition("RUNAWAY_BOT", True)
    bench.until_in(State.ALARM)
    assert bench.inputs()[2] == 1102 and bench.model.bottom.pv_c > 185.0
    assert fixed(bench.model, 1102) is State.ALARM  # still too hot
    bench.advance(1.0)
    assert bench.model.bottom.output_pct == 0.0  # heater tripped while 1102 is active
    bench.until(lambda: bench.model.bottom.pv_c < 185.0)
    assert cleared(bench.model) in (State.HEATING, State.READY)


def test_laminator_model_open_thermocouple_alarms_outside_a_cycle(bench: Bench) -> None:
    bench.ready()
    bench.model.set_condition("TC_OPEN", True)
    bench.advance(1.0)
    assert (bench.model.state, bench.inputs()[2], bench.inputs()[17]) == (State.ALARM, 1103, 1 << 2)
    assert fixed(bench.model, 1103) in (State.HEATING, State.READY)


def test_laminator_model_host_watchdog_warns_and_blocks_start(bench: Bench) -> None:
    bench.ready(HOST_WATCHDOG_S=10)
    bench.advance(11.0)
    assert 1003 in bench.model.active_alarms and bench.model.state is State.READY
    assert refusal(bench.model.do_start) == (22, "HOST_WDT")
    bench.write(HOST_HEARTBEAT=1)
    bench.model.clear_alarms()
    assert bench.model.active_alarms == []


# -- the world -------------------------------------------------------------------------------------


def test_laminator_model_lays_the_cu_slice_on_every_site(bench: Bench) -> None:
    bench.cycle({1: "A-1", 3: "A-3"})
    for strip_id in ("A-1", "A-3"):
        strip = bench.world_strip(strip_id)
        assert len(strip.sites) == 30
        sites = strip.sites.values()
        assert all(s.slice_thickness_um == 200.0 and s.adhesive_thickness_um == 25.0 for s in sites)
        assert not any(s.lamination_voids or s.defects or s.plate_placed for s in sites)


def test_laminator_model_plate_sheet_marks_plates_on_a_known_film_strip() -> None:
    bench = Bench(stack="plate-sheet", adhesive_thickness_um=13.0)
    film = bench.world.strip("B-1", 8, 30)
    bench.cycle({1: "B-1"})
    assert bench.world.get("B-1") is film
    assert all(s.plate_placed and s.adhesive_thickness_um == 13.0 for s in film.sites.values())
    assert all(s.slice_thickness_um is None for s in film.sites.values())


def test_laminator_model_slice_thickness_is_an_option() -> None:
    bench = Bench(slice_thickness_um=150.0)
    bench.cycle({1: "A-9"})
    assert bench.world_strip("A-9").site(30).slice_thickness_um == 150.0


@pytest.mark.parametrize(
    "options",
    [{"stack": "glass"}, {"adhesive_thickness_um": 12.0}, {"adhesive_thickness_um": 103.0}],
)
def test_laminator_model_refuses_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Bench(**options)


def test_laminator_serve_speaks_modbus_tcp_only() -> None:
    with pytest.raises(ValueError, match="Modbus TCP"):
        serve(clock=SimClock(1000), world=World(), transport="rtu")


def test_laminator_model_ack_clears_strip_ids_but_keeps_results(bench: Bench) -> None:
    bench.cycle({1: "A-1"})
    bench.model.do_ack()
    assert bench.model.strip_id_at(1) == "" and bench.result_map()[0] == "P"
    assert bench.inputs()[107] == 0  # DWELL_REMAINING_S is 0 after the dwell


def test_laminator_model_gives_the_same_cycle_in_large_time_steps(bench: Bench) -> None:
    bench.ready(LOAD_MASK=0b1)
    bench.model.do_start()
    bench.advance(5600.0, step_s=700.0)
    assert bench.model.state is State.RUNNING and bench.model.phase == "VENT"
    bench.advance(60.0, step_s=700.0)
    assert bench.model.state is State.DONE
    assert bench.results.cycle_s / 60.0 == pytest.approx(94.0, abs=1.0)
    assert bench.inputs()[130] == 2700 and bench.result_map()[0] == "P"


def test_laminator_dwell_extremes_drawn_at_once_match_the_extremes_of_the_readings() -> None:
    rng = random.Random(6)
    draws = 2000
    at_once = [max_abs_and_max_of_normals(rng, 100) for _ in range(draws)]
    readings = [[rng.gauss(0.0, 1.0) for _ in range(100)] for _ in range(draws)]
    for at_once_mean, reading_mean in (
        (
            statistics.mean(a for a, _ in at_once),
            statistics.mean(max(map(abs, r)) for r in readings),
        ),
        (statistics.mean(m for _, m in at_once), statistics.mean(max(r) for r in readings)),
        (statistics.mean(max_of_normals(rng, 100) for _ in range(draws)), 2.508),  # E max of 100
    ):
        assert at_once_mean == pytest.approx(reading_mean, abs=0.05)
    assert all(largest <= largest_abs for largest_abs, largest in at_once)
    assert 0.45 < sum(a == m for a, m in at_once) / draws < 0.55  # the largest |z| is positive


# -- audit against laminator.md (s9) -----------------------------------------------------------


@pytest.mark.parametrize("alarm", ["ESTOP", "RUNAWAY_TOP"])
def test_laminator_model_aborted_cycle_stays_released_and_vented_until_the_alarm_is_cleared(
    bench: Bench, alarm: str
) -> None:
    """§3 abort: pressure released, chamber vented, door unlocked; an A alarm's cycle waits in
    ALARM for the clear without pressing or pumping down again after the 60 s vent."""
    bench.start_in("DWELL", after_s=60.0, LOAD_MASK=0b1)
    bench.model.set_condition(alarm, True)
    bench.until_in(State.ALARM)
    bench.advance(600.0)
    assert bench.model.state is State.ALARM
    words = bench.inputs()
    assert (words[103], words[104]) == (0, 1013)  # no press pressure, chamber at atmosphere
    assert words[102] == 1000  # heaters to STANDBY_SP
    assert not discrete_image(bench.model)[19] and not discrete_image(bench.model)[18]


@pytest.mark.parametrize(
    ("condition", "code", "quiet_s", "raised_s"),
    [("PRESS_LEAK", 1112, 30.0, 45.0), ("VACUUM_LEAK", 1122, 40.0, 60.0)],
)
def test_laminator_model_dwell_deviation_alarms_wait_their_30_s(
    bench: Bench, condition: str, code: int, quiet_s: float, raised_s: float
) -> None:
    """§7 1112 / 1122: out of band for more than 30 s in DWELL, not at the first excursion
    (the press leaves its band ~5 s after a leak, the chamber passes 2 x VACUUM_SP after ~19 s)."""
    bench.start_in("DWELL", after_s=60.0)
    bench.model.set_condition(condition, True)
    bench.advance(quiet_s)
    assert code not in bench.model.active_alarms
    bench.advance(raised_s - quiet_s)
    assert code in bench.model.active_alarms


def test_laminator_model_idle_reports_heaters_off_and_the_dwell_to_come(bench: Bench) -> None:
    """§3 IDLE with heaters off; §4 TEMP_SP_ACTIVE 0 in IDLE, DWELL_REMAINING_S = DWELL_S
    before DWELL; ARM drives the set-point to STANDBY_SP."""
    bench.until_in(State.IDLE)
    bench.write(DWELL_S=3600)
    bench.advance(60.0)
    words = bench.inputs()
    assert (words[102], words[108], words[109], words[107]) == (0, 0, 0, 3600)
    assert words[100] == 250 and not discrete_image(bench.model)[16]
    bench.model.do_arm()
    bench.advance(5.0)
    assert bench.inputs()[102] == 1000 and bench.inputs()[108] > 0


def test_laminator_model_pause_in_pressurize_holds_the_pressure_built(bench: Bench) -> None:
    """§3 PRESSURIZE on PAUSE: pressure held at its current value (not released, not built)."""
    bench.start_in("PRESSURIZE", after_s=10.0)
    bench.model.do_pause()
    held = bench.inputs()[103]
    bench.advance(300.0)
    assert 50 < held < 100 and bench.inputs()[103] == held
    assert bench.model.state is State.PAUSED and bench.model.phase == "PRESSURIZE"
    bench.model.do_resume()
    assert bench.until(lambda: bench.model.phase == "RAMP") < 30.0


def test_laminator_model_abort_while_pressure_builds_leaves_positions_n(bench: Bench) -> None:
    """§5: N if aborted before PRESSURIZE completed, even with pressure partly built."""
    bench.start_in("PRESSURIZE", after_s=15.0, LOAD_MASK=0b101)
    assert bench.inputs()[103] > 50
    bench.model.do_abort()
    assert bench.result_map() == "NXNXXXXX" and bench.defects()[:3] == [0, 0, 0]


def test_laminator_model_temperature_deviation_waits_its_60_s(bench: Bench) -> None:
    """§7 1104: |PV - SP| > TEMP_BAND for more than 60 s in DWELL, not at once."""
    bench.start_in("DWELL", after_s=60.0)
    bench.model.set_condition("HEATER_WEAK_TOP", True)
    bench.until(lambda: abs(bench.model.top.pv_c - 170.0) > 2.0)
    bench.advance(50.0)
    assert 1104 not in bench.model.active_alarms
    bench.advance(20.0)
    assert 1104 in bench.model.active_alarms and bench.model.state is State.RUNNING


def test_laminator_model_dwell_remaining_after_a_cycle_ignores_the_next_recipe(
    bench: Bench,
) -> None:
    """§4 DWELL_REMAINING_S: 0 after DWELL (decision: until the next START), not the next
    recipe's DWELL_S minus the last cycle's dwell; DWELL_S again at the next START."""
    bench.cycle(DWELL_S=1800)
    bench.model.do_ack()
    bench.write(DWELL_S=3600)
    assert bench.inputs()[107] == 0
    bench.until_in(State.READY)
    bench.model.do_start()
    bench.advance(1.0)
    assert bench.inputs()[107] == 3600


def test_laminator_model_hold_alarm_in_vent_lets_the_cycle_complete_then_alarms(
    bench: Bench,
) -> None:
    """§3 VENT holds at the end of the phase, which ends the cycle: the load is laminated (P),
    the alarm takes effect in DONE (interfaces README §6 deferred hold), DONE after clear."""
    bench.start_in("VENT", after_s=10.0, LOAD_MASK=0b1)
    bench.model.set_condition("HYDRAULIC", True)
    bench.advance(60.0)
    assert bench.model.state is State.ALARM and bench.inputs()[2] == 1004
    assert bench.model.results_available and bench.result_map()[0] == "P"
    assert not discrete_image(bench.model)[19]  # vented and unlocked
    assert fixed(bench.model, 1004) is State.DONE


def test_laminator_model_abort_during_a_hold_releases_at_once_and_aborts_after_clear(
    bench: Bench,
) -> None:
    """Interfaces README §5 note ²: ABORT in ALARM marks the cycle aborted, ABORTED after the
    clear; §3: the abort sequence (release, vent, standby) starts at the ABORT."""
    bench.start_in("DWELL", after_s=60.0, LOAD_MASK=0b1)
    bench.model.set_condition("COOLING_WATER", True)
    assert bench.model.state is State.ALARM
    bench.model.do_abort()
    bench.advance(61.0)
    words = bench.inputs()
    assert bench.model.state is State.ALARM
    assert (words[102], words[103], words[104]) == (1000, 0, 1013)
    assert fixed(bench.model, 1005) is State.ABORTED
    assert bench.result_map() == "FXXXXXXX" and bench.defects()[0] == 1504
