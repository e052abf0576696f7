"""Ball physics of one site on the BA-8: placement defects, reflowed geometry, coplanarity.

Per ball (process-reference §2.8): missing, extra and bridged balls are Bernoulli events at
ppm rates; the flux thickness against the ball size shifts them (too little flux: balls do
not stick; too much: neighbours float together). Lands still under residual copper after the
slug etch (pad exposure below :data:`PAD_EXPOSED_PCT`) do not wet: their balls are lost in
reflow and the vision flags the lands (6506). Reflowed balls are measured top-view (mean
diameter ≈ 1.054 × ball diameter, the manual's 0.527 mm for 0.50 mm balls) and for height
(≈ 0.80 × ball diameter); coplanarity is max − min ball-top distance from the least-squares
seating plane over the site's balls, fitted here in pure Python.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MISSING_PPM = 20.0
EXTRA_PPM = 10.0
BRIDGED_PPM = 10.0
#: Land-to-flux rule: nominal flux thickness is 10 % of the ball diameter (50 µm for 0.50 mm).
FLUX_PER_BALL_DIAMETER = 0.10
#: Rate multiplier per unit of relative flux deviation (flux 50 % thin -> missing × 5.5).
FLUX_SENSITIVITY = 9.0
PAD_EXPOSED_PCT = 95.0
PLACEMENT_SIGMA_UM = 4.0  # per axis, after self-centring in reflow
REFLOWED_DIAMETER_RATIO = 1.054
DIAMETER_CV = 0.02
HEIGHT_RATIO = 0.80
HEIGHT_CV = 0.01
EXTRA_BALL_HEIGHT = 2.0 ** (1.0 / 3.0)  # two balls' solder on one land
BRIDGED_BALL_HEIGHT = 0.85  # two balls merged into one wide, lower joint
BALL_PITCH_MM = 1.0
BODY_BALLS_PER_SIDE = 16  # Format A: 17 mm body, 1.00 mm pitch, 192 balls in 4 outer rings


@dataclass(frozen=True)
class BallProcess:
    """The recipe values that shape the balls of a site."""

    ball_diameter_mm: float
    balls_per_site: int
    flux_thickness_um: float


@dataclass(frozen=True)
class SiteBalls:
    """What one site got: vision counts and measures, and the physical ball geometry."""

    missing: int
    extra: int
    bridged: int
    max_offset_um: float
    mean_diameter_mm: float
    lands_residue: bool
    height_mean_um: float | None
    height_min_um: float | None
    coplanarity_um: float | None


@lru_cache(maxsize=8)
def ball_positions(count: int) -> tuple[tuple[float, float], ...]:
    """Ball centres (mm, array centre at 0,0): full rings from the outside of an m × m array.

    m = 16 for up to 256 balls (the 17 mm Format A body), larger if BALL:COUNt needs it;
    192 balls are exactly the four outer rings around the 7 × 7 mm opening.
    """
    side = max(BODY_BALLS_PER_SIDE, math.ceil(math.sqrt(count)))
    half = (side - 1) / 2.0
    grid = [(i, j) for i in range(side) for j in range(side)]
    grid.sort(key=lambda ij: (min(ij[0], ij[1], side - 1 - ij[0], side - 1 - ij[1]), ij))
    return tuple(((i - half) * BALL_PITCH_MM, (j - half) * BALL_PITCH_MM) for i, j in grid[:count])


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Number of successes of ``n`` Bernoulli(p) trials (exact; p is small here)."""
    if p <= 0.0 or n <= 0:
        return 0
    if p >= 1.0:
        return n
    if n * min(p, 1.0 - p) > 10.0:
        return sum(1 for _ in range(n) if rng.random() < p)
    # Inversion: walk the pmf from 0; cheap because n·p is tiny for ppm rates.
    u = rng.random()
    prob = (1.0 - p) ** n
    cumulative, k = prob, 0
    while u > cumulative and k < n:
        prob *= (n - k) / (k + 1) * p / (1.0 - p)
        k += 1
        cumulative += prob
    return k


def fit_plane(points: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Least-squares plane z = a + b·x + c·y through ``points`` (at least 3, not collinear)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    mz = sum(p[2] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    syy = sum((p[1] - my) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    sxz = sum((p[0] - mx) * (p[2] - mz) for p in points)
    syz = sum((p[1] - my) * (p[2] - mz) for p in points)
    det = sxx * syy - sxy * sxy
    if abs(det) < 1e-12:
        raise ValueError("points are collinear: no unique seating plane")
    b = (sxz * syy - syz * sxy) / det
    c = (syz * sxx - sxz * sxy) / det
    return mz - b * mx - c * my, b, c


def coplanarity(points: Sequence[tuple[float, float, float]]) -> float:
    """Max − min distance of the ball tops from their least-squares seating plane."""
    a, b, c = fit_plane(points)
    norm = math.sqrt(1.0 + b * b + c * c)
    distances = [(z - (a + b * x + c * y)) / norm for x, y, z in points]
    return max(distances) - min(distances)


def attach_site(
    rng: random.Random,
    process: BallProcess,
    *,
    pad_exposure_pct: float | None,
    warp_um: float | None,
) -> SiteBalls:
    """Place, reflow and measure the balls of one site.

    ``pad_exposure_pct`` None (no etch on record) counts as fully exposed; ``warp_um`` is the
    package bow left by molding (ball tops follow it; the seating plane does not remove it).
    """
    n = process.balls_per_site
    flux_ratio = process.flux_thickness_um / (
        1000.0 * FLUX_PER_BALL_DIAMETER * process.ball_diameter_mm
    )
    p_missing = MISSING_PPM * 1e-6 * (1.0 + FLUX_SENSITIVITY * max(0.0, 1.0 - flux_ratio))
    p_bridged = BRIDGED_PPM * 1e-6 * (1.0 + FLUX_SENSITIVITY * max(0.0, flux_ratio - 1.0))
    exposure = 100.0 if pad_exposure_pct is None else pad_exposure_pct
    residue = exposure < PAD_EXPOSED_PCT
    blocked = binomial(rng, n, (100.0 - exposure) / 100.0) if residue else 0
    missing = min(n, blocked + binomial(rng, n - blocked, p_missing))
    present = n - missing
    extra = binomial(rng, present, EXTRA_PPM * 1e-6)
    bridged = binomial(rng, present, p_bridged)

    # Vision: top-view diameter and the worst offset over the balls present.
    d = process.ball_diameter_mm
    mean_diameter = d * rng.gauss(REFLOWED_DIAMETER_RATIO, DIAMETER_CV / math.sqrt(max(present, 1)))
    # The largest of `present` Rayleigh offsets, drawn by inverting its cdf F(r)^present.
    u = rng.random() ** (1.0 / max(present, 1))
    max_offset = (
        PLACEMENT_SIGMA_UM * math.sqrt(-2.0 * math.log(max(1.0 - u, 1e-300))) if present else 0.0
    )

    heights = _ball_heights(rng, process, missing, extra, bridged, warp_um or 0.0)
    return SiteBalls(
        missing=missing,
        extra=extra,
        bridged=bridged,
        max_offset_um=max_offset,
        mean_diameter_mm=mean_diameter,
        lands_residue=residue,
        height_mean_um=sum(h for _, _, h, _ in heights) / len(heights) if heights else None,
        height_min_um=min(h for _, _, h, _ in heights) if heights else None,
        coplanarity_um=coplanarity([(x, y, top) for x, y, _, top in heights])
        if len(heights) >= 3
        else None,
    )


def _ball_heights(
    rng: random.Random, process: BallProcess, missing: int, extra: int, bridged: int, warp_um: float
) -> list[tuple[float, float, float, float]]:
    """(x mm, y mm, ball height µm, ball-top z µm) of every ball present on the site."""
    positions = list(ball_positions(process.balls_per_site))
    present = rng.sample(positions, len(positions) - missing) if missing else positions
    factors = [1.0] * len(present)
    for index in rng.sample(range(len(present)), extra):
        factors[index] = EXTRA_BALL_HEIGHT
    for index in rng.sample(range(len(present)), min(len(present), 2 * bridged)):
        factors[index] = BRIDGED_BALL_HEIGHT
    nominal_um = HEIGHT_RATIO * process.ball_diameter_mm * 1000.0
    radius_sq = max((x * x + y * y for x, y in positions), default=1.0) or 1.0
    balls = []
    for (x, y), factor in zip(present, factors, strict=True):
        height = nominal_um * factor * rng.gauss(1.0, HEIGHT_CV)
        bow = warp_um * (x * x + y * y) / radius_sq
        balls.append((x, y, height, height + bow))
    return balls
