"""BA-8 reflow profile (ball-attach.md §4): a strip follows the zone temperatures with a
first-order lag, dT/dt = (T_zone − T)/τ, τ = 40 s, entering at 25 °C.

Within one zone the zone temperature is constant, so each piece is integrated exactly
(T = T_zone + (T0 − T_zone)·e^(−t/τ)); time above liquidus and soak time come from the
analytic crossing times, not from sampling. At the defaults this gives peak 241.7 °C,
TAL 60.3 s, soak 108.2 s, max ramp 2.62 °C/s, max cool −5.04 °C/s (manual: TAL 60.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TAU_S = 40.0
ENTRY_C = 25.0
ZONE_LENGTH_MM = 400.0
COOLING_ZONE_C = 40.0
COOLING_ZONES = 2
HEATED_ZONES = 8
OVEN_LENGTH_MM = ZONE_LENGTH_MM * (HEATED_ZONES + COOLING_ZONES)
LIQUIDUS_C = 217.0
SOAK_BAND_C = (150.0, 200.0)


@dataclass(frozen=True)
class ProfileFigures:
    """``REFLow:PROFile?``: peak °C, time above liquidus s, soak s, max ramp and max cool °C/s."""

    peak_c: float
    tal_s: float
    soak_s: float
    max_ramp_c_s: float
    max_cool_c_s: float


class StripThermal:
    """The temperature history of one strip through the oven, advanced piece by piece."""

    def __init__(self, entry_c: float = ENTRY_C) -> None:
        self.temperature_c = entry_c
        self.peak_c = entry_c
        self.tal_s = 0.0
        self.soak_s = 0.0
        self.max_ramp_c_s = 0.0
        self.max_cool_c_s = 0.0

    def advance(self, zone_c: float, dt_s: float) -> None:
        """Spend ``dt_s`` at constant air temperature ``zone_c``."""
        if dt_s <= 0.0:
            return
        start = self.temperature_c
        rate = (zone_c - start) / TAU_S  # largest |dT/dt| of the piece is at its start
        self.max_ramp_c_s = max(self.max_ramp_c_s, rate)
        self.max_cool_c_s = min(self.max_cool_c_s, rate)
        end = zone_c + (start - zone_c) * math.exp(-dt_s / TAU_S)
        self.tal_s += _time_above(start, zone_c, dt_s, LIQUIDUS_C)
        low, high = SOAK_BAND_C
        self.soak_s += _time_above(start, zone_c, dt_s, low) - _time_above(
            start, zone_c, dt_s, high
        )
        self.temperature_c = end
        self.peak_c = max(self.peak_c, end)

    def figures(self) -> ProfileFigures:
        return ProfileFigures(
            self.peak_c, self.tal_s, self.soak_s, self.max_ramp_c_s, self.max_cool_c_s
        )


def _time_above(start_c: float, zone_c: float, dt_s: float, level_c: float) -> float:
    """Time within a piece of length ``dt_s`` that the (monotonic) temperature is ≥ ``level_c``."""
    end_c = zone_c + (start_c - zone_c) * math.exp(-dt_s / TAU_S)
    if start_c >= level_c and end_c >= level_c:
        return dt_s
    if start_c < level_c and end_c < level_c:
        return 0.0
    crossing_s = -TAU_S * math.log((level_c - zone_c) / (start_c - zone_c))
    return dt_s - crossing_s if end_c >= level_c else crossing_s


def zone_temperatures(heated_c: Sequence[float]) -> list[float]:
    """The ten zones a strip passes: the eight heated set-points, then two cooling zones."""
    return [*heated_c, *([COOLING_ZONE_C] * COOLING_ZONES)]


def transit_s(speed_mm_s: float) -> float:
    """Oven transit time: 4000 mm / conveyor speed (333.3 s at 12.0 mm/s)."""
    return OVEN_LENGTH_MM / speed_mm_s


def zone_at(position_mm: float) -> int:
    """0-based zone index (0-9) at a conveyor position in the oven."""
    return min(int(position_mm // ZONE_LENGTH_MM), HEATED_ZONES + COOLING_ZONES - 1)


def reflow_profile(heated_c: Sequence[float], speed_mm_s: float) -> ProfileFigures:
    """Profile figures of a strip through zones at ``heated_c`` at conveyor ``speed_mm_s``."""
    strip = StripThermal()
    dwell_s = ZONE_LENGTH_MM / speed_mm_s
    for zone_c in zone_temperatures(heated_c):
        strip.advance(zone_c, dwell_s)
    return strip.figures()
