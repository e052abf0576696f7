"""DB-4 process physics: heater zones, die-attach cure kinetics and the per-site outcome of
dispense, pick-up, placement and bond (die-bonder.md §3-§5, process-reference §2.3 and §2.6).

Nothing here knows the protocol or the state machine: :mod:`sim.die_bonder.model` calls these
functions with its random generator and working parameters.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

AMBIENT_C = 25.0
#: A heater is in band within ±3.0 °C of its set-point (die-bonder.md §3).
BAND_C = 3.0
#: Process-deviation alarms 2108-2110 fire after |PV - SP| > 10 °C for 30 s in a cycle (§6).
DEVIATION_C = 10.0
DEVIATION_S = 30.0
#: BLT pass window, ± µm around PLACe:BLT (§5).
BLT_WINDOW_UM = 10.0
#: FLIPCHIP peak bond force pass band, fraction of BOND:FORCe (§5).
FORCE_BAND = 0.10


@dataclass
class HeaterZone:
    """One heated zone (stage, bond head, cure track) ramping linearly to its target.

    ``heat_rate_c_s`` is chosen so that the §8 heat-up times hold: band reached at
    (ΔT - 3 °C) / rate, then 30 s stable. Cooling runs at half the heating rate.
    """

    name: str
    heat_rate_c_s: float
    pv_c: float = AMBIENT_C

    def advance(self, dt_s: float, target_c: float, *, powered: bool, losing_heat: bool) -> None:
        """Move the PV for ``dt_s``; an unpowered zone, or one whose losses exceed the
        heater (``losing_heat``), drifts towards ambient."""
        goal = target_c if powered and not losing_heat else AMBIENT_C
        error = goal - self.pv_c
        rate = self.heat_rate_c_s if error > 0 else self.heat_rate_c_s / 2.0
        step = rate * dt_s
        self.pv_c = goal if abs(error) <= step else self.pv_c + math.copysign(step, error)


def make_zones() -> dict[str, HeaterZone]:
    """STAGE 25->60 °C in 1.5 min, CURE 25->175 °C in 8 min, HEAD 25->280 °C in 1 min (§8)."""
    return {
        "STAGE": HeaterZone("STAGE", (60.0 - AMBIENT_C - BAND_C) / 60.0),
        "HEAD": HeaterZone("HEAD", (280.0 - AMBIENT_C - BAND_C) / 30.0),
        "CURE": HeaterZone("CURE", (175.0 - AMBIENT_C - BAND_C) / 450.0),
    }


# -- die-attach cure (process-reference §2.3) ---------------------------------------------------
def t95_s(temperature_c: float) -> float:
    """Time to 95 % cure: t95 = 16.4·exp[5456·(1/T − 1/423)] min (16.4 / 9.2 / 4.2 min at
    150 / 170 / 200 °C)."""
    t_k = temperature_c + 273.15
    return 16.4 * 60.0 * math.exp(5456.0 * (1.0 / t_k - 1.0 / 423.0))


def advance_cure(alpha: float, temperature_c: float, dt_s: float) -> float:
    """First-order cure, rate ln(20)/t95 so that α = 0.95 at t95; exact for any step at
    constant temperature."""
    k = math.log(20.0) / t95_s(temperature_c)
    return 1.0 - (1.0 - alpha) * math.exp(-k * dt_s)


# -- per-site outcome ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessSpread:
    """Scatter and failure rates of the process model (sim decisions, docs/tools/die-bonder.md).

    Placement: x, y ~ N(bias, spec/3), θ ~ N(0, spec/3) (process-reference §2.6, current
    epoxy bonders ±20 µm, ±0.5° at 3σ); flip-chip TCB places five times tighter.
    """

    xy_spec_um: float = 20.0
    theta_spec_deg: float = 0.5
    flipchip_accuracy_gain: float = 5.0
    volume_cv: float = 0.01
    blt_cv: float = 0.10
    place_force_cv: float = 0.01
    bond_force_cv: float = 0.03
    pick_attempt_fail: float = 0.02
    vision_fail: float = 3e-4
    site_fiducial_fail: float = 1e-4
    strip_fiducial_fail: float = 0.0


@dataclass(frozen=True)
class SiteSettings:
    """The working parameters one site uses (die-bonder.md §4, parameter use by mode)."""

    mode: str
    volume_nl: int
    volume_tol_pct: int
    zref: str
    place_force_n: float
    blt_um: float
    tol_xy_um: float
    tol_theta_deg: float
    bond_force_n: float


@dataclass
class SiteOutcome:
    """What happened at one site: failed checks and the measured value fields (None = empty)."""

    defects: list[int] = field(default_factory=list)
    dispensed: bool = False
    picked: bool | None = None  # None: no pick-up in this mode
    placed: bool = False
    dx_um: float | None = None
    dy_um: float | None = None
    dtheta_deg: float | None = None
    blt_um: float | None = None
    volume_nl: int | None = None
    force_n: float | None = None

    @property
    def defect(self) -> int:
        """Lowest applicable defect code, 0 if the site passed (README §8)."""
        return min(self.defects) if self.defects else 0

    def failed(self, *codes: int) -> bool:
        return any(code in self.defects for code in codes)

    def values(self) -> tuple[str, ...]:
        """The six value fields of the §5 record: dx, dy, dθ, BLT, volume, force."""
        return (
            _fmt(self.dx_um, 1),
            _fmt(self.dy_um, 1),
            _fmt(self.dtheta_deg, 2),
            _fmt(self.blt_um, 1),
            "" if self.volume_nl is None else str(self.volume_nl),
            _fmt(self.force_n, 1),
        )


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return ""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def bond_site(
    rng: random.Random,
    settings: SiteSettings,
    spread: ProcessSpread,
    *,
    bias_um: tuple[float, float],
    die_present: bool,
) -> SiteOutcome:
    """Run one site's action of its MODE and judge it against the §5 pass criteria."""
    out = SiteOutcome()
    mode = settings.mode
    reference_missing = mode == "PLATE" and settings.zref == "DIE" and not die_present
    if rng.random() < spread.site_fiducial_fail or reference_missing:
        out.defects.append(2508)
        return out
    if mode != "FLIPCHIP":
        _dispense(rng, settings, spread, out)
    if mode == "GAPFILL":
        if not die_present or rng.random() < spread.vision_fail:
            out.defects.append(2509)
        return out
    if mode in ("EPOXY", "PLATE") and rng.random() < spread.vision_fail:
        out.defects.append(2502)
    out.picked = any(rng.random() >= spread.pick_attempt_fail for _ in range(3))
    if not out.picked:
        out.defects.append(2507)
        return out
    _place(rng, settings, spread, out, bias_um)
    return out


def _dispense(rng: random.Random, s: SiteSettings, spread: ProcessSpread, out: SiteOutcome) -> None:
    out.dispensed = True
    out.volume_nl = max(0, round(rng.gauss(s.volume_nl, spread.volume_cv * s.volume_nl)))
    if abs(out.volume_nl - s.volume_nl) > s.volume_tol_pct / 100.0 * s.volume_nl:
        out.defects.append(2501)


def _place(
    rng: random.Random,
    s: SiteSettings,
    spread: ProcessSpread,
    out: SiteOutcome,
    bias_um: tuple[float, float],
) -> None:
    gain = spread.flipchip_accuracy_gain if s.mode == "FLIPCHIP" else 1.0
    sigma_xy = spread.xy_spec_um / 3.0 / gain
    sigma_theta = spread.theta_spec_deg / 3.0 / gain
    out.placed = True
    # Judged on the reported resolution, so that a host re-checking the records agrees.
    out.dx_um = round(rng.gauss(bias_um[0], sigma_xy), 1)
    out.dy_um = round(rng.gauss(bias_um[1], sigma_xy), 1)
    out.dtheta_deg = round(rng.gauss(0.0, sigma_theta), 2)
    if max(abs(out.dx_um), abs(out.dy_um)) > s.tol_xy_um:
        out.defects.append(2503)
    if abs(out.dtheta_deg) > s.tol_theta_deg:
        out.defects.append(2504)
    if s.mode == "FLIPCHIP":
        out.force_n = round(rng.gauss(s.bond_force_n, spread.bond_force_cv * s.bond_force_n), 1)
        if abs(out.force_n - s.bond_force_n) > FORCE_BAND * s.bond_force_n:
            out.defects.append(2506)
        return
    out.blt_um = round(max(0.0, rng.gauss(s.blt_um, spread.blt_cv * s.blt_um)), 1)
    if abs(out.blt_um - s.blt_um) > BLT_WINDOW_UM:
        out.defects.append(2505)
    out.force_n = round(rng.gauss(s.place_force_n, spread.place_force_cv * s.place_force_n), 1)
