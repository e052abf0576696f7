"""WIRE BOND (heat-slug claim 1; film claim 1, glued dies): die top to substrate/film pads on
the wire bonder, one strip per cycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.base import Tool
from drivers.states import ToolState
from drivers.wire_bonder import Par, WireBonder, WireBondRecord
from sequences.jobs import StripJob, StripOutcome
from sequences.recipe.base import fmt
from sequences.recipe.sections import CU_GAS_FLOW_MIN_L_MIN, fab_window_um, lacks_forming_gas
from sequences.steps.base import Pace, ProcessStep, driver_for, wait_ready
from sequences.steps.judging import around, judged_sites, problems_of, site_strip_outcome
from sequences.steps.setup import refuse, refuse_outside, wait_settled

#: The §4.2 parameters by manual name (``STAGE_T`` -> the driver's declared member).
PARAMETERS: Mapping[str, Par[Any]] = {
    member.name: member for member in vars(WireBonder).values() if isinstance(member, Par)
}
#: wire-bonder.md §8: LOAD + ALIGN + UNLOAD, unit index + PR, and a wire's fixed part.
HANDLING_S = 8.0 + 4.0 + 5.0
INDEX_S = 1.5
WIRE_BASE_S = 0.045
#: wire-bonder.md §4.2 defaults of the bond times that set a wire's time.
DEFAULT_BOND_TIMES_MS = {"B1_TIME": 15, "B2_TIME": 20}
#: wire-bonder.md §5: mean FAB and mean loop within ± 10 % of FAB_D and LOOP_H.
WINDOW = 0.10


@dataclass(frozen=True)
class WireBondStep(ProcessStep, tool="wire-bonder", driver=WireBonder, clears={"TEMP"}):
    #: wire-bonder.md §8: stage 25 -> 150 °C in 6.8 min, +30 s stable; with margin.
    heat_up_tool_s: ClassVar[float] = 1800.0

    #: Bond program stored on the bonder (``A64``, ``B16``).
    program: str
    #: §4.2 parameters written after loading the program, by manual name (``STAGE_T``...).
    parameters: Mapping[str, float | str]
    #: Wires per unit of the program and sites of the planned strips: the timing figure of
    #: :attr:`expected_cycle_tool_s` (A64 on Format A: 64 and 30; B16 on Format B: 16, 240).
    wires_per_unit: int = 64
    nominal_sites: int = 30

    @property
    def name(self) -> str:
        return "wire bond"

    def setpoint_text(self) -> str:
        p = {name: v if isinstance(v, str) else fmt(v) for name, v in self.parameters.items()}
        return (
            f"{self.program}: {p['WIRE_MAT']} {p['WIRE_D']} µm, stage {p['STAGE_T']} °C, "
            f"loop {p['LOOP_H']} µm, FAB {p['FAB_D']} µm"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """§8: sites × (wires × t_w + 1.5 s) + 17 s, t_w = 45 ms + B1_TIME + B2_TIME (216 s for
        A64 on Format A at defaults, 684 s for B16 on Format B)."""
        times_ms = {**DEFAULT_BOND_TIMES_MS, **self.parameters}
        wire_s = WIRE_BASE_S + (float(times_ms["B1_TIME"]) + float(times_ms["B2_TIME"])) / 1000.0
        return HANDLING_S + self.nominal_sites * (self.wires_per_unit * wire_s + INDEX_S)

    # -- phases --------------------------------------------------------------------------------
    def check(self, tool: Tool) -> None:
        """Interlocks, every parameter known, writable and in range, and the §4.2 START checks
        among the parameters the step sets."""
        super().check(tool)
        for name in self.parameters:
            if name not in PARAMETERS:
                raise refuse(self.name, tool, f"{name} is not a §4.2 parameter")
            if not PARAMETERS[name].writable:
                raise refuse(self.name, tool, f"{name} comes from the program (read-only)")
        refuse_outside(self.name, tool, self._check_ranges)
        p = self.parameters
        if "FAB_D" in p and "WIRE_D" in p:
            fab_d, wire_d = float(p["FAB_D"]), float(p["WIRE_D"])
            low, high = fab_window_um(wire_d)
            if not low <= fab_d <= high:
                raise refuse(
                    self.name, tool, f"FAB_D {fab_d:g} µm not 1.5-3.0 × WIRE_D {wire_d:g} µm"
                )
        if "GAS_FLOW" in p and lacks_forming_gas(str(p.get("WIRE_MAT")), float(p["GAS_FLOW"])):
            raise refuse(
                self.name,
                tool,
                f"Cu wire needs GAS_FLOW >= {CU_GAS_FLOW_MIN_L_MIN} L/min, not {p['GAS_FLOW']}",
            )

    def _check_ranges(self) -> None:
        for name, value in self.parameters.items():
            PARAMETERS[name].codec.check(value, name)

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """Load the program (unless it is loaded and armed: loading again restarts the 30 s
        in-band wait), write the parameters over it, the strip size, id and input map; wait
        for READY."""
        bonder = driver_for(self, tool, WireBonder)
        (job,) = jobs
        state = wait_settled(bonder, pace)
        armed = state in (ToolState.HEATING, ToolState.READY)
        if not armed or bonder.program().name != self.program:
            bonder.load_program(self.program)
        for name, value in self.parameters.items():
            setattr(bonder, PARAMETERS[name].attribute, value)
        if bonder.strip_size != (job.rows, job.cols):
            bonder.strip_size = (job.rows, job.cols)
        bonder.strip_id = job.strip_id
        bonder.write_input_map(job.input_map, sites=job.sites)
        wait_ready(bonder, pace, self.heat_up_tool_s)

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Summary, map and records; each unit the tool passed judged again against the
        step's FAB_D and LOOP_H (when it sets them) and for all wires bonded."""
        bonder = driver_for(self, tool, WireBonder)
        (job,) = jobs
        result = bonder.cycle_result()
        summary = result.summary
        host, sites = judged_sites(
            job, summary, result.result_map, result.records, self._problems, tool=bonder
        )
        tool_summary: dict[str, Any] = {
            "cycle_s": summary.cycle_s,
            "end_state": bonder.state().name,
            "program": self.program,
            "wires_bonded": summary.wires_bonded,
        }
        return [site_strip_outcome(self, job, station, sites, tool_summary, summary, host)]

    def _problems(self, record: WireBondRecord) -> str:
        """wire-bonder.md §5 pass criteria, with the step's FAB_D and LOOP_H."""
        checks = [
            None
            if record.wires_bonded is not None and record.wires_bonded == record.wires_total
            else f"wires_bonded {record.wires_bonded} of {record.wires_total}"
        ]
        if "FAB_D" in self.parameters:
            fab_d = float(self.parameters["FAB_D"])
            checks.append(around("mean_fab_um", record.mean_fab_um, fab_d, WINDOW * fab_d, 0.1))
        if "LOOP_H" in self.parameters:
            loop_h = float(self.parameters["LOOP_H"])
            checks.append(around("mean_loop_um", record.mean_loop_um, loop_h, WINDOW * loop_h, 1))
        return problems_of(checks)
