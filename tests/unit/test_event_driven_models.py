"""A settled tool jumps from event to event instead of stepping its grid, its events still at
their exact tool times; a wall-scaled tool's ticker sleeps while nothing is due."""

from __future__ import annotations

import time

import pytest

from sim.ball_attach.model import BallAttachModel
from sim.clock import SimClock
from sim.die_bonder.model import CALIBRATION_DUE_S, DieBonderModel
from sim.etch_bath.model import EtchBathModel
from sim.etch_bath.recipe import EndReason
from sim.laminator.model import LaminatorModel
from sim.laminator.tables import HEATUP_TIMEOUT_S
from sim.registry import serve_function
from sim.tool_model import State, ToolModel
from sim.world import World
from tests.support.model_bench import ModelBench


def count_steps(model: ToolModel) -> list[float]:
    """Record every step the model takes (its length in tool seconds)."""
    steps: list[float] = []
    physics = model.physics

    def counted(dt_s: float) -> None:
        steps.append(dt_s)
        physics(dt_s)

    model.physics = counted  # type: ignore[method-assign]
    return steps


def heated_die_bonder() -> tuple[ModelBench, DieBonderModel]:
    bench = ModelBench(DieBonderModel, virtual=True, seed=3)
    bench.at(40.0)
    bench.model.load_recipe("A-EQUAL")
    bench.at(1000.0)  # the cure track takes 8 min to heat
    assert bench.model.state is State.READY
    return bench, bench.model


def test_a_settled_tool_idles_a_day_in_a_few_steps_and_raises_its_calibration_alarm_on_time() -> (
    None
):
    bench, model = heated_die_bonder()
    steps = count_steps(model)
    due_s = model.calibration_ref_s + CALIBRATION_DUE_S
    bench.at(due_s - 1.0)
    assert 2203 not in model.active_alarms
    assert len(steps) <= 3, "a settled tool does not step through its idle day"
    bench.at(due_s + 0.5)  # between two grid points: the event before the clock still happens
    assert 2203 in model.active_alarms, "the calibration falls due at its tool time"
    assert len(steps) <= 6


def test_a_settled_tool_steps_its_grid_again_while_a_zone_heats() -> None:
    bench, model = heated_die_bonder()
    model.conditions["CURE_COLD"] = True  # the cure track loses heat: its PV drifts
    steps = count_steps(model)
    bench.advance(100.0)
    assert len(steps) >= 100 / model.max_step_s - 1, "a moving temperature is integrated"
    assert model.zones["CURE"].pv_c < 175.0


@pytest.mark.parametrize("kind", ["die-bonder", "ball-attach", "etch-bath", "laminator"])
def test_a_settled_wall_scaled_tool_sleeps_until_a_request_comes(kind: str) -> None:
    clock = SimClock(1000.0)
    with serve_function(kind)(clock=clock, world=World(), seed=1) as tool:
        deadline = time.monotonic() + 5.0
        while tool.model.snapshot_state() is not State.IDLE:  # 10-30 tool s of INIT
            assert time.monotonic() < deadline, f"the {kind} never settled"
            time.sleep(0.05)
        steps = count_steps(tool.model)
        time.sleep(0.5)  # 500 tool s, 25 ticks of a stepping ticker
        assert len(steps) <= 1, steps
        assert tool.lag_s >= 0.0


def run_ball_attach_magazine(read_every_s: float) -> tuple[float, list[tuple[object, ...]], int]:
    """Heat a BA-8 from cold and run a 6-strip magazine, reading it every ``read_every_s``:
    (tool time READY came, each strip's results and times, steps taken)."""
    bench = ModelBench(BallAttachModel, virtual=True, seed=11)
    model = bench.model
    steps = count_steps(model)

    bench.until(lambda: model.state is State.IDLE, 60.0, read_every_s)
    model.load_recipe("A-BALL050")
    bench.until(lambda: model.state is State.READY, 3000.0, read_every_s)
    ready_s = bench.clock.t
    bench.at(1500.0)  # both runs start the magazine at the same tool time
    model.magazine_count = 6
    model.do_start()
    bench.until(lambda: model.state is State.DONE, 1000.0, read_every_s)
    strips = []
    for k in range(1, 7):
        result = model.strip_results(k)
        strips.append((result.result_map, result.summary_extra, round(result.cycle_s, 6)))
    return ready_s, strips, len(steps)


def test_ball_attach_jumps_event_to_event_and_its_results_do_not_depend_on_how_often_it_is_read() -> (
    None
):
    often_ready_s, often, _often_steps = run_ball_attach_magazine(read_every_s=3.0)
    rare_ready_s, rare, rare_steps = run_ball_attach_magazine(read_every_s=37.0)
    assert often == rare, "the zones' air and the strips' profiles are functions of tool time"
    assert abs(often_ready_s - rare_ready_s) <= 37.0, "READY comes at the same tool time"
    # Heat-up (~1200 s) and a 6-strip magazine (~510 s) were ~1700 steps on the 1 s grid; now
    # the grid is stepped only while a zone's error is near a band's edge.
    assert rare_steps < 400, rare_steps
    peaks = [float(extra[0]) for _map, extra, _s in rare]
    assert all(235.0 <= peak <= 245.0 for peak in peaks), peaks  # the manual's profile


def run_cupric_etch(read_every_s: float) -> tuple[tuple[object, ...], int]:
    """Heat a CUCL2 WE-2, etch a full carrier and let the bath settle, reading every
    ``read_every_s``: (what the host and the strips see, steps taken)."""
    bench = ModelBench(EtchBathModel, virtual=True, seed=4, chemistry=1)
    model, world = bench.model, bench.world
    slots = {k: f"S{k}" for k in range(1, 11)}
    for strip_id in slots.values():
        for site in world.strip(strip_id, 3, 10).sites.values():
            site.slice_thickness_um = 200.0
    steps = count_steps(model)

    bench.until(lambda: model.state is State.IDLE, 60.0, read_every_s)
    model.apply_settings({f"STRIP_ID_{k}": s for k, s in slots.items()} | {"LOAD_MASK": 1023})
    model.do_arm()
    bench.until(lambda: model.state is State.READY, 3600.0, read_every_s)
    bench.at(1500.0)  # both runs start the cycle at the same tool time
    model.do_start()
    bench.until(lambda: model.state is State.DONE, 1000.0, read_every_s)
    bench.at(3000.0)
    assert model.results is not None
    bath = model.bath
    seen = (
        model.end_reason,
        model.final,
        model.results.result_map,
        round(model.results.cycle_s, 6),
        [round(site.etch_depth_um or 0.0, 2) for site in world.strip("S10", 3, 10).sites.values()],
        round(bath.acid_mol_l, 9),
        round(bath.orp_mv, 6),
        round(bath.cu_load_g_l, 6),
        round(bath.level_mm, 6),
    )
    return seen, len(steps)


def test_etch_bath_jumps_event_to_event_and_etches_the_same_whatever_the_reads() -> None:
    often, _often_steps = run_cupric_etch(read_every_s=1.0)
    rare, rare_steps = run_cupric_etch(read_every_s=29.0)
    assert often == rare, "depth, end reason, times and bath are functions of tool time"
    end_reason, final, result_map, cycle_s, *_ = rare
    assert end_reason is EndReason.DEPTH and result_map == "P" * 10
    assert final["etch_s"] == pytest.approx(418, abs=2)  # etch-bath.md §8: 230 µm in 418 s
    assert cycle_s == pytest.approx(582, abs=6)
    # Heat-up (~17 min), the cycle (~10 min) and the bath settling after it: ~3000 steps on
    # the 1 s grid; the reads every 29 s alone are ~100.
    assert rare_steps < 200, rare_steps


def test_a_weak_laminator_heater_settles_below_band_and_times_out_on_time_in_a_few_steps() -> None:
    bench = ModelBench(LaminatorModel, virtual=True, seed=2)
    model = bench.model
    bench.at(20.0)  # power-up INIT
    assert model.state is State.IDLE
    model.set_condition("HEATER_WEAK_TOP", True)  # settles at 95 % of its rise: out of band
    model.do_arm()
    armed_s = bench.clock.t
    bench.advance(1200.0)  # the platens approach their goals (stepped: they move)
    assert model.state is State.HEATING
    steps = count_steps(model)
    bench.at(armed_s + HEATUP_TIMEOUT_S - 1.0)
    assert 1105 not in model.active_alarms
    assert len(steps) <= 3, "settled platens do not step through the wait"
    bench.at(armed_s + HEATUP_TIMEOUT_S + 0.5)
    assert 1105 in model.active_alarms, "the heat-up timeout falls due at its tool time"
    assert len(steps) <= 6


def started_laminator(read_every_s: float) -> tuple[ModelBench, LaminatorModel]:
    """An LM-8 heated from cold and started at tool time 3000 s, read every
    ``read_every_s`` on the way."""
    bench = ModelBench(LaminatorModel, virtual=True, seed=4)
    model = bench.model
    bench.until(lambda: model.state is State.IDLE, 60.0, read_every_s)
    model.do_arm()
    bench.until(lambda: model.state is State.READY, 3000.0, read_every_s)
    bench.at(3000.0)  # START at the same tool time whatever the reads
    model.do_start()
    return bench, model


def run_laminator_cycle(read_every_s: float) -> tuple[tuple[object, ...], int]:
    """Heat an LM-8, run one default cycle, reading it every ``read_every_s``: (its §4 dwell
    statistics and DWELL_ACTUAL, steps taken during the dwell)."""
    bench, model = started_laminator(read_every_s)
    bench.until(lambda: model.phase == "DWELL", 3600.0, read_every_s)
    steps = count_steps(model)
    bench.until(lambda: model.phase != "DWELL", 3600.0, read_every_s)
    dwell_steps = len(steps)
    bench.until(lambda: model.state is State.DONE, 3600.0, read_every_s)
    s = model.stats
    figures = (s.peak_temp_c, s.max_temp_dev_c, s.min_pressure_mpa, s.max_vacuum_kpa, s.voids)
    return (*figures, model.dwell_actual_s), dwell_steps


def test_a_settled_laminator_dwell_is_not_stepped_and_its_statistics_ignore_the_reads() -> None:
    rare, rare_steps = run_laminator_cycle(read_every_s=60.0)
    often, often_steps = run_laminator_cycle(read_every_s=7.0)
    peak_c, deviation_c, low_mpa, vacuum_kpa, voids, dwell_actual_s = rare
    assert dwell_actual_s == 2700 and not voids  # DWELL_S, every reading in band
    # 0.2 °C thermocouple noise over 540 readings per platen: the extremes ≈ 3 σ.
    assert 170.2 < peak_c < 171.2 and 0.2 < deviation_c < 1.2
    assert peak_c - 170.0 <= deviation_c + 1e-9, "the peak reading deviates by no more"
    assert low_mpa is not None and 1.98 < low_mpa < 2.0 and vacuum_kpa is not None
    assert vacuum_kpa <= 2.0
    assert often == rare, "the readings are counted per 5 s of tool time, not per request"
    # The platens settle onto PLATEN_SP in ~30 steps, then a step per read (45 or 386);
    # stepped, the 2700 s dwell was 540 steps on the 5 s grid.
    assert rare_steps < 80 and often_steps < 30 + 2700 / 7.0 + 10, (rare_steps, often_steps)


def run_laminator_ramp(read_every_s: float) -> tuple[float, float, float, int]:
    """Heat an LM-8 and run a default cycle through its RAMP, reading it every ``read_every_s``:
    (set-point and both platens at 4560 s, early in the DWELL; steps taken in the RAMP)."""
    bench, model = started_laminator(read_every_s)
    bench.until(lambda: model.phase == "RAMP", 3600.0, read_every_s)
    steps = count_steps(model)
    bench.until(lambda: model.phase != "RAMP", 3600.0, read_every_s)
    ramp_steps = len(steps)
    bench.at(4560.0)  # START 3000, CLOSE 20, EVACUATE ~430, PRESSURIZE 30, RAMP 1050
    assert model.phase == "DWELL"
    return model.program_sp_c, model.top.pv_c, model.bottom.pv_c, ramp_steps


def test_a_settled_laminator_ramp_jumps_between_reads_and_the_platens_follow_it_alike() -> None:
    rare = run_laminator_ramp(read_every_s=60.0)
    often = run_laminator_ramp(read_every_s=7.0)
    assert rare[0] == often[0] == 170.0, "the ramp ended at PLATEN_SP"
    # First-order platens trail a 4 °C/min ramp by rate x 10 s = 0.67 °C, then close on it:
    # some 30-40 s into the dwell 0.67 x e^-3 = 0.03 °C short.
    assert 169.9 < rare[1] < 170.0
    assert rare[1:3] == pytest.approx(often[1:3], abs=1e-9), "the same whatever the reads"
    # 1050 s of ramp: about one step per read (18 or 150) and a few at its start, where the
    # 5 s grid took 210.
    assert rare[3] <= 30 and often[3] <= 1050 / 7.0 + 10, (rare[3], often[3])
