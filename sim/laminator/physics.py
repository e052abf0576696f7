"""LM-8 physics: heated platens, vacuum chamber and press hydraulics (laminator.md §3, §9).

Figures from the manual's timing table: heat-up at most 8 °C/min (25 -> 100 °C + 60 s stable
in about 11 min), pump-down to 2.0 kPa in about 120 s, 2.00 MPa built in 30 s, vent 60 s.
Everything else (time constants, cooling capacity, leak levels) is a sim decision recorded in
docs/tools/laminator.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AMBIENT_C = 25.0
ATMOSPHERE_KPA = 101.3

HEAT_RATE_MAX_C_PER_S = 8.0 / 60.0  # §9: heat-up at max 8 °C/min
COOL_RATE_MAX_C_PER_S = 6.0 / 60.0  # water-cooled platens: enough for COOL_RATE up to 5 °C/min
NATURAL_COOL_C_PER_S = 1.0 / 60.0  # cooling water off
WEAK_COOL_C_PER_S = 1.5 / 60.0  # cooling water flow reduced (above the flow-switch limit)
PLATEN_TAU_S = 10.0  # closed-loop time constant near the set-point
RUNAWAY_C = 260.0  # a heater stuck on drives its platen towards this
WEAK_HEATER_REACH = 0.95  # a degraded heater reaches 95 % of the rise above ambient
HOLDING_POWER_AT_200C = 0.5  # heater output needed to hold 200 °C

ULTIMATE_KPA = 0.3  # pump's base pressure
SETTLED_KPA = 1e-9  # a chamber this close to its floor is at it
LEAK_EQUILIBRIUM_KPA = 8.0  # with a chamber leak the pump only gets this far
PUMP_TAU_S = 120.0 / math.log((ATMOSPHERE_KPA - ULTIMATE_KPA) / (2.0 - ULTIMATE_KPA))  # §9
VENT_TAU_S = 8.0

BUILD_RATE_MPA_PER_S = 2.0 / 30.0  # §9: 2.00 MPa in 30 s
SLOW_BUILD_FRACTION = 0.2  # sticking proportional valve: too slow for the 120 s limit
RELEASE_RATE_MPA_PER_S = 0.2
PRESS_TAU_S = 3.0
LEAK_PRESSURE_FRACTION = 0.7  # with a hydraulic leak the pump holds only 70 % of set-point


@dataclass
class Platen:
    """One heated platen: a rate-limited first-order loop around its target."""

    pv_c: float = AMBIENT_C
    rate_c_per_s: float = 0.0
    output_pct: float = 0.0

    @staticmethod
    def goal_c(
        target_c: float | None, *, heater_on: bool = True, weak: bool = False, runaway: bool = False
    ) -> float:
        """Where the platen settles: the target, ambient with the heater off, 260 °C for a
        heater stuck on, 95 % of the rise for a weak one."""
        heating = heater_on and (target_c is not None or runaway)
        goal = (
            RUNAWAY_C
            if heating and runaway
            else (target_c if heating and target_c is not None else AMBIENT_C)
        )
        if weak and heating:
            goal = AMBIENT_C + WEAK_HEATER_REACH * (goal - AMBIENT_C)
        return goal

    def step(
        self,
        target_c: float | None,
        dt_s: float,
        *,
        cool_max_c_per_s: float,
        heater_on: bool = True,
        weak: bool = False,
        runaway: bool = False,
        ramp_c_per_s: float = 0.0,
    ) -> None:
        """Advance by ``dt_s`` towards ``target_c`` (None or ``heater_on`` False: heater off),
        a target moving at ``ramp_c_per_s`` during the step (a profile's RAMP or COOL): the
        loop's first-order law solved in closed form, exact for any step (steps of any length
        compose), then held to the heating and cooling rate limits."""
        heating = heater_on and (target_c is not None or runaway)
        goal = self.goal_c(target_c, heater_on=heater_on, weak=weak, runaway=runaway)
        ramp = 0.0
        if heating and not runaway:
            ramp = ramp_c_per_s * (WEAK_HEATER_REACH if weak else 1.0)
        lag_c = ramp * PLATEN_TAU_S  # how far the platen trails a ramp once it follows it
        behind_c = lag_c + (goal - self.pv_c - lag_c) * math.exp(-dt_s / PLATEN_TAU_S)
        free = goal + ramp * dt_s - behind_c
        change = max(-cool_max_c_per_s * dt_s, min(HEAT_RATE_MAX_C_PER_S * dt_s, free - self.pv_c))
        self.pv_c += change
        self.rate_c_per_s = change / dt_s
        if not heating:
            self.output_pct = 0.0
        elif runaway:
            self.output_pct = 100.0
        else:
            self.output_pct = 100.0 * self._output(cool_max_c_per_s)

    def _output(self, cool_max_c_per_s: float) -> float:
        holding = min(
            1.0, max(0.0, HOLDING_POWER_AT_200C * (self.pv_c - AMBIENT_C) / (200.0 - AMBIENT_C))
        )
        if self.rate_c_per_s >= 0.0:
            return min(1.0, holding + (1.0 - holding) * self.rate_c_per_s / HEAT_RATE_MAX_C_PER_S)
        return max(0.0, holding * (1.0 + self.rate_c_per_s / cool_max_c_per_s))


@dataclass
class Chamber:
    """The vacuum chamber around the press load (absolute pressure)."""

    pressure_kpa: float = ATMOSPHERE_KPA

    def pump(self, dt_s: float, *, leak: bool = False) -> None:
        floor = LEAK_EQUILIBRIUM_KPA if leak else ULTIMATE_KPA
        self.pressure_kpa = floor + (self.pressure_kpa - floor) * math.exp(-dt_s / PUMP_TAU_S)
        if abs(self.pressure_kpa - floor) < SETTLED_KPA:
            # At the pump's floor: the same value however the time to here was split into steps.
            self.pressure_kpa = floor

    def vent(self, dt_s: float) -> None:
        self.pressure_kpa = ATMOSPHERE_KPA + (self.pressure_kpa - ATMOSPHERE_KPA) * math.exp(
            -dt_s / VENT_TAU_S
        )

    def open(self) -> None:
        self.pressure_kpa = ATMOSPHERE_KPA


@dataclass
class Press:
    """The hydraulic press: lamination pressure on the load."""

    pressure_mpa: float = 0.0

    def build(self, sp_mpa: float, dt_s: float, *, slow: bool = False) -> None:
        """PRESSURIZE: ramp towards the set-point at the build rate."""
        rate = BUILD_RATE_MPA_PER_S * (SLOW_BUILD_FRACTION if slow else 1.0)
        self.pressure_mpa = min(sp_mpa, self.pressure_mpa + rate * dt_s)

    def regulate(self, sp_mpa: float, dt_s: float, *, leak: bool = False) -> None:
        """RAMP..COOL: hold the set-point (a leak pulls the pressure down)."""
        goal = sp_mpa * (LEAK_PRESSURE_FRACTION if leak else 1.0)
        self.pressure_mpa = goal - (goal - self.pressure_mpa) * math.exp(-dt_s / PRESS_TAU_S)

    def release(self, dt_s: float) -> None:
        self.pressure_mpa = max(0.0, self.pressure_mpa - RELEASE_RATE_MPA_PER_S * dt_s)
