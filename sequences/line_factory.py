"""Assembling a line: open each station's driver and build its :class:`Station` with the line's
pace, alarm policy and listeners.

The dry run (packline/simulated_lot.py) and the daemon (packline/daemon/controller.py) both
call :func:`open_line`, so a station is wired the same way on a simulated and a real line;
they differ only in what they pass (a virtual clock's pace, a simulated operator, whether a
tool that does not answer fails the run or leaves its station DOWN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from drivers.base import Tool
from drivers.errors import PacklineError
from drivers.registry import driver_class
from sequences.line_config import Station as StationConfig
from sequences.records import AlarmRecord
from sequences.station import AlarmPolicy, Station
from sequences.station_machine import StateEvent
from sequences.steps.base import Pace
from sequences.upkeep import OperatorRequest


@dataclass(frozen=True)
class Wiring:
    """What every station of one line is built with."""

    pace: Pace
    listeners: Sequence[Callable[[StateEvent], None]] = ()
    on_alarm: Callable[[AlarmRecord], None] | None = None
    on_request: Callable[[OperatorRequest], None] | None = None
    #: Alarm policy per station name, over the config's ``on_alarm``.
    policies: Mapping[str, AlarmPolicy] = field(default_factory=dict)
    #: Called with each driver once it is connected (a dry run paces its link).
    on_connected: Callable[[Tool], object] | None = None
    #: Called when a station's link is lost mid-cycle beyond one reconnect (the daemon takes
    #: the station DOWN and reconnects it; a dry run has none and retries in the cycle).
    on_link_lost: Callable[[Station], None] | None = None


@dataclass
class Line:
    """The stations of an opened line, by name, and why each DOWN station did not connect."""

    stations: dict[str, Station]
    down: dict[str, str]

    def close(self) -> None:
        """Close every driver (a running cycle on a tool is not affected)."""
        for station in self.stations.values():
            with suppress(PacklineError):
                station.driver.close()

    def __enter__(self) -> Line:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_line(
    entries: Iterable[StationConfig],
    addresses: Mapping[str, str],
    wiring: Wiring,
    *,
    keep_down: bool = False,
) -> Line:
    """Connect a driver for each station of the config at ``addresses[entry.name]`` and build its station.

    ``keep_down``: a tool that does not answer leaves its station DOWN (marked, with the
    reason in :attr:`Line.down`) instead of failing; without it the connection error is
    raised after the drivers already opened are closed.
    """
    line = Line({}, {})
    try:
        for entry in entries:
            address = addresses.get(entry.name)
            if address is None:
                raise ValueError(f"station {entry.name} has no address")
            driver = driver_class(entry.tool)(address)
            try:
                driver.connect()
            except PacklineError as exc:
                if not keep_down:
                    raise
                line.down[entry.name] = str(exc)
            else:
                if wiring.on_connected is not None:
                    wiring.on_connected(driver)
            station = line.stations[entry.name] = Station(
                entry.name,
                entry.tool,
                driver,
                pace=wiring.pace,
                policy=wiring.policies.get(entry.name, AlarmPolicy(entry.on_alarm)),
                retry_tool_s=entry.retry_tool_s,
                listeners=list(wiring.listeners),
                on_alarm=wiring.on_alarm,
                on_request=wiring.on_request,
                on_link_lost=wiring.on_link_lost,
            )
            if entry.name in line.down:
                station.mark_down(line.down[entry.name])
    except BaseException:
        line.close()
        raise
    return line
