"""DIE ATTACH in its variants (heat-slug claims 5-8; film claims 1, 3), GAP FILL (claim 5),
FLIP-CHIP (film claim 3) and PLATE (film claims 2, 4) on the die bonder, one strip per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from drivers.die_bonder import DieBondSettings
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class DieBondStep(ProcessStep):
    tool = "die-bonder"
    batch_max = 1

    #: "die attach", "gap fill", "flip-chip" or "plate" (the report name).
    kind: str
    #: Tool recipe stored on the bonder to load first (``A-EQUAL``, ``A-SMALL-2``, ``B-FC``...).
    tool_recipe: str
    #: The master recipe's set-points, written over the loaded tool recipe.
    settings: DieBondSettings

    @property
    def name(self) -> str:
        return self.kind

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("DieBondStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("DieBondStep.collect")
