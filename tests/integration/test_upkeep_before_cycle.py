"""Upkeep before a cycle, on dry runs on the virtual clock: an FeCl3 etch bath near its copper
limit is renewed on an operator request, the metrology gauge's calibration is the station's
upkeep (recorded with result and duration), and a tool's warm-up is set-up, never productive."""

from __future__ import annotations

import dataclasses
from functools import partial

from drivers.etch_bath import Chemistry, EtchRecipe
from sequences.line_config import LineConfig, load_line_config
from sequences.route import Route
from sequences.steps.base import ProcessStep
from sequences.steps.etch import EtchStep
from tests.support.integration_lots import handling_s, heat_slug_route, simulated_lot

DEFAULT = heat_slug_route()
#: A lot "U" on the virtual clock.
dry_run = partial(simulated_lot, lot_id="U", seed=3)


def only(step: ProcessStep) -> Route:
    """The default route cut down to one step (a dry run then needs that station only)."""
    return dataclasses.replace(DEFAULT, steps=(step,), claims=())


def step_of(tool: str) -> ProcessStep:
    return next(step for step in DEFAULT.steps if step.tool == tool)


def fecl3_line(cu_load_g_l: float) -> LineConfig:
    line = load_line_config().model_copy(deep=True)
    (bath,) = [s for s in line.stations if s.name == "etch-bath-cu"]
    bath.sim = {"chemistry": int(Chemistry.FECL3), "cu_load_g_l": cu_load_g_l}
    return line


FECL3_ETCH = EtchStep(
    kind="etch", chemistry=Chemistry.FECL3, recipe=EtchRecipe.typical(Chemistry.FECL3)
)


def test_fecl3_bath_at_90_percent_of_its_copper_limit_is_renewed_on_request_before_the_load() -> (
    None
):
    limit = FECL3_ETCH.recipe.cu_load_max_g_l
    run = dry_run(
        only(FECL3_ETCH), 1, config=fecl3_line(0.92 * limit), operator_response_tool_s=500.0
    )
    requests = [a for a in run.recorder.alarms if a.alarm_class == "REQUEST"]
    assert {s.status for s in run.strips.values()} == {"complete"}
    assert [(r.station, r.text) for r in requests] == [("etch-bath-cu", "renew the bath (CU_LOAD)")]
    assert requests[0].handling.startswith("operator request answered")
    assert handling_s(requests[0].handling) >= 500
    assert [a for a in run.recorder.alarms if a.code == 5123] == [], "never reached the limit"


def test_fecl3_bath_below_90_percent_of_its_copper_limit_asks_for_nothing() -> None:
    limit = FECL3_ETCH.recipe.cu_load_max_g_l
    run = dry_run(only(FECL3_ETCH), 1, config=fecl3_line(0.2 * limit))
    assert {s.status for s in run.strips.values()} == {"complete"}
    assert [a for a in run.recorder.alarms if a.alarm_class == "REQUEST"] == []


def test_gauge_calibration_is_upkeep_before_the_cycle_recorded_once_while_it_holds() -> None:
    run = dry_run(only(step_of("metrology")), 2)
    upkeep = [a for a in run.recorder.alarms if a.code == 9201]
    # (A bare strip fails the package inspection: what matters here is that both cycles ran.)
    assert [c.final_state for c in run.recorder.cycles] == ["DONE", "DONE"]
    assert [(a.station, a.alarm_class, a.text) for a in upkeep] == [
        ("metrology", "W", "CAL (9201 gauge calibration due: none since power-up)")
    ], "calibrated before the first cycle only: the second is within 20 h"
    assert upkeep[0].handling.startswith("upkeep done, PASS in ")
    assert 15 <= handling_s(upkeep[0].handling) <= 60, "CAL takes about 20 s"
    first = min(run.recorder.cycles, key=lambda c: c.started)
    assert first.setup_started <= upkeep[0].time < first.started, "inside the cycle's set-up"


def test_saw_warm_up_after_power_up_is_the_cycles_set_up_not_its_cut() -> None:
    run = dry_run(only(step_of("dicing-saw")), 1)
    (cycle,) = run.recorder.cycles
    assert {s.status for s in run.strips.values()} == {"complete"}
    # A virtual clock's records are tool seconds.
    assert cycle.started - cycle.setup_started >= 300, "cold warm-up 300 s in set-up"
    row = next(r for r in run.report["stations"] if r["station"] == "dicing-saw")
    e10 = row["e10_s"]
    assert e10["productive"] < 300 <= e10["scheduled down"], e10
