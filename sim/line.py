"""A simulated line: several simulated tools on loopback sharing one clock and one world.

Stations are given as :class:`StationSim` (station name, tool name, options); the
application builds them from configs/line.yaml, tests and engineers can list them directly.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sim.clock import SimClock
from sim.faults import FaultInjector
from sim.registry import SIMULATORS, serve_function
from sim.simulated_tool import SimulatedTool
from sim.world import World


@dataclass(frozen=True)
class StationSim:
    """One station to simulate: its name on the line, its tool, and simulator options."""

    name: str
    tool: str
    options: dict[str, Any] = field(default_factory=dict)


def default_stations() -> list[StationSim]:
    """One station of every tool, named after the tool."""
    return [StationSim(tool, tool) for tool in SIMULATORS]


class SimulatedLine:
    """Starts every station's simulator; :meth:`endpoints` says where each listens."""

    def __init__(
        self,
        stations: Sequence[StationSim],
        *,
        time_scale: float = 1.0,
        seed: int = 0,
        clock: SimClock | None = None,
    ) -> None:
        """``clock``: a :class:`~sim.clock.VirtualClock` shared with the host threads of the
        same process (a dry run); by default a wall-scaled clock at ``time_scale``."""
        names = [s.name for s in stations]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate station names: {', '.join(duplicates)}")
        self.stations = list(stations)
        self.clock = clock if clock is not None else SimClock(time_scale)
        self.world = World()
        self.seed = seed
        self.tools: dict[str, SimulatedTool] = {}
        #: Tool time at which every station was serving (set by :meth:`start`).
        self.serving_since_s = 0.0

    def start(self) -> Self:
        try:
            for index, station in enumerate(self.stations):
                serve = serve_function(station.tool)
                self.tools[station.name] = serve(
                    clock=self.clock,
                    world=self.world,
                    seed=self.seed * 1000 + index,
                    **station.options,
                )
        except BaseException:
            self.stop()
            raise
        # Starting tools one after another is the busiest moment of a line and says nothing
        # about whether it keeps its scale: lateness counts from when all serve.
        for tool in self.tools.values():
            tool.lag_s = tool.worst_late_s = 0.0
        self.serving_since_s = self.clock.now()
        return self

    def stop(self) -> None:
        for tool in self.tools.values():
            tool.stop()
        self.tools.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def lag_s(self) -> dict[str, float]:
        """``{station: tool seconds its ticker woke late in all}`` (wall-scaled clock; 0 on a
        virtual one). Read it before :meth:`stop`, which forgets the tools."""
        return {name: tool.lag_s for name, tool in self.tools.items()}

    def address(self, station: str) -> str:
        return self.tools[station].address

    def faults(self, station: str) -> FaultInjector:
        return self.tools[station].faults

    def endpoints(self) -> dict[str, dict[str, str]]:
        """``{station: {"tool": <manual name>, "address": <address>}}``."""
        return {
            station.name: {"tool": station.tool, "address": self.tools[station.name].address}
            for station in self.stations
            if station.name in self.tools
        }

    def write_endpoints(self, path: str | os.PathLike[str]) -> None:
        """Write the endpoints JSON atomically (a reader never sees a half-written file)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".endpoints-", dir=target.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.endpoints(), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, target)

    def load_scenario(self, entries: Iterable[dict[str, Any]]) -> None:
        """Give each station its scenario entries (``station:`` or ``tool:`` selects it)."""
        from sim.scenario import entries_for

        for station in self.stations:
            mine = entries_for(entries, station.name, station.tool)
            if mine:
                self.tools[station.name].faults.load_entries(mine)
