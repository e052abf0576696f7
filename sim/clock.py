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
        # (wall origin, sim time at that origin, scale): replaced as one tuple so that a
        # reader in another thread never sees half of a scale change.
        self._origin = (time.monotonic(), 0.0, float(time_scale))

    @property
    def time_scale(self) -> float:
        return self._origin[2]

    def now(self) -> float:
        """Current sim time in seconds."""
        wall, sim, scale = self._origin
        return sim + (time.monotonic() - wall) * scale

    def set_scale(self, time_scale: float) -> None:
        """Change the time scale from now on; sim time stays continuous.

        Tests use it to heat a tool up fast and then run a cycle slowly enough to catch a phase.
        """
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        wall = time.monotonic()
        old_wall, old_sim, old_scale = self._origin
        self._origin = (wall, old_sim + (wall - old_wall) * old_scale, float(time_scale))

    def wall_seconds(self, sim_seconds: float) -> float:
        """Wall seconds that ``sim_seconds`` of process time take."""
        return sim_seconds / self.time_scale

    def sleep(self, sim_seconds: float) -> None:
        """Sleep for ``sim_seconds`` of process time."""
        time.sleep(max(0.0, self.wall_seconds(sim_seconds)))
