"""The process models a recipe is checked against before a lot starts.

Each model is the one a tool manual or shared/process-reference.md states, written down here
so that a recipe whose set-points cannot give a good part is refused on the desk, not found
out at inspection:

- the BA-8 reflow profile (ball-attach.md §4): the strip follows the zone temperatures with a
  first-order lag, τ = 40 s, 8 heated and 2 cooling zones of 400 mm;
- the EMC cure of the TM-4 (process-reference §2.2, Kamal–Sourour, the reference's fitted set);
- the WE-2 etch-rate estimate (etch-bath.md §5);
- the UVL-3 ablation depth per pulse (laser.md §4).

Plain functions of numbers: nothing here knows the recipe models or the tools.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# -- reflow (ball-attach.md §4) -------------------------------------------------------------
REFLOW_TAU_S = 40.0
REFLOW_ENTRY_C = 25.0
REFLOW_ZONE_MM = 400.0
REFLOW_COOL_ZONES_C = (40.0, 40.0)
#: SAC305 liquidus (process-reference §1, 217–220 °C); TAL is counted above 217 °C.
LIQUIDUS_C = 217.0
SOAK_BAND_C = (150.0, 200.0)


@dataclass(frozen=True)
class ReflowProfile:
    """What the zone set-points give a strip: the figures of ``REFLow:PROFile?``."""

    peak_c: float
    time_above_liquidus_s: float
    soak_s: float
    max_ramp_c_s: float
    max_cool_c_s: float  # negative: cooling


def _time_above(start_c: float, zone_c: float, duration_s: float, level_c: float) -> float:
    """Seconds of one zone during which the (monotonic) strip temperature is >= ``level_c``."""
    end_c = zone_c + (start_c - zone_c) * math.exp(-duration_s / REFLOW_TAU_S)
    if start_c >= level_c and end_c >= level_c:
        return duration_s
    if start_c < level_c and end_c < level_c:
        return 0.0
    crossing_s = -REFLOW_TAU_S * math.log((level_c - zone_c) / (start_c - zone_c))
    return duration_s - crossing_s if start_c < level_c else crossing_s


def reflow_profile(zone_temperatures_c: Sequence[float], speed_mm_s: float) -> ReflowProfile:
    """The profile of ball-attach.md §4 (at defaults: peak 241.7 °C, TAL 60.3 s, soak 108.2 s,
    max ramp 2.62 °C/s, max cool −5.04 °C/s)."""
    duration_s = REFLOW_ZONE_MM / speed_mm_s
    strip_c = REFLOW_ENTRY_C
    peak_c = strip_c
    tal_s = soak_s = 0.0
    max_ramp, max_cool = 0.0, 0.0
    for zone_c in (*zone_temperatures_c, *REFLOW_COOL_ZONES_C):
        tal_s += _time_above(strip_c, zone_c, duration_s, LIQUIDUS_C)
        soak_s += _time_above(strip_c, zone_c, duration_s, SOAK_BAND_C[0]) - _time_above(
            strip_c, zone_c, duration_s, SOAK_BAND_C[1]
        )
        rate = (zone_c - strip_c) / REFLOW_TAU_S  # steepest at the zone entry
        max_ramp, max_cool = max(max_ramp, rate), min(max_cool, rate)
        strip_c = zone_c + (strip_c - zone_c) * math.exp(-duration_s / REFLOW_TAU_S)
        peak_c = max(peak_c, strip_c)
    return ReflowProfile(peak_c, tal_s, soak_s, max_ramp, max_cool)


# -- mold compound cure (process-reference §2.2) ----------------------------------------------
R_J_PER_MOL_K = 8.314
#: The reference's illustrative Kamal–Sourour set: α = 0.3 at 21 s, 0.8 at 65 s at 175 °C.
CURE_E1_J_MOL, CURE_A1_PER_S = 75_000.0, 1.66e6
CURE_E2_J_MOL, CURE_A2_PER_S = 60_000.0, 5.91e5
CURE_M, CURE_N = 0.6, 1.5
_CURE_STEP_S = 0.05


def _cure_rate(alpha: float, temperature_c: float) -> float:
    t_k = temperature_c + 273.15
    k1 = CURE_A1_PER_S * math.exp(-CURE_E1_J_MOL / (R_J_PER_MOL_K * t_k))
    k2 = CURE_A2_PER_S * math.exp(-CURE_E2_J_MOL / (R_J_PER_MOL_K * t_k))
    return (k1 + k2 * alpha**CURE_M) * (1.0 - alpha) ** CURE_N


def degree_of_cure(temperature_c: float, time_s: float) -> float:
    """α after ``time_s`` at a constant mold temperature, from α = 0 (midpoint steps)."""
    alpha, elapsed = 0.0, 0.0
    while elapsed < time_s:
        step = min(_CURE_STEP_S, time_s - elapsed)
        mid = min(1.0, alpha + 0.5 * step * _cure_rate(alpha, temperature_c))
        alpha = min(1.0, alpha + step * _cure_rate(mid, temperature_c))
        elapsed += step
    return alpha


def time_to_cure(alpha_target: float, temperature_c: float, limit_s: float = 3600.0) -> float:
    """Seconds from α = 0 to ``alpha_target`` (T_ALPHA03 for 0.3: the short-shot bound)."""
    alpha, elapsed = 0.0, 0.0
    while alpha < alpha_target and elapsed < limit_s:
        mid = min(1.0, alpha + 0.5 * _CURE_STEP_S * _cure_rate(alpha, temperature_c))
        alpha = min(1.0, alpha + _CURE_STEP_S * _cure_rate(mid, temperature_c))
        elapsed += _CURE_STEP_S
    return elapsed


# -- etch rate (etch-bath.md §5) -------------------------------------------------------------
@dataclass(frozen=True)
class EtchRateModel:
    """r = r_ref · exp[−(Ea/R)(1/T − 1/T_ref)] · (C/C_ref)^a · g (µm/min)."""

    rate_ref_um_min: float
    temperature_ref_c: float
    concentration_ref: float
    activation_j_mol: float
    order: float

    def rate_um_min(self, temperature_c: float, concentration: float) -> float:
        """The estimate for a fresh bath (g = 1: no copper loading)."""
        inverse = 1.0 / (temperature_c + 273.15) - 1.0 / (self.temperature_ref_c + 273.15)
        arrhenius = math.exp(-self.activation_j_mol / R_J_PER_MOL_K * inverse)
        return (
            self.rate_ref_um_min
            * arrhenius
            * (concentration / self.concentration_ref) ** self.order
        )


ETCH_RATES = {
    "CUCL2": EtchRateModel(33.0, 50.0, 32.0, 30_000.0, 1.0),
    "FECL3": EtchRateModel(20.0, 45.0, 40.0, 20_000.0, 1.0),
    "KOH": EtchRateModel(5.0, 80.0, 30.0, 60_000.0, 1.5),
}


def etch_time_s(
    chemistry: str, temperature_c: float, concentration: float, depth_um: float
) -> float:
    """Nominal immersed time to etch ``depth_um`` in a fresh bath."""
    return 60.0 * depth_um / ETCH_RATES[chemistry].rate_um_min(temperature_c, concentration)


# -- UV laser ablation (laser.md §4) -----------------------------------------------------------
ABLATION_DEPTH_SCALE_UM = 0.08
ABLATION_THRESHOLD_J_CM2 = 0.10
#: The UVL-3 holds its power within ±10 % of the calibration (alarm 8101 beyond).
LASER_POWER_TOLERANCE = 0.10


def depth_per_pulse_um(fluence_j_cm2: float) -> float:
    """d = δ·ln(F/F_th): 0.199 µm at 1.20 J/cm²."""
    if fluence_j_cm2 <= ABLATION_THRESHOLD_J_CM2:
        return 0.0
    return ABLATION_DEPTH_SCALE_UM * math.log(fluence_j_cm2 / ABLATION_THRESHOLD_J_CM2)


def pulses_to_breakthrough(film_thickness_um: float, fluence_j_cm2: float) -> int | None:
    """N_bt = ⌈thickness / d⌉ (126 for 25 µm at 1.20 J/cm²); None below the threshold."""
    depth = depth_per_pulse_um(fluence_j_cm2)
    return math.ceil(film_thickness_um / depth) if depth > 0.0 else None
