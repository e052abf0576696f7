"""Live state of every station: each connected tool is polled at its manual's rate, busy or
idle (state, alarms, interlocks), so that the API shows what the tool said and when, an alarm
raised while the station is idle is recorded, and an idle tool that stops answering makes its
station DOWN before a strip is sent to it.

One thread per station: a slow or dead tool delays only its own status. Polls go through the
driver's link, whose lock keeps them whole beside the station's own cycle traffic.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drivers.errors import ConnectionLost, PacklineError
from drivers.records import AlarmInfo
from packline.daemon.logging_recorder import kv
from packline.daemon.station_threads import StationThreads
from sequences.station import Station

log = logging.getLogger("packline.daemon")


@dataclass(frozen=True)
class LiveStatus:
    """What a station's tool said at its last answer (``answered_at``, epoch s)."""

    tool_state: str
    alarms: tuple[AlarmInfo, ...]
    interlocks: tuple[str, ...]
    #: 0.0: the tool never answered a poll.
    answered_at: float
    #: The last poll's error ("" when it answered).
    error: str = ""

    def as_json(self, now: float) -> dict[str, object]:
        return {
            "tool_state": self.tool_state,
            "alarms": [
                {"code": a.code, "class": a.alarm_class, "text": a.text} for a in self.alarms
            ],
            "interlocks": list(self.interlocks),
            "answered_at": self.answered_at or None,
            "answer_age_s": round(max(0.0, now - self.answered_at), 3)
            if self.answered_at
            else None,
            "poll_error": self.error or None,
        }


@dataclass
class StationPollers:
    """Polls every station's tool in its own thread every ``interval_s(station)`` wall seconds
    (the manual's rate, the driver's ``poll_interval_s``).

    ``on_idle_alarm``: an alarm that appeared while the station had no strips (a cycle's
    alarms are handled and recorded by the cycle). ``on_lost``: an idle station's tool stopped
    answering (the link failed after the driver's own retries)."""

    on_idle_alarm: Callable[[Station, AlarmInfo], None]
    on_lost: Callable[[Station, str], None]
    interval_s: Callable[[Station], float] = lambda station: station.driver.poll_interval_s
    _live: dict[str, LiveStatus] = field(default_factory=dict)
    _threads: StationThreads = field(default_factory=lambda: StationThreads("poll"))

    def start(self, stations: Iterable[Station]) -> None:
        """A thread per station; their first polls spread over one interval (station k of n
        after k/n of its interval), so that many stations' polls do not come in bursts."""
        listed = list(stations)
        for index, station in enumerate(listed):
            self._threads.start(
                station, functools.partial(self._poll_loop, phase=index / len(listed))
            )

    def stop(self) -> None:
        self._threads.stop()

    def live(self, name: str) -> LiveStatus | None:
        """The station's last polled status, or None before its first answer."""
        return self._live.get(name)

    def ages_s(self, now: float | None = None) -> dict[str, float]:
        """Seconds since each polled station's last answer (the staleness of its status)."""
        now = time.time() if now is None else now
        return {
            name: now - status.answered_at
            for name, status in list(self._live.items())
            if status.answered_at
        }

    def _poll_loop(self, station: Station, phase: float = 0.0) -> None:
        """Poll every interval, from poll start to poll start (a slow answer is not added). A
        poll that failed without losing the link (a reply timed out, or a late one was taken
        for it) is tried again at once, once, rather than leaving the status a period older."""
        seen: set[int] = set()
        wait_s = self.interval_s(station) * phase
        retried = False
        while not self._threads.wait(wait_s):
            began = time.monotonic()
            failed = False
            if not station.down:  # else the reconnect thread owns the link until it answers
                seen, failed = self._poll(station, seen)
            if failed and not retried and not station.down:
                wait_s, retried = 0.0, True
                continue
            retried = False
            wait_s = max(0.0, self.interval_s(station) - (time.monotonic() - began))

    def _poll(self, station: Station, seen: set[int]) -> tuple[set[int], bool]:
        """One poll; returns the alarm codes active now and whether the poll failed."""
        driver = station.driver
        try:
            state = driver.state()
            alarms = tuple(driver.alarms())
            read_interlocks = getattr(driver, "interlocks", None)
            interlocks = tuple(read_interlocks()) if callable(read_interlocks) else ()
        except PacklineError as exc:
            previous = self._live.get(station.name) or LiveStatus("UNREACHABLE", (), (), 0.0)
            self._live[station.name] = LiveStatus(
                previous.tool_state,
                previous.alarms,
                previous.interlocks,
                previous.answered_at,
                str(exc),
            )
            if isinstance(exc, ConnectionLost) and station.busy.acquire(blocking=False):
                try:  # idle: nobody else will notice before the next strip is sent to it
                    if not station.down:
                        self.on_lost(station, str(exc))
                finally:
                    station.busy.release()
            return seen, True
        self._live[station.name] = LiveStatus(state.name, alarms, interlocks, time.time())
        codes = {a.code for a in alarms}
        if not station.current_strips:
            for alarm in alarms:
                if alarm.code not in seen:
                    log.warning(
                        kv(
                            event="idle_alarm",
                            station=station.name,
                            code=alarm.code,
                            text=alarm.text,
                        )
                    )
                    self.on_idle_alarm(station, alarm)
        return codes, False
