"""The daemon's E10 time is in tool seconds (a real ``packline serve --simulate`` process, real
SQLite, real HTTP): at time scale 1000 a station's six SEMI E10 categories add up to the tool
time elapsed since it started, i.e. wall seconds x 1000, and the API says so."""

from __future__ import annotations

import time
from pathlib import Path

from sequences.packml import E10
from tests.support.daemon_process import DaemonProcess

SCALE = 1000.0
TOKEN = "e10-token"


def test_e10_per_station_sums_to_the_tool_time_elapsed_and_names_its_unit(
    tmp_path: Path,
) -> None:
    spawned = time.time()
    with DaemonProcess(tmp_path / "e10.db", TOKEN, time_scale=SCALE) as daemon:
        up = time.time()
        assert daemon.post("/stations/laminator/disable", {"reason": "gauge check"}).is_success
        disabled_by = time.time()  # the disable was recorded before its answer came
        time.sleep(1.0)
        asked = time.time()
        answer = daemon.http.get("/e10").json()
        answered = time.time()
        station = daemon.http.get("/stations/laminator").json()
    assert answer["unit"] == "tool_s"
    assert answer["time_scale"] == SCALE
    stations = answer["stations"]
    assert "laminator" in stations and len(stations) > 5, stations
    for name, seconds in stations.items():
        assert set(seconds) == {category.value for category in E10}, name
        total_tool_s = sum(seconds.values())
        # Every station's clock starts between the spawn and the first HTTP answer.
        assert (asked - up) * SCALE <= total_tool_s <= (answered - spawned) * SCALE, (
            f"{name}: {total_tool_s:.0f} tool s in {asked - up:.2f}..{answered - spawned:.2f}"
            f" wall s: {seconds}"
        )
    laminator = stations["laminator"]
    # However long the POST took on a loaded machine, the station was out of service from
    # before its answer to after the E10 question.
    assert laminator[E10.SCHEDULED_DOWN.value] >= (asked - disabled_by) * SCALE, laminator
    assert station["e10_tool_s"][E10.SCHEDULED_DOWN.value] >= laminator["scheduled down"]
