"""BA-8 zone heaters in closed form (ball-attach.md §3), so the model can jump between events.

A heated zone's controlled air temperature approaches its set-point rate-limited, first order:
dT/dt = clip((SP − T)/τ, ±0.2 °C/s), τ = 60 s. Its error therefore falls linearly at 0.2 °C/s
while it is above 0.2·τ = 12 °C, then exponentially; both pieces are exact for a step of any
length, and the time the error takes to fall to a level is solved for, not searched. An
unheated zone cools towards ambient with τ = 900 s (exact too).

The air wanders around the set-point (1 σ 0.3 °C, ≈ 2 min correlation). It used to be drawn
per integration step (so it depended on the step grid and stole draws from the ball process);
it is now a fixed function of tool time per zone, a sum of three sinusoids with seeded periods
and phases, bounded by :data:`RIPPLE_MAX_C`: a model knows the air at any time without
stepping, and a band check needs stepping only while a zone's error is within that bound of
the band's edge.
"""

from __future__ import annotations

import math
import random

HEAT_RATE_C_S = 0.2
ZONE_TAU_S = 60.0
COOL_TAU_S = 900.0
#: The error above which the heater is rate-limited (the ramp meets the first-order loop).
RAMP_ERROR_C = HEAT_RATE_C_S * ZONE_TAU_S
RIPPLE_C = 0.3  # 1 σ of the air's wander around the set-point
RIPPLE_TERMS = 3
RIPPLE_AMPLITUDE_C = RIPPLE_C * math.sqrt(2.0 / RIPPLE_TERMS)
#: No ripple is ever larger than this (the amplitudes' sum).
RIPPLE_MAX_C = RIPPLE_TERMS * RIPPLE_AMPLITUDE_C
RIPPLE_PERIOD_S = (240.0, 1200.0)


def approach_error(error_c: float, dt_s: float) -> float:
    """A heated zone's error (SP − T) after ``dt_s``: ramp at the rate limit, then first order.
    A negative ``dt_s`` gives the error that long before (the same heating run backwards)."""
    if dt_s < 0.0:
        return _error_before(error_c, -dt_s)
    size = abs(error_c)
    if size > RAMP_ERROR_C:
        ramp_s = (size - RAMP_ERROR_C) / HEAT_RATE_C_S
        if dt_s <= ramp_s:
            return math.copysign(size - HEAT_RATE_C_S * dt_s, error_c)
        dt_s -= ramp_s
        size = RAMP_ERROR_C
    return math.copysign(size * math.exp(-dt_s / ZONE_TAU_S), error_c)


def _error_before(error_c: float, back_s: float) -> float:
    size = abs(error_c)
    if size < RAMP_ERROR_C:
        first_order_s = ZONE_TAU_S * math.log(RAMP_ERROR_C / size) if size > 0.0 else math.inf
        if back_s <= first_order_s:
            return math.copysign(size * math.exp(back_s / ZONE_TAU_S), error_c)
        back_s -= first_order_s
        size = RAMP_ERROR_C
    return math.copysign(size + HEAT_RATE_C_S * back_s, error_c)


def time_to_error_s(error_c: float, level_c: float) -> float:
    """Tool seconds until a heated zone's |error| falls to ``level_c`` (> 0); 0 if it is there."""
    size = abs(error_c)
    if size <= level_c:
        return 0.0
    if size > RAMP_ERROR_C:
        if level_c >= RAMP_ERROR_C:
            return (size - level_c) / HEAT_RATE_C_S
        return (size - RAMP_ERROR_C) / HEAT_RATE_C_S + ZONE_TAU_S * math.log(RAMP_ERROR_C / level_c)
    return ZONE_TAU_S * math.log(size / level_c)


def cool(temperature_c: float, ambient_c: float, dt_s: float) -> float:
    """An unheated zone after ``dt_s``: Newton cooling towards ambient."""
    return ambient_c + (temperature_c - ambient_c) * math.exp(-dt_s / COOL_TAU_S)


class Ripple:
    """The air's wander around the set-point of each zone, as a function of tool time."""

    def __init__(self, rng: random.Random, zones: int) -> None:
        low, high = RIPPLE_PERIOD_S
        self.terms = [
            [
                (2.0 * math.pi / rng.uniform(low, high), rng.uniform(0.0, 2.0 * math.pi))
                for _ in range(RIPPLE_TERMS)
            ]
            for _ in range(zones)
        ]

    def at(self, zone: int, time_s: float) -> float:
        """The ripple of ``zone`` at tool time ``time_s`` (°C, at most RIPPLE_MAX_C in size)."""
        sin = math.sin  # asked per zone on every step: a list, not a generator, same sum
        return RIPPLE_AMPLITUDE_C * sum(
            [sin(omega * time_s + phase) for omega, phase in self.terms[zone]]
        )
