"""Stations that come and go: a DOWN station's tool is reconnected in the background with a
bounded exponential back-off, and the station comes back when the tool answers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from drivers.errors import PacklineError
from packline.daemon.logging_recorder import kv
from packline.daemon.station_threads import StationThreads
from sequences.station import Station

log = logging.getLogger("packline.daemon")

#: Wall seconds before the first reconnect attempt; doubled after each failure up to the cap.
FIRST_RETRY_S = 0.5
#: The longest wall wait between attempts: a tool that comes back is seen within this.
MAX_RETRY_S = 30.0


class Reconnectors:
    """One thread per DOWN station, retrying its driver's ``connect`` until it answers."""

    def __init__(
        self,
        *,
        on_back: Callable[[Station], None],
        first_retry_s: float = FIRST_RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
    ) -> None:
        self.on_back = on_back
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self._threads = StationThreads("reconnect")

    def start(self, station: Station) -> None:
        self._threads.start(station, self._reconnect)

    def stop(self) -> None:
        self._threads.stop()

    def _reconnect(self, station: Station) -> None:
        wait_s, attempts = self.first_retry_s, 0
        while not self._threads.wait(wait_s):
            attempts += 1
            with suppress(PacklineError):
                station.driver.close()
            try:
                station.driver.connect()
                station.link_back()  # reads the tool's settings: the link may fail again
            except PacklineError as exc:
                log.debug(kv(event="reconnect_failed", station=station.name, reason=str(exc)))
                wait_s = min(wait_s * 2, self.max_retry_s)
                continue
            log.info(kv(event="station_back", station=station.name, attempts=attempts))
            self.on_back(station)
            return
