"""MOLD (heat-slug claim 1; film claim 1): transfer molding on the mold press, up to 4 strips
per shot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from drivers.mold_press import MoldRecipe
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class MoldStep(ProcessStep):
    tool = "mold-press"
    batch_max = 4

    recipe: MoldRecipe

    @property
    def name(self) -> str:
        return "mold"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("MoldStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("MoldStep.collect")
