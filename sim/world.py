"""The simulated line's physical world: every strip the line has seen, keyed by strip id.

Each tool model reads what earlier tools left (a site without a die gets no wires) and writes
what it did; metrology measures only what is recorded here, with gauge noise. ``None`` means
"this step never happened to this site".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SiteState:
    """Physical state of one site (unit) of a strip."""

    # heat-slug package: laminate
    slice_thickness_um: float | None = None  # Cu slice under the substrate
    adhesive_thickness_um: float | None = None
    lamination_voids: bool = False
    # die attach (die or plate), flip-chip
    die_placed: bool = False
    die_dx_um: float | None = None
    die_dy_um: float | None = None
    die_dtheta_deg: float | None = None
    bond_line_um: float | None = None
    adhesive_volume_nl: float | None = None
    adhesive_cure: float = 0.0  # degree of cure 0..1
    gap_filled: bool = False
    flip_chip_bonded: bool = False
    plate_placed: bool = False
    # wire bond
    wires_bonded: int = 0
    wires_total: int = 0
    wire_pull_gf: float | None = None
    # mold
    molded: bool = False
    mold_alpha: float | None = None  # degree of cure at mold open
    mold_defect: int = 0
    package_thickness_um: float | None = None
    warp_um: float | None = None
    # copper etch (heat slug) and PI recess etch / laser
    etch_depth_um: float | None = None  # depth removed where unmasked
    slug_protrusion_um: float | None = None
    residual_cu_um: float | None = None
    pad_exposure_pct: float | None = None
    film_thickness_um: float | None = None
    via_depth_um: float | None = None
    via_depth_min_um: float | None = None
    area_recess_depth_um: float | None = None
    residual_pi_um: float | None = None
    pad_protrusion_um: float | None = None
    # ball attach
    balls_placed: int = 0
    balls_missing: int = 0
    balls_extra: int = 0
    balls_bridged: int = 0
    ball_height_mean_um: float | None = None
    ball_height_min_um: float | None = None
    coplanarity_um: float | None = None
    ball_diameter_mm: float | None = None
    # dicing
    singulated: bool = False
    chipping_um: float | None = None
    # history of failures: tool name -> defect code
    defects: dict[str, int] = field(default_factory=dict)

    @property
    def failed_somewhere(self) -> bool:
        return bool(self.defects)


@dataclass
class StripState:
    """One strip: its id, layout and sites (1-based site ids)."""

    strip_id: str
    rows: int
    cols: int
    sites: dict[int, SiteState] = field(default_factory=dict)
    history: list[tuple[float, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for site in range(1, self.rows * self.cols + 1):
            self.sites.setdefault(site, SiteState())

    def site(self, site_id: int) -> SiteState:
        return self.sites[site_id]

    def record(self, time_s: float, tool: str, event: str) -> None:
        self.history.append((time_s, tool, event))


class World:
    """Thread-safe store of strips. Tools look strips up by the id the host set."""

    def __init__(self) -> None:
        self._strips: dict[str, StripState] = {}
        self.lock = threading.RLock()

    def strip(self, strip_id: str, rows: int, cols: int) -> StripState:
        """The strip with this id, created (bare) on first sight with this layout."""
        with self.lock:
            strip = self._strips.get(strip_id)
            if strip is None or strip.rows * strip.cols != rows * cols:
                strip = StripState(strip_id, rows, cols)
                if strip_id:
                    self._strips[strip_id] = strip
            return strip

    def get(self, strip_id: str) -> StripState | None:
        with self.lock:
            return self._strips.get(strip_id)

    def strip_ids(self) -> list[str]:
        with self.lock:
            return sorted(self._strips)

    def snapshot(self, strip_id: str) -> dict[str, Any]:
        """A plain-data copy of one strip, for tests and debugging."""
        import dataclasses

        with self.lock:
            strip = self._strips[strip_id]
            return dataclasses.asdict(strip)
