"""ETCH on the etch bath, up to 10 strips per carrier: the copper slice into a heat slug
exposing the bond pads (heat-slug claims 1, 10, 11), or the PI film recesses with KOH (film
claim 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from drivers.etch_bath import Chemistry, EtchRecipe
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class EtchStep(ProcessStep):
    tool = "etch-bath"
    batch_max = 10

    #: "etch" (copper slug etch) or "recess (etch)" (KOH on PI film).
    kind: str
    #: The chemistry the station must hold (checked against the station setting before arming).
    chemistry: Chemistry
    recipe: EtchRecipe

    @property
    def name(self) -> str:
        return self.kind

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("EtchStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("EtchStep.collect")
