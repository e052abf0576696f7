"""Upkeep the station does by itself (controller on a real store, simulators over real
transports): a die bonder whose placement calibration is due (alarm 2203, die-bonder.md §6) is
calibrated before its next cycle, and the calibration is recorded with result and duration."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sequences.line_config import load_line_config
from sequences.packml import PackState
from sequences.station import Station
from sim.line import SimulatedLine
from tests.support.integration_lots import handling_s, heat_slug_route, simulated_lot
from tests.support.integration_waits import wait_until
from tests.support.line_controller import SCALE, running_controller, wait_lot_status

DAY_S = 24 * 3600.0
#: What an upkeep's recorded duration may hold beyond the tool's own time: the host's polls,
#: clear and read, on a loaded machine (tool seconds at the controller's SCALE).
HOST_REACTION_WALL_S = 0.5
HOST_REACTION_TOOL_S = HOST_REACTION_WALL_S * SCALE


def wait_held(station: Station, why: str) -> None:
    """Until ``station`` is HELD (an operator request); fails with ``why`` after 40 s."""
    wait_until(lambda: station.state is PackState.HELD, 40, why, poll_s=0.02)


def overdue_calibration(line: SimulatedLine) -> None:
    bonder = line.tools["die-bonder"].model
    with bonder.lock:  # the tool has run a day and a bit since its last calibration
        bonder.calibration_ref_s -= DAY_S + 3600.0


def empty_syringe(line: SimulatedLine) -> None:
    bonder = line.tools["die-bonder"].model
    with bonder.lock:
        bonder.syringe_nl = 0.0  # interlock EPOXY: the next die attach cannot start


def test_die_bonder_due_for_calibration_is_calibrated_before_its_next_cycle_and_recorded(
    tmp_path: Path,
) -> None:
    db = tmp_path / "upkeep.db"
    with running_controller(db, before_start=overdue_calibration) as (controller, store, line):
        bonder = line.tools["die-bonder"].model
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="U1", by="t")
        lot = wait_lot_status(controller, "U1", "complete")
        alarms = [a for a in store.alarms(active_only=False) if a["station"] == "die-bonder"]
        assert [s["status"] for s in lot["strips"]] == ["complete"]
        assert not bonder.calibration_due(), "the tool was calibrated"
        assert bonder.calibration[2] != "", "CALibrate:PLACe? has a timestamp"
    upkeep = [a for a in alarms if a["code"] == 2203 and a["lot_id"] == "U1"]
    assert len(upkeep) == 1, alarms
    seen_idle = [a for a in alarms if a["code"] == 2203 and a["lot_id"] == ""]
    assert [a["handling"] for a in seen_idle] == ["raised while idle"], "the warning, by the poller"
    assert upkeep[0]["text"] == "CALibrate:PLACe (2203 calibration due)"
    handling = upkeep[0]["handling"]
    assert handling.startswith("upkeep done, corrected ") and handling.endswith(" tool s")
    # At least the manual's 40 s; the rest is the host's reaction, 5 tool s a wall ms here:
    # the upper bound leaves a loaded machine HOST_REACTION_WALL_S of wall.
    assert 30 <= handling_s(handling) <= 40 + HOST_REACTION_TOOL_S, "about the manual's 40 s"


def test_empty_syringe_holds_the_station_with_a_request_not_the_strip_until_it_is_replaced(
    tmp_path: Path,
) -> None:
    db = tmp_path / "request.db"
    with running_controller(db, before_start=empty_syringe) as (controller, store, line):
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="R1", by="t")
        wait_held(controller.stations["die-bonder"], "no operator request")
        held = store.station_events("die-bonder")[-1]
        assert held.cause == "operator request: replace the syringe (EPOXY)"
        time.sleep(0.3)  # the operator takes a while (1500 tool s at this scale)
        lot = controller.show_lot("R1")
        assert [s["status"] for s in lot["strips"]] == ["processing"], "waits, not on hold"
        line.tools["die-bonder"].model.replace_syringe()  # the operator answers
        lot = wait_lot_status(controller, "R1", "complete")
        requests = [a for a in store.alarms(active_only=False) if a["class"] == "REQUEST"]
    assert [s["status"] for s in lot["strips"]] == ["complete"]
    assert len(requests) == 1, requests
    assert requests[0]["station"] == "die-bonder"
    handling = requests[0]["handling"]
    assert handling.startswith("operator request answered in ")
    assert handling_s(handling) >= 1000, "the wait is counted"


def dry_run_lot(
    tool: str, sim: dict[str, float], lot_id: str, strips: int, seed: int, response_tool_s: float
) -> tuple[Any, list[Any]]:
    """A heat-slug lot on the virtual clock, every ``tool`` station's simulator started with
    ``sim``, the operator answering a request in ``response_tool_s``: every strip completes;
    the run and the operator requests it recorded."""
    line = load_line_config().model_copy(deep=True)
    for entry in line.stations:
        if entry.tool == tool:
            entry.sim = {**entry.sim, **sim}
    run = simulated_lot(
        heat_slug_route(),
        strips,
        lot_id=lot_id,
        seed=seed,
        config=line,
        operator_response_tool_s=response_tool_s,
    )
    assert {s.status for s in run.strips.values()} == {"complete"}
    return run, [a for a in run.recorder.alarms if a.alarm_class == "REQUEST"]


def test_dry_run_operator_answers_the_syringe_request_and_every_strip_completes() -> None:
    # 50 µl: the syringe empties during the second strip.
    run, requests = dry_run_lot("die-bonder", {"syringe_nl": 50_000}, "Q", 3, 3, 900.0)
    assert [r.text for r in requests] == ["replace the syringe (EPOXY)"]
    assert requests[0].handling.startswith("operator request answered")
    assert handling_s(requests[0].handling) >= 900, "the operator's response time is counted"
    assert any(a["class"] == "REQUEST" for a in run.report["alarms"]), "in the lot report"


def test_worn_blade_holds_the_saw_with_a_request_before_the_cycle_and_release_records_the_change(
    tmp_path: Path,
) -> None:
    db = tmp_path / "blade.db"
    worn = {"dicing-saw": {"blade_count": 18_500}}  # BLADe:LIMit 20000: past 90 %, not out
    with running_controller(db, sim_options=worn) as (controller, store, line):
        saw = line.tools["dicing-saw"].model
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="B1", by="t")
        wait_held(controller.stations["dicing-saw"], "no operator request for the blade")
        held = store.station_events("dicing-saw")[-1]
        assert held.cause == "operator request: change the blade (BLADE)"
        assert saw.blade.count == 18_500, "held before the cycle: not a line cut"
        assert [s["status"] for s in controller.show_lot("B1")["strips"]] == ["processing"]
        time.sleep(0.2)  # the operator changes the blade (1000 tool s at this scale)...
        controller.station_command("dicing-saw", "unhold", by="operator")  # ...and releases
        lot = wait_lot_status(controller, "B1", "complete")
        requests = [a for a in store.alarms(active_only=False) if a["class"] == "REQUEST"]
        blade_count = saw.blade.count
        setup_valid = saw.blade_setup_valid
    assert [s["status"] for s in lot["strips"]] == ["complete"]
    assert blade_count < 1000, (
        [r["handling"] for r in requests],
        "BLADe:CHANge recorded the new blade; one strip cut since",
    )
    assert setup_valid, "the step set the new blade up (BLADe:SETup)"
    assert [(r["station"], r["text"]) for r in requests] == [
        ("dicing-saw", "change the blade (BLADE)")
    ]
    handling = requests[0]["handling"]
    assert handling.startswith("operator request answered in ")
    assert handling_s(handling) >= 500, "the wait is counted"


def test_blade_with_life_left_below_90_percent_asks_for_nothing(tmp_path: Path) -> None:
    db = tmp_path / "blade-ok.db"
    fresh = {"dicing-saw": {"blade_count": 17_000}}  # 85 % of BLADe:LIMit 20000
    with running_controller(db, sim_options=fresh) as (controller, store, _line):
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="B2", by="t")
        lot = wait_lot_status(controller, "B2", "complete")
        requests = [a for a in store.alarms(active_only=False) if a["class"] == "REQUEST"]
    assert [s["status"] for s in lot["strips"]] == ["complete"]
    assert requests == []


def test_dry_run_operator_changes_a_worn_blade_before_the_saw_cuts_and_the_wait_is_counted() -> (
    None
):
    # Past 90 % of BLADe:LIMit 20000.
    _, requests = dry_run_lot("dicing-saw", {"blade_count": 18_500}, "W", 2, 5, 700.0)
    assert [(r.station, r.text) for r in requests] == [("dicing-saw", "change the blade (BLADE)")]
    assert requests[0].handling.startswith("operator request answered")
    assert handling_s(requests[0].handling) >= 700


def test_syringe_running_low_is_asked_for_before_it_is_out_and_the_answer_clears_the_warning(
    tmp_path: Path,
) -> None:
    db = tmp_path / "low.db"
    low = {"die-bonder": {"syringe_nl": 400_000}}  # < 10 % of a 5 ml syringe: 2201, not out
    with running_controller(db, sim_options=low) as (controller, store, line):
        bonder = line.tools["die-bonder"].model
        controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="S1", by="t")
        wait_held(controller.stations["die-bonder"], "no operator request for the low syringe")
        held = store.station_events("die-bonder")[-1]
        assert held.cause == "operator request: replace the syringe (EPOXY)"
        assert bonder.syringe_nl == 400_000, "asked before the cycle, with epoxy left"
        bonder.replace_syringe()  # the operator answers
        lot = wait_lot_status(controller, "S1", "complete")
        requests = [a for a in store.alarms(active_only=False) if a["class"] == "REQUEST"]
        still_low = 2201 in bonder.active_alarms
    assert [s["status"] for s in lot["strips"]] == ["complete"]
    assert [r["text"] for r in requests] == ["replace the syringe (EPOXY)"]
    assert requests[0]["handling"].startswith("operator request answered in ")
    assert not still_low, "the station cleared the latched warning once the syringe was new"


def test_dry_run_operator_changes_a_spool_running_low_before_it_runs_out() -> None:
    # < 50 m left: 3202 from power-up; three strips on two bonders, one bonds twice.
    run, requests = dry_run_lot("wire-bonder", {"wire_m": 45.0}, "P", 3, 7, 300.0)
    asked = sorted((r.station, r.text) for r in requests)
    assert asked == [(f"wire-bonder-{n}", "change the wire spool (WIRE)") for n in (1, 2)]
    assert all(r.handling.startswith("operator request answered") for r in requests)
    assert [a for a in run.recorder.alarms if a.code == 3109] == [], "the spool never ran out"


def calibrated_nine_hours_ago(line: SimulatedLine) -> None:
    laser = line.tools["laser"].model
    with laser.lock:  # within the 24 h of interlock CAL, past the 8 h of warning 8201
        laser.calibrated_at_s = laser.time_s - 9 * 3600.0
        laser.last_cal = (1.0, laser.timestamp())


def test_laser_with_power_calibration_due_is_calibrated_before_its_next_cycle_and_recorded(
    tmp_path: Path,
) -> None:
    db = tmp_path / "laser.db"
    with running_controller(db, before_start=calibrated_nine_hours_ago) as (
        controller,
        store,
        line,
    ):
        controller.submit_lot(
            recipe="film-laser-wire", strips=2, strip_ids=None, lot_id="L1", by="t"
        )
        lot = wait_lot_status(controller, "L1", "complete", timeout_s=50)
        age_s = line.tools["laser"].model.calibration_age_s
        alarms = [a for a in store.alarms(active_only=False) if a["station"] == "laser"]
    assert [s["status"] for s in lot["strips"]] == ["complete", "complete"]
    upkeep = [a for a in alarms if a["code"] == 8201 and a["lot_id"] == "L1"]
    assert [a["text"] for a in upkeep] == ["LASer:CALibrate (8201 power calibration due)"]
    assert upkeep[0]["handling"].startswith("upkeep done, power ratio ")
    took_tool_s = handling_s(upkeep[0]["handling"])
    assert 20 <= took_tool_s <= 30 + HOST_REACTION_TOOL_S, "about the manual's 30 s (and the host)"
    assert age_s is not None and age_s < 8 * 3600.0, "calibrated during the lot"
