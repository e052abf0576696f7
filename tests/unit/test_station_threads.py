"""The daemon's per-station threads (status polls, reconnects): named per station, paced by
their wait, all ended by one stop, finished ones not kept."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from packline.daemon.station_threads import StationThreads
from tests.support.integration_waits import wait_until


@dataclass(frozen=True)
class Named:
    name: str


def test_each_station_works_in_its_own_thread_until_one_stop_ends_them_all() -> None:
    threads = StationThreads("poll")
    rounds: dict[str, int] = {}
    names: set[str] = set()

    def work(station: Named) -> None:
        names.add(threading.current_thread().name)
        while not threads.wait(0.01):
            rounds[station.name] = rounds.get(station.name, 0) + 1

    for name in ("saw", "press"):
        threads.start(Named(name), work)
    deadline = time.monotonic() + 10
    while len(rounds) < 2 or min(rounds.values()) < 2:
        assert time.monotonic() < deadline, f"the threads did not work: {rounds}"
        time.sleep(0.01)
    began = time.monotonic()
    threads.stop()
    assert time.monotonic() - began < 5, "stop waits for a round at most"
    assert names == {"poll-saw", "poll-press"}
    assert not [t for t in threading.enumerate() if t.name in names], "every thread ended"
    assert threads.wait(10) is True, "a stopped set waits no more"


def test_a_thread_that_finished_its_work_is_not_kept() -> None:
    threads = StationThreads("reconnect")

    def back_at_once(station: Named) -> None:
        return None

    def waits(station: Named) -> None:
        threads.wait(30)

    threads.start(Named("laser"), back_at_once)
    wait_until(lambda: not threads.alive, 10, "the thread did not end")
    threads.start(Named("laser"), waits)  # it went DOWN again
    assert (threads.kept, threads.alive) == (1, 1)
    threads.stop()
    assert threads.alive == 0
