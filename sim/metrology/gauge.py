"""The MS-3 gauges: what each MODE reads from one site of the shared world, with gauge noise.

The station measures only what the world holds for the strip: a site whose needed values are
``None`` (the step never happened to it, e.g. no die placed, not etched) is not measurable and
the caller reports it as defect 9515. Optional values (slug on BALL, die recess on RECESS,
back-face pads on PKG) are reported empty when the world has none. Nothing is invented.

Gauge noise, 1 σ, drawn from the model's seeded ``rng`` (figures recorded in
docs/tools/metrology.md):

| Reading | σ | Sensor |
|---|---|---|
| die offset DX, DY | 0.5 µm | 2D camera |
| die rotation DT | 0.005 ° | 2D camera |
| slug protrusion (SLUG, BALL) | 1.0 µm | bottom laser triangulation |
| pad exposure PADX | 0.3 % (clamped to 0-100) | 2D camera |
| residual Cu RESCU | 0.1 µm (not below 0) | bottom laser triangulation |
| ball height mean / min | 1.0 / 1.5 µm (min not above mean) | bottom laser triangulation |
| coplanarity COPL | 1.5 µm (not below 0) | bottom laser triangulation |
| missing balls MISS | exact count | 2D camera |
| I/O-leg recess VIA mean / min | 0.5 / 0.5 µm (min not above mean) | top laser triangulation |
| die recess AREA | 0.5 µm | top laser triangulation |
| residual PI RESID | 0.05 µm (not below 0) | top laser triangulation |
| package thickness THK | 2.0 µm | top + bottom laser triangulation |
| warpage WARP | 2.0 µm (not below 0) | top + bottom laser triangulation |
| pad protrusion PADP | 0.5 µm | bottom laser triangulation |
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sim.metrology.items import DECIMALS, Values
from sim.world import SiteState


def _noisy(rng: random.Random, value: float, sigma: float, *, floor: float | None = None) -> float:
    reading = value + rng.gauss(0.0, sigma)
    return reading if floor is None else max(floor, reading)


def _die(site: SiteState, rng: random.Random) -> Values | None:
    if site.die_dx_um is None or site.die_dy_um is None or site.die_dtheta_deg is None:
        return None
    return {
        "dx": _noisy(rng, site.die_dx_um, 0.5),
        "dy": _noisy(rng, site.die_dy_um, 0.5),
        "dtheta": _noisy(rng, site.die_dtheta_deg, 0.005),
    }


def _slug(site: SiteState, rng: random.Random) -> Values | None:
    if (
        site.slug_protrusion_um is None
        or site.pad_exposure_pct is None
        or site.residual_cu_um is None
    ):
        return None
    return {
        "slug": _noisy(rng, site.slug_protrusion_um, 1.0),
        "padx": min(100.0, _noisy(rng, site.pad_exposure_pct, 0.3, floor=0.0)),
        "rescu": _noisy(rng, site.residual_cu_um, 0.1, floor=0.0),
    }


def _ball(site: SiteState, rng: random.Random) -> Values | None:
    mean, low, copl = site.ball_height_mean_um, site.ball_height_min_um, site.coplanarity_um
    if mean is None or low is None or copl is None:
        return None
    mean_read = round(_noisy(rng, mean, 1.0), 1)
    min_read = round(min(mean_read, _noisy(rng, low, 1.5)), 1)
    values: Values = {
        "ballh_mean": mean_read,
        "ballh_min": min_read,
        "copl": _noisy(rng, copl, 1.5, floor=0.0),
        "slug": None,
        "clear": None,
        "missing": site.balls_missing,
    }
    if site.slug_protrusion_um is not None:
        slug_read = round(_noisy(rng, site.slug_protrusion_um, 1.0), 1)
        values["slug"] = slug_read
        values["clear"] = min_read - slug_read  # CLEAR = min ball height - slug protrusion
    return values


def _recess(site: SiteState, rng: random.Random) -> Values | None:
    if site.via_depth_um is None or site.via_depth_min_um is None or site.residual_pi_um is None:
        return None
    mean_read = round(_noisy(rng, site.via_depth_um, 0.5), 1)
    return {
        "via_mean": mean_read,
        "via_min": min(mean_read, _noisy(rng, site.via_depth_min_um, 0.5)),
        "area": None
        if site.area_recess_depth_um is None
        else _noisy(rng, site.area_recess_depth_um, 0.5),
        "resid": _noisy(rng, site.residual_pi_um, 0.05, floor=0.0),
    }


def _pkg(site: SiteState, rng: random.Random) -> Values | None:
    if site.package_thickness_um is None or site.warp_um is None:
        return None
    return {
        "thk": _noisy(rng, site.package_thickness_um, 2.0),
        "warp": _noisy(rng, site.warp_um, 2.0, floor=0.0),
        "padp": None
        if site.pad_protrusion_um is None
        else _noisy(rng, site.pad_protrusion_um, 0.5),
    }


_GAUGES: dict[str, Callable[[SiteState, random.Random], Values | None]] = {
    "DIE": _die,
    "SLUG": _slug,
    "BALL": _ball,
    "RECESS": _recess,
    "PKG": _pkg,
}


def measure(mode: str, site: SiteState | None, rng: random.Random) -> Values | None:
    """The site's readings in ``mode``, rounded to the record decimals; None if not measurable."""
    if site is None:
        return None
    values = _GAUGES[mode](site, rng)
    if values is None:
        return None
    decimals = DECIMALS[mode]
    # "+ 0.0" turns a rounded -0.0 into 0.0: replies have no negative zero (README §3).
    return {
        name: None if value is None else round(value, decimals[name]) + 0.0
        for name, value in values.items()
    }
