"""The operator page's event stream (GET /events) over real HTTP, in front of the in-memory
controller: the first view at once, a change within a second, nothing while nothing changes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from packline.web.page import shift_start
from tests.support.fake_controller import FakeController
from tests.support.integration_waits import wait_until
from tests.support.web import running_server


def events(url: str, stop: threading.Event, seen: list[tuple[float, dict[str, Any]]]) -> None:
    with httpx.stream("GET", f"{url}/events", timeout=10) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        data = ""
        for line in answer.iter_lines():
            if line.startswith("data: "):
                data = line[len("data: ") :]
            elif not line and data:
                seen.append((time.monotonic(), json.loads(data)))
                data = ""
            if stop.is_set():
                return


def test_the_stream_sends_the_line_and_each_change_within_a_second() -> None:
    controller = FakeController()
    seen: list[tuple[float, dict[str, Any]]] = []
    stop = threading.Event()
    with running_server(controller) as url:
        reader = threading.Thread(target=events, args=(url, stop, seen), daemon=True)
        reader.start()
        wait_until(lambda: seen, 5, "no first view")
        first = seen[0][1]
        assert [s["name"] for s in first["stations"]] == ["mold-press", "laminator"]
        assert [lot["lot_id"] for lot in first["lots"]] == ["L1"]
        assert [a["alarm_id"] for a in first["alarms"]] == [1]
        time.sleep(1.0)
        assert len(seen) == 1, "nothing changed, nothing sent"
        controller.stations["laminator"]["state"] = "STOPPED"
        wait_until(lambda: len(seen) >= 2, 1.0, "the change did not arrive within 1 s")
        laminator = next(s for s in seen[1][1]["stations"] if s["name"] == "laminator")
        assert laminator["state"] == "STOPPED"
        stop.set()
        controller.stations["laminator"]["state"] = "IDLE"  # one more event ends the reader
        reader.join(5)


def test_the_shift_starts_at_6_14_and_22_local_time() -> None:
    import datetime as dt

    day = dt.datetime(2026, 12, 6)
    for hour, start in ((5, day - dt.timedelta(hours=2)), (6, day.replace(hour=6))):
        assert shift_start(day.replace(hour=hour, minute=30).timestamp()) == start.timestamp()
    assert shift_start(day.replace(hour=23).timestamp()) == day.replace(hour=22).timestamp()
    assert (
        shift_start(day.replace(hour=13, minute=59).timestamp()) == day.replace(hour=6).timestamp()
    )
