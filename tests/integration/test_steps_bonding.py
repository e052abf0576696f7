"""The die-bond and wire-bond process steps against the simulated DB-4 and WB-3 over their real
transports: every die-attach variant of both products (equal, small with gap fill, large;
flip-chip, plate, glued), wire bond on the die-attach result map, the host's judgement, the
recipe kept loaded between strips, a hold alarm resumed and an operator abort."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from drivers.base import Tool
from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.errors import ToolAlarm
from drivers.states import ToolState
from drivers.wire_bonder import WireBondParameters
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, StepControl, StepRefused, run_step
from sequences.steps.die_bond import DieBondStep
from sequences.steps.judging import HOST_OUTSIDE_RECIPE
from sequences.steps.wire_bond import WireBondStep
from sim.clock import SimClock
from sim.die_bonder import ProcessSpread
from sim.simulated_tool import SimulatedTool
from sim.world import World
from tests.support.integration_waits import when
from tests.support.measured import measured
from tests.support.step_runs import Start, calls_to, opened_drivers, resuming
from tests.support.step_runs import run as run_steps

SCALE = 5000
pytestmark = pytest.mark.sim_time_scale(SCALE)

FORMAT_A = (3, 10)
FORMAT_B = (8, 30)
#: Master-recipe settings of the bonder's typical recipes (die-bonder.md §1).
A_EQUAL = DieBondSettings(dispense_volume_nl=1200)
A_SMALL_ATTACH = DieBondSettings(dispense_volume_nl=600)
A_SMALL_GAP_FILL = DieBondSettings(mode="GAPFILL", dispense_pattern="RING", dispense_volume_nl=8640)
A_LARGE = DieBondSettings(place_zref="TOP", dispense_pattern="FILL", dispense_volume_nl=18400)
B_FLIP_CHIP = DieBondSettings(mode="FLIPCHIP")
B_PLATE = DieBondSettings(mode="PLATE", dispense_pattern="DOT", dispense_volume_nl=100)
B_GLUE = DieBondSettings(dispense_volume_nl=220)
#: Placement scatter wide enough that some sites fail 2503 (|dx| or |dy| > 25 µm).
WIDE_PLACEMENT = ProcessSpread(xy_spec_um=75.0)
A64 = WireBondStep(
    "A64",
    WireBondParameters(stage_temperature_sp_c=150.0, fab_diameter_um=50, loop_height_um=250),
)
B16 = WireBondStep(
    "B16",
    WireBondParameters(stage_temperature_sp_c=150.0),
    wires_per_unit=16,
    nominal_sites=240,
)


@pytest.fixture
def start(sim_tool: Callable[..., SimulatedTool]) -> Iterator[Start]:
    """``start("die-bonder", **options)`` -> connected driver, simulator."""
    with opened_drivers(sim_tool, seed=7) as factory:
        yield factory


def job(strip_id: str, size: tuple[int, int], input_map: str | None = None) -> StripJob:
    rows, cols = size
    return StripJob(strip_id, rows, cols, input_map or "1" * (rows * cols))


def run(
    step: DieBondStep | WireBondStep,
    tool: Tool,
    jobs: Sequence[StripJob],
    clock: SimClock,
    control: StepControl | None = None,
) -> StripOutcome:
    (outcome,) = run_steps(step, tool, jobs, clock, control)
    return outcome


def skipped_where_not_passed(upstream: StripOutcome, downstream: StripOutcome) -> bool:
    """Every site that did not pass upstream is X downstream."""
    return all(
        down == "X"
        for up, down in zip(upstream.result_map, downstream.result_map, strict=True)
        if up != "P"
    )


def assert_placed_within(outcome: StripOutcome, settings: DieBondSettings) -> None:
    """The P sites' placement, bond line and volume lie in the recipe's windows (§5)."""
    tol_xy_um, tol_theta_deg = settings.place_tolerance
    for site in outcome.sites:
        if site.result != "P":
            continue
        v = site.values
        assert abs(measured(v["dx_um"])) <= tol_xy_um and abs(measured(v["dy_um"])) <= tol_xy_um
        assert abs(measured(v["dtheta_deg"])) <= tol_theta_deg
        if "blt_um" in v:
            assert abs(measured(v["blt_um"]) - settings.place_blt_um) <= 10.0
        if "volume_nl" in v:
            tolerance = settings.dispense_tolerance_pct / 100 * settings.dispense_volume_nl
            assert abs(measured(v["volume_nl"]) - settings.dispense_volume_nl) <= tolerance


def test_die_attach_equal_die_places_every_site_within_the_recipe(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    bonder, _ = start("die-bonder")
    step = DieBondStep("die attach", "A-EQUAL", A_EQUAL)
    input_map = "1" * 29 + "0"  # site 30: known-bad substrate site

    outcome = run(step, bonder, [job("A-EQ-1", FORMAT_A, input_map)], sim_clock)

    assert outcome.result_map[29] == "X" and outcome.sites[29].values == {}
    assert outcome.result_map[:29].count("P") >= 28
    assert_placed_within(outcome, A_EQUAL)
    assert set(outcome.sites[0].values) == {
        "dx_um", "dy_um", "dtheta_deg", "blt_um", "volume_nl", "force_n"
    }  # fmt: skip
    summary = outcome.tool_summary
    assert summary["mode"] == "EPOXY" and summary["end_state"] == "DONE"
    assert summary["placed"] == sum(1 for s in outcome.sites if s.result in "PF")
    assert summary["cycle_s"] == pytest.approx(step.expected_cycle_tool_s, rel=0.1)
    assert step.expected_cycle_tool_s == pytest.approx(4 + 3 + 4 + 30 * 0.54 + 60)
    assert outcome.recipe_values["settings"]["dispense_volume_nl"] == 1200
    strip = sim_world.get("A-EQ-1")
    assert strip is not None
    assert all(strip.site(k).die_placed == (outcome.result_map[k - 1] != "X") for k in range(1, 31))


def test_small_die_gets_gap_fill_only_where_its_die_attach_passed(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    bonder, _ = start("die-bonder", spread=WIDE_PLACEMENT)
    attach = DieBondStep("die attach", "A-SMALL-1", A_SMALL_ATTACH)
    gap_fill = DieBondStep("gap fill", "A-SMALL-2", A_SMALL_GAP_FILL)

    alarms: list[ToolAlarm] = []  # 3 placement failures in a row: 2105, cleared and resumed
    attached = run(attach, bonder, [job("A-SM-1", FORMAT_A)], sim_clock, resuming(alarms))
    filled = run(gap_fill, bonder, [job("A-SM-1", FORMAT_A, attached.next_input_map)], sim_clock)

    assert {a.code for a in alarms} <= {2105}
    failed = [s for s in attached.sites if s.result == "F"]
    assert failed and all(s.defect in (2503, 2504, 2505, 2507) for s in failed)
    assert skipped_where_not_passed(attached, filled)
    assert filled.result_map.count("P") >= attached.result_map.count("P") - 1
    for site in filled.sites:
        if site.result == "P":
            assert set(site.values) == {"volume_nl"}
            assert abs(measured(site.values["volume_nl"]) - 8640) <= 864
    assert filled.tool_summary["mode"] == "GAPFILL" and filled.tool_summary["placed"] == 0
    assert gap_fill.expected_cycle_tool_s == pytest.approx(129.0, abs=0.5)  # die-bonder.md §8
    strip = sim_world.get("A-SM-1")
    assert strip is not None
    assert [strip.site(s.site).gap_filled for s in filled.sites] == [
        s.result == "P" for s in filled.sites
    ]


def test_large_die_attaches_on_the_substrate_top_filling_the_opening(
    start: Start, sim_clock: SimClock
) -> None:
    bonder, _ = start("die-bonder")
    step = DieBondStep("die attach", "A-LARGE", A_LARGE)

    outcome = run(step, bonder, [job("A-LG-1", FORMAT_A)], sim_clock)

    assert outcome.result_map.count("P") >= 29
    assert_placed_within(outcome, A_LARGE)
    assert outcome.recipe_values["settings"]["place_zref"] == "TOP"
    assert outcome.tool_summary["cycle_s"] == pytest.approx(11 + 30 * (0.3 + 3.68) + 60, rel=0.1)


def test_flip_chip_bonds_a_format_b_strip_within_the_force_band(
    start: Start, sim_clock: SimClock
) -> None:
    bonder, _ = start("die-bonder")
    step = DieBondStep("flip-chip", "B-FC", B_FLIP_CHIP, nominal_sites=240)

    outcome = run(step, bonder, [job("B-FC-1", FORMAT_B)], sim_clock)

    assert len(outcome.result_map) == 240 and outcome.result_map.count("P") >= 235
    assert_placed_within(outcome, B_FLIP_CHIP)
    for site in outcome.sites:
        if site.result == "P":
            assert set(site.values) == {"dx_um", "dy_um", "dtheta_deg", "force_n"}
            assert abs(measured(site.values["force_n"]) - 30.0) <= 3.0
    assert step.expected_cycle_tool_s == pytest.approx(1331.0)  # die-bonder.md §8
    assert outcome.tool_summary["cycle_s"] == pytest.approx(1331.0, rel=0.1)


def test_plate_then_glued_die_on_a_format_b_strip(
    start: Start, sim_clock: SimClock, sim_world: World
) -> None:
    bonder, _ = start("die-bonder")
    plate = DieBondStep("plate", "B-PLATE", B_PLATE, nominal_sites=240)
    glue = DieBondStep("die attach", "B-GLUE", B_GLUE, nominal_sites=240)
    input_map = "0" + "1" * 239

    plated = run(plate, bonder, [job("B-PL-1", FORMAT_B, input_map)], sim_clock)
    glued = run(glue, bonder, [job("B-PL-1", FORMAT_B, plated.next_input_map)], sim_clock)

    assert plated.result_map[0] == "X" and plated.result_map.count("P") >= 235
    assert_placed_within(plated, B_PLATE)
    assert plated.tool_summary["mode"] == "PLATE"
    assert skipped_where_not_passed(plated, glued)
    assert_placed_within(glued, B_GLUE)
    strip = sim_world.get("B-PL-1")
    assert strip is not None
    assert all(strip.site(s.site).plate_placed for s in plated.sites if s.result == "P")


def test_wire_bond_skips_the_sites_die_attach_did_not_pass_on_format_a(
    start: Start, sim_clock: SimClock
) -> None:
    die_bonder, _ = start("die-bonder", spread=WIDE_PLACEMENT)
    wire_bonder, _ = start("wire-bonder")
    input_map = "1" * 6 + "0" + "1" * 23  # site 7 known bad before die attach
    attached = run(
        DieBondStep("die attach", "A-EQUAL", A_EQUAL),
        die_bonder,
        [job("A-WB-1", FORMAT_A, input_map)],
        sim_clock,
        resuming([]),
    )

    bonded = run(A64, wire_bonder, [job("A-WB-1", FORMAT_A, attached.next_input_map)], sim_clock)

    assert "F" in attached.result_map and bonded.result_map[6] == "X"
    assert skipped_where_not_passed(attached, bonded)
    assert [c == "X" for c in bonded.result_map] == [c != "P" for c in attached.result_map]
    passed = [s for s in bonded.sites if s.result == "P"]
    assert passed and all(s.values["wires_bonded"] == s.values["wires_total"] == 64 for s in passed)
    assert all(abs(measured(s.values["mean_fab_um"]) - 50) <= 5 for s in passed)
    assert bonded.tool_summary["wires_bonded"] >= 64 * len(passed)
    assert A64.expected_cycle_tool_s == pytest.approx(216.0, abs=1.0)  # wire-bonder.md §8
    skipped = bonded.result_map.count("X")
    assert bonded.tool_summary["cycle_s"] == pytest.approx(
        17 + (30 - skipped) * (64 * 0.080 + 1.5), rel=0.1
    )


def test_wire_bond_on_a_glued_format_b_strip(start: Start, sim_clock: SimClock) -> None:
    die_bonder, _ = start("die-bonder")
    wire_bonder, _ = start("wire-bonder")
    glued = run(
        DieBondStep("die attach", "B-GLUE", B_GLUE, nominal_sites=240),
        die_bonder,
        [job("B-WB-1", FORMAT_B, "1" * 200 + "0" * 40)],
        sim_clock,
    )

    bonded = run(B16, wire_bonder, [job("B-WB-1", FORMAT_B, glued.next_input_map)], sim_clock)

    assert len(bonded.result_map) == 240 and bonded.result_map[200:] == "X" * 40
    assert skipped_where_not_passed(glued, bonded)
    assert bonded.result_map.count("P") >= glued.result_map.count("P") - 2
    assert all(s.values["wires_total"] == 16 for s in bonded.sites if s.result == "P")
    assert B16.expected_cycle_tool_s == pytest.approx(684.0, abs=1.0)  # wire-bonder.md §8


class PanelEditedDieAttach(DieBondStep):
    """An operator widens the placement tolerance at the bonder's panel after the set-up."""

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        super().set_up(tool, jobs, pace)
        assert isinstance(tool, DieBonder)
        tool.place_tolerance = (100.0, 3.0)


def test_die_attach_fails_sites_the_tool_passed_outside_the_recipe_window(
    start: Start, sim_clock: SimClock
) -> None:
    bonder, _ = start("die-bonder", spread=WIDE_PLACEMENT)
    step = PanelEditedDieAttach("die attach", "A-EQUAL", A_EQUAL)

    outcome = run(step, bonder, [job("A-HJ-1", FORMAT_A)], sim_clock, resuming([]))

    host_failed = [s for s in outcome.sites if s.defect == HOST_OUTSIDE_RECIPE]
    assert host_failed, "a 25 µm σ placement puts some sites outside ±25 µm"
    for site in host_failed:
        assert site.result == "F"
        offset = max(abs(measured(site.values["dx_um"])), abs(measured(site.values["dy_um"])))
        assert 25.0 < offset <= 100.0
    reasons = outcome.tool_summary["host_failed"]
    assert set(reasons) == {s.site for s in host_failed}
    assert all("outside -25..25" in reason for reason in reasons.values())
    assert outcome.tool_summary["passed"] == outcome.result_map.count("P") + len(host_failed)
    assert_placed_within(outcome, A_EQUAL)


def test_die_attach_keeps_the_loaded_recipe_between_strips_and_reloads_on_change(
    start: Start, sim_clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bonder, _ = start("die-bonder")
    loaded = calls_to(monkeypatch, bonder, "load_recipe")
    attach = DieBondStep("die attach", "A-SMALL-1", A_SMALL_ATTACH)
    gap_fill = DieBondStep("gap fill", "A-SMALL-2", A_SMALL_GAP_FILL)

    first = run(attach, bonder, [job("A-RL-1", FORMAT_A)], sim_clock)
    second = run(attach, bonder, [job("A-RL-2", FORMAT_A)], sim_clock)
    run(gap_fill, bonder, [job("A-RL-1", FORMAT_A, first.next_input_map)], sim_clock)

    assert loaded == [("A-SMALL-1",), ("A-SMALL-2",)]
    assert second.result_map.count("P") >= 29


def test_die_attach_resumes_after_a_syringe_empty_hold_without_losing_a_site(
    start: Start, sim_clock: SimClock
) -> None:
    bonder, simulated = start("die-bonder")
    simulated.faults.alarm(2101, site=12)
    alarms: list[ToolAlarm] = []
    step = DieBondStep("die attach", "A-EQUAL", A_EQUAL)
    control = resuming(alarms, fix=simulated.model.fix)  # the operator replaces the syringe
    outcome = run(step, bonder, [job("A-HOLD-1", FORMAT_A)], sim_clock, control)

    assert [a.code for a in alarms] == [2101]
    assert "N" not in outcome.result_map and outcome.result_map.count("P") >= 29
    assert outcome.tool_summary["end_state"] == "DONE"


@pytest.mark.sim_time_scale(2000)
def test_operator_abort_of_a_wire_bond_leaves_the_rest_of_the_strip_not_processed(
    start: Start, sim_clock: SimClock
) -> None:
    die_bonder, _ = start("die-bonder")
    wire_bonder, simulated = start("wire-bonder")
    attached = run(
        DieBondStep("die attach", "A-EQUAL", A_EQUAL),
        die_bonder,
        [job("A-AB-1", FORMAT_A, "1" * 29 + "0")],
        sim_clock,
    )
    # Heated at full speed, the strip bonded at 100x (66 ms a unit): the abort lands mid-strip
    # however slowly the watcher below is scheduled on a loaded machine.
    wire_bonder.load_program("A64")
    wire_bonder.wait_for_state([ToolState.READY], timeout_s=30.0)
    sim_clock.set_scale(100)
    control = StepControl()

    # The operator aborts after five units.
    watcher = when(lambda: simulated.model.progress()[0] >= 5, control.abort.set, poll_s=0.001)
    strip = job("A-AB-1", FORMAT_A, attached.next_input_map)
    bonded = run(A64, wire_bonder, [strip], sim_clock, control)
    watcher.join()

    assert bonded.tool_summary["end_state"] == ToolState.ABORTED.name
    result_map = bonded.result_map
    assert result_map[29] == "X"
    first_n = result_map.index("N")
    assert first_n >= 5 and set(result_map[first_n:29]) <= {"N", "X"}
    interrupted = [s for s in bonded.sites if s.defect == 3508]
    assert len(interrupted) <= 1 and all(s.site <= first_n for s in interrupted)
    assert bonded.next_input_map[first_n:] == "0" * (30 - first_n)


def test_wire_bond_refuses_a_bad_parameter_before_sending_anything(
    start: Start, sim_clock: SimClock
) -> None:
    wire_bonder, _ = start("wire-bonder")
    control = StepControl()
    jobs = [job("A-REF-1", FORMAT_A)]
    pace = Pace(sim_clock.time_scale)
    wire_bonder.wait_for_state([ToolState.IDLE], timeout_s=5.0, poll_s=0.002)

    for parameters, why in (
        (
            WireBondParameters(stage_temperature_sp_c=250.0),
            "stage_temperature_sp_c = 250.0 outside 75.0..220.0",
        ),
        (
            WireBondParameters(wire_diameter_um=25, fab_diameter_um=80),
            "FAB_D 80 µm not 1.5-3.0 × WIRE_D 25 µm",
        ),
        (
            WireBondParameters(wire_material="CU", gas_flow_l_min=0.3),
            "Cu wire needs GAS_FLOW >= 0.4 L/min, not 0.3",
        ),
    ):
        step = WireBondStep("A64", parameters)
        with pytest.raises(StepRefused, match=why):
            run_step(step, wire_bonder, jobs, station="wb", pace=pace, control=control)
    # A name that is not a §4.2 parameter, or one the program sets (WIRES), cannot be given.
    for name in ("loop_height", "wires_per_unit"):
        given: dict[str, Any] = {name: 250}
        with pytest.raises(TypeError, match=name):
            WireBondParameters(**given)

    assert wire_bonder.program().name == "" and wire_bonder.state() is ToolState.IDLE
