"""Simulated process time: a monotonic clock running ``time_scale`` times faster than the wall.

Only process time is scaled (cure, heat-up, cycle phases). Link timing such as the wire
bonder's 100 ms inter-byte gap stays real: fronts use the wall clock for that.
"""

from __future__ import annotations

import time


class SimClock:
    """Sim seconds since the clock was made, at ``time_scale`` sim seconds per wall second."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        self.time_scale = float(time_scale)
        self._wall_origin = time.monotonic()

    def now(self) -> float:
        """Current sim time in seconds."""
        return (time.monotonic() - self._wall_origin) * self.time_scale

    def wall_seconds(self, sim_seconds: float) -> float:
        """Wall seconds that ``sim_seconds`` of process time take."""
        return sim_seconds / self.time_scale

    def sleep(self, sim_seconds: float) -> None:
        """Sleep for ``sim_seconds`` of process time."""
        time.sleep(max(0.0, self.wall_seconds(sim_seconds)))
