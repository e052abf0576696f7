"""DS-2 blade and cut physics: exposure wear, kerf width, chipping, spindle load (dicing-saw.md).

Figures (process-reference.md, dicing saw): blade quality drifts after ~18-25 k cuts (UKAM);
mold/Cu strips are cut at 25-35 krpm and 20-80 mm/s [E]. The coefficients below are the
simulator's own choices, recorded in docs/tools/dicing-saw.md:

- exposure of a new blade N(1.150, 0.020) mm, worn down 0.020 mm per 1000 line passes, so the
  0.500 mm minimum of alarm 7109 is reached after ~32 k passes;
- kerf width = blade thickness + 12 µm (less 4 µm when worn), scatter σ 1.5 µm per line;
- chipping per site and line lognormal (σ 0.25) around
  15 µm × √(chip load / default chip load) × wear factor, the wear factor rising slowly to
  18 k passes and steeply after (≈ ×2.7 at 25 k, ×5.7 at 30 k);
- spindle load 8 % + 0.9 %·s/mm × feed × (thickness / 250 µm)^0.3 × (1 + 0.1 × wear): about
  44 % at defaults, over the 90 % overload limit above ~90 mm/s with a 250 µm blade.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

EXPOSURE_NEW_MM = 1.150
EXPOSURE_SCATTER_MM = 0.020
EXPOSURE_WEAR_MM_PER_PASS = 0.020 / 1000.0
EXPOSURE_MIN_MM = 0.500
KERF_EXTRA_UM = 12.0
CHIPPING_BASE_UM = 15.0
CHIPPING_SIGMA = 0.25
DRIFT_ONSET_PASSES = 18_000.0
DRIFT_SCALE_PASSES = 7_000.0
DEFAULT_CHIP_LOAD = 40.0 / 30.0  # default feed (mm/s) per default speed (krpm)
IDLE_LOAD_PCT = 5.0
WEAR_REFERENCE_PASSES = 25_000.0
#: BLADe:THICKness (upper bound, µm) -> highest SPINdle:SPEed (krpm) allowed at START (§4).
MAX_SPEED_BY_THICKNESS = ((25, 30.0), (50, 40.0), (80, 35.0), (350, 35.0))


def max_speed_krpm(thickness_um: int) -> float:
    """Highest spindle speed the START check (§4) accepts for a blade thickness."""
    for upper_um, speed in MAX_SPEED_BY_THICKNESS:
        if thickness_um <= upper_um:
            return speed
    return MAX_SPEED_BY_THICKNESS[-1][1]


@dataclass
class Blade:
    """The blade on the spindle: line passes cut, true exposure, breakage."""

    count: int
    exposure_mm: float
    broken: bool = False

    @classmethod
    def new(cls, rng: random.Random, count: int = 0) -> Blade:
        """A fresh blade (``count`` > 0: a blade that has already cut that many line passes)."""
        exposure = (
            rng.gauss(EXPOSURE_NEW_MM, EXPOSURE_SCATTER_MM) - EXPOSURE_WEAR_MM_PER_PASS * count
        )
        return cls(count, exposure)

    def cut_pass(self) -> None:
        """One line pass: count + 1, exposure worn."""
        self.count += 1
        self.exposure_mm -= EXPOSURE_WEAR_MM_PER_PASS

    @property
    def wear(self) -> float:
        """Wear relative to the reference life, 0 (new) .. 2."""
        return min(self.count / WEAR_REFERENCE_PASSES, 2.0)

    def chipping_factor(self) -> float:
        """Chipping multiplier for blade wear: slow drift, then steep after ~18 k passes."""
        late = max(0.0, (self.count - DRIFT_ONSET_PASSES) / DRIFT_SCALE_PASSES)
        return 1.0 + 0.15 * self.count / DRIFT_ONSET_PASSES + 1.5 * late**2

    def chipping_um(self, rng: random.Random, feed_mm_s: float, speed_krpm: float) -> float:
        """Chipping at one site edge cut by one line."""
        chip_load = (feed_mm_s / speed_krpm) / DEFAULT_CHIP_LOAD
        mean = CHIPPING_BASE_UM * math.sqrt(chip_load) * self.chipping_factor()
        return mean * math.exp(rng.gauss(0.0, CHIPPING_SIGMA) - CHIPPING_SIGMA**2 / 2)

    def kerf_width_um(self, rng: random.Random, thickness_um: int) -> float:
        """Kerf width of one line."""
        return thickness_um + KERF_EXTRA_UM - 4.0 * min(self.wear, 1.0) + rng.gauss(0.0, 1.5)

    def cut_load_pct(self, feed_mm_s: float, thickness_um: int) -> float:
        """Spindle load while the blade is in the cut."""
        return 8.0 + 0.9 * feed_mm_s * (thickness_um / 250.0) ** 0.3 * (1.0 + 0.1 * self.wear)
