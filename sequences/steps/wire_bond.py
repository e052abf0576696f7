"""WIRE BOND (heat-slug claim 1; film claim 1, glued dies): die top to substrate/film pads on
the wire bonder, one strip per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import Tool
from drivers.states import ToolState
from drivers.wire_bonder import WireBonder, WireBondParameters, WireBondRecord
from sequences.jobs import StripJob, StripOutcome
from sequences.recipe.base import fmt
from sequences.steps.base import Pace, ProcessStep, driver_for, wait_ready_after_set_up
from sequences.steps.held import forget_held, held_recipe, note_recipe
from sequences.steps.judging import around, judged_strip, problems_of
from sequences.steps.setup import apply_setpoints, set_strip_size, wait_settled

#: wire-bonder.md §8: LOAD + ALIGN + UNLOAD, unit index + PR, and a wire's fixed part.
HANDLING_S = 8.0 + 4.0 + 5.0
INDEX_S = 1.5
WIRE_BASE_S = 0.045
#: wire-bonder.md §4.2 defaults of the bond times that set a wire's time (B1_TIME, B2_TIME).
DEFAULT_BALL_TIME_MS, DEFAULT_STITCH_TIME_MS = 15, 20
#: wire-bonder.md §5: mean FAB and mean loop within ± 10 % of FAB_D and LOOP_H.
WINDOW = 0.10


@dataclass(frozen=True)
class WireBondStep(ProcessStep, tool="wire-bonder", driver=WireBonder, clears={"TEMP"}):
    name: ClassVar[str] = "wire bond"
    #: wire-bonder.md §8: stage 25 -> 150 °C in 6.8 min, +30 s stable; with margin.
    heat_up_tool_s: ClassVar[float] = 1800.0

    #: Bond program stored on the bonder (``A64``, ``B16``).
    program: str
    #: §4.2 parameters written after loading the program (None: the program's value).
    parameters: WireBondParameters
    #: Wires per unit of the program and sites of the planned strips: the timing figure of
    #: :attr:`expected_cycle_tool_s` (A64 on Format A: 64 and 30; B16 on Format B: 16, 240).
    wires_per_unit: int = 64
    nominal_sites: int = 30

    @property
    def setpoints(self) -> WireBondParameters:
        return self.parameters

    def setpoint_text(self) -> str:
        p = self.parameters

        def text(value: float | str | None) -> str:
            return "(program)" if value is None else value if isinstance(value, str) else fmt(value)

        return (
            f"{self.program}: {text(p.wire_material)} {text(p.wire_diameter_um)} µm, stage "
            f"{text(p.stage_temperature_sp_c)} °C, loop {text(p.loop_height_um)} µm, "
            f"FAB {text(p.fab_diameter_um)} µm"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """§8: sites × (wires × t_w + 1.5 s) + 17 s, t_w = 45 ms + B1_TIME + B2_TIME (216 s for
        A64 on Format A at defaults, 684 s for B16 on Format B)."""
        p = self.parameters
        ball_ms = DEFAULT_BALL_TIME_MS if p.ball_time_ms is None else p.ball_time_ms
        stitch_ms = DEFAULT_STITCH_TIME_MS if p.stitch_time_ms is None else p.stitch_time_ms
        wire_s = WIRE_BASE_S + (ball_ms + stitch_ms) / 1000.0
        return HANDLING_S + self.nominal_sites * (self.wires_per_unit * wire_s + INDEX_S)

    # -- phases --------------------------------------------------------------------------------
    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """Load the program (unless it is loaded and armed: loading again restarts the 30 s
        in-band wait), write the parameters over it, the strip size, id and input map; wait
        for READY."""
        bonder = driver_for(self, tool, WireBonder)
        (job,) = jobs
        state = wait_settled(bonder, pace)
        armed = state in (ToolState.HEATING, ToolState.READY)
        loaded = held_recipe(bonder)  # else asked (PROG?)
        kept = armed and (loaded or bonder.program().name) == self.program
        if not kept:
            bonder.load_program(self.program)
            forget_held(bonder)  # the program's parameters replace the working set
        note_recipe(bonder, self.program)
        wrote = apply_setpoints(bonder, self.parameters)
        set_strip_size(bonder, (job.rows, job.cols))
        bonder.strip_id = job.strip_id
        bonder.write_input_map(job.input_map, sites=job.sites)
        wait_ready_after_set_up(bonder, pace, self.heat_up_tool_s, state if kept else None, wrote)

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map and records; each unit the tool passed judged again against the
        step's FAB_D and LOOP_H (when it sets them) and for all wires bonded."""
        bonder = driver_for(self, tool, WireBonder)
        result = bonder.cycle_result()
        return judged_strip(
            self,
            bonder,
            jobs,
            station,
            result,
            self._problems,
            program=self.program,
            wires_bonded=result.summary.wires_bonded,
        )

    def _problems(self, record: WireBondRecord) -> str:
        """wire-bonder.md §5 pass criteria, with the step's FAB_D and LOOP_H."""
        checks = [
            None
            if record.wires_bonded is not None and record.wires_bonded == record.wires_total
            else f"wires_bonded {record.wires_bonded} of {record.wires_total}"
        ]
        fab_d, loop_h = self.parameters.fab_diameter_um, self.parameters.loop_height_um
        if fab_d is not None:
            checks.append(around("mean_fab_um", record.mean_fab_um, fab_d, WINDOW * fab_d, 0.1))
        if loop_h is not None:
            checks.append(around("mean_loop_um", record.mean_loop_um, loop_h, WINDOW * loop_h, 1))
        return problems_of(checks)
