"""Ball physics of one site on the BA-8: placement defects, reflowed geometry, coplanarity.

Per ball (process-reference §2.8): missing, extra and bridged balls are Bernoulli events at
ppm rates; the flux thickness against the ball size shifts them (too little flux: balls do
not stick; too much: neighbours float together). Lands still under residual copper after the
slug etch (pad exposure below :data:`PAD_EXPOSED_PCT`) do not wet: their balls are lost in
reflow and the vision flags the lands (6506). Reflowed balls are measured top-view (mean
diameter ≈ 1.054 × ball diameter, the manual's 0.527 mm for 0.50 mm balls) and for height
(≈ 0.80 × ball diameter); coplanarity is max − min ball-top distance from the least-squares
seating plane over the site's balls, fitted here in pure Python.

A site is computed column-wise, in few Python calls per site rather than per ball (a dry run
attaches some 6,000 balls a strip): each ball's height scatter is one 16-bit draw from one
``randbytes`` call, looked up in a table of normal quantiles (:mod:`sim.normal_draws`), and the
seating plane is fitted in closed form from sums over the balls (:func:`plane_from_columns`).
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from sim.normal_draws import level_draws, look_up, quantiles

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


#: Sums of x and y and centred second moments of a ball layout (:func:`_xy_moments`).
XYMoments = tuple[float, float, float, float, float]


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
    xs, ys, zs = (list(column) for column in zip(*points, strict=True))
    return plane_from_columns(xs, ys, zs)


def plane_from_columns(
    xs: Sequence[float],
    ys: Sequence[float],
    zs: Sequence[float],
    xy_moments: XYMoments | None = None,
) -> tuple[float, float, float]:
    """:func:`fit_plane` of the points (xs[i], ys[i], zs[i]), in closed form from sums;
    ``xy_moments`` is :func:`_xy_moments` of xs and ys when the caller has it already."""
    n = len(xs)
    sx, sy, sxx, syy, sxy = xy_moments or _xy_moments(xs, ys)
    sz = sum(zs)
    sxz = sum(map(operator.mul, xs, zs)) - sx * sz / n
    syz = sum(map(operator.mul, ys, zs)) - sy * sz / n
    det = sxx * syy - sxy * sxy
    if abs(det) < 1e-12:
        raise ValueError("points are collinear: no unique seating plane")
    b = (sxz * syy - syz * sxy) / det
    c = (syz * sxx - sxz * sxy) / det
    return (sz - b * sx - c * sy) / n, b, c


def _xy_moments(xs: Sequence[float], ys: Sequence[float]) -> XYMoments:
    """Sums of x and y and the centred second moments of a ball layout (the same for every
    site of a layout without missing balls: :func:`_layout` computes them once)."""
    n = len(xs)
    sx, sy = sum(xs), sum(ys)
    sxx = sum(map(operator.mul, xs, xs)) - sx * sx / n
    syy = sum(map(operator.mul, ys, ys)) - sy * sy / n
    sxy = sum(map(operator.mul, xs, ys)) - sx * sy / n
    return sx, sy, sxx, syy, sxy


def coplanarity(points: Sequence[tuple[float, float, float]]) -> float:
    """Max − min distance of the ball tops from their least-squares seating plane."""
    xs, ys, zs = (list(column) for column in zip(*points, strict=True))
    return coplanarity_of_columns(xs, ys, zs)


def coplanarity_of_columns(
    xs: Sequence[float],
    ys: Sequence[float],
    zs: Sequence[float],
    xy_moments: XYMoments | None = None,
) -> float:
    """:func:`coplanarity` of the points (xs[i], ys[i], zs[i])."""
    _, b, c = plane_from_columns(xs, ys, zs, xy_moments)
    # The plane's offset a shifts every distance alike: max − min does not need it.
    residuals = [z - b * x - c * y for x, y, z in zip(xs, ys, zs, strict=True)]
    return (max(residuals) - min(residuals)) / math.sqrt(1.0 + b * b + c * c)


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

    xs, ys, heights, tops, xy_moments = _ball_heights(
        rng, process, missing, extra, bridged, warp_um or 0.0
    )
    return SiteBalls(
        missing=missing,
        extra=extra,
        bridged=bridged,
        max_offset_um=max_offset,
        mean_diameter_mm=mean_diameter,
        lands_residue=residue,
        height_mean_um=sum(heights) / len(heights) if heights else None,
        height_min_um=min(heights) if heights else None,
        coplanarity_um=coplanarity_of_columns(xs, ys, tops, xy_moments)
        if len(heights) >= 3
        else None,
    )


@lru_cache(maxsize=4)
def _height_table_um(nominal_um: float) -> tuple[float, ...]:
    """A ball's height (µm) per 16-bit draw of :mod:`sim.normal_draws`: nominal · (1 +
    HEIGHT_CV · z) at the draw's normal quantile, built once per ball size."""
    return tuple([nominal_um * (1.0 + HEIGHT_CV * z) for z in quantiles()])


class _Layout(NamedTuple):
    """Columns of :func:`ball_positions` and what every full site of the layout shares."""

    xs: tuple[float, ...]  # mm
    ys: tuple[float, ...]  # mm
    bow_share: tuple[float, ...]  # r² over the largest r²: the bow's share at each ball
    xy_moments: XYMoments  # _xy_moments(xs, ys)


@lru_cache(maxsize=8)
def _layout(count: int) -> _Layout:
    """The :class:`_Layout` of ``count`` balls, built once per ball count."""
    positions = ball_positions(count)
    radius_sq = max((x * x + y * y for x, y in positions), default=1.0) or 1.0
    xs = tuple(x for x, _ in positions)
    ys = tuple(y for _, y in positions)
    bow_share = tuple((x * x + y * y) / radius_sq for x, y in positions)
    return _Layout(xs, ys, bow_share, _xy_moments(xs, ys) if xs else (0.0, 0.0, 0.0, 0.0, 0.0))


def _ball_heights(
    rng: random.Random, process: BallProcess, missing: int, extra: int, bridged: int, warp_um: float
) -> tuple[
    Sequence[float],
    Sequence[float],
    list[float],
    list[float],
    XYMoments | None,
]:
    """Columns over every ball present on the site: x mm, y mm, ball height µm, ball-top z µm;
    and the x/y moments of those balls when they are the full layout (else None)."""
    xs, ys, bow_share, xy_moments = _layout(process.balls_per_site)
    moments: XYMoments | None = xy_moments
    if missing:
        kept = sorted(rng.sample(range(len(xs)), len(xs) - missing))
        xs, ys, bow_share = (tuple(column[k] for k in kept) for column in (xs, ys, bow_share))
        moments = None
    table = _height_table_um(HEIGHT_RATIO * process.ball_diameter_mm * 1000.0)
    heights = look_up(table, level_draws(rng, len(xs)))
    factors: dict[int, float] = {}  # the few balls not of nominal size
    if extra:
        factors.update(dict.fromkeys(rng.sample(range(len(heights)), extra), EXTRA_BALL_HEIGHT))
    if bridged:  # a bridge joins two balls; a bridged ball is no longer an extra one
        count = min(len(heights), 2 * bridged)
        factors.update(dict.fromkeys(rng.sample(range(len(heights)), count), BRIDGED_BALL_HEIGHT))
    for index, factor in factors.items():
        heights[index] *= factor
    if not warp_um:
        return xs, ys, heights, heights, moments
    tops = [h + warp_um * share for h, share in zip(heights, bow_share, strict=True)]
    return xs, ys, heights, tops, moments
