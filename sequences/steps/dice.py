"""DICE (film claim 1) / singulate on the dicing saw, one strip per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class DiceStep(ProcessStep):
    tool = "dicing-saw"
    batch_max = 1

    tool_recipe: str
    spindle_speed_krpm: float
    blade_thickness_um: int
    feed_mm_s: float
    passes: int
    chipping_limit_um: int
    offset_limit_um: int

    @property
    def name(self) -> str:
        return "dice"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("DiceStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("DiceStep.collect")
