"""INSPECT on the metrology station in one of its modes (DIE, SLUG, BALL, RECESS, PKG), with
the master recipe's acceptance limits set on the tool; claim 3 (slug thinner than the balls) is
measured here as CLEAR: in BALL mode the recipe must give the CLEAR limit (min ball height −
slug protrusion) with a lower bound above 0, else the step is refused. The calibration due at
20 h (alarm 9201) is the station's upkeep before the cycle (``sequences.upkeep``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.base import Tool
from drivers.errors import ParameterOutOfRange
from drivers.metrology import LIMIT_ITEMS, InspectionSetPoints, MeasureMode, Metrology
from drivers.records import SiteRecord
from drivers.states import ToolState
from sequences.jobs import StripJob, StripOutcome
from sequences.recipe.base import fmt
from sequences.steps.base import (
    Pace,
    ProcessStep,
    driver_for,
    load_tool_recipe,
    refuse,
    wait_ready,
    wait_ready_after_set_up,
)
from sequences.steps.held import calibrated_hours_ago, forget_calibration, read_calibration
from sequences.steps.judging import end_state, judged_sites, problems_of, site_strip_outcome, within
from sequences.steps.setup import SETTLE_TOOL_S, apply_setpoints, set_strip_size

#: Timing (metrology.md §8): LOAD + ALIGN + UNLOAD, and seconds per site by MODE.
HANDLING_S = 6.0 + 4.0 + 6.0
SITE_S = {"DIE": 0.6, "SLUG": 1.2, "BALL": 2.5, "RECESS": 0.8, "PKG": 0.5}
#: Sites a MODE is planned for: Format A (30) after the heat-slug steps, Format B (240) for the
#: film recesses; DIE and PKG run on both formats: the larger.
NOMINAL_SITES = {"DIE": 240, "SLUG": 30, "BALL": 30, "RECESS": 240, "PKG": 240}
#: Calibrate when the last passed CAL is older than this (interlock CAL refuses RUN); the
#: station's upkeep calibrates at 20 h already (9201), so this is for a step run alone.
CAL_DUE_H = 24.0
#: The record field each limit item judges (metrology.md §5; VIA judges the mean).
ITEM_FIELDS = {
    "DX": "dx_um",
    "DY": "dy_um",
    "DT": "dtheta_deg",
    "SLUG": "slug_protrusion_um",
    "PADX": "pad_exposure_pct",
    "RESCU": "residual_cu_um",
    "BALLH": "ball_height_mean_um",
    "COPL": "coplanarity_um",
    "CLEAR": "clearance_um",
    "MISS": "balls_missing",
    "VIA": "via_depth_mean_um",
    "AREA": "area_recess_depth_um",
    "RESID": "residual_pi_um",
    "THK": "package_thickness_um",
    "WARP": "warp_um",
    "PADP": "pad_protrusion_min_um",
}


@dataclass(frozen=True)
class InspectStep(ProcessStep, tool="metrology", driver=Metrology, clears={"CAL"}):
    #: metrology.md §8: no heating; INIT 15 s, CAL 20 s; with margin.
    heat_up_tool_s: ClassVar[float] = 120.0

    #: Metrology MODE: DIE, SLUG, BALL, RECESS or PKG.
    mode: str
    tool_recipe: str
    #: Acceptance limits by item (``SLUG``: (200.0, 260.0)...), set with ``LIM`` before the run.
    limits: Mapping[str, tuple[float, float]]
    #: Sites of the strips this step is planned for (None: by MODE, :data:`NOMINAL_SITES`), the
    #: timing figure of :attr:`expected_cycle_tool_s`; the strips' own size comes from the jobs.
    nominal_sites: int | None = None

    @property
    def name(self) -> str:
        return f"inspect {self.mode.lower()}"

    def setpoint_text(self) -> str:
        limits = ", ".join(
            f"{item} {fmt(low)}–{fmt(high)}" for item, (low, high) in self.limits.items()
        )
        return f"{self.tool_recipe}: {limits}"

    @property
    def expected_cycle_tool_s(self) -> float:
        """16 s handling + per site 0.6 / 1.2 / 2.5 / 0.8 / 0.5 s (DIE / SLUG / BALL / RECESS /
        PKG): Format A BALL 91 s, Format B RECESS 208 s."""
        mode = self.mode.upper()
        sites = NOMINAL_SITES.get(mode, 240) if self.nominal_sites is None else self.nominal_sites
        return HANDLING_S + sites * SITE_S.get(mode, max(SITE_S.values()))

    @property
    def item_limits(self) -> dict[str, tuple[float, float]]:
        """The limits by upper-case item name (the station's spelling)."""
        return {item.upper(): window for item, window in self.limits.items()}

    @property
    def setpoints(self) -> InspectionSetPoints:
        """MODE and the recipe's limits, as the MS-3 set-point record (ParameterOutOfRange for
        an unknown MODE or item)."""
        return InspectionSetPoints.of(self.mode, self.item_limits)

    # -- phases ------------------------------------------------------------------------------
    def check(self, tool: Tool) -> None:
        """The MODE and every limit an item of it (the record's rules, before the interlocks
        are asked), then interlocks and every limit in the §4 range with lo <= hi, and in BALL
        mode the claim-3 limit."""
        try:
            self.setpoints.check_rules()
        except ParameterOutOfRange as problem:
            raise refuse(self.name, tool, problem.reason) from None
        super().check(tool)
        clear = self.item_limits.get("CLEAR")
        if self.mode.upper() == MeasureMode.BALL and (clear is None or clear[0] <= 0.0):
            raise refuse(
                self.name,
                tool,
                "claim 3 needs the CLEAR limit (min ball height - slug) with a lower bound > 0",
            )

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """metrology.md §5: load the tool recipe (unless it is loaded), MODE and ``LIM`` limits
        (one group: MODE resets every limit to the mode's default), strip size, wait for READY,
        ``CAL`` (a SETUP) when interlock CAL would refuse RUN (no passed calibration within
        24 h, or none since power-up), then id and map."""
        gauge = driver_for(self, tool, Metrology)
        (job,) = jobs
        kept_in = load_tool_recipe(gauge, self.tool_recipe, pace, SETTLE_TOOL_S)
        apply_setpoints(gauge, self.setpoints)
        set_strip_size(gauge, (job.rows, job.cols))
        # The MS-3 has no HEATING (§3): a LOAD it took went IDLE -> READY at once (no look
        # needed), and MODE, LIM and SIZE keep it READY.
        loaded_in = kept_in or ToolState.READY
        wait_ready_after_set_up(gauge, pace, self.heat_up_tool_s, loaded_in, wrote=False)
        clock = pace.host_clock
        hours = calibrated_hours_ago(gauge, clock.now())  # the upkeep's CAL? a moment ago
        if hours is None or hours > CAL_DUE_H:
            calibration = read_calibration(gauge, clock.now())
            hours = calibration.hours_since
            if not calibration.passed or hours is None or hours > CAL_DUE_H:
                forget_calibration(gauge)  # a CAL replaces it
                gauge.calibrate()
                wait_ready(gauge, pace, self.heat_up_tool_s, entered_s=clock.now())
                if not read_calibration(gauge, clock.now()).passed:
                    raise refuse(self.name, gauge, "calibration failed")
        gauge.strip_id = job.strip_id
        gauge.input_map = job.input_map

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map, typed records and the statistics of every item of the MODE; each site
        the station passed judged again against the step's limits."""
        gauge = driver_for(self, tool, Metrology)
        (job,) = jobs
        result = gauge.cycle_result()
        summary = result.summary
        host, sites = judged_sites(
            job, summary, result.result_map, result.records, self._problems, tool=gauge
        )
        mode = MeasureMode(summary.extra[0])
        tool_summary: dict[str, Any] = {
            "cycle_s": summary.cycle_s,
            "end_state": end_state(gauge),
            "tool_recipe": self.tool_recipe,
            "mode": mode.value,
            "statistics": {
                item: dataclasses.asdict(gauge.statistics(item))
                for item, declared in LIMIT_ITEMS.items()
                if declared.mode is mode
            },
        }
        return [site_strip_outcome(self, job, station, sites, tool_summary, summary, host)]

    def _problems(self, record: SiteRecord) -> str:
        """metrology.md §5 pass rule against the step's limits; an empty value (no slug, no die
        recess, no back-face pads) is not evaluated."""
        checks = []
        for item, (lo, hi) in self.item_limits.items():
            value = getattr(record, ITEM_FIELDS[item], None)
            if value is not None:
                resolution = 10.0 ** -LIMIT_ITEMS[item].decimals
                checks.append(within(ITEM_FIELDS[item], value, lo, hi, resolution))
        return problems_of(checks)
