"""The steps of the batch Modbus tools (mold press, laminator, etch bath): one recipe record
armed for the load's positions 1..n, one result block read and judged for every strip of the
load (each strip shares the load's values and judgement)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

from drivers.base import Tool
from drivers.modbus_tool import BatchModbusTool
from drivers.setpoints import SetPoints
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep, driver_for, wait_ready
from sequences.steps.judging import batch_outcomes
from sequences.steps.setup import apply_setpoints, positions_of, wait_settled


class BatchStep(ProcessStep):
    """A step on a batch Modbus tool. A subclass (a frozen dataclass) has the field ``recipe``
    (its driver's set-point record) and says which values of the result block go to the unit
    records (``result_values``) and how the load is judged (:meth:`judge_load`)."""

    #: The driver's set-point record of one load (a dataclass field of the subclass).
    recipe: SetPoints
    #: The load's values in the unit records: record name -> result-block field.
    result_values: ClassVar[Mapping[str, str]]
    #: The driver's result block of the load (``shot_result`` on the mold press).
    result_block: ClassVar[str] = "cycle_result"
    #: The tool summary's name of the load's result map (``shot_map``...).
    result_map_name: ClassVar[str]

    @property
    def setpoints(self) -> SetPoints:
        return self.recipe

    def arm_options(self) -> dict[str, Any]:
        """ARM's options beyond the recipe and the strip ids (none unless a tool has some)."""
        return {}

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """Write the recipe for positions 1..n and their strip ids, ARM (unless armed with this
        recipe), wait for READY (the tool at its set-points)."""
        batch = driver_for(self, tool, self.driver)
        state = wait_settled(batch, pace)  # nothing is sent until ARM's check uses it
        apply_setpoints(batch, self.recipe, positions_of(jobs), state=state, **self.arm_options())
        wait_ready(batch, pace, self.heat_up_tool_s)

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """The load's result block for each position, judged again against the recipe
        (:meth:`judge_load`); every strip of the load shares the load's values."""
        batch = cast(BatchModbusTool, driver_for(self, tool, self.driver))
        result = getattr(batch, self.result_block)()
        return batch_outcomes(self, batch, jobs, result, station, **self.load_summary(result))

    def load_summary(self, result: Any) -> dict[str, Any]:
        """The tool summary's entries beyond cycle time and end state: the load's result map."""
        return {self.result_map_name: result.result_map}

    @abstractmethod
    def judge_load(self, result: Any) -> str:
        """The problems of the load against the recipe ('' when none)."""
