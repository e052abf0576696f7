"""What the bath does to the strips of a carrier, written to the shared world.

Copper chemistries (CUCL2, FECL3) etch the Cu slice of Package A strips: the slice under the
heat-slug mask is protected and stays as the slug; elsewhere the slice is removed down to the
substrate's bottom bond pads. Locally the etch front is not flat (σ = 3 µm inside a site), so
near breakthrough some pad area is clear while some still carries copper:

    margin            = slice − depth                         (mean copper left, µm, may be < 0)
    pad_exposure_pct  = 100 · Φ(−margin / σ)                  (share of pad area cleared)
    residual_cu_um    = σ·φ(margin/σ) + margin·Φ(margin/σ)    (mean copper left on the pads)

so a 15 % over-etch leaves 0 µm and 100 %, an etch that stops at the slice thickness leaves
1.2 µm and 50 %, and an under-etch of 10 µm leaves ≈ 10 µm and ≈ 0 %.
The slug protrudes by slice + adhesive from the pad plane; its undercut (depth / etch factor)
is recorded in the strip history.

KOH etches the I/O-leg recesses (vias) of Package B PI film strips; the Cu pads stop the etch,
so via depths are limited by the film thickness. The shallowest via of a site is deeper than
the site mean by a factor ≈ 1 − 2σ of the via-to-via scatter; its PI left is ``residual_pi_um``.
The WE-2 mask has no die-area recess (see docs/tools/etch-bath.md).

Depth scatter: the real rate differs from the tool's estimate per cycle (σ 1 %), per strip
(σ 0.5 %) and per site (σ 1 %).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sim.etch_bath.chemistry import CU_LOAD_G_L_PER_STRIP_UM, Chemistry
from sim.world import StripState, World

TOOL = "etch-bath"
FORMAT_A = (3, 10)
FORMAT_B = (8, 30)
LOCAL_SIGMA_UM = 3.0
DEFAULT_ADHESIVE_UM = 25.0
DEFAULT_FILM_UM = 25.0
STRIP_SIGMA = 0.005
SITE_SIGMA = 0.01
VIA_SIGMA = 0.015


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def copper_left(slice_um: float, depth_um: float) -> tuple[float, float]:
    """(residual Cu µm, pad exposure %) of a site etched to ``depth_um`` (module docstring)."""
    z = (slice_um - depth_um) / LOCAL_SIGMA_UM
    if z < -8.0:
        return 0.0, 100.0
    residual = LOCAL_SIGMA_UM * _phi(z) + (slice_um - depth_um) * _cdf(z)
    return max(0.0, residual), 100.0 * _cdf(-z)


@dataclass
class SlotLoad:
    """One loaded slot of the carrier: its strip and the depth this cycle has removed."""

    slot: int
    strip_id: str
    strip: StripState | None
    strip_factor: float
    site_factors: dict[int, float]
    via_min_factors: dict[int, float]
    base_depth_um: dict[int, float]
    depth_um: float = 0.0
    slice_um: float | None = None
    notes: list[str] = field(default_factory=list)


class Carrier:
    """The strips of one cycle and their etch in the world."""

    def __init__(
        self,
        world: World,
        chemistry: Chemistry,
        strip_ids: dict[int, str],
        rng: random.Random,
    ) -> None:
        self.world = world
        self.chemistry = chemistry
        self.slots: list[SlotLoad] = []
        for slot, strip_id in sorted(strip_ids.items()):
            self.slots.append(self._load(slot, strip_id, rng))

    def _load(self, slot: int, strip_id: str, rng: random.Random) -> SlotLoad:
        strip = None
        if strip_id:
            rows, cols = FORMAT_A if self.chemistry.is_copper else FORMAT_B
            strip = self.world.get(strip_id) or self.world.strip(strip_id, rows, cols)
        sites = strip.sites if strip is not None else {}
        slices = [s.slice_thickness_um for s in sites.values() if s.slice_thickness_um is not None]
        return SlotLoad(
            slot=slot,
            strip_id=strip_id,
            strip=strip,
            strip_factor=1.0 + rng.gauss(0.0, STRIP_SIGMA),
            site_factors={k: 1.0 + rng.gauss(0.0, SITE_SIGMA) for k in sites},
            via_min_factors={k: 1.0 - abs(rng.gauss(2.0, 0.3)) * VIA_SIGMA for k in sites},
            base_depth_um={k: s.etch_depth_um or 0.0 for k, s in sites.items()},
            slice_um=sum(slices) / len(slices) if slices else None,
        )

    @property
    def strip_count(self) -> int:
        return len(self.slots)

    def etch(self, rate_um_min: float, dt_s: float) -> None:
        """Etch every strip for ``dt_s`` at the true rate."""
        for load in self.slots:
            load.depth_um += rate_um_min * load.strip_factor * dt_s / 60.0

    def copper_rate_g_l_s(self, rate_um_min: float) -> float:
        """Copper going into solution now (g/L per s): from each strip whose Cu slice is not
        yet etched through (none for KOH)."""
        if not self.chemistry.is_copper:
            return 0.0
        um_s = sum(
            rate_um_min * load.strip_factor / 60.0
            for load in self.slots
            if load.slice_um is not None and load.depth_um < load.slice_um
        )
        return CU_LOAD_G_L_PER_STRIP_UM * um_s

    def slice_through_in_s(self, rate_um_min: float) -> float | None:
        """Seconds until the next strip's Cu slice is etched through (the copper rate then
        drops), or None."""
        if not self.chemistry.is_copper or rate_um_min <= 0.0:
            return None
        times = [
            (load.slice_um - load.depth_um) * 60.0 / (rate_um_min * load.strip_factor)
            for load in self.slots
            if load.slice_um is not None and load.depth_um < load.slice_um
        ]
        return min(times, default=None)

    def write_world(self, time_s: float, outcome: dict[int, tuple[str, int]]) -> None:
        """Record each strip's etch in the world; ``outcome``: slot -> (result, defect)."""
        with self.world.lock:
            for load in self.slots:
                if load.strip is None:
                    continue
                result, defect = outcome.get(load.slot, ("", 0))
                if load.depth_um > 0.0:
                    self._write_sites(load, defect)
                load.strip.record(
                    time_s,
                    TOOL,
                    f"{self.chemistry.name} slot {load.slot}: depth {load.depth_um:.2f} um"
                    + "".join(f"; {note}" for note in load.notes)
                    + f"; result {result or '-'} defect {defect}",
                )

    def _write_sites(self, load: SlotLoad, defect: int) -> None:
        assert load.strip is not None
        load.notes.clear()
        if self.chemistry.is_copper:
            etched = self._write_copper(load, defect)
            if etched:
                undercut = load.depth_um / self.chemistry.etch_factor
                load.notes.append(f"undercut {undercut:.1f} um (EF {self.chemistry.etch_factor})")
            else:
                load.notes.append("no Cu slice: nothing etched")
        elif not self._write_film(load, defect):
            load.notes.append("no PI film (Cu slice present): nothing etched")

    def _write_copper(self, load: SlotLoad, defect: int) -> bool:
        assert load.strip is not None
        etched = False
        for site_id, site in load.strip.sites.items():
            if site.slice_thickness_um is None:
                continue
            etched = True
            depth = load.base_depth_um[site_id] + load.depth_um * load.site_factors[site_id]
            residual, exposure = copper_left(site.slice_thickness_um, depth)
            adhesive = site.adhesive_thickness_um
            site.etch_depth_um = round(depth, 2)
            site.residual_cu_um = round(residual, 2)
            site.pad_exposure_pct = round(exposure, 1)
            site.slug_protrusion_um = round(
                site.slice_thickness_um + (DEFAULT_ADHESIVE_UM if adhesive is None else adhesive), 2
            )
            if defect:
                site.defects[TOOL] = defect
        return etched

    def _write_film(self, load: SlotLoad, defect: int) -> bool:
        assert load.strip is not None
        etched = False
        for site_id, site in load.strip.sites.items():
            if site.film_thickness_um is None and site.slice_thickness_um is not None:
                continue
            etched = True
            if site.film_thickness_um is None:
                site.film_thickness_um = DEFAULT_FILM_UM
            film = site.film_thickness_um
            depth = load.base_depth_um[site_id] + load.depth_um * load.site_factors[site_id]
            shallowest = depth * load.via_min_factors[site_id]
            site.etch_depth_um = round(depth, 2)
            site.via_depth_um = round(min(film, depth), 2)
            site.via_depth_min_um = round(min(film, shallowest), 2)
            site.residual_pi_um = round(max(0.0, film - shallowest), 2)
            if defect:
                site.defects[TOOL] = defect
        return etched
