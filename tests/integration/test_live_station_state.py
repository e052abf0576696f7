"""Live state of every station (controller on a real store, simulators over real transports):
every connected station is polled at its manual's rate even when idle, its view shows the
tool's state with the time of the last answer, an alarm raised while idle is recorded, and an
idle tool that stops answering makes its station DOWN before any strip is sent to it."""

from __future__ import annotations

import time
from pathlib import Path

from sequences.packml import PackState
from sequences.station_machine import DISABLED_CAUSE
from sim.registry import serve_function
from tests.support.daemon_process import free_port
from tests.support.integration_waits import wait_until
from tests.support.line_controller import running_controller

#: The issue's bound on a station's status age.
FRESH_S = 2.0
IDLE = "wire-bonder-1"
NSOP_LIMIT = 3101  # wire-bonder.md §7, class H


def test_idle_stations_are_polled_and_an_alarm_raised_while_idle_is_recorded(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "live.db") as (controller, store, line):
        wait_until(
            lambda: all(v.get("answered_at") for v in controller.list_stations()),
            10,
            lambda: controller.list_stations(),
            poll_s=0.05,
        )
        time.sleep(1.0)  # several polls later: still fresh, with no lot on the line
        views = controller.list_stations()
        assert {v["name"]: v["tool_state"] for v in views if v["tool_state"] != "IDLE"} == {}
        stale = {v["name"]: v["answer_age_s"] for v in views if v["answer_age_s"] > FRESH_S}
        assert stale == {}, "every idle station answered within 2 s"
        line.faults(IDLE).alarm(NSOP_LIMIT)
        deadline = time.monotonic() + 10
        while not (alarms := [a for a in store.alarms(active_only=False) if a["station"] == IDLE]):
            assert time.monotonic() < deadline, "the idle alarm was not recorded"
            time.sleep(0.05)
        assert [(a["code"], a["handling"], a["lot_id"]) for a in alarms] == [
            (NSOP_LIMIT, "raised while idle", "")
        ]
        view = controller.show_station(IDLE)
        assert view["tool_state"] == "ALARM" and view["alarms"][0]["code"] == NSOP_LIMIT
        time.sleep(0.5)  # the alarm stays active: recorded once, not at every poll
        assert len([a for a in store.alarms(active_only=False) if a["station"] == IDLE]) == 1


def test_an_idle_tool_that_stops_answering_is_down_before_any_strip_is_sent(
    tmp_path: Path,
) -> None:
    with running_controller(tmp_path / "gone.db") as (controller, store, line):
        line.tools[IDLE].stop()
        wait_until(
            lambda: controller.stations[IDLE].state is PackState.ABORTED,
            15,
            lambda: controller.show_station(IDLE),
            poll_s=0.05,
        )
        view = controller.show_station(IDLE)
        assert view["down"] and view["poll_error"], view
        assert store.cycles(IDLE) == []
        causes = [e.cause for e in store.station_events(IDLE)]
        assert causes[-1].startswith("link down: ")


def test_a_disabled_station_whose_tool_drops_and_returns_stays_out_of_service(
    tmp_path: Path,
) -> None:
    port = free_port()
    tcp = {IDLE: {"transport": "tcp", "port": port}}
    with running_controller(tmp_path / "out.db", sim_options=tcp) as (controller, store, line):
        station = controller.stations[IDLE]
        controller.station_service(IDLE, enable=False, reason="capillary change", by="t")
        line.tools[IDLE].stop()
        wait_until(lambda: station.down, 15, lambda: controller.show_station(IDLE), poll_s=0.05)
        line.tools[IDLE] = serve_function("wire-bonder")(
            clock=line.clock, world=line.world, transport="tcp", port=port
        )
        wait_until(lambda: not station.down, 15, "the tool did not come back", poll_s=0.05)
        assert station.state is PackState.STOPPED, "still out of service, not IDLE"
        assert controller.show_station(IDLE)["disabled"] == "capillary change"
        back = store.station_events(IDLE)[-1]
        assert back.to_state is PackState.STOPPED and back.cause.startswith(DISABLED_CAUSE), (
            "its STOPPED time stays E10 scheduled down"
        )
        controller.station_service(IDLE, enable=True, reason="", by="t")
        assert station.state is PackState.IDLE
