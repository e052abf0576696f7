"""The line controller (real store, simulated line over real transports) as an operator meets
it: a running lot aborted keeps the abort's reason and holds every unfinished strip with it,
without an error in the log; E10 covers every station of the line; lot ids never collide."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from packline.daemon.controller import LineController
from packline.store import Store
from sequences.line_config import load_line_config
from tests.support.integration_waits import wait_until
from tests.support.line_controller import running_controller, wait_lot_status


def test_aborting_a_running_lot_keeps_its_reason_and_holds_every_unfinished_strip(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_controller(tmp_path / "abort.db") as (controller, store, _):
        controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="A1", by="t")
        laminator = controller.stations["laminator"]
        wait_until(lambda: laminator.current_strips, 30, "the lot never reached the laminator")
        assert controller.lot_command("A1", "abort", by="operator")["status"] == "aborting"
        controller.station_command("die-bonder", "stop", by="operator")
        lot = wait_lot_status(controller, "A1", "aborted", timeout_s=30)
        e10 = controller.e10()
        causes = [e.cause for e in store.station_events("die-bonder")]
    assert lot["reason"] == "lot aborted by operator"
    assert {(s["status"], s["reason"]) for s in lot["strips"]} == {
        ("on hold", "lot aborted by operator")
    }
    assert set(e10) == {s.name for s in load_line_config().expanded()}, (
        "every station, the laser too"
    )
    idle_laser = {category: s for category, s in e10["laser"].items() if s}
    assert list(idle_laser) == ["standby"], "the unused laser has been idle since the start"
    assert "stop by operator" in causes, causes  # not "operator operator"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_lots_submitted_within_one_second_get_distinct_ids(tmp_path: Path) -> None:
    store = Store(tmp_path / "ids.db")
    controller = LineController(config=load_line_config(), store=store, addresses={})
    try:
        ids = [
            controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id=None, by="t")[
                "lot_id"
            ]
            for _ in range(3)
        ]
    finally:
        store.close()
    assert len(set(ids)) == 3, ids
    assert all(len(f"{lot_id}-01") <= 20 for lot_id in ids), "strip ids stay within 20 characters"
