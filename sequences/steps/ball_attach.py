"""BALL ATTACH (heat-slug claim 2): flux, balls, reflow and inspection on the ball attach line,
a magazine of up to 20 strips per cycle; results are read per strip k into that strip's
outcome, in magazine order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.ball_attach import (
    BallAttach,
    BallAttachRecord,
    BallAttachSettings,
)
from drivers.base import Tool
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
from sequences.steps.judging import (
    at_most,
    end_state,
    judged_sites,
    problems_of,
    site_strip_outcome,
    within,
)
from sequences.steps.setup import SETTLE_TOOL_S, apply_setpoints, set_strip_size

#: Timing (ball-attach.md §8): flux print 8 s, ball placement 12 s, 4000 mm of oven, inspection
#: 10 s per strip, and a new strip every 30 s (takt).
PRINT_S, PLACE_S, INSPECT_S, TAKT_S = 8.0, 12.0, 10.0, 30.0
OVEN_LENGTH_MM = 4000.0


@dataclass(frozen=True)
class BallAttachStep(ProcessStep, tool="ball-attach", driver=BallAttach, clears={"TEMP"}):
    name: ClassVar[str] = "ball attach"
    batch_max = 20
    #: ball-attach.md §8: heating from cold 20 min; with margin.
    heat_up_tool_s: ClassVar[float] = 3600.0

    tool_recipe: str
    #: The §4 flux, ball and reflow set-points written over the loaded tool recipe.
    settings: BallAttachSettings
    #: Strips of the magazines this step is planned for (a full one), the timing figure of
    #: :attr:`expected_cycle_tool_s`; the magazine's own strips come from the jobs.
    nominal_strips: int = 20

    def setpoint_text(self) -> str:
        s = self.settings
        lim = s.reflow_limits
        return (
            f"{self.tool_recipe}: {s.balls_per_site} × {s.ball_diameter_mm:.2f} mm, flux "
            f"{s.flux_thickness_um} µm, reflow {fmt(s.reflow_speed_mm_s)} mm/s, peak "
            f"{fmt(lim.peak_min_c)}–{fmt(lim.peak_max_c)} °C, TAL {fmt(lim.tal_min_s)}–"
            f"{fmt(lim.tal_max_s)} s"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """One strip feed-to-exit (8 + 12 + 4000 mm / speed + 10 s: 363 s at 12.0 mm/s) plus the
        30 s takt of every further strip: 933 s for 20 strips at the defaults."""
        strip_s = PRINT_S + PLACE_S + OVEN_LENGTH_MM / self.settings.reflow_speed_mm_s + INSPECT_S
        return strip_s + TAKT_S * (self.nominal_strips - 1)

    # -- phases ------------------------------------------------------------------------------
    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """ball-attach.md §5: load the tool recipe (unless it is loaded and armed: the oven
        heats), write the set-points (zones only where they differ: a zone change sends the oven
        back to HEATING), refuse the magazine when the profile they give (``REFLow:PROFile?``)
        misses the limits (every strip would be 6508), wait for READY, then strip size,
        ``MAGazine:COUNt`` and per strip k its id and input map."""
        line = driver_for(self, tool, BallAttach)
        sizes = {(job.rows, job.cols) for job in jobs}
        if len(sizes) != 1:
            raise refuse(self.name, line, f"one magazine, one strip size; got {sorted(sizes)}")
        kept_in = load_tool_recipe(line, self.tool_recipe, pace, SETTLE_TOOL_S)
        wrote = apply_setpoints(line, self.settings)
        profile = line.reflow_profile()
        problems = self._profile_problems(profile.peak_c, profile.tal_s)
        if problems:
            reason = f"the set-points' profile misses the limits (6508): {problems}"
            raise refuse(self.name, line, reason)
        wait_ready_after_set_up(line, pace, self.heat_up_tool_s, kept_in, wrote)
        (size,) = sizes
        set_strip_size(line, size)
        line.set_magazine([job.strip_id for job in jobs], [job.input_map for job in jobs])

    def _profile_problems(self, peak_c: float | None, tal_s: float | None) -> str:
        limits = self.settings.reflow_limits
        return problems_of(
            [
                within("peak_c", peak_c, limits.peak_min_c, limits.peak_max_c, 0.1),
                within("tal_s", tal_s, limits.tal_min_s, limits.tal_max_s, 0.1),
            ]
        )

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Per strip k: summary, map and records; each site the line passed judged again: no
        missing, extra or bridged ball, and the strip's profile within the step's limits."""
        line = driver_for(self, tool, BallAttach)
        ended_in = end_state(line)
        outcomes = []
        for k, job in enumerate(jobs, start=1):
            result = line.cycle_result(k)
            summary = result.summary
            profile = self._profile_problems(result.peak_c, result.tal_s)
            host, sites = judged_sites(
                job,
                summary,
                result.result_map,
                result.ball_records,
                functools.partial(self._problems, profile=profile),
                tool=line,
                where=f"magazine strip {k}: ",
            )
            tool_summary: dict[str, Any] = {
                "cycle_s": summary.cycle_s,
                "end_state": ended_in,
                "tool_recipe": self.tool_recipe,
                "magazine_index": k,
                "peak_c": result.peak_c,
                "tal_s": result.tal_s,
                "max_o2_ppm": result.max_o2_ppm,
            }
            outcomes.append(
                site_strip_outcome(self, job, station, sites, tool_summary, summary, host)
            )
        return outcomes

    @staticmethod
    def _problems(record: BallAttachRecord, profile: str) -> str:
        """ball-attach.md §5 pass rule: no missing, extra or bridged ball; the strip's profile."""
        return problems_of(
            [
                at_most("missing", record.missing, 0, 1),
                at_most("extra", record.extra, 0, 1),
                at_most("bridged", record.bridged, 0, 1),
                profile,
            ]
        )
