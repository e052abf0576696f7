"""The line controller (real store, simulated line over real transports) as an operator meets
it: a running lot aborted keeps the abort's reason and holds every unfinished strip with it,
without an error in the log; E10 covers every station of the line; lot ids never collide."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from packline.daemon.controller import LineController
from packline.store import Store
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

SCALE = 5000.0


def test_aborting_a_running_lot_keeps_its_reason_and_holds_every_unfinished_strip(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = load_line_config()
    stations = [StationSim(s.name, s.tool, s.sim) for s in config.expanded()]
    store = Store(tmp_path / "abort.db")
    with SimulatedLine(stations, time_scale=SCALE).start() as line:
        addresses = {s.name: line.address(s.name) for s in config.expanded()}
        controller = LineController(
            config=config, store=store, addresses=addresses, time_scale=SCALE
        )
        controller.start()
        try:
            controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="A1", by="t")
            deadline = time.monotonic() + 30
            while not controller.stations["laminator"].current_strips:
                assert time.monotonic() < deadline, "the lot never reached the laminator"
                time.sleep(0.01)
            assert controller.lot_command("A1", "abort", by="operator")["status"] == "aborting"
            controller.station_command("die-bonder", "stop", by="operator")
            while (lot := controller.show_lot("A1"))["status"] != "aborted":
                assert time.monotonic() < deadline, lot["status"]
                time.sleep(0.05)
            e10 = controller.e10()
            causes = [e.cause for e in store.station_events("die-bonder")]
        finally:
            controller.stop()
            store.close()
    assert lot["reason"] == "lot aborted by operator"
    assert {(s["status"], s["reason"]) for s in lot["strips"]} == {
        ("on hold", "lot aborted by operator")
    }
    assert set(e10) == {s.name for s in config.expanded()}, "every station, the laser too"
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
