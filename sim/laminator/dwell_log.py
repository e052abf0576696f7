"""LM-8 dwell statistics of a settled stretch in one draw (laminator.md §4, IR 126-129).

The laminator reads its platen thermocouples and press transducer once per logging interval
(:data:`LOG_INTERVAL_S`), each reading with its own noise; PEAK_TEMP, MAX_TEMP_DEV and
MIN_PRESSURE_DWELL are the extremes of those readings. While the dwell is settled (platens at
the set-point, press at its set-point, the chamber pumped below VACUUM_SP) the true values do
not move, so only the number of readings matters: the extreme of ``n`` independent normal
readings is drawn at once by inverting its distribution (F(x)ⁿ), instead of ``n`` draws on a
5 s grid of model steps. The true values are within a millionth of a degree of the set-point
when the dwell counts as settled, far below the registers' 0.1 °C.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

#: The §4 statistics sample the readings once per this many tool seconds (the model's grid).
LOG_INTERVAL_S = 5.0
_NORMAL = NormalDist()


def readings_between(start_s: float, end_s: float) -> int:
    """Logging instants (multiples of LOG_INTERVAL_S) in (start_s, end_s]."""
    return math.floor(end_s / LOG_INTERVAL_S + 1e-9) - math.floor(start_s / LOG_INTERVAL_S + 1e-9)


def first_reading_after_s(start_s: float) -> float:
    """The first logging instant after ``start_s``."""
    return (math.floor(start_s / LOG_INTERVAL_S + 1e-9) + 1) * LOG_INTERVAL_S


def max_of_normals(rng: random.Random, n: int) -> float:
    """The largest of ``n`` standard normal draws (n >= 1), drawn at once."""
    return _NORMAL.inv_cdf(_open_unit(rng.random() ** (1.0 / n)))


def max_abs_and_max_of_normals(rng: random.Random, n: int) -> tuple[float, float]:
    """(largest |z|, largest z) over the same ``n`` standard normal draws (n >= 1): the
    largest |z| is drawn first; it is the largest z with probability ½, else the largest z is
    the largest of the other n − 1, each within ±(largest |z|)."""
    largest_abs = _NORMAL.inv_cdf(_open_unit((1.0 + rng.random() ** (1.0 / n)) / 2.0))
    if rng.random() < 0.5:
        return largest_abs, largest_abs
    if n == 1:
        return largest_abs, -largest_abs
    low, high = _NORMAL.cdf(-largest_abs), _NORMAL.cdf(largest_abs)
    u = rng.random() ** (1.0 / (n - 1))
    return largest_abs, _NORMAL.inv_cdf(_open_unit(low + (high - low) * u))


def _open_unit(p: float) -> float:
    """``p`` kept inside (0, 1), where the normal quantile is finite."""
    return min(max(p, 1e-300), 1.0 - 1e-16)


@dataclass
class SettledReadings:
    """Readings of a settled dwell not yet folded into the statistics: their count, and the
    set-points they read (the true values are within a millionth of them)."""

    count: int = 0
    platen_c: float = 0.0
    pressure_mpa: float = 0.0
