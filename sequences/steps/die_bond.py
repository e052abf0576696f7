"""DIE ATTACH in its variants (heat-slug claims 5-8; film claims 1, 3), GAP FILL (claim 5),
FLIP-CHIP (film claim 3) and PLATE (film claims 2, 4) on the die bonder, one strip per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import Tool
from drivers.die_bonder import DieBonder, DieBondRecord, DieBondSettings
from sequences.jobs import StripJob, StripOutcome
from sequences.recipe.base import fmt
from sequences.steps.base import (
    Pace,
    ProcessStep,
    driver_for,
    load_tool_recipe,
    refuse,
    wait_ready_after_set_up,
)
from sequences.steps.judging import around, judged_strip, problems_of
from sequences.steps.setup import SETTLE_TOOL_S, apply_setpoints, set_strip_size

#: The die bonder MODE each step kind runs (die-bonder.md §1).
MODE_OF_KIND = {
    "die attach": "EPOXY",
    "gap fill": "GAPFILL",
    "flip-chip": "FLIPCHIP",
    "plate": "PLATE",
}
#: die-bonder.md §8: LOAD + ALIGN + UNLOAD, s.
HANDLING_S = 4.0 + 3.0 + 4.0
DISPENSE_NL_PER_S = 5000.0
#: die-bonder.md §5 pass criteria the manual fixes: BLT ± 10.0 µm, FLIPCHIP force ± 10 %.
BLT_WINDOW_UM = 10.0
FORCE_BAND = 0.10


@dataclass(frozen=True)
class DieBondStep(ProcessStep, tool="die-bonder", driver=DieBonder, clears={"TEMP"}):
    #: die-bonder.md §8: the cure track from 25 to 175 °C in 8 min, +30 s stable; with margin.
    heat_up_tool_s: ClassVar[float] = 1800.0

    #: "die attach", "gap fill", "flip-chip" or "plate" (the report name).
    kind: str
    #: Tool recipe stored on the bonder to load first (``A-EQUAL``, ``A-SMALL-2``, ``B-FC``...).
    tool_recipe: str
    #: The master recipe's set-points, written over the loaded tool recipe.
    settings: DieBondSettings
    #: Sites of the strips this step is planned for (Format A 30, Format B 240): the timing
    #: figure of :attr:`expected_cycle_tool_s`; the strips' own size comes from their jobs.
    nominal_sites: int = 30

    @property
    def name(self) -> str:
        return self.kind

    def setpoint_text(self) -> str:
        s = self.settings
        if s.mode == "FLIPCHIP":
            return (
                f"{self.tool_recipe}: FLIPCHIP {fmt(s.bond_force_n)} N, "
                f"{fmt(s.bond_temperature_c)} °C, {fmt(s.bond_time_s)} s"
            )
        text = (
            f"{self.tool_recipe}: {s.mode} ZREF {s.place_zref} {s.dispense_pattern} "
            f"{s.dispense_volume_nl} nL"
        )
        if s.mode != "GAPFILL":
            text += f", BLT {fmt(s.place_blt_um)} µm"
        if s.cure_enabled:
            text += f", cure {fmt(s.cure_temperature_c)} °C {s.cure_time_s} s"
        return text

    @property
    def site_tool_s(self) -> float:
        """die-bonder.md §8 time of one site in the step's MODE."""
        s = self.settings
        if s.mode == "FLIPCHIP":
            return 1.5 + s.bond_time_s
        base_s = 0.20 if s.mode == "GAPFILL" else 0.30
        return base_s + s.dispense_volume_nl / DISPENSE_NL_PER_S

    @property
    def expected_cycle_tool_s(self) -> float:
        """LOAD + ALIGN + UNLOAD, every site, and CURE when it runs (§8: Format A EPOXY 84 s,
        GAPFILL 129 s; Format B FLIPCHIP 1331 s)."""
        s = self.settings
        cure_s = s.cure_time_s if s.cure_enabled and s.mode != "FLIPCHIP" else 0.0
        return HANDLING_S + self.nominal_sites * self.site_tool_s + cure_s

    # -- phases --------------------------------------------------------------------------------
    def check(self, tool: Tool) -> None:
        """Interlocks, every setting in its §4 range, the kind's MODE and the §4 START checks."""
        super().check(tool)
        s = self.settings
        mode = MODE_OF_KIND.get(self.kind)
        if mode is None:
            raise refuse(self.name, tool, f"kind must be one of {', '.join(MODE_OF_KIND)}")
        if s.mode != mode:
            raise refuse(self.name, tool, f"MODE {s.mode} does not run a {self.kind} ({mode})")
        if s.mode == "GAPFILL" and s.dispense_pattern not in ("RING", "FILL"):
            raise refuse(
                self.name, tool, f"GAPFILL needs PATTern RING or FILL, not {s.dispense_pattern}"
            )
        if s.place_zref == "DIE" and s.mode != "PLATE":
            raise refuse(self.name, tool, "PLACe:ZREFerence DIE is for PLATE only")

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """Load the tool recipe (unless it is loaded and armed), write the settings over it, the
        strip size, id and input map; wait for READY."""
        bonder = driver_for(self, tool, DieBonder)
        (job,) = jobs
        kept_in = load_tool_recipe(bonder, self.tool_recipe, pace, SETTLE_TOOL_S)
        wrote = apply_setpoints(bonder, self.settings)
        set_strip_size(bonder, (job.rows, job.cols))
        bonder.strip_id = job.strip_id
        bonder.input_map = job.input_map
        wait_ready_after_set_up(bonder, pace, self.heat_up_tool_s, kept_in, wrote)

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map and records; each site the tool passed judged again against the
        settings (§5 pass criteria)."""
        bonder = driver_for(self, tool, DieBonder)
        result = bonder.cycle_result()
        mode, placed = result.summary.extra
        return judged_strip(
            self,
            bonder,
            jobs,
            station,
            result,
            self._problems,
            tool_recipe=self.tool_recipe,
            mode=mode,
            placed=placed,
        )

    def _problems(self, record: DieBondRecord) -> str:
        """die-bonder.md §5 pass criteria of the MODE, against the master recipe's settings."""
        s = self.settings
        tol_xy_um, tol_theta_deg = s.place_tolerance
        placement = [
            around("dx_um", record.dx_um, 0.0, tol_xy_um, 0.1),
            around("dy_um", record.dy_um, 0.0, tol_xy_um, 0.1),
            around("dtheta_deg", record.dtheta_deg, 0.0, tol_theta_deg, 0.01),
        ]
        volume = around(
            "volume_nl",
            record.volume_nl,
            s.dispense_volume_nl,
            s.dispense_tolerance_pct / 100.0 * s.dispense_volume_nl,
            1.0,
        )
        blt = around("blt_um", record.blt_um, s.place_blt_um, BLT_WINDOW_UM, 0.1)
        if s.mode == "GAPFILL":
            return problems_of([volume])
        if s.mode == "FLIPCHIP":
            force = around(
                "force_n", record.force_n, s.bond_force_n, FORCE_BAND * s.bond_force_n, 0.1
            )
            return problems_of([*placement, force])
        return problems_of([*placement, blt, volume])
