"""Bond physics of one unit (wire-bonder.md §1, §5; process-reference.md §1, §2.4, §2.5).

A unit is bonded wire by wire. Per wire the free-air ball (FAB) is formed and measured, the
ball bond may not stick (NSOP), the stitch may not stick (NSOL, checked at tail pull), the
tail may come out short, the wire may break, or the EFO may fail to form a ball. Non-sticks
are Poisson per bond at ppm rates that rise as the ultrasonic power falls below its
reference (RF Essentials, process-reference §2.5). NSOP, NSOL, short tail and a FAB out of
tolerance end the unit (its remaining wires are skipped); a wire break and an EFO failure
stop the tool at once (alarms 3104/3105) and the unit is finished after RESUME. A unit's
draws are batched (:mod:`sim.normal_draws`): each event's first wire at once, the wires'
scatter in one call.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sim.normal_draws import first_success, standard_normals

NSOP, NSOL, SHORT_TAIL, WIRE_BREAK, FIDUCIAL, FAB_DEFECT, LOOP_DEFECT, INTERRUPTED = (
    3501,
    3502,
    3503,
    3504,
    3505,
    3506,
    3507,
    3508,
)
#: Ultrasonic power (%) at which the base non-stick rates apply: the manual's defaults.
B1_US_REF, B2_US_REF = 45.0, 55.0
#: e-folding of the non-stick rate per % of ultrasonic power below the reference.
US_SLOPE_PCT = 8.0
FAB_SIGMA = 0.02  # per-wire FAB scatter, fraction of FAB_D
LOOP_SIGMA = 0.03  # per-wire loop height scatter, fraction of LOOP_H
TOLERANCE = 0.10  # FAB and loop pass window, ± fraction (§5)


@dataclass(frozen=True)
class BondRates:
    """Base event rates per bond (ppm) at the reference ultrasonic power."""

    nsop_ppm: float = 5.0
    nsol_ppm: float = 5.0
    short_tail_ppm: float = 2.0
    wire_break_ppm: float = 0.5
    efo_fail_ppm: float = 0.5


@dataclass(frozen=True)
class BondSettings:
    """The working parameters that shape the bonds (§4.2)."""

    wire_mat: str
    wire_d_um: int
    b1_us_pct: float
    b2_us_pct: float
    loop_h_um: int
    fab_d_um: int


def us_factor(us_pct: float, reference_pct: float) -> float:
    """Multiplier of a non-stick rate for an ultrasonic power below its reference."""
    return math.exp(max(0.0, reference_pct - us_pct) / US_SLOPE_PCT)


def probability(ppm: float) -> float:
    return min(1.0, max(0.0, ppm * 1e-6))


def fab_bias(fab_d_um: float, wire_d_um: float) -> float:
    """Systematic FAB error: the EFO forms balls well for 1.7-2.6 × the wire diameter."""
    ratio = fab_d_um / wire_d_um
    if ratio < 1.7:
        return -0.6 * (1.7 - ratio)
    if ratio > 2.6:
        return 0.3 * (ratio - 2.6)
    return 0.0


def loop_bias(loop_h_um: float, wire_d_um: float) -> float:
    """Stiff wire cannot follow a loop lower than about 6 × its diameter: it comes out higher."""
    floor_um = 6.0 * wire_d_um
    return 0.5 * (floor_um - loop_h_um) / loop_h_um if loop_h_um < floor_um else 0.0


def mean_pull_gf(settings: BondSettings) -> float:
    """Mean wire pull: 10 gf for 25 µm Au (N(8-12 gf, 1)), scaled by wire cross-section,
    stronger for Cu, weaker when the bonds lack ultrasonic energy."""
    area = (settings.wire_d_um / 25.0) ** 2
    material = 1.25 if settings.wire_mat == "CU" else 1.0
    weak = 0.2 * max(0.0, (B1_US_REF - settings.b1_us_pct) / B1_US_REF)
    return 10.0 * area * material * (1.0 - weak)


@dataclass
class UnitRun:
    """The planned bonding of one unit: per-wire outcome, in wire order."""

    site: int
    wires_total: int
    fab_um: list[float] = field(default_factory=list)  # per attempted wire
    loop_um: list[float | None] = field(default_factory=list)  # None: wire not bonded
    events: list[tuple[int, int]] = field(default_factory=list)  # (wire, defect code)
    #: ("break" | "efo", wire): the tool stops at once after/before that wire.
    interruption: tuple[str, int] | None = None
    pull_gf: float | None = None

    @property
    def attempted(self) -> int:
        return len(self.fab_um)

    def break_wire(self, wire: int) -> None:
        """A wire break at ``wire`` (model-drawn or injected alarm 3104)."""
        wire = max(1, min(wire, self.attempted))
        if self.attempted:
            self.loop_um[wire - 1] = None
        self.events.append((wire, WIRE_BREAK))

    def stats(self, wires_done: int | None = None) -> UnitStats:
        """Counts and means over the first ``wires_done`` attempted wires (all by default)."""
        m = self.attempted if wires_done is None else max(0, min(wires_done, self.attempted))
        loops = [loop for loop in self.loop_um[:m] if loop is not None]
        defects = {code for wire, code in self.events if wire <= m}
        return UnitStats(
            wires_bonded=len(loops),
            wires_total=self.wires_total,
            nsop=sum(1 for wire, code in self.events if code == NSOP and wire <= m),
            nsol=sum(1 for wire, code in self.events if code == NSOL and wire <= m),
            mean_fab_um=sum(self.fab_um[:m]) / m if m else None,
            mean_loop_um=sum(loops) / len(loops) if loops else None,
            defects=defects,
        )


@dataclass(frozen=True)
class UnitStats:
    """What a unit's result record reports."""

    wires_bonded: int
    wires_total: int
    nsop: int
    nsol: int
    mean_fab_um: float | None
    mean_loop_um: float | None
    defects: set[int]

    def judged(self, settings: BondSettings) -> set[int]:
        """The defects plus the §5 pass checks on the mean FAB and loop height."""
        defects = set(self.defects)
        if (
            self.mean_fab_um is not None
            and abs(self.mean_fab_um - settings.fab_d_um) > TOLERANCE * settings.fab_d_um
        ):
            defects.add(FAB_DEFECT)
        if (
            self.mean_loop_um is not None
            and abs(self.mean_loop_um - settings.loop_h_um) > TOLERANCE * settings.loop_h_um
        ):
            defects.add(LOOP_DEFECT)
        return defects


def bond_unit(
    rng: random.Random, site: int, wires: int, settings: BondSettings, rates: BondRates
) -> UnitRun:
    """Draw the outcome of bonding ``wires`` wires on one unit."""
    run = UnitRun(site, wires)
    p_nsop = probability(rates.nsop_ppm * us_factor(settings.b1_us_pct, B1_US_REF))
    p_nsol = probability(rates.nsol_ppm * us_factor(settings.b2_us_pct, B2_US_REF))
    p_tail = probability(rates.short_tail_ppm)
    p_break = probability(rates.wire_break_ppm)
    p_efo = probability(rates.efo_fail_ppm)
    fab_target = settings.fab_d_um * (1.0 + fab_bias(settings.fab_d_um, settings.wire_d_um))
    loop_target = settings.loop_h_um * (1.0 + loop_bias(settings.loop_h_um, settings.wire_d_um))
    # Drawn per unit, not per wire (a lot bonds some 100,000 wires): each event's first wire
    # (geometric: the same law as a Bernoulli trial per wire) and the wires' scatter in one
    # batch. A trial runs only where the per-wire order reaches it (efo and break while no
    # interruption, the tail check on a wire bonded to its loop).
    first_efo, first_nsop, first_nsol, first_break, first_tail = (
        first_success(rng, p) for p in (p_efo, p_nsop, p_nsol, p_break, p_tail)
    )
    scatter = standard_normals(rng, 2 * wires)  # per wire: FAB, then loop
    fab_nominal_um, loop_sigma_um = settings.fab_d_um, LOOP_SIGMA * settings.loop_h_um
    fab_sigma_um, fab_tolerance_um = FAB_SIGMA * fab_nominal_um, TOLERANCE * fab_nominal_um
    fab_um = [fab_target + fab_sigma_um * z for z in scatter[0::2]]
    events_from = min(first_efo, first_nsop, first_nsol, first_break, first_tail)
    # |fab - nominal| rounds monotonically on each side of nominal: its largest value is at
    # the smallest or the largest FAB, so two C-level scans decide what a per-wire test would.
    if events_from > wires and (
        not fab_um
        or (
            abs(min(fab_um) - fab_nominal_um) <= fab_tolerance_um
            and abs(max(fab_um) - fab_nominal_um) <= fab_tolerance_um
        )
    ):
        # Nearly every unit: no event on any wire, each bonded to its loop. The values the
        # per-wire walk below would give, without walking.
        run.fab_um = fab_um
        run.loop_um = [loop_target + loop_sigma_um * z for z in scatter[1::2]]
    else:
        tail_checks = 0
        for wire in range(1, wires + 1):
            if run.interruption is None and wire == first_efo:
                run.interruption = ("efo", wire)
            fab = fab_um[wire - 1]
            run.fab_um.append(fab)
            run.loop_um.append(None)
            if abs(fab - fab_nominal_um) > fab_tolerance_um:
                run.events.append((wire, FAB_DEFECT))
                break
            if wire == first_nsop:
                run.events.append((wire, NSOP))
                break
            if wire == first_nsol:
                run.events.append((wire, NSOL))
                break
            if run.interruption is None and wire == first_break:
                run.interruption = ("break", wire)
                run.break_wire(wire)
                continue
            run.loop_um[-1] = loop_target + loop_sigma_um * scatter[2 * wire - 1]
            tail_checks += 1
            if tail_checks == first_tail:
                run.events.append((wire, SHORT_TAIL))
                break
    if any(loop is not None for loop in run.loop_um):
        run.pull_gf = max(0.0, rng.gauss(mean_pull_gf(settings), (settings.wire_d_um / 25.0) ** 2))
    return run
