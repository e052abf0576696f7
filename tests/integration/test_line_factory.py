"""The line factory (sequences/line_factory.py) against a real simulator and a port where nothing
listens: a station per config entry wired with the line's pace, policy and listeners; a tool that
does not answer either fails the line (dry run) or leaves its station DOWN (daemon)."""

from __future__ import annotations

import pytest

from drivers.errors import PacklineError
from sequences.line_config import Station as StationConfig
from sequences.line_factory import Wiring, open_line
from sequences.packml import PackState
from sequences.station import AlarmPolicy
from sequences.steps.base import Pace
from sim.line import SimulatedLine, StationSim
from tests.support.daemon_process import free_port

BONDER = StationConfig(
    name="wire-bonder-1", tool="wire-bonder", address=None, sim={}, on_alarm="wait"
)
ABSENT = StationConfig(name="wire-bonder-2", tool="wire-bonder", address=None, sim={})


def test_open_line_builds_each_station_with_the_wiring_and_marks_an_absent_tool_down() -> None:
    events: list[object] = []
    connected: list[object] = []
    with SimulatedLine([StationSim(BONDER.name, BONDER.tool, {})], time_scale=1000).start() as sim:
        addresses = {
            BONDER.name: sim.address(BONDER.name),
            ABSENT.name: f"socket://127.0.0.1:{free_port()}",  # nothing listens there
        }
        wiring = Wiring(
            Pace(1000),
            [events.append],
            policies={ABSENT.name: AlarmPolicy.ABORT_STRIP},
            on_connected=connected.append,
        )
        with open_line([BONDER, ABSENT], addresses, wiring, keep_down=True) as line:
            bonder, absent = line.stations[BONDER.name], line.stations[ABSENT.name]
            assert bonder.policy is AlarmPolicy.WAIT  # the config's on_alarm
            assert absent.policy is AlarmPolicy.ABORT_STRIP  # the wiring's override
            assert connected == [bonder.driver]
            assert list(line.down) == [ABSENT.name] and line.down[ABSENT.name]
            assert absent.down and absent.state is PackState.ABORTED
            assert not bonder.down and bonder.pace is wiring.pace
            assert events, "the station's state events reach the wiring's listeners"


def test_open_line_without_keep_down_raises_the_connection_error() -> None:
    with SimulatedLine([StationSim(BONDER.name, BONDER.tool, {})], time_scale=1000).start() as sim:
        addresses = {
            BONDER.name: sim.address(BONDER.name),
            ABSENT.name: f"socket://127.0.0.1:{free_port()}",
        }
        with pytest.raises(PacklineError):
            open_line([BONDER, ABSENT], addresses, Wiring(Pace(1000)))


def test_open_line_names_a_station_without_an_address() -> None:
    with pytest.raises(ValueError, match="station wire-bonder-2 has no address"):
        open_line([ABSENT], {}, Wiring(Pace(1000)))
