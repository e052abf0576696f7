"""WE-2 process model on a hand-driven clock: the etch-rate estimate of etch-bath.md §5, §8
timings, bath ageing, hold rules, and what an etch leaves in the world."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from sim.etch_bath.chemistry import CUCL2, FECL3, KOH, Chemistry, etch_rate_um_min
from sim.etch_bath.model import EtchBathModel
from sim.etch_bath.recipe import EndReason
from sim.etch_bath.registers import ETCH_BATH_REGISTERS
from sim.etch_bath.strips import copper_left
from sim.tool_model import State
from tests.support.modbus_model_bench import ModbusModelBench
from tests.support.model_bench import cleared, cleared_after, fixed, released
from tests.support.refusal import refusal


class Bench(ModbusModelBench):
    """A WE-2 model (seed 3)."""

    model_type = EtchBathModel
    registers = ETCH_BATH_REGISTERS
    advance_step_s = None


def bath(chemistry: int = 1, *strip_ids: str, **options: float) -> tuple[EtchBathModel, Bench]:
    """A WE-2 of ``chemistry`` past INIT, with slice strips ``strip_ids`` in its world."""
    bench = Bench(seed=3, chemistry=chemistry, **options)
    for strip_id in strip_ids:
        for site in bench.world.strip(strip_id, 3, 10).sites.values():
            site.slice_thickness_um = 200.0
            site.adhesive_thickness_um = 25.0
    bench.until_in(State.IDLE, limit_s=20)
    return bench.model, bench


def loaded(slots: dict[int, str] | None = None, **registers: int) -> tuple[EtchBathModel, Bench]:
    """A cupric bath READY with ``slots`` (S1 in slot 1) and ``registers``."""
    model, bench = bath(1)
    bench.ready(slots or {1: "S1"}, **registers)
    return model, bench


def started(
    until: Callable[[EtchBathModel], bool],
    limit_s: float,
    slots: dict[int, str] | None = None,
    **registers: int,
) -> tuple[EtchBathModel, Bench]:
    """A :func:`loaded` bath started and run until ``until(model)``."""
    model, bench = loaded(slots, **registers)
    model.do_start()
    bench.until(lambda: until(model), limit_s)
    return model, bench


# -- the etch-rate estimate (§5) ------------------------------------------------------------------
@pytest.mark.parametrize("chemistry", [CUCL2, FECL3, KOH])
def test_etch_bath_rate_at_reference_conditions_is_r_ref(chemistry: Chemistry) -> None:
    rate = etch_rate_um_min(chemistry, chemistry.t_ref_c, chemistry.c_ref, 0.0)
    assert rate == pytest.approx(chemistry.r_ref_um_min, rel=1e-12)


def test_etch_bath_rate_follows_arrhenius_and_concentration_order() -> None:
    hot = etch_rate_um_min(CUCL2, 55.0, 32.0)
    expected = math.exp(-(30_000 / 8.314) * (1 / 328.15 - 1 / 323.15))
    assert hot / CUCL2.r_ref_um_min == pytest.approx(expected, rel=1e-9)
    assert hot == pytest.approx(39.1, abs=0.05)  # ~19 % faster for +5 K at 30 kJ/mol
    cold_koh = etch_rate_um_min(KOH, 70.0, 30.0)
    assert cold_koh == pytest.approx(2.76, abs=0.02)  # 60 kJ/mol: about half at -10 K
    assert etch_rate_um_min(KOH, 80.0, 15.0) == pytest.approx(5.0 * 0.5**1.5, rel=1e-9)


def test_etch_bath_ferric_chloride_slows_with_copper_loading() -> None:
    assert etch_rate_um_min(FECL3, 45.0, 40.0, 50.0) == pytest.approx(10.0)
    assert etch_rate_um_min(FECL3, 45.0, 40.0, 100.0) == 0.0
    assert etch_rate_um_min(CUCL2, 50.0, 32.0, 140.0) == pytest.approx(33.0)


# -- timing (§8) ------------------------------------------------------------------------------------
def test_etch_bath_heats_up_at_one_and_a_half_degrees_per_minute() -> None:
    model, bench = bath(1)
    model.do_arm()
    seconds = bench.until(lambda: model.state is State.READY, 3600)
    assert seconds / 60 == pytest.approx(18.0, rel=0.10)  # 25 -> 50 °C + 60 s stable
    koh, koh_bench = bath(3)
    koh_bench.write(TEMP_SP=800, CONC_SP=300)
    koh.do_arm()
    seconds = koh_bench.until(lambda: koh.state is State.READY, 3600)
    assert seconds / 60 == pytest.approx(38.0, rel=0.10)  # 25 -> 80 °C


def test_etch_bath_cupric_slug_etch_takes_418_s_and_the_cycle_582_s() -> None:
    model, bench = bath(1, "S1", "S2")
    seconds = bench.cycle({1: "S1", 2: "S2"})
    assert model.state is State.DONE
    assert model.end_reason is EndReason.DEPTH
    assert model.final["etch_s"] == pytest.approx(418, abs=2)
    assert model.final["depth_um"] == pytest.approx(230.0, abs=0.6)
    assert seconds == pytest.approx(582, abs=6)
    assert model.results is not None and model.results.result_map == "PPXXXXXXXX"


def test_etch_bath_koh_recess_of_25_um_takes_300_s() -> None:
    model, bench = bath(3)
    bench.cycle({1: "F1"}, TEMP_SP=800, CONC_SP=300, DEPTH_TARGET=2500)
    assert model.final["etch_s"] == pytest.approx(300, abs=2)
    assert model.final["rate_um_min"] == pytest.approx(5.0, abs=0.05)


def test_etch_bath_time_mode_ends_on_etch_time() -> None:
    model, bench = bath(1)
    bench.cycle({1: "S1"}, ENDPOINT_MODE=0, ETCH_TIME_S=120)
    assert (model.end_reason, model.final["etch_s"]) == (EndReason.TIME, 120.0)
    assert model.final["depth_um"] == pytest.approx(66.0, abs=0.6)


# -- bath ageing (§5) --------------------------------------------------------------------------------
def test_etch_bath_ferric_loading_rises_0_17_g_per_litre_per_strip() -> None:
    model, bench = bath(2, "S1", "S2")
    bench.ready(
        {1: "S1", 2: "S2"}, TEMP_SP=450, CONC_SP=400, ACID_SP=17, ORP_SP=580, CU_LOAD_MAX=1000
    )
    before = model.bath.cu_load_g_l
    bench.cycle(limit_s=7200)
    assert model.bath.cu_load_g_l - before == pytest.approx(2 * 0.17, rel=0.02)
    assert model.final["etch_s"] / 60 == pytest.approx(11.5, rel=0.03)  # fresh bath


def test_etch_bath_cupric_auto_dose_holds_loading_near_140() -> None:
    model, bench = bath(1, *(f"S{k}" for k in range(1, 21)))
    bench.cycle({k: f"S{k}" for k in range(1, 11)})
    assert model.bath.cu_load_g_l == pytest.approx(140.0, abs=1.0)
    model.do_ack()
    bench.write(AUTO_DOSE=0)
    bench.ready({k: f"S{k + 10}" for k in range(1, 11)})  # ten fresh strips
    before = model.bath.cu_load_g_l
    bench.cycle()
    assert model.bath.cu_load_g_l - before == pytest.approx(1.7, rel=0.05)


# -- holds and endpoint guards (§3, §5) ----------------------------------------------------------------
def test_etch_bath_pause_in_etch_raises_the_carrier_and_stops_the_depth() -> None:
    model, bench = started(
        lambda m: m.etch_elapsed_s >= 60, 200, {1: "S1"}, ENDPOINT_MODE=2, ETCH_TIME_MAX_S=3600
    )
    model.do_pause()
    assert model.state is State.PAUSED
    depth, elapsed = model.etch_depth_um, model.etch_elapsed_s
    bench.until(lambda: model.hoist.at_top, 30)
    bench.advance(300)
    assert (model.etch_depth_um, model.etch_elapsed_s) == (depth, elapsed)
    refusal(model.do_start)
    model.do_resume()
    bench.until(lambda: model.etch_depth_um > depth, 60)
    model.end_etch()
    bench.until(lambda: model.state is State.DONE, 600)
    assert model.end_reason is EndReason.HOST


def test_etch_bath_pause_is_refused_after_etch() -> None:
    model, _ = started(lambda m: m.phase == "RINSE", 900)
    assert refusal(model.do_pause)[0] == 20


def test_etch_bath_time_limit_marks_target_not_reached() -> None:
    model, bench = bath(1)
    bench.cycle({1: "S1", 3: "S3"}, DEPTH_TARGET=50000, ETCH_TIME_MAX_S=60)
    assert model.state is State.DONE and 5150 in model.active_alarms
    assert model.end_reason is EndReason.MAX_TIME
    first_three = [(r.result, r.defect) for r in bench.results.rows[:3]]
    assert first_three == [("F", 5501), ("X", 0), ("F", 5501)]


def test_etch_bath_cross_checks_refuse_arm_per_chemistry() -> None:
    model, bench = bath(3)
    bench.write(TEMP_SP=600)  # 60.0 °C: in register range, outside the KOH window
    assert refusal(model.do_arm)[0] == 14
    ferric, ferric_bench = bath(2)
    ferric_bench.write(TEMP_SP=450, CONC_SP=400)  # CU_LOAD_MAX default 160 g/L > 100 g/L
    refusal(ferric.do_arm)


# -- the world ------------------------------------------------------------------------------------------
def test_etch_bath_pad_exposure_model() -> None:
    assert copper_left(200.0, 230.0) == (0.0, 100.0)
    residual, exposure = copper_left(200.0, 200.0)
    assert residual == pytest.approx(1.2, abs=0.01) and exposure == pytest.approx(50.0)
    residual, exposure = copper_left(200.0, 150.0)
    assert residual == pytest.approx(50.0, abs=0.01) and exposure < 0.01


def test_etch_bath_full_etch_clears_the_pads_and_leaves_the_slug() -> None:
    _, bench = bath(1, "S1")
    bench.cycle({1: "S1"})
    strip = bench.world_strip("S1")
    depths = [site.etch_depth_um or 0.0 for site in strip.sites.values()]
    assert sum(depths) / len(depths) == pytest.approx(230.0, rel=0.03)  # estimate vs real
    assert max(depths) - min(depths) < 0.1 * 230.0  # site-to-site scatter
    for site in strip.sites.values():
        assert (site.residual_cu_um, site.pad_exposure_pct) == (0.0, 100.0)
        assert site.slug_protrusion_um == 225.0
        assert "etch-bath" not in site.defects
    assert "undercut" in strip.history[-1][2]


def test_etch_bath_under_etched_strip_leaves_residual_copper_in_the_world() -> None:
    model, bench = bath(1, "S1")
    bench.cycle({1: "S1"}, ENDPOINT_MODE=0, ETCH_TIME_S=300)  # 165 µm of a 200 µm slice
    assert model.results is not None and model.results.rows[0].result == "P"  # the tool cannot tell
    strip = bench.world_strip("S1")
    for site in strip.sites.values():
        assert site.residual_cu_um is not None and 20.0 < site.residual_cu_um < 45.0
        assert site.pad_exposure_pct is not None and site.pad_exposure_pct < 1.0


def test_etch_bath_koh_recesses_vias_down_to_the_pads() -> None:
    _, bench = bath(3)
    # 10 % over-etch of 25 µm film
    bench.cycle({1: "F1"}, TEMP_SP=800, CONC_SP=300, DEPTH_TARGET=2750)
    strip = bench.world_strip("F1")
    assert (strip.rows, strip.cols) == (8, 30)
    for site in strip.sites.values():
        assert site.film_thickness_um == 25.0
        assert site.via_depth_um == 25.0 and site.via_depth_min_um == 25.0
        assert site.residual_pi_um == 0.0 and site.pad_protrusion_um is None
        assert site.area_recess_depth_um is None


def test_etch_bath_estop_in_etch_marks_5503_and_keeps_etching_while_the_hoist_is_stopped() -> None:
    model, bench = bath(1, "S1")
    bench.ready({1: "S1"})
    model.do_start()
    bench.until(lambda: model.etch_elapsed_s >= 60, 200)
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM
    bench.advance(60)
    assert model.hoist.at_bottom  # no motion under E-stop: the strips stay in the etchant
    assert released(model, "ESTOP") is State.ABORTED
    bench.until(lambda: model.hoist.at_top, 30)
    assert model.end_reason is EndReason.ABORTED
    assert (bench.results.rows[0].result, bench.results.rows[0].defect) == ("F", 5503)
    strip = bench.world_strip("S1")
    site = strip.site(1)
    assert site.defects["etch-bath"] == 5503
    assert site.etch_depth_um is not None and site.etch_depth_um > model.final["depth_um"] + 25


# -- alarm causes of §6 ---------------------------------------------------------------------------------
def test_etch_bath_pause_in_load_takes_effect_before_lower() -> None:
    model, bench = loaded()
    model.do_start()
    model.do_pause()
    bench.until(lambda: model.steps[0].phase != "LOAD", 10)
    bench.advance(120)
    assert (model.state, model.phase, model.hoist.pos_mm) == (State.PAUSED, "LOAD", 0.0)
    model.do_resume()
    bench.until(lambda: model.phase == "LOWER", 5)


@pytest.mark.parametrize(
    ("condition", "code", "alarm_class"),
    [
        ("HEATER", 5104, "A"),
        ("LEVEL_HIGH", 5111, "W"),
        ("DENSITY", 5124, "W"),
        ("REPLENISHER", 5130, "H"),
        ("FLOW", 5131, "H"),
    ],
)
def test_etch_bath_equipment_conditions_raise_their_alarm_until_fixed(
    condition: str, code: int, alarm_class: str
) -> None:
    model, bench = loaded()
    model.set_condition(condition, True)
    bench.until(lambda: code in model.active_alarms, 30)
    assert model.alarm_def(code).alarm_class == alarm_class
    assert (model.state is State.ALARM) == (alarm_class != "W")
    model.clear_alarms()
    assert code in model.active_alarms  # the cause persists
    model.fix(code)
    bench.advance(1)
    model.clear_alarms()
    assert code not in model.active_alarms and model.state is not State.ALARM


def test_etch_bath_density_drift_biases_the_estimate_but_not_the_etch() -> None:
    model, _ = loaded()
    model.set_condition("DENSITY", True)
    assert model.conc_measured == pytest.approx(model.bath.conc + 1.5)
    assert model.estimate_now() == pytest.approx(33.0 * 33.5 / 32.0, rel=1e-3)


def test_etch_bath_heat_up_timeout_after_an_hour_without_ready() -> None:
    model, bench = bath(1)
    model.heater_enable = False
    model.do_arm()
    bench.until(lambda: 5105 in model.active_alarms, 3700)
    assert model.state is State.ALARM
    assert cleared(model) is State.HEATING  # an event: no persisting cause


@pytest.mark.parametrize(
    ("registers", "code"),
    [({"CONC_SP": 290}, 5120), ({"ORP_SP": 600}, 5121), ({"ACID_SP": 100}, 5122)],
)
def test_etch_bath_composition_out_of_band_warns_after_a_minute(
    registers: dict[str, int], code: int
) -> None:
    model, bench = bath(1)
    bench.write(AUTO_DOSE=0, **registers)  # no dosing: the bath stays where it is
    model.do_arm()
    seconds = bench.until(lambda: code in model.active_alarms, 600)
    assert 60 < seconds < 63 and model.state is State.HEATING  # no hold, no state change


def test_etch_bath_level_low_hold_cools_the_bath_into_a_low_temperature_warning() -> None:
    model, bench = started(lambda m: m.etch_elapsed_s >= 30, 200)
    model.set_condition("LEVEL", True)  # a leak
    bench.advance(2)
    assert (model.state, model.blocking_alarm()) == (State.ALARM, 5110)
    assert not model.bath.pump_running
    bench.until(lambda: 5102 in model.active_alarms, 900)
    assert fixed(model, 5110) is State.PAUSED
    model.do_resume()
    bench.until(lambda: model.state is State.DONE, 1800)
    assert model.results is not None and model.results.rows[0].defect == 5502


def test_etch_bath_temperature_high_and_over_temperature() -> None:
    model, bench = started(lambda m: m.phase == "ETCH", 60)
    model.bath.temp_c = 52.0  # above SP + band, cooling slowly
    bench.until(lambda: 5101 in model.active_alarms, 40)
    model.bath.temp_c = 61.0
    bench.advance(2)
    assert model.blocking_alarm() == 5103 and not model.bath.heater_on
    assert model.hoist.target_mm == 0.0  # A class: the carrier is raised


def test_etch_bath_copper_loading_high_holds_a_ferric_etch() -> None:
    model, bench = bath(2, "S1", "S2", "S3", cu_load_g_l=59.8)  # an aged bath: g = 0.4
    bench.write(TEMP_SP=450, CONC_SP=400, ACID_SP=17, ORP_SP=580, CU_LOAD_MAX=600)
    bench.write(ETCH_TIME_MAX_S=3000)
    bench.ready({1: "S1", 2: "S2", 3: "S3"})
    model.do_start()
    bench.until(lambda: model.state is State.ALARM, 3600)
    assert (model.blocking_alarm(), model.phase) == (5123, "ETCH")
    assert model.first_interlock("resume") == "CU_LOAD"
    model.fix(5123)  # bath dumped and renewed
    model.clear_alarms()
    model.do_resume()
    bench.until(lambda: model.state is State.DONE, 3600)


def test_etch_bath_jammed_hoist_is_a_motion_fault() -> None:
    model, bench = bath(1)
    model.set_condition("HOIST", True)
    model.move_hoist(up=False)
    seconds = bench.until(lambda: 5140 in model.active_alarms, 60)
    assert seconds == pytest.approx(16 + 5, abs=1.5)
    assert model.state is State.ALARM
    assert cleared_after(model, lambda: model.fix(5140)) is State.IDLE  # service needed


def test_etch_bath_hoist_overtravel_needs_service() -> None:
    model, bench = bath(1)
    model.faults.alarm(5141)
    bench.advance(1)
    assert (model.state, model.blocking_alarm()) == (State.ALARM, 5141)
    model.parked_target_mm = 400.0
    bench.advance(30)
    assert model.hoist.at_top  # no motion until serviced
    assert cleared_after(model, lambda: model.fix(5141)) is State.IDLE


def test_etch_bath_lid_opened_in_etch_holds_until_closed() -> None:
    model, bench = started(lambda m: m.etch_elapsed_s >= 20, 200)
    model.set_condition("DOOR", True)
    assert (model.state, model.blocking_alarm(), model.halted) == (State.ALARM, 5002, True)
    assert cleared_after(model, lambda: model.set_condition("DOOR", False)) is State.PAUSED
    bench.run(model.do_resume, State.DONE)
    assert model.end_reason is EndReason.DEPTH


def test_etch_bath_remaining_time_estimates() -> None:
    model, bench = loaded()
    model.do_start()
    assert model.remaining_s() == pytest.approx(5 + 16 + 418 + 16 + 10 + 112 + 5, abs=2)
    bench.until(lambda: model.etch_elapsed_s >= 100, 200)
    assert model.etch_remaining_s() == pytest.approx(318, abs=2)  # 60·(230 − 55)/33
    model.do_abort()
    assert model.etch_remaining_s() == 0
    model.do_ack()
    bench.write(ENDPOINT_MODE=0, ETCH_TIME_S=200)
    model.do_start()
    bench.until(lambda: model.etch_elapsed_s >= 50, 200)
    assert model.etch_remaining_s() == 150


def test_etch_bath_pump_disabled_stops_the_flow() -> None:
    model, bench = loaded()
    model.tool_coil("PUMP_ENABLE", False)
    bench.advance(1)
    assert model.bath.flow_l_min == 0.0 and not model.bath.pump_running
    assert 5131 not in model.active_alarms  # only with the pump on


# -- the manual against the model (audit) ---------------------------------------------------------------
def test_etch_bath_temperature_warnings_stop_counting_once_an_abort_is_pending() -> None:
    """§6, README §6: the bath cooling after an A-class alarm stopped the cycle is no etch
    deviation: no 5102 in ALARM, none left over into ABORTED and the next HEATING."""
    model, bench = started(lambda m: m.etch_elapsed_s >= 30, 200)
    model.set_condition("HEATER", True)  # 5104: heater off, abort pending until the clear
    bench.until(lambda: 5104 in model.active_alarms, 5)
    bench.advance(900)  # 50.0 -> 45.9 °C: 11 min below SP - TEMP_BAND
    assert model.bath.temp_c < 48.5 - 2.0 and model.cycle_active
    assert model.active_alarms == [5104]
    fixed(model, 5104)
    assert (model.state, model.active_alarms) == (State.ABORTED, [])
    model.do_ack()
    assert (model.state, model.active_alarms) == (State.HEATING, [])


def test_etch_bath_rate_estimate_reads_zero_in_idle_at_once() -> None:
    """§4 IR 109: updated every 1 s while armed, 0 in IDLE (from the DISARM, not a second on)."""
    model, _ = loaded()
    assert ETCH_BATH_REGISTERS.inputs(model)[109] == pytest.approx(3300, abs=20)
    model.do_disarm()
    assert model.state is State.IDLE
    assert ETCH_BATH_REGISTERS.inputs(model)[109] == 0


def test_etch_bath_temperature_high_warns_after_30_s_and_marks_5502() -> None:
    """§6 5101: PV > SP + TEMP_BAND for more than 30 s in a cycle; §5: active during ETCH ->
    F 5502."""
    model, bench = started(lambda m: m.phase == "ETCH", 60, {1: "S1", 2: "S2"})
    model.bath.temp_c = 52.0  # above 51.5 °C; no cooling coil: ~90 s to come back
    seconds = bench.until(lambda: 5101 in model.active_alarms, 60)
    assert 30 < seconds <= 32 and model.state is State.RUNNING  # W: no state change
    bench.until(lambda: model.state is State.DONE, 900)
    assert [(r.result, r.defect) for r in bench.results.rows[:3]] == [("F", 5502)] * 2 + [("X", 0)]


def test_etch_bath_abort_reports_the_lowest_applicable_defect() -> None:
    """§5: F with the lowest applicable defect: a bath out of window during ETCH (5502) or a
    time limit in mode DEPTH (5501) ranks before the abort (5503)."""
    model, bench = started(lambda m: m.phase == "ETCH", 60)
    model.bath.temp_c = 52.0
    bench.until(lambda: 5101 in model.active_alarms, 60)
    model.do_abort()
    assert model.results is not None and model.state is State.ABORTED
    assert (model.results.rows[0].result, model.results.rows[0].defect) == ("F", 5502)

    model, bench = started(
        lambda m: m.phase == "DRIP", 200, {1: "S1"}, DEPTH_TARGET=50000, ETCH_TIME_MAX_S=60
    )  # 5150, END_REASON 4
    model.set_condition("ESTOP", True)
    released(model, "ESTOP")
    assert model.results is not None and model.state is State.ABORTED
    assert model.end_reason is EndReason.MAX_TIME
    assert (model.results.rows[0].result, model.results.rows[0].defect) == ("F", 5501)


def test_etch_bath_abort_before_etch_leaves_positions_not_processed() -> None:
    """§3: an A-class alarm positions F 5503 only if ETCH had started, else N; END_REASON 5."""
    model, _ = started(lambda m: m.phase == "LOWER", 30, {1: "S1", 3: "S3"})
    model.set_condition("ESTOP", True)
    assert model.state is State.ALARM
    released(model, "ESTOP")
    assert (model.state, model.end_reason) == (State.ABORTED, EndReason.ABORTED)
    words = ETCH_BATH_REGISTERS.inputs(model)
    assert (words[115], [words[120 + k] for k in (1, 2, 3)]) == (5, [4, 3, 4])  # N, X, N
    assert [words[130 + k] for k in (1, 2, 3)] == [0, 0, 0]


def test_etch_bath_hold_in_lower_raises_the_carrier_like_pause() -> None:
    """§3: H alarms in LOAD-ETCH act like PAUSE: in LOWER the carrier goes back to the top and
    waits; END_ETCH is refused outside ETCH (20) and in ALARM (23)."""
    model, bench = started(lambda m: m.hoist.pos_mm > 200, 30)
    assert refusal(model.end_etch)[0] == 20  # RUNNING in LOWER
    model.set_condition("DOOR", True)  # 5002
    assert (model.state, model.blocking_alarm()) == (State.ALARM, 5002)
    bench.advance(30)
    assert (model.phase, model.hoist.pos_mm, model.etch_elapsed_s) == ("LOWER", 0.0, 0)
    assert refusal(model.end_etch)[0] == 23
    assert released(model, "DOOR") is State.PAUSED
    model.do_resume()
    bench.until(lambda: model.phase == "ETCH" and model.hoist.at_bottom, 30)


def test_etch_bath_init_lasts_10_s_and_idle_runs_nothing() -> None:
    """§3: INIT 10 s; IDLE with heater, pump and dosing off; ARM starts all three; READY
    60 s after TEMP_PV entered SP ± TEMP_BAND."""
    bench = Bench(seed=3, bath_temp_c=48.0)
    model = bench.model
    assert 9 < bench.until(lambda: model.state is State.IDLE, 20) <= 10
    bench.write(AUTO_DOSE=1, CONC_SP=300)  # dosing has work to do once armed
    bench.advance(60)
    b = model.bath
    assert (b.heater_on, b.pump_running, b.dosing_active) == (False, False, False)
    assert b.flow_l_min == 0.0
    model.do_arm()
    bench.advance(1)
    assert (b.heater_on, b.pump_running, b.dosing_active) == (True, True, True)
    to_band = (50.0 - 1.5 - b.temp_c) * 40.0  # 1.5 °C/min = 1 °C per 40 s
    assert model.state is State.HEATING
    seconds = bench.until(lambda: model.state is State.READY, 600)
    assert seconds == pytest.approx(to_band + 60, abs=1.5)
    model.do_disarm()
    bench.advance(1)
    assert (b.heater_on, b.pump_running, b.dosing_active) == (False, False, False)


def test_etch_bath_phases_last_their_manual_durations() -> None:
    """§3: LOAD 5 s, LOWER and RAISE 400 mm at LOWER_SPEED, DRIP DRIP_S, RINSE RINSE_S + 52 s,
    UNLOAD 5 s (non-default speed and times)."""
    model, bench = bath(1)
    bench.ready({1: "S1"}, LOWER_SPEED=40, DRIP_S=20, RINSE_S=30, ENDPOINT_MODE=0, ETCH_TIME_S=60)
    model.do_start()
    bench.advance(0.5)  # sample mid-second: at a boundary the ended phase still shows
    seconds: dict[str, float] = {}
    while model.state is State.RUNNING:
        seconds[model.phase] = seconds.get(model.phase, 0.0) + 1.0
        bench.advance(1.0)
    assert model.state is State.DONE
    assert seconds == {
        "LOAD": 5.0,
        "LOWER": 10.0,
        "ETCH": 60.0,
        "RAISE": 10.0,
        "DRIP": 20.0,
        "RINSE": 82.0,
        "UNLOAD": 5.0,
    }


def test_etch_bath_heat_up_timeout_counts_from_arm_through_a_hold_alarm() -> None:
    """§6 5105: not READY within 60 min of ARM; a hold alarm on the way (5130 for 2 min) does
    not restart the hour."""
    model, bench = bath(1)
    model.tool_coil("HEATER_ENABLE", False)  # the bath never reaches its band
    model.do_arm()
    bench.advance(50 * 60)
    model.set_condition("REPLENISHER", True)
    bench.until(lambda: model.state is State.ALARM, 5)
    bench.advance(120)
    assert fixed(model, 5130) is State.HEATING
    assert 5105 not in model.active_alarms
    seconds = bench.until(lambda: 5105 in model.active_alarms, 3600)
    assert 50 * 60 + 120 + seconds == pytest.approx(3600, abs=3)
    assert (model.state, model.blocking_alarm()) == (State.ALARM, 5105)


def test_etch_bath_cross_checks_refuse_start_too() -> None:
    """§4: the cross-checks run at ARM and START (reason 14): a window or TIME-mode guard broken
    by a write in READY refuses START, and the cycle starts once it is mended."""
    model, bench = loaded()
    bench.write(CONC_SP=380)  # 38.0 °Bé: in register range, outside the CUCL2 window
    assert (model.state, refusal(model.do_start)[0]) == (State.READY, 14)
    bench.write(CONC_SP=320, ENDPOINT_MODE=0, ETCH_TIME_S=600, ETCH_TIME_MAX_S=500)
    assert refusal(model.do_start)[0] == 14
    bench.write(ETCH_TIME_MAX_S=600)
    model.do_start()
    assert model.state is State.RUNNING
