"""Remote commands that reach the controller's stations (their tools not connected: taking a
station out of service does not talk to the tool) and lot queue, and the upkeep event, against
secsgem's host handler over real HSMS."""

from __future__ import annotations

import time
from typing import Any

import pytest

from drivers.registry import driver_class
from packline.gem.front import GemFront
from packline.gem.host import GemHost
from sequences.packml import PackState
from sequences.records import AlarmRecord
from sequences.station import Station

STATION = "mold-press"


def add_station(front: GemFront, name: str, address: str) -> Station:
    """The controller's station ``name`` as ``start`` makes it, its tool left unconnected."""
    controller = front.controller
    entry = next(s for s in controller.config.expanded() if s.name == name)
    station = Station(
        name,
        entry.tool,
        driver_class(entry.tool)(address),
        pace=controller.pace,
        listeners=[controller.recorder.state_event],
        on_alarm=controller._alarm_sink,
    )
    controller.stations[name] = station
    return station


def test_station_disable_and_enable_take_the_station_out_of_service_and_back(
    front: GemFront, host: GemHost
) -> None:
    station = add_station(front, STATION, "modbus+tcp://127.0.0.1:9?unit=1")
    host.online()
    host.subscribe(["StationDown", "StationUp"])
    disable = [("STATION", STATION), ("REASON", "chase cleaning")]
    assert host.command("STATION_DISABLE", [("STATION", STATION), ("REASON", " ")]) == (
        3,
        [("REASON", 2)],
    )
    assert station.disabled_reason == ""  # nothing half-done
    assert host.command("STATION_DISABLE", disable) == (0, [])
    assert station.state is PackState.STOPPED
    assert front.controller.show_station(STATION)["disabled"] == "chase cleaning"
    assert host.wait_for(lambda h: bool(h.named("StationDown")), 5)
    down = host.named("StationDown")[-1].values
    assert (down["StationName"], down["NewState"]) == (STATION, "STOPPED")
    assert "gem-host" in down["StateCause"] and "chase cleaning" in down["StateCause"]
    assert host.command("STATION_DISABLE", disable) == (2, [])  # already out: not now
    assert host.wait_for(lambda h: any("already" in t for t in h.terminal), 5)
    assert host.command("STATION_ENABLE", [("STATION", STATION)]) == (0, [])
    assert station.state is PackState.IDLE and station.disabled_reason == ""
    assert host.wait_for(lambda h: bool(h.named("StationUp")), 5)
    assert host.command("STATION_ENABLE", [("STATION", STATION)]) == (2, [])  # not disabled
    log = [(c["command"], c["by"]) for c in front.store.operator_commands()]
    assert ("disable", "gem-host") in log and ("enable", "gem-host") in log


def test_start_lot_priority_ascii_or_integer_reaches_the_controllers_submit(
    front: GemFront, host: GemHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = front.controller
    submitted: list[dict[str, Any]] = []
    real_submit = controller.submit_lot

    def recording_submit(**kwargs: Any) -> Any:
        submitted.append(kwargs)
        return real_submit(**kwargs)

    monkeypatch.setattr(controller, "submit_lot", recording_submit)
    host.online()
    recipe = ("RECIPE", "heat-slug-die-equal")
    for lot_id, priority in (("P1", "-3"), ("P2", 7), ("P3", None)):
        params = [recipe, ("STRIP_COUNT", 1), ("LOT_ID", lot_id)]
        if priority is not None:
            params.append(("PRIORITY", priority))
        assert host.command("START_LOT", params) == (0, [])
    assert [(s["lot_id"], s["priority"]) for s in submitted] == [("P1", -3), ("P2", 7), ("P3", 0)]
    assert [lot["lot_id"] for lot in front.store.lots()] == ["P1", "P2", "P3"]
    bad = [recipe, ("STRIP_COUNT", 1), ("LOT_ID", "P4"), ("PRIORITY", 1001)]
    assert host.command("START_LOT", bad) == (3, [("PRIORITY", 2)])
    assert len(submitted) == 3  # refused before the controller is asked


def test_recorded_upkeep_is_reported_as_upkeep_requested_not_as_an_alarm(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    host.subscribe(["UpkeepRequested", "AlarmSet"])
    assert host.send(5, 3, {"ALED": 128, "ALID": 40000}).get() == 0  # die bonder's link alarm
    front.controller.submit_lot(recipe=None, strips=1, strip_ids=None, lot_id="L7", by="t")
    now = time.time()
    recorder = front.controller.recorder
    # what Station._ask_operator and Station._upkeep record through the alarm sink
    recorder.alarm(
        "",
        AlarmRecord(
            now,
            "die-bonder",
            (),
            0,
            "REQUEST",
            "replace the syringe (EPOXY)",
            "operator request answered in 95 tool s",
        ),
    )
    recorder.alarm(
        "L7",
        AlarmRecord(
            now + 1,
            "die-bonder",
            ("L7-01",),
            2203,
            "W",
            "CALibrate:PLACe (2203 calibration due)",
            "upkeep done, corrected 1.0,-0.5 um in 41 tool s",
        ),
    )
    assert host.wait_for(lambda h: len(h.named("UpkeepRequested")) == 2, 5)
    request, calibration = (e.values for e in host.named("UpkeepRequested"))
    assert request["StationName"] == "die-bonder"
    assert request["UpkeepItem"] == "replace the syringe (EPOXY)"
    assert request["UpkeepResult"] == "operator request answered in 95 tool s"
    assert (calibration["LotID"], calibration["AlarmCode"]) == ("L7", 2203)
    assert calibration["UpkeepResult"].startswith("upkeep done")
    assert len(calibration["EventTime"]) == 16
    time.sleep(0.3)  # an S5F1 would have come with the events
    assert host.alarms == [] and host.named("AlarmSet") == []
    assert len(front.store.alarms(active_only=False)) == 2  # the store keeps them as before
