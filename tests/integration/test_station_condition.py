"""A station's state and its DOWN are one fact to a reader (the status page, the API)."""

from __future__ import annotations

import threading

from drivers.laminator import Laminator
from sequences.packml import PackState
from sequences.station import Station
from sequences.station_machine import StateEvent
from sequences.steps.base import Pace
from sim.line import SimulatedLine, StationSim


def test_a_station_coming_back_is_never_seen_idle_and_down() -> None:
    """A reader that asks while link_back moves the station ABORTED -> STOPPED -> IDLE waits
    for it to be back and up: it never sees IDLE beside the old DOWN reason (the station view
    of the API and the operator page is made from one such read)."""
    seen: list[tuple[PackState, str, str]] = []
    readers: list[threading.Thread] = []
    station: Station | None = None

    def read_while_coming_back(event: StateEvent) -> None:
        """Ask for the condition from another thread the moment the station reaches IDLE
        again, before link_back has returned."""
        if event.to_state is PackState.IDLE and station is not None and station.down:
            reader = threading.Thread(target=lambda: seen.append(station.condition()))
            reader.start()
            reader.join(0.5)  # torn: it answers at once; whole: it waits for link_back
            readers.append(reader)

    with (
        SimulatedLine(
            [StationSim("laminator", "laminator")], time_scale=2000, seed=4
        ).start() as sim,
        Laminator.open(sim.address("laminator")) as laminator,
    ):
        station = Station(
            "laminator", "laminator", laminator, pace=Pace(2000), listeners=[read_while_coming_back]
        )
        station.prepare()
        station.mark_down("link lost (test)")
        assert station.condition() == (PackState.ABORTED, "link lost (test)", "")
        station.link_back()
        for reader in readers:
            reader.join(5.0)

    assert readers, "the station came back to IDLE through its listener"
    assert seen == [(PackState.IDLE, "", "")], "a reader sees the station back and up, or neither"
