"""Kamal-Sourour cure kinetics of the mold compound (mold-press.md §5, process-reference §2.2).

dα/dt = (k1 + k2·α^m)(1 − α)^n, k_i = A_i·exp(−E_i/RT).
At 175 °C: α = 0.3 at 20.9 s, 0.8 at 65.2 s, 0.9 at 97.3 s.
"""

from __future__ import annotations

import math

R_J_PER_MOL_K = 8.314
E1, A1 = 75_000.0, 1.66e6
E2, A2 = 60_000.0, 5.91e5
M, N = 0.6, 1.5


def cure_rate(alpha: float, temperature_c: float) -> float:
    """dα/dt in 1/s at degree of cure ``alpha`` and compound temperature."""
    t_k = temperature_c + 273.15
    k1 = A1 * math.exp(-E1 / (R_J_PER_MOL_K * t_k))
    k2 = A2 * math.exp(-E2 / (R_J_PER_MOL_K * t_k))
    alpha = min(max(alpha, 0.0), 1.0)
    return (k1 + k2 * alpha**M) * (1.0 - alpha) ** N


def advance_cure(
    alpha: float, temperature_c: float, dt_s: float, *, max_step_s: float = 0.25
) -> float:
    """Integrate α over ``dt_s`` with midpoint steps."""
    remaining = dt_s
    while remaining > 0:
        h = min(max_step_s, remaining)
        mid = alpha + 0.5 * h * cure_rate(alpha, temperature_c)
        alpha = min(1.0, alpha + h * cure_rate(mid, temperature_c))
        remaining -= h
    return alpha


def time_to_alpha(target: float, temperature_c: float, *, limit_s: float = 3600.0) -> float:
    """Seconds from α = 0 to ``target`` at constant temperature (T_ALPHA03 for 0.3)."""
    alpha, t, h = 0.0, 0.0, 0.05
    while alpha < target and t < limit_s:
        previous = alpha
        alpha = advance_cure(alpha, temperature_c, h, max_step_s=h)
        t += h
        if alpha >= target:
            return t - h * (alpha - target) / max(alpha - previous, 1e-12)
    return t
