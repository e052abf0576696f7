"""Resuming a lot after the controller stopped in the middle of a cycle: the cycle is
reconciled from the tool's own state, recorded once, and never started again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from drivers.die_bonder import DieBonder
from drivers.states import ToolState
from drivers.wire_bonder import WireBonder
from sequences.jobs import StripJob
from sequences.lot import LotPlan, LotRunner, StripProgress
from sequences.records import MemoryRecorder, StepStart
from sequences.station import Station
from sequences.steps.base import Pace
from sim.clock import SimClock
from sim.line import SimulatedLine, StationSim
from tests.support.integration_lots import heat_slug_route

#: The simulated line's pace (tool seconds per wall second), and the host's.
SCALE = 2000.0
#: While a test must see a cycle running: the 144 s die attach lasts 7 s, not 72 ms.
START_SCALE = 20.0
PACE = Pace(SCALE, min_bound_wall_s=5.0)
FULL = "1" * 30
ROUTE = heat_slug_route("die attach", "wire bond")


#: The die bonder and wire bonder of a simulated two-station line, and the line's clock.
Bonders = tuple[DieBonder, WireBonder, SimClock]


@pytest.fixture
def line() -> Iterator[Bonders]:
    stations = [StationSim("die-bonder", "die-bonder"), StationSim("wire-bonder-1", "wire-bonder")]
    with (
        SimulatedLine(stations, time_scale=SCALE, seed=2).start() as simulated,
        DieBonder.open(simulated.address("die-bonder")) as bonder,
        WireBonder.open(simulated.address("wire-bonder-1")) as wires,
    ):
        yield bonder, wires, simulated.clock


def start_cycle_as_a_dead_controller_did(
    bonder: DieBonder, strip_id: str, *, slow: SimClock | None = None
) -> StepStart:
    """The die attach set up and started as the controller did before it died. ``slow``: the
    line's clock, put at START_SCALE for START (a test that must see the cycle running does,
    however loaded the machine)."""
    step = ROUTE.steps[0]
    job = StripJob(strip_id, ROUTE.rows, ROUTE.cols, FULL)
    step.set_up(bonder, [job], PACE)
    if slow is not None:
        slow.set_scale(START_SCALE)
    step.start(bonder)
    return StepStart("L", (strip_id,), 0, step.name, "die-bonder", time.time())


def runner_for(
    bonder: DieBonder, wires: WireBonder, strip_ids: list[str], **kwargs: object
) -> tuple[LotRunner, MemoryRecorder]:
    recorder = MemoryRecorder()
    stations = [
        Station("die-bonder", "die-bonder", bonder, pace=PACE),
        Station("wire-bonder-1", "wire-bonder", wires, pace=PACE),
    ]
    plan = LotPlan("L", ROUTE.steps, ROUTE.rows, ROUTE.cols, tuple(strip_ids))
    return LotRunner(plan, stations, recorder, **kwargs), recorder  # type: ignore[arg-type]


def test_a_cycle_still_running_is_waited_for_and_recorded_once(line: Bonders) -> None:
    bonder, wires, clock = line
    start = start_cycle_as_a_dead_controller_did(bonder, "R-01", slow=clock)
    assert bonder.state() is ToolState.RUNNING
    clock.set_scale(SCALE)
    runner, recorder = runner_for(bonder, wires, ["R-01"], in_flight=[start])
    final = runner.run(timeout_s=60)
    assert final["R-01"].status == "complete"
    assert [r.step_index for r in recorder.steps] == [0, 1], (
        "die attach once (reconciled), then wire bond"
    )
    assert not any(s.step_index == 0 for s in recorder.starts), (
        "the interrupted step was not started again"
    )


def test_a_cycle_that_finished_while_the_controller_was_down_is_collected(line: Bonders) -> None:
    bonder, wires, _ = line
    start = start_cycle_as_a_dead_controller_did(bonder, "R-02")
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=0.01)
    runner, recorder = runner_for(bonder, wires, ["R-02"], in_flight=[start])
    final = runner.run(timeout_s=60)
    assert final["R-02"].status == "complete"
    assert recorder.steps[0].outcome.result_map.count("P") >= 27


def test_an_aborted_cycle_puts_the_strip_on_hold_for_the_operator(line: Bonders) -> None:
    bonder, wires, clock = line
    start = start_cycle_as_a_dead_controller_did(bonder, "R-03", slow=clock)
    bonder.abort()
    bonder.wait_for_state([ToolState.ABORTED], timeout_s=10, poll_s=0.01)
    clock.set_scale(SCALE)
    runner, recorder = runner_for(bonder, wires, ["R-03"], in_flight=[start])
    final = runner.run(timeout_s=60)
    assert final["R-03"].status == "on hold"
    assert "an operator must decide" in final["R-03"].reason
    assert recorder.steps == [], "nothing recorded for a cycle whose results are not trustworthy"


def test_results_recorded_but_not_acknowledged_do_not_block_the_next_strip(line: Bonders) -> None:
    bonder, wires, _ = line
    start_cycle_as_a_dead_controller_did(bonder, "R-04")
    bonder.wait_for_state([ToolState.DONE], timeout_s=10, poll_s=0.01)
    done = StripProgress("R-04", FULL, next_step=1)  # the store had R-04's die attach already
    runner, recorder = runner_for(bonder, wires, ["R-04", "R-05"], initial={"R-04": done})
    final = runner.run(timeout_s=60)
    assert final["R-04"].status == "complete" and final["R-05"].status == "complete"
    assert sorted((r.strip_id, r.step_index) for r in recorder.steps) == [
        ("R-04", 1),
        ("R-05", 0),
        ("R-05", 1),
    ]


def test_a_step_interrupted_before_start_runs_now_for_the_first_time(line: Bonders) -> None:
    bonder, wires, _ = line
    step = ROUTE.steps[0]
    step.set_up(bonder, [StripJob("R-06", ROUTE.rows, ROUTE.cols, FULL)], PACE)  # died before START
    assert bonder.state() is ToolState.READY
    start = StepStart("L", ("R-06",), 0, step.name, "die-bonder", time.time())
    runner, recorder = runner_for(bonder, wires, ["R-06"], in_flight=[start])
    final = runner.run(timeout_s=60)
    assert final["R-06"].status == "complete"
    assert [r.step_index for r in recorder.steps] == [0, 1]


def test_a_batch_load_two_lots_shared_is_reconciled_once_with_both_lots() -> None:
    from drivers.laminator import Laminator

    route = heat_slug_route(tool="laminator")
    step = route.steps[0]
    with (
        SimulatedLine(
            [StationSim("laminator", "laminator")], time_scale=SCALE, seed=4
        ).start() as sim,
        Laminator.open(sim.address("laminator")) as laminator,
    ):
        # A dead controller loaded A-01 and B-01 (positions in lot-id order) and started.
        jobs = [StripJob(s, route.rows, route.cols, FULL) for s in ("A-01", "B-01")]
        step.set_up(laminator, jobs, PACE)
        step.start(laminator)
        began = time.time()
        station = Station("laminator", "laminator", laminator, pace=PACE)
        mates = {("laminator", began): frozenset({"A", "B"})}
        runners: dict[str, LotRunner] = {}
        recorders: dict[str, MemoryRecorder] = {}
        for lot in ("B", "A"):  # the follower first: it must leave the load to A
            recorders[lot] = MemoryRecorder()
            runners[lot] = LotRunner(
                LotPlan(lot, route.steps, route.rows, route.cols, (f"{lot}-01",)),
                [station],
                recorders[lot],
                in_flight=[StepStart(lot, (f"{lot}-01",), 0, step.name, "laminator", began)],
                partners=lambda: [runners["A"], runners["B"]],
                load_mates=mates,
            )
        finals: dict[str, dict[str, StripProgress]] = {}
        threads = [
            threading.Thread(
                target=lambda lot=lot: finals.update({lot: runners[lot].run(timeout_s=50)})
            )
            for lot in runners
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(55)
    assert finals["A"]["A-01"].status == "complete" and finals["B"]["B-01"].status == "complete"
    for lot in ("A", "B"):
        assert [(r.lot_id, r.strip_id) for r in recorders[lot].steps] == [(lot, f"{lot}-01")], (
            "each lot records its own strip's result, once"
        )
        assert recorders[lot].starts == [], "the shared load was not started again"


def test_a_strip_whose_last_result_was_recorded_without_its_end_is_completed_on_resume(
    line: Bonders,
) -> None:
    """The controller died between recording a strip's last step and its disposition: the
    resumed lot completes it (it used to wait for a step that does not exist, for ever)."""
    bonder, wires, _ = line
    last = len(ROUTE.steps)
    done = StripProgress("R-08", FULL, next_step=last)  # every step's result in the store
    runner, recorder = runner_for(bonder, wires, ["R-08"], initial={"R-08": done})
    started = time.monotonic()
    final = runner.run(timeout_s=30)
    assert final["R-08"].status == "complete", final["R-08"]
    assert time.monotonic() - started < 10, "completed at once, not at the lot's time-out"
    assert {s: d.status for s, d in recorder.dispositions.items()} == {"R-08": "complete"}
    assert recorder.starts == [] and recorder.steps == [], "no step run again"


def test_a_strip_whose_last_result_left_no_good_unit_is_scrapped_on_resume(line: Bonders) -> None:
    bonder, wires, _ = line
    dead = StripProgress("R-09", "0" * 30, next_step=1)  # die attach recorded, no good unit
    runner, recorder = runner_for(bonder, wires, ["R-09"], initial={"R-09": dead})
    final = runner.run(timeout_s=30)
    assert final["R-09"].status == "scrapped"
    assert final["R-09"].reason == f"no good unit left after {ROUTE.steps[0].name}"
    assert recorder.starts == [], "the wire bonder is not given a strip with no good unit"
