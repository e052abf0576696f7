"""Lots on the simulated line: every recipe end to end, the report against the unit records,
and what the line does for each fault class."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from packline.simulated_lot import LotRun
from sequences.recipe import RECIPES_DIR, load_recipe
from sequences.route import Route, route_for
from sequences.station import AlarmPolicy
from tests.support.integration_lots import heat_slug_route, simulated_lot

RECIPES = sorted(RECIPES_DIR.glob("*.yaml"))


#: A lot "L" on the virtual clock unless a wall ``time_scale`` is given.
run_lot = partial(simulated_lot, lot_id="L", seed=5)


def assert_report_agrees_with_unit_records(run: LotRun) -> None:
    report = run.report
    for index, row in enumerate(report["yield"]["per_step"]):
        records = [r for r in run.recorder.steps if r.step_index == index]
        results = Counter(s.result for r in records for s in r.outcome.sites)
        assert row["units_passed"] == results["P"]
        assert row["units_in"] == results["P"] + results["F"] + results["N"]
    fails = Counter(
        (r.step, s.defect) for r in run.recorder.steps for s in r.outcome.sites if s.result == "F"
    )
    assert {(d["step"], d["defect"]): d["units"] for d in report["defects"]} == dict(fails)
    dispositions = run.recorder.dispositions
    assert set(dispositions) == set(run.plan.strip_ids), (
        "every strip ends complete, scrapped or on hold"
    )
    assert report["dispositions"]["complete"] == sorted(
        s for s, d in dispositions.items() if d.status == "complete"
    )


@pytest.mark.parametrize("recipe_path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_recipe_runs_end_to_end_on_the_simulated_line(recipe_path: Path) -> None:
    route = route_for(load_recipe(recipe_path))
    run = run_lot(route, 2)
    assert_report_agrees_with_unit_records(run)
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02"], run.report["reasons"]
    assert run.report["yield"]["overall_pct"] >= 80.0
    steps_done = {(r.strip_id, r.step) for r in run.recorder.steps}
    assert steps_done == {(s, step.name) for s in ("L-01", "L-02") for step in route.steps}
    if route.product == "heat-slug":
        last_ball = [r for r in run.recorder.steps if r.step == "inspect ball"]
        clear = [
            s.values.get("clearance_um")
            for r in last_ball
            for s in r.outcome.sites
            if s.result == "P"
        ]
        assert clear and all(c is not None and c > 0 for c in clear), (
            "claim 3 measured: slug below the balls"
        )


def short_heat_slug_route() -> Route:
    """Die attach, wire bond, mold: enough to show alarm handling without the long press load."""
    return heat_slug_route("die attach", "mold")


def test_wire_bonder_nsop_burst_holds_and_the_line_resumes_when_it_clears() -> None:
    scenario = [
        {
            "tool": "wire-bonder",
            "at": {"cycle": 1, "phase": "BOND", "after_s": 30},
            "alarm": 3101,
            "clear_after_s": 120,
        }
    ]
    run = run_lot(short_heat_slug_route(), 3, scenario=scenario)
    alarms = [a for a in run.report["alarms"] if a["code"] == 3101]
    assert alarms and alarms[0]["handling"] == "resumed"
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02", "L-03"]
    held = [
        e
        for e in run.recorder.events
        if e.to_state.value == "HELD" and e.station.startswith("wire-bonder")
    ]
    assert held and "3101" in held[0].cause
    assert_report_agrees_with_unit_records(run)


def test_mold_press_temperature_alarm_is_deferred_and_the_shot_completes() -> None:
    scenario = [
        {
            "tool": "mold-press",
            "at": {"phase": "CURE", "after_s": 10},
            "alarm": 4101,
            "clear_after_s": 60,
        }
    ]
    run = run_lot(short_heat_slug_route(), 2, scenario=scenario)
    assert [a["handling"] for a in run.report["alarms"] if a["code"] == 4101] == ["resumed"]
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02"]
    mold = [r for r in run.recorder.steps if r.step == "mold"]
    assert all(r.outcome.result_map.count("P") >= 25 for r in mold), (
        "a deferred hold does not spoil the shot"
    )


def test_etch_bath_stall_is_a_lost_link_that_the_line_rides_out() -> None:
    etch_only = heat_slug_route("etch", "etch")
    scenario = [
        {
            "tool": "etch-bath",
            "at": {"phase": "ETCH", "after_s": 30},
            "link": "stall",
            "count": 4,
            "duration_s": 0.5,
        }
    ]
    # Wall-scaled: the stalled replies must meet the host's polls during ETCH, which on the
    # virtual clock waits out the etch in a few looks.
    run = run_lot(etch_only, 2, scenario=scenario, time_scale=3000)
    links = [a for a in run.report["alarms"] if a["class"] == "LINK"]
    assert links and links[0]["handling"] == "resumed", run.report["alarms"]
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02"]


def test_dropped_die_bonder_link_is_reconnected() -> None:
    scenario = [
        {"tool": "die-bonder", "at": {"cycle": 1, "phase": "BOND", "after_s": 5}, "link": "drop"}
    ]
    run = run_lot(short_heat_slug_route(), 2, scenario=scenario)
    assert run.report["dispositions"]["complete"] == ["L-01", "L-02"], run.report["reasons"]


def test_abort_class_alarm_puts_the_strip_on_hold_with_its_partial_results() -> None:
    scenario = [
        {
            "tool": "die-bonder",
            "at": {"cycle": 1, "phase": "BOND", "after_s": 5},
            "condition": "ESTOP",
            "clear_after_s": 30,
        }
    ]
    run = run_lot(short_heat_slug_route(), 2, scenario=scenario)
    assert [
        a["handling"].startswith("cycle aborted") for a in run.report["alarms"] if a["code"] == 2001
    ] == [True]
    on_hold = run.report["dispositions"]["on hold"]
    assert len(on_hold) == 1 and "2001" in run.report["reasons"][on_hold[0]]
    aborted = next(r for r in run.recorder.steps if r.strip_id == on_hold[0])
    assert "N" in aborted.outcome.result_map and "F" in aborted.outcome.result_map, (
        "2510 site and not-reached sites"
    )
    assert run.report["dispositions"]["complete"] == [
        s for s in ("L-01", "L-02") if s not in on_hold
    ]
    assert_report_agrees_with_unit_records(run)


def test_abort_strip_policy_scraps_the_strip_with_the_alarm_as_reason() -> None:
    scenario = [
        {
            "station": "wire-bonder-1",
            "at": {"cycle": 1, "phase": "BOND", "after_s": 20},
            "alarm": 3101,
            "clear_after_s": 600,
        }
    ]
    policies = {"wire-bonder-1": AlarmPolicy.ABORT_STRIP, "wire-bonder-2": AlarmPolicy.ABORT_STRIP}
    run = run_lot(short_heat_slug_route(), 2, scenario=scenario, policies=policies)
    scrapped = run.report["dispositions"]["scrapped"]
    assert len(scrapped) == 1 and "3101" in run.report["reasons"][scrapped[0]]
    assert len(run.report["dispositions"]["complete"]) == 1
