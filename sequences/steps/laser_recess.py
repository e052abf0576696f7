"""RECESS by laser (film claim 1): via (I/O-leg) and optional die recesses in the PI film on
the UV laser, one strip per cycle. The recipe windows and the cycle time come from the
manual's ablation model (§4, §8).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import ClassVar

from drivers.base import Tool
from drivers.laser import AblationSettings, Laser, LaserRecord
from sequences.jobs import StripJob, StripOutcome
from sequences.recipe.base import fmt
from sequences.recipe.process_models import ABLATION_THRESHOLD_J_CM2, depth_per_pulse_um
from sequences.steps.base import (
    Pace,
    ProcessStep,
    driver_for,
    load_tool_recipe,
    refuse,
    wait_ready,
    wait_ready_after_set_up,
)
from sequences.steps.judging import around, judged_strip, problems_of
from sequences.steps.setup import SETTLE_TOOL_S, apply_setpoints, set_strip_size

#: Patterns stored at delivery (laser.md §1): vias per site, area-recess size in mm².
PATTERN_GEOMETRY: dict[str, tuple[int, float]] = {
    "IO16": (16, 0.0),
    "IO16-DIE4": (16, 4.0),
    "IO32": (32, 0.0),
    "IO32-DIE4": (32, 4.0),
}
#: Timing (laser.md §8): LOAD + ALIGN + UNLOAD, field move per site, per-via overhead, INSPECT.
HANDLING_S = 10.0 + 8.0 + 10.0
FIELD_MOVE_S = 0.10
VIA_OVERHEAD_S = 0.0025
INSPECT_PER_SITE_S = 0.05


@dataclass(frozen=True)
class LaserRecessStep(ProcessStep, tool="laser", driver=Laser, clears={"WARMUP", "CAL"}):
    name: ClassVar[str] = "recess (laser)"
    #: laser.md §8: cold warm-up 600 s, calibration 30 s; with margin.
    heat_up_tool_s: ClassVar[float] = 1800.0

    tool_recipe: str
    #: The §4 pattern and ablation set-points written over the loaded tool recipe.
    settings: AblationSettings
    #: Sites of the strips this step is planned for (Format B: 240), the timing figure of
    #: :attr:`expected_cycle_tool_s`; the strips' own size comes from their jobs.
    nominal_sites: int = 240

    def setpoint_text(self) -> str:
        s = self.settings
        text = (
            f"{self.tool_recipe}: {fmt(s.fluence_j_cm2)} J/cm², {s.frequency_khz} kHz, "
            f"spot {s.spot_um} µm, ≤ {s.via_max_pulses} pulses/via"
        )
        if s.pattern.endswith("-DIE4"):
            text += f", die recess {fmt(s.recess_depth_um)} ± {fmt(s.recess_tolerance_um)} µm"
        return text

    # -- the manual's ablation model ---------------------------------------------------------
    @property
    def depth_per_pulse_um(self) -> float:
        """d = δ·ln(F/F_th) (0.199 µm at 1.20 J/cm²)."""
        return depth_per_pulse_um(self.settings.fluence_j_cm2)

    @property
    def breakthrough_pulses(self) -> int:
        """N_bt = ⌈FILM:THICKness / d⌉ (126 at the defaults)."""
        return math.ceil(self.settings.film_thickness_um / self.depth_per_pulse_um)

    @property
    def geometry(self) -> tuple[int, float]:
        """Vias per site and area-recess mm² of the pattern (the largest stored one if unknown)."""
        return PATTERN_GEOMETRY.get(self.settings.pattern, (32, 4.0))

    @property
    def expected_cycle_tool_s(self) -> float:
        """laser.md §8: 28 s handling + per site 0.10 s field move, the vias (pulses / f +
        2.5 ms each), the raster passes of the area recess and 0.05 s INSPECT: Format B IO16
        83 s, IO16-DIE4 2664 s at the defaults."""
        s, (vias, area_mm2) = self.settings, self.geometry
        pulses = (
            min(self.breakthrough_pulses, s.via_max_pulses) if s.via_endpoint else s.via_max_pulses
        )
        via_s = pulses / (s.frequency_khz * 1000.0) + VIA_OVERHEAD_S
        raster_s = 0.0
        if area_mm2 > 0.0:
            passes = math.ceil(s.recess_depth_um / (3.0 * self.depth_per_pulse_um))
            area_rate_mm2_s = s.frequency_khz * 1000.0 * (s.spot_um / 2000.0) ** 2
            raster_s = passes * area_mm2 / area_rate_mm2_s
        site_s = FIELD_MOVE_S + vias * via_s + raster_s + INSPECT_PER_SITE_S
        return HANDLING_S + self.nominal_sites * site_s

    # -- phases ------------------------------------------------------------------------------
    def check(self, tool: Tool) -> None:
        """Interlocks, every set-point in its §4 range, and the ablation model's windows: a
        strip must not be refused at START (-221) nor scrapped site by site (8501, 8503)."""
        super().check(tool)
        s = self.settings
        if s.fluence_j_cm2 <= ABLATION_THRESHOLD_J_CM2:
            raise refuse(self.name, tool, f"fluence {s.fluence_j_cm2} J/cm² does not ablate")
        n_bt = self.breakthrough_pulses
        if s.via_endpoint and n_bt > s.via_max_pulses:
            raise refuse(
                self.name,
                tool,
                f"VIA:PULSes {s.via_max_pulses} < {n_bt} pulses to break through "
                f"{s.film_thickness_um} µm at {s.fluence_j_cm2} J/cm² (every via 8501)",
            )
        if not s.via_endpoint and s.via_max_pulses > 2 * n_bt:
            raise refuse(
                self.name,
                tool,
                f"VIA:PULSes {s.via_max_pulses} > 2 × {n_bt} with ENDPoint OFF (pads 8503)",
            )
        if self.geometry[1] > 0.0 and s.recess_depth_um >= s.film_thickness_um:
            raise refuse(
                self.name,
                tool,
                f"recess depth {s.recess_depth_um} µm not below the film {s.film_thickness_um} µm",
            )

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """laser.md §5: load the tool recipe (unless it is loaded and armed: the source warms
        up), write the pattern, set-points and strip size, wait for READY, ``LASer:CALibrate``
        (a SETUP) when interlock CAL says so, then id and map."""
        laser = driver_for(self, tool, Laser)
        (job,) = jobs
        kept_in = load_tool_recipe(laser, self.tool_recipe, pace, SETTLE_TOOL_S)
        wrote = apply_setpoints(laser, self.settings)
        set_strip_size(laser, (job.rows, job.cols))
        wait_ready_after_set_up(laser, pace, self.heat_up_tool_s, kept_in, wrote)
        # CAL: no passing calibration since power-up or within 24 h (laser.md §6).
        if not laser.calibration().in_tolerance or "CAL" in laser.interlocks():
            laser.calibrate()
            wait_ready(laser, pace, self.heat_up_tool_s, entered_s=pace.host_clock.now())
            calibration = laser.calibration()
            if not calibration.in_tolerance:
                raise refuse(self.name, laser, f"power calibration ratio {calibration.ratio:.3f}")
        laser.strip_id = job.strip_id
        laser.input_map = job.input_map

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map and records; each site the laser passed judged again: every via open
        and, with a die recess, its depth within the step's tolerance."""
        laser = driver_for(self, tool, Laser)
        result = laser.cycle_result()
        area_recess = laser.pattern_area_mm2 > 0.0
        pattern, vias_ablated = result.summary.extra
        depths = [
            r.recess_depth_um
            for r in result.records
            if isinstance(r, LaserRecord)
            and r.result in ("P", "F")
            and r.recess_depth_um is not None
        ]
        return judged_strip(
            self,
            laser,
            jobs,
            station,
            result,
            functools.partial(self._problems, area_recess=area_recess),
            tool_recipe=self.tool_recipe,
            pattern=pattern,
            vias_ablated=vias_ablated,
            calibration_ratio=laser.calibration().ratio,
            recess_depth_mean_um=round(fmean(depths), 2) if depths else None,
        )

    def _problems(self, record: LaserRecord, area_recess: bool) -> str:
        """laser.md §5 pass rule against the step's set-points."""
        vias = (
            None
            if record.vias_open is not None and record.vias_open == record.vias_total
            else f"vias open {record.vias_open} of {record.vias_total}"
        )
        depth = (
            around(
                "recess_depth_um",
                record.recess_depth_um,
                self.settings.recess_depth_um,
                self.settings.recess_tolerance_um,
                0.1,
            )
            if area_recess
            else None
        )
        return problems_of([vias, depth])
