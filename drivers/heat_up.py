"""The least time a heat-up can still take, from the temperatures a tool reports.

Where a tool's manual gives the rate at which it heats (its driver's ``heat_up_law``) and how
long it must then stay in band before READY, the host can sleep through most of a heat-up
instead of polling it: no tool reaches READY sooner than its coldest heater needs to climb to
the band's lower edge at that rate, plus the stable time. Tools whose manuals give only
heat-up durations from cold (die bonder, ball attach, saw and laser warm-ups) are polled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class HeatUpLaw:
    """A manual's heat-up: the (largest) rate in °C per minute and the in-band time before
    READY in seconds."""

    rate_c_per_min: float
    stable_s: float

    def least_left_s(self, pvs_c: Iterable[float], sp_c: float, band_c: float) -> float:
        """Tool seconds READY is at least away with heaters at ``pvs_c`` heating to ``sp_c``
        (± ``band_c``): the coldest heater's climb to the band plus the stable time; 0 when
        every heater is in band or above it (the in-band time already served, or how long a
        cool-down takes, is not known from here)."""
        gap_c = max((sp_c - band_c - pv_c for pv_c in pvs_c), default=0.0)
        if gap_c <= 0.0:
            return 0.0
        return gap_c / self.rate_c_per_min * 60.0 + self.stable_s
