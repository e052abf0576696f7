"""Stations that come and go (controller on a real store, simulators over real transports): the
controller starts with one wire bonder's simulator absent; that station is DOWN (E10 unscheduled
down), the lot completes on the other wire bonder, and the station comes back to IDLE when its
simulator starts."""

from __future__ import annotations

from pathlib import Path

from packline.daemon.controller import LineController
from packline.store import Store
from sequences.line_config import load_line_config
from sequences.packml import E10, PackState
from sim.line import SimulatedLine, StationSim
from tests.support.daemon_process import free_port
from tests.support.integration_waits import wait_until
from tests.support.line_controller import wait_lot_status

SCALE = 5000.0
ABSENT = "wire-bonder-2"


def test_absent_wire_bonder_is_down_the_lot_completes_on_the_other_and_it_comes_back(
    tmp_path: Path,
) -> None:
    config = load_line_config()
    present = [StationSim(s.name, s.tool, s.sim) for s in config.expanded() if s.name != ABSENT]
    port = free_port()
    store = Store(tmp_path / "down.db")
    with SimulatedLine(present, time_scale=SCALE).start() as line:
        addresses = {s.name: line.address(s.name) for s in present}
        addresses[ABSENT] = f"socket://127.0.0.1:{port}"  # nothing listens there yet
        controller = LineController(
            config=config, store=store, addresses=addresses, time_scale=SCALE, reconnect_max_s=0.5
        )
        controller.start()
        try:
            down = controller.show_station(ABSENT)
            assert down["state"] == "ABORTED" and down["down"], down
            assert down["tool_state"] == "UNREACHABLE"
            controller.submit_lot(recipe=None, strips=2, strip_ids=None, lot_id="D1", by="t")
            lot = wait_lot_status(controller, "D1", "complete")
            assert [s["status"] for s in lot["strips"]] == ["complete", "complete"]
            assert store.cycles(ABSENT) == []
            assert len(store.cycles("wire-bonder-1")) >= 2, "both strips bonded on the other"
            assert controller.stations[ABSENT].state is PackState.ABORTED, "still down"
            late = StationSim(ABSENT, "wire-bonder", {"transport": "tcp", "port": port})
            with SimulatedLine([late], time_scale=SCALE).start():
                # up again only once back in its state (Station.link_back): wait for that
                wait_until(
                    lambda: not controller.stations[ABSENT].down,
                    10,
                    "the station did not come back",
                    poll_s=0.02,
                )
                back = controller.show_station(ABSENT)
                assert back["down"] is None and back["tool_state"] == "IDLE", back
                assert back["e10_tool_s"][E10.UNSCHEDULED_DOWN.value] > 0
                causes = [e.cause for e in store.station_events(ABSENT)]
                assert causes[0].startswith("link down: ") and "link back" in causes
        finally:
            controller.stop()
            store.close()
