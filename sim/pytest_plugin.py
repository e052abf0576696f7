"""pytest plugin shipped with packline (entry point ``pytest11``): simulated tools and lines as
fixtures, so an engineer's own test needs nothing else::

    from drivers.mold_press import MoldPress

    def test_press_identifies(sim_tool):
        press_sim = sim_tool("mold-press")              # started on loopback, stopped after the test
        with MoldPress.open(press_sim.address) as press:
            assert press.identify().model == "TM-4"
        press_sim.faults.alarm(4115)                  # inject a fault from the test

    def test_line(sim_line):                           # every tool of the line, one of each
        print(sim_line.endpoints())

The time scale is 1000 unless a test is marked ``@pytest.mark.sim_time_scale(N)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sim.clock import SimClock
from sim.line import SimulatedLine, StationSim, default_stations
from sim.registry import serve_function
from sim.simulated_tool import SimulatedTool
from sim.world import World

DEFAULT_TIME_SCALE = 1000.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_time_scale(scale): time scale of the packline simulators"
    )


def _time_scale(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("sim_time_scale")
    return float(marker.args[0]) if marker else DEFAULT_TIME_SCALE


@pytest.fixture
def sim_clock(request: pytest.FixtureRequest) -> SimClock:
    """The simulators' clock (``sim_clock.set_scale(N)`` changes the pace mid-test)."""
    return SimClock(_time_scale(request))


@pytest.fixture
def sim_world() -> World:
    """The shared physical world of the simulated strips."""
    return World()


@pytest.fixture
def sim_tool(sim_clock: SimClock, sim_world: World) -> Iterator[Callable[..., SimulatedTool]]:
    """Factory: ``sim_tool("wire-bonder", seed=1, transport="tcp")`` starts a simulated tool."""
    started: list[SimulatedTool] = []

    def start(tool: str, *, seed: int = 0, **options: Any) -> SimulatedTool:
        simulated = serve_function(tool)(clock=sim_clock, world=sim_world, seed=seed, **options)
        started.append(simulated)
        return simulated

    yield start
    for simulated in reversed(started):
        simulated.stop()


@pytest.fixture
def sim_line(request: pytest.FixtureRequest) -> Iterator[SimulatedLine]:
    """A whole simulated line, one station per tool (named after the tool)."""
    stations: list[StationSim] = default_stations()
    with SimulatedLine(stations, time_scale=_time_scale(request)).start() as line:
        yield line
