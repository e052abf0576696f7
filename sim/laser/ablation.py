"""UV laser ablation of the PI film (laser.md §4 "Ablation model", process-reference §2.7).

Pure functions of the set-points, so that the manual's numbers can be checked one by one:
depth per pulse d = δ·ln(F/F_th) (0.199 µm at 1.20 J/cm²), breakthrough after
N_bt = ⌈thickness / d⌉ pulses (126 at 25 µm), via time pulses/f + 2.5 ms, area rate
f·(spot/2)² (7.81 mm²/s), recess time passes·area/rate (10.75 s for 4 mm² at 12 µm) and
average power F·π(spot/2)²·f (0.295 W). :func:`plan_site` applies them to one site of a
pattern, with the via-to-via scatter and debris that make real strips imperfect.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

DELTA_UM = 0.08  # effective absorption depth δ
F_TH_J_CM2 = 0.10  # ablation threshold of PI at 355 nm
VIA_OVERHEAD_S = 0.0025  # galvo jump and endpoint settle per via
SITE_OVERHEAD_S = 0.10  # field move and fiducial check per site
INSPECT_PER_SITE_S = 0.05
DEPTH_PER_PASS_PULSES = 3  # raster with pulse pitch and hatch = spot/2: three pulses per point


def depth_per_pulse_um(fluence_j_cm2: float) -> float:
    """d = δ·ln(F/F_th); no ablation at or below the threshold."""
    if fluence_j_cm2 <= F_TH_J_CM2:
        return 0.0
    return DELTA_UM * math.log(fluence_j_cm2 / F_TH_J_CM2)


def breakthrough_pulses(thickness_um: float, depth_per_pulse: float) -> int | None:
    """N_bt = ⌈thickness / d⌉; None when the film is never cut through (d = 0)."""
    if depth_per_pulse <= 0.0:
        return None
    return math.ceil(thickness_um / depth_per_pulse - 1e-9)


def via_time_s(pulses: int, frequency_khz: float) -> float:
    """Time of one via: its pulses at the repetition rate plus the per-via overhead."""
    return pulses / (frequency_khz * 1000.0) + VIA_OVERHEAD_S


def area_rate_mm2_s(frequency_khz: float, spot_um: float) -> float:
    """Raster area rate f·(spot/2)²: one pulse per (spot/2)² cell."""
    pitch_mm = spot_um / 2.0 / 1000.0
    return frequency_khz * 1000.0 * pitch_mm * pitch_mm


def recess_passes(depth_um: float, fluence_j_cm2: float) -> int:
    """⌈DEPTh / (3·d)⌉ raster passes (21 at 12 µm and 1.20 J/cm²)."""
    per_pass = DEPTH_PER_PASS_PULSES * depth_per_pulse_um(fluence_j_cm2)
    return math.ceil(depth_um / per_pass - 1e-9)


def recess_time_s(
    area_mm2: float, depth_um: float, fluence_j_cm2: float, frequency_khz: float, spot_um: float
) -> float:
    """passes × area / area rate; 0 for a pattern without area recess."""
    if area_mm2 <= 0.0:
        return 0.0
    return (
        recess_passes(depth_um, fluence_j_cm2) * area_mm2 / area_rate_mm2_s(frequency_khz, spot_um)
    )


def average_power_w(fluence_j_cm2: float, spot_um: float, frequency_khz: float) -> float:
    """F·π(spot/2)²·f at the work plane (spot in cm², f in Hz)."""
    radius_cm = spot_um / 2.0 * 1e-4
    return fluence_j_cm2 * math.pi * radius_cm * radius_cm * frequency_khz * 1000.0


@dataclass(frozen=True)
class ViaOutcome:
    """One via: pulses fired, depth reached, breakthrough, pad damage."""

    pulses: int
    depth_um: float
    open: bool
    pad_damage: bool


def ablate_via(
    thickness_um: float, depth_per_pulse: float, max_pulses: int, endpoint: bool
) -> ViaOutcome:
    """One via through ``thickness_um`` of PI down to the Cu pad (laser.md §4).

    ENDPoint ON: the breakthrough sensor stops the via at N_bt; no breakthrough within
    ``max_pulses`` leaves it not open. ENDPoint OFF: ``max_pulses`` are always fired and more
    than 2·N_bt damages the pad. The pad stops the ablation: depth never exceeds the film.
    """
    n_bt = breakthrough_pulses(thickness_um, depth_per_pulse)
    opened = n_bt is not None and n_bt <= max_pulses
    # The endpoint sensor stops an opened via at breakthrough; otherwise every pulse is fired.
    pulses = n_bt if endpoint and opened and n_bt is not None else max_pulses
    depth = thickness_um if opened else min(thickness_um, pulses * depth_per_pulse)
    pad_damage = not endpoint and n_bt is not None and pulses > 2 * n_bt
    return ViaOutcome(pulses, depth, opened, pad_damage)


# -- one site of a pattern ------------------------------------------------------------------------
VIA_RATE_SCATTER = 0.02  # relative σ of the depth per pulse from via to via
DEBRIS_RATE_FACTOR = 0.4  # a debris particle on the film shields the via: d × 0.4
RECESS_SIGMA_UM = 0.5  # confocal depth of the area recess scatters about the target (§4)


@dataclass(frozen=True)
class Pattern:
    """A stored site pattern: vias per site and area-recess size (0 = none)."""

    vias: int
    area_mm2: float


@dataclass(frozen=True)
class LaserSettings:
    """The set-points of §4 that shape the ablation of a site."""

    fluence_j_cm2: float
    frequency_khz: int
    spot_um: int
    max_pulses: int
    endpoint: bool
    recess_depth_um: float

    def nominal_site_s(self, pattern: Pattern, thickness_um: float) -> float:
        """Site time at nominal depth per pulse (field move, vias, area recess)."""
        d = depth_per_pulse_um(self.fluence_j_cm2)
        n_bt = breakthrough_pulses(thickness_um, d)
        pulses = (
            self.max_pulses if not self.endpoint or n_bt is None else min(n_bt, self.max_pulses)
        )
        return (
            SITE_OVERHEAD_S
            + pattern.vias * via_time_s(pulses, self.frequency_khz)
            + recess_time_s(
                pattern.area_mm2,
                self.recess_depth_um,
                self.fluence_j_cm2,
                self.frequency_khz,
                self.spot_um,
            )
        )


@dataclass(frozen=True)
class SitePlan:
    """What the laser does to one site, with the moment (s from site start) each part ends."""

    thickness_um: float
    vias: tuple[ViaOutcome, ...]
    via_end_s: tuple[float, ...]
    recess_start_s: float
    recess_end_s: float
    recess_passes: int
    recess_depth_um: float | None

    @property
    def duration_s(self) -> float:
        return self.recess_end_s

    def vias_done(self, elapsed_s: float) -> tuple[ViaOutcome, ...]:
        """Vias completed ``elapsed_s`` into the site (all of them at its end)."""
        return tuple(
            v for v, end in zip(self.vias, self.via_end_s, strict=True) if end <= elapsed_s + 1e-9
        )

    def recess_depth_at(self, elapsed_s: float) -> float | None:
        """Recess depth after the raster passes completed by ``elapsed_s`` (None: no recess)."""
        if self.recess_depth_um is None:
            return None
        if elapsed_s >= self.recess_end_s - 1e-9:
            return self.recess_depth_um
        pass_s = (self.recess_end_s - self.recess_start_s) / self.recess_passes
        passes_done = max(0, int((elapsed_s - self.recess_start_s) / pass_s))
        return self.recess_depth_um * passes_done / self.recess_passes


def plan_site(
    rng: random.Random,
    settings: LaserSettings,
    pattern: Pattern,
    *,
    thickness_um: float,
    power_factor: float,
    via_block_rate: float,
) -> SitePlan:
    """Ablate one site: every via, then the area recess (laser.md §4).

    ``power_factor`` is delivered / set fluence (1 when the source is calibrated and stable).
    The recess raster runs the passes computed from the set fluence; its depth follows the
    delivered depth per pulse and scatters with σ 0.5 µm; it never goes deeper than the film.
    """
    d_set = depth_per_pulse_um(settings.fluence_j_cm2)
    d = depth_per_pulse_um(settings.fluence_j_cm2 * power_factor)
    vias: list[ViaOutcome] = []
    ends: list[float] = []
    t = SITE_OVERHEAD_S
    for _ in range(pattern.vias):
        d_via = d * max(0.0, 1.0 + rng.gauss(0.0, VIA_RATE_SCATTER))
        if rng.random() < via_block_rate:
            d_via *= DEBRIS_RATE_FACTOR
        via = ablate_via(thickness_um, d_via, settings.max_pulses, settings.endpoint)
        t += via_time_s(via.pulses, settings.frequency_khz)
        vias.append(via)
        ends.append(t)
    passes, depth, recess_s = 0, None, 0.0
    if pattern.area_mm2 > 0.0:
        passes = recess_passes(settings.recess_depth_um, settings.fluence_j_cm2)
        recess_s = recess_time_s(
            pattern.area_mm2,
            settings.recess_depth_um,
            settings.fluence_j_cm2,
            settings.frequency_khz,
            settings.spot_um,
        )
        reached = settings.recess_depth_um * d / d_set + rng.gauss(0.0, RECESS_SIGMA_UM)
        depth = min(thickness_um, max(0.0, reached))
    return SitePlan(thickness_um, tuple(vias), tuple(ends), t, t + recess_s, passes, depth)
