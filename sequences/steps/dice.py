"""DICE (film claim 1) / singulate on the dicing saw, one strip per cycle. The spindle speed
the blade allows is checked before anything is sent (the saw refuses it at START with -221),
and a worn-out blade (interlock BLADE after the setup) is the operator's to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import Tool
from drivers.dicing_saw import CutSettings, DicingRecord, DicingSaw
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
from sequences.steps.held import CHECKED_INTERLOCKS, held_reading, note_reading, take_reading
from sequences.steps.judging import around, at_most, judged_strip, problems_of
from sequences.steps.setup import SETTLE_TOOL_S, apply_setpoints, set_strip_size

#: Timing (dicing-saw.md §8): LOAD + ALIGN + ROTATE + CLEAN + UNLOAD, line pass overrun and
#: index, kerf check per checked line.
HANDLING_S = 10.0 + 8.0 + 4.0 + 30.0 + 10.0
LINE_OVERRUN_MM = 10.0
LINE_INDEX_S = 0.5
KERF_CHECK_S = 2.0


@dataclass(frozen=True)
class DiceStep(ProcessStep, tool="dicing-saw", driver=DicingSaw, clears={"WARMUP", "BLADE"}):
    name: ClassVar[str] = "dice"
    #: dicing-saw.md §8: cold spindle warm-up 300 s, blade setup 45 s; with margin.
    heat_up_tool_s: ClassVar[float] = 1200.0

    tool_recipe: str
    #: The §4 cut set-points written over the loaded tool recipe.
    settings: CutSettings
    #: The strips this step is planned for (Format B: 8 × 30 at 5.300 mm), the timing figure of
    #: :attr:`expected_cycle_tool_s`; the strips' own size comes from their jobs.
    nominal_strip: tuple[int, int] = (8, 30)
    nominal_pitch_mm: tuple[float, float] = (5.3, 5.3)

    def setpoint_text(self) -> str:
        s = self.settings
        return (
            f"{self.tool_recipe}: {s.blade_thickness_um} µm blade, "
            f"{fmt(s.spindle_speed_krpm)} krpm, {fmt(s.cut_feed_mm_s)} mm/s × {s.cut_passes}"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """dicing-saw.md §8: rows + 1 lines along X and cols + 1 along Y, each in PASSes passes of
        (array extent + 10 mm) / feed + 0.5 s, 2 s per kerf check, 62 s handling: Format B
        275 s, Format A 154 s at the defaults."""
        rows, cols = self.nominal_strip
        pitch_x_mm, pitch_y_mm = self.nominal_pitch_mm
        ch1_s = (rows + 1) * self._pass_s(cols * pitch_x_mm)
        ch2_s = (cols + 1) * self._pass_s(rows * pitch_y_mm)
        lines = rows + cols + 2
        every = self.settings.cut_check_every
        checks = lines // every if every else 0
        return HANDLING_S + self.settings.cut_passes * (ch1_s + ch2_s) + checks * KERF_CHECK_S

    def _pass_s(self, extent_mm: float) -> float:
        return (extent_mm + LINE_OVERRUN_MM) / self.settings.cut_feed_mm_s + LINE_INDEX_S

    # -- phases ------------------------------------------------------------------------------
    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """dicing-saw.md §5: load the tool recipe (unless it is loaded and armed: the spindle
        warms up), write the set-points and the strip size, wait for READY, ``BLADe:SETup``
        (a SETUP) when the blade setup is invalid (``BLADe:EXPosure?`` 0.000: after power-up
        or a blade change), then id and map."""
        saw = driver_for(self, tool, DicingSaw)
        (job,) = jobs
        checked = take_reading(saw, CHECKED_INTERLOCKS)  # what the step's check judged
        kept_in = load_tool_recipe(saw, self.tool_recipe, pace, SETTLE_TOOL_S)
        wrote = apply_setpoints(saw, self.settings)
        set_strip_size(saw, (job.rows, job.cols))
        wait_ready_after_set_up(saw, pace, self.heat_up_tool_s, kept_in, wrote)
        note_reading(saw, "blade_count", None)  # the cycle cuts: collect notes the count after
        # Known from the last cycle's collect (BLADe:CHANge and a power-up forget it).
        blade_set_up = False
        if held_reading(saw, "blade_exposure_mm", saw.blade_exposure_mm) == 0.0:
            saw.setup_blade()  # blade setup invalid (§3)
            note_reading(saw, "blade_exposure_mm", None)
            wait_ready(saw, pace, self.heat_up_tool_s, entered_s=pace.host_clock.now())
            blade_set_up = True
        # BLADE (§6: setup invalid, or count >= BLADe:LIMit) changes only with a setup, a cut
        # or a blade change: without it at the check a moment ago, nor a setup since, it is
        # not active now (the interlocks are not asked a second time).
        if (checked is None or blade_set_up or "BLADE" in checked) and "BLADE" in saw.interlocks():
            raise refuse(
                self.name,
                saw,
                f"blade life reached ({saw.blade_count()} line passes): change the blade",
            )
        saw.strip_id = job.strip_id
        saw.input_map = job.input_map

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map and records; each site the saw passed judged again against the step's
        chipping and kerf-offset limits (where one of its lines was checked)."""
        saw = driver_for(self, tool, DicingSaw)
        result = saw.cycle_result()
        line_passes_cut, blade_count_after = result.summary.extra
        exposure_mm = saw.blade_exposure_mm()
        note_reading(saw, "blade_exposure_mm", exposure_mm)
        note_reading(saw, "blade_count", blade_count_after)
        return judged_strip(
            self,
            saw,
            jobs,
            station,
            result,
            self._problems,
            tool_recipe=self.tool_recipe,
            line_passes_cut=line_passes_cut,
            blade_count_after=blade_count_after,
            blade_exposure_mm=exposure_mm,
        )

    def _problems(self, record: DicingRecord) -> str:
        """dicing-saw.md §5 pass rule against the step's limits; a site none of whose lines was
        checked has no values and passes when singulated."""
        limits = self.settings
        return problems_of(
            [
                None
                if record.max_chipping_um is None
                else at_most(
                    "max_chipping_um", record.max_chipping_um, limits.cut_chipping_limit_um, 1
                ),
                None
                if record.max_kerf_offset_um is None
                else around(
                    "max_kerf_offset_um",
                    record.max_kerf_offset_um,
                    0.0,
                    limits.cut_offset_limit_um,
                    1,
                ),
            ]
        )
