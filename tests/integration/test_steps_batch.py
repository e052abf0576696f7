"""The batch-tool process steps against the simulated LM-8, TM-4 and WE-2 over Modbus (TCP; the
etch bath through its gateway and on RTU): a press load, a mold shot and etch carriers of both
chemistries judged as whole strips, the station's chemistry checked before arming, a hold alarm
resumed, an operator hold and abort, the cycle bound, and the host's judgement of an under-etch
the tool cannot see."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from drivers.errors import ToolAlarm, ToolTimeout
from drivers.etch_bath import Chemistry, EndpointMode, EtchRecipe
from drivers.laminator import LaminationRecipe
from drivers.mold_press import MoldRecipe
from drivers.states import ToolState
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep, StepControl, StepRefused, wait_ready
from sequences.steps.etch import EtchStep
from sequences.steps.judging import HOST_OUTSIDE_RECIPE
from sequences.steps.laminate import LaminateStep
from sequences.steps.mold import MoldStep
from sequences.steps.setup import arm_batch, positions_of, wait_settled
from sim.clock import SimClock
from sim.etch_bath import EtchBathModel
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.support.integration_waits import raises_within, when
from tests.support.measured import measured
from tests.support.step_runs import Start, calls_to, opened_drivers, resuming, run

SCALE = 5000
pytestmark = pytest.mark.sim_time_scale(SCALE)

FORMAT_A = (3, 10)
FORMAT_B = (8, 30)
CUCL2_SLUG = EtchStep("etch", Chemistry.CUCL2, EtchRecipe.typical(Chemistry.CUCL2))
KOH_RECESS = EtchStep("recess (etch)", Chemistry.KOH, EtchRecipe.typical(Chemistry.KOH))


@pytest.fixture
def start(sim_tool: Callable[..., SimulatedTool]) -> Iterator[Start]:
    """``start("mold-press", **options)`` -> connected driver, simulator."""
    with opened_drivers(sim_tool, seed=11) as factory:
        yield factory


def strips(prefix: str, count: int, size: tuple[int, int] = FORMAT_A) -> list[StripJob]:
    rows, cols = size
    return [StripJob(f"{prefix}-{k}", rows, cols, "1" * (rows * cols)) for k in range(1, count + 1)]


def arrived_laminated(world: World, jobs: Sequence[StripJob]) -> None:
    """The strips come from upstream: a 200 µm Cu slice under each (laminate is tested above)."""
    for job in jobs:
        for site in world.strip(job.strip_id, job.rows, job.cols).sites.values():
            site.slice_thickness_um, site.adhesive_thickness_um = 200.0, 25.0


def passed_whole(outcome: StripOutcome) -> bool:
    return set(outcome.result_map) == {"P"} and outcome.next_input_map == "1" * len(
        outcome.result_map
    )


def test_laminate_bonds_the_slice_under_two_strips_of_one_press_load(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    first, second = strips("LAM", 2)
    second = StripJob(second.strip_id, 3, 10, "1" * 9 + "0" + "1" * 20)  # site 10 known bad

    laminator, _ = start("laminator")

    outcomes = run(LaminateStep(LaminationRecipe()), laminator, [first, second], sim_clock)

    assert passed_whole(outcomes[0])
    assert outcomes[1].result_map == "P" * 9 + "X" + "P" * 20
    assert outcomes[1].sites[9].values == {}
    recipe = LaminationRecipe()
    for outcome in outcomes:
        values = outcome.sites[0].values
        assert measured(values["dwell_actual_s"]) >= recipe.dwell_s
        assert measured(values["max_temp_dev_c"]) <= recipe.temp_band_c
        assert abs(measured(values["min_pressure_dwell_mpa"]) - recipe.pressure_sp_mpa) <= 0.1
        assert outcome.tool_summary["load_map"] == "PPXXXXXX"
        assert outcome.tool_summary["cycle_s"] == pytest.approx(94 * 60, rel=0.1)
        assert outcome.recipe_values["recipe"]["dwell_s"] == 2700
    assert LaminateStep(recipe).expected_cycle_tool_s == pytest.approx(94 * 60, rel=0.01)
    for job in (first, second):
        strip = sim_world.get(job.strip_id)
        assert strip is not None
        assert all(site.slice_thickness_um for site in strip.sites.values())


def test_mold_shot_of_three_strips_in_positions_one_to_three(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    press, _ = start("mold-press")
    jobs = strips("MOLD", 3)
    arrived_laminated(sim_world, jobs)
    step = MoldStep(MoldRecipe())

    outcomes = run(step, press, jobs, sim_clock)

    assert all(passed_whole(o) for o in outcomes)
    assert {o.tool_summary["shot_map"] for o in outcomes} == {"PPPX"}
    values = outcomes[0].sites[0].values
    assert measured(values["alpha_at_open"]) >= 0.8
    assert measured(values["fill_time_s"]) < measured(values["t_alpha03_s"])
    assert abs(measured(values["cull_height_mm"]) - 4.0) <= 0.5
    assert step.expected_cycle_tool_s == pytest.approx(179.0)  # mold-press.md §8
    assert outcomes[0].tool_summary["cycle_s"] == pytest.approx(179.0, rel=0.1)
    for job in jobs:
        strip = sim_world.get(job.strip_id)
        assert strip is not None and all(site.molded for site in strip.sites.values())


def test_mold_arms_once_for_an_unchanged_recipe_and_again_when_it_changes(
    start: Start, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    press, _ = start("mold-press")
    armed = calls_to(monkeypatch, press, "arm")

    run(MoldStep(MoldRecipe()), press, strips("ARM-A", 4), sim_clock)
    second = run(MoldStep(MoldRecipe()), press, strips("ARM-B", 2), sim_clock)
    run(MoldStep(MoldRecipe(cure_s=120)), press, strips("ARM-C", 1), sim_clock)

    assert len(armed) == 2
    assert {o.tool_summary["shot_map"] for o in second} == {"PPXX"}


def test_etch_carrier_of_four_cucl2_strips_etches_the_slice_into_slugs(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    jobs = strips("ETCH", 4)
    arrived_laminated(sim_world, jobs)
    bath, _ = start("etch-bath", transport="tcp", chemistry=1)

    outcomes = run(CUCL2_SLUG, bath, jobs, sim_clock)

    assert all(passed_whole(o) for o in outcomes)
    summary = outcomes[0].tool_summary
    assert summary["carrier_map"] == "PPPPXXXXXX" and summary["end_reason"] == "DEPTH"
    values = outcomes[0].sites[0].values
    assert measured(values["depth_um"]) >= 230.0
    assert abs(measured(values["temp_c"]) - 50.0) <= 1.5
    for outcome in outcomes:  # what the host held the values to, for SPC's limits
        judged = outcome.recipe_values["judged_windows"]
        assert judged == {"depth_um": [230.0, None], "temp_c": [48.5, 51.5]}
    assert CUCL2_SLUG.expected_cycle_tool_s == pytest.approx(582.0, abs=1.0)  # etch-bath.md §8
    assert summary["cycle_s"] == pytest.approx(582.0, rel=0.1)
    for job in jobs:
        strip = sim_world.get(job.strip_id)
        assert strip is not None
        assert all(measured(site.residual_cu_um) <= 1.0 for site in strip.sites.values())


def test_koh_recess_etch_of_a_format_b_carrier_on_rtu(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    bath, _ = start("etch-bath", transport="rtu", chemistry=3)
    jobs = strips("KOH", 2, FORMAT_B)

    outcomes = run(KOH_RECESS, bath, jobs, sim_clock)

    assert all(passed_whole(o) and len(o.result_map) == 240 for o in outcomes)
    assert measured(outcomes[0].sites[0].values["depth_um"]) >= 25.0
    assert KOH_RECESS.expected_cycle_tool_s == pytest.approx(464.0, abs=1.0)  # etch-bath.md §8
    strip = sim_world.get("KOH-1")
    assert strip is not None and all(site.via_depth_um for site in strip.sites.values())


def test_etch_refuses_a_station_of_another_chemistry_before_arming(
    start: Start, sim_clock: SimClock
) -> None:
    bath, _ = start("etch-bath", transport="tcp", chemistry=3)
    bath.wait_for_state([ToolState.IDLE], timeout_s=5.0, poll_s=0.002)

    with pytest.raises(StepRefused, match="CHEMISTRY is KOH, the step needs CUCL2"):
        run(CUCL2_SLUG, bath, strips("CHEM", 2), sim_clock)

    assert bath.state() is ToolState.IDLE
    assert bath.load_mask == 1023 and bath.strip_ids() == [""] * 10, "nothing was written"


def test_etch_fails_an_under_etch_the_tool_passes_in_time_mode(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    jobs = strips("UNDER", 2)
    arrived_laminated(sim_world, jobs)
    bath, _ = start("etch-bath", transport="tcp", chemistry=1)
    short = EtchStep(
        "etch", Chemistry.CUCL2, EtchRecipe(endpoint_mode=EndpointMode.TIME, etch_time_s=300)
    )

    outcomes = run(short, bath, jobs, sim_clock)

    for outcome in outcomes:
        assert outcome.tool_summary["carrier_map"][:2] == "PP", "TIME mode: the tool passes"
        assert set(outcome.result_map) == {"F"} and outcome.next_input_map == "0" * 30
        assert {site.defect for site in outcome.sites} == {HOST_OUTSIDE_RECIPE}
        assert outcome.tool_summary["host_failed"].startswith("depth_um ")
        assert measured(outcome.sites[0].values["depth_um"]) < 200.0


def test_hold_alarm_mid_dwell_resumes_once_the_cause_is_fixed(
    start: Start, sim_clock: SimClock
) -> None:
    laminator, simulated = start("laminator")
    simulated.faults.condition("HYDRAULIC", phase="DWELL", after_s=600)
    alarms: list[ToolAlarm] = []
    restore = resuming(alarms, fix=simulated.model.fix)  # the hydraulic supply is restored

    outcomes = run(
        LaminateStep(LaminationRecipe()), laminator, strips("HOLD", 2), sim_clock, restore
    )

    assert [(a.code, a.alarm_class) for a in alarms] == [(1004, "H")]
    assert all(passed_whole(o) for o in outcomes)
    assert measured(outcomes[0].sites[0].values["dwell_actual_s"]) >= 2700


def test_operator_hold_during_cure_takes_effect_when_the_shot_ends(
    start: Start, sim_clock: SimClock
) -> None:
    press, simulated = start("mold-press")
    control = StepControl()
    when(lambda: simulated.model.phase == "CURE", control.hold.set)

    outcomes = run(MoldStep(MoldRecipe()), press, strips("MHOLD", 2), sim_clock, control)

    assert all(passed_whole(o) for o in outcomes), "a shot cannot be held after the clamp"
    assert control.hold.is_set()


@pytest.mark.sim_time_scale(2000)
def test_operator_abort_mid_etch_fails_the_carrier_and_stops_it_downstream(
    start: Start, sim_clock: SimClock
) -> None:
    jobs = strips("ABORT", 3)
    bath, simulated = start("etch-bath", transport="tcp", chemistry=1)
    model = simulated.model
    assert isinstance(model, EtchBathModel)
    control = StepControl()
    # Heat up at 2000x, etch at 250x: the ~6 tool min between the abort's depth and the end of
    # ETCH are then 1.4 s of wall, not 0.2 s a loaded machine could miss.
    when(lambda: model.phase == "ETCH", lambda: sim_clock.set_scale(250))
    when(lambda: model.etch_depth_um > 50.0, control.abort.set)

    outcomes = run(CUCL2_SLUG, bath, jobs, sim_clock, control)

    for outcome in outcomes:
        assert outcome.tool_summary["end_state"] == "ABORTED"
        assert outcome.tool_summary["end_reason"] == "ABORTED"
        assert {(s.result, s.defect) for s in outcome.sites} == {("F", 5503)}
        assert outcome.next_input_map == "0" * 30
        assert 50.0 < measured(outcome.sites[0].values["depth_um"]) < 230.0


class ShortBoundMold(MoldStep):
    """A mold step whose cycle bound is shorter than its shot."""

    cycle_tool_s = 60.0


SHOT_SCALE = 100.0  # the 179 s shot lasts 1.8 s of wall time, its 60 s bound 0.6 s


def test_a_shot_outlasting_its_bound_raises_tool_timeout(start: Start, sim_clock: SimClock) -> None:
    press, _ = start("mold-press")
    step = ShortBoundMold(MoldRecipe())
    assert MoldStep(MoldRecipe()).cycle_tool_s == pytest.approx(3 * 179.0)
    jobs = strips("SLOW", 1)
    # Heat up at full speed, then shoot at a pace where the shot outlasts its bound by more than
    # a loaded machine's scheduling delay (at 5000x the whole shot took 36 ms of wall time).
    # Out of power-up INIT first (15 tool s): arming in INIT is refused with 21 Busy.
    wait_settled(press, Pace(sim_clock.time_scale))
    arm_batch(press, step.recipe, positions_of(jobs))
    wait_ready(press, Pace(sim_clock.time_scale), step.heat_up_tool_s)
    sim_clock.set_scale(SHOT_SCALE)

    with raises_within(ToolTimeout, 2.0, match="mold: cycle not finished within 60 tool s"):
        run(step, press, jobs, sim_clock)

    assert press.state() is ToolState.RUNNING


def test_a_step_is_refused_by_an_interlock_its_set_up_does_not_clear(start: Start) -> None:
    press, simulated = start("mold-press")
    step = MoldStep(MoldRecipe())
    assert step.cleared_by_set_up == {"TEMP", "LOAD"}
    simulated.model.set_condition("DOOR", True)
    simulated.model.set_condition("HYDRAULIC", True)
    simulated.model.set_condition("LOAD", True)  # the handler loaded nothing (yet)
    with pytest.raises(StepRefused, match=r"mold: interlock\(s\) active: DOOR, HYDRAULIC$"):
        step.check(press)
    simulated.model.set_condition("DOOR", False)
    simulated.model.set_condition("HYDRAULIC", False)
    assert press.interlocks() == ["LOAD"]
    step.check(press)  # LOAD is the set-up's to clear: not a refusal


def test_a_step_is_refused_on_a_tool_other_than_its_declared_driver(start: Start) -> None:
    laminator, _ = start("laminator")
    with pytest.raises(StepRefused, match=r"mold runs on MoldPress .*, not Laminator"):
        MoldStep(MoldRecipe()).check(laminator)


def test_the_etch_step_declares_the_chemistry_a_station_must_hold() -> None:
    assert ProcessStep.station_settings_of("etch-bath") == {"chemistry"}
    assert ProcessStep.station_settings_of("mold-press") == set()
    assert KOH_RECESS.needs() == {"chemistry": Chemistry.KOH}
    assert MoldStep(MoldRecipe()).needs() == {}
