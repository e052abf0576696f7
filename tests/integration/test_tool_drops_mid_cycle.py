"""A tool that drops mid-cycle (a real ``packline serve`` process, real SQLite, real HTTP, the
simulators in this process over real TCP): its simulator is stopped while a wire bonder runs a
strip and started again on the same port. The station goes DOWN (E10 unscheduled down), comes
back when the tool answers, the strip's step is reconciled by the crash-recovery rules (the
restarted tool has no cycle: the step runs now), and every unit record is present once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim
from sim.registry import serve_function
from tests.integration.test_daemon import TOKEN, unit_rows
from tests.support.daemon_process import TIME_SCALE, DaemonProcess, free_port
from tests.support.integration_waits import wait_until

WIRE_BONDERS = ("wire-bonder-1", "wire-bonder-2")


@pytest.mark.timeout(120)
def test_a_simulator_stopped_mid_cycle_and_restarted_loses_and_repeats_no_unit(
    tmp_path: Path,
) -> None:
    ports = {name: free_port() for name in WIRE_BONDERS}
    stations = [
        StationSim(s.name, s.tool, {"transport": "tcp", "port": ports[s.name]})
        if s.name in ports
        else StationSim(s.name, s.tool, s.sim)
        for s in load_line_config().expanded()
    ]
    db = tmp_path / "drop.db"
    with SimulatedLine(stations, time_scale=TIME_SCALE).start() as line:
        endpoints = tmp_path / "e.json"
        line.write_endpoints(endpoints)
        with DaemonProcess(db, TOKEN, endpoints=endpoints) as daemon:
            answer = daemon.post(
                "/lots", {"recipe": "heat-slug-die-equal", "strips": 2, "lot_id": "DROP"}
            )
            assert answer.status_code == 201, answer.text
            dropped = ""
            deadline = time.monotonic() + 60
            while not dropped:
                assert time.monotonic() < deadline, "no wire bond started"
                views = daemon.http.get("/stations").json()
                bonding = [v for v in views if v["name"] in ports and v["step"] == "wire bond"]
                if bonding:
                    dropped = bonding[0]["name"]
                    line.tools[dropped].stop()  # mid-cycle: the tool and its link are gone
                time.sleep(0.005)

            def aborted_down() -> dict[str, Any]:
                """The station's view once DOWN and ABORTED (Station.mark_down marks DOWN
                first, then aborts); empty before."""
                view: dict[str, Any] = daemon.http.get(f"/stations/{dropped}").json()
                return view if view["down"] is not None and view["state"] == "ABORTED" else {}

            view = wait_until(aborted_down, 20, f"{dropped} never went DOWN", poll_s=0.02)
            assert view["tool_state"] == "UNREACHABLE", view
            index = [s.name for s in stations].index(dropped)
            line.tools[dropped] = serve_function("wire-bonder")(
                clock=line.clock, world=line.world, seed=index, transport="tcp", port=ports[dropped]
            )
            lot = daemon.wait_lot("DROP", 60)
            assert [s["status"] for s in lot["strips"]] == ["complete", "complete"], lot["strips"]
            back = daemon.http.get(f"/stations/{dropped}").json()
            assert back["down"] is None and back["state"] == "IDLE", back
            assert back["e10_tool_s"]["unscheduled down"] > 0, back["e10_tool_s"]
            assert daemon.stop() == 0
    log = daemon.log()
    assert f"event=station_down station={dropped}" in log
    assert f"event=station_back station={dropped}" in log
    rows = unit_rows(db)
    assert len(rows) == len(set(rows)), "no unit record repeated"
    assert len(rows) == 2 * 30 * len(lot["steps"]), "no unit record lost"
