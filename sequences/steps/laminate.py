"""LAMINATE (heat-slug claims 1, 4, 9): the Cu slice with sheet adhesive under the substrate,
on the laminator, up to 8 strips per press load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from drivers.laminator import LaminationRecipe
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class LaminateStep(ProcessStep):
    tool = "laminator"
    batch_max = 8

    recipe: LaminationRecipe

    @property
    def name(self) -> str:
        return "laminate"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("LaminateStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("LaminateStep.collect")
