"""INSPECT on the metrology station in one of its modes (DIE, SLUG, BALL, RECESS, PKG), with
the master recipe's acceptance limits set on the tool; claim 3 (slug thinner than the balls) is
measured here as CLEAR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class InspectStep(ProcessStep):
    tool = "metrology"
    batch_max = 1

    #: Metrology MODE: DIE, SLUG, BALL, RECESS or PKG.
    mode: str
    tool_recipe: str
    #: Acceptance limits by item (``SLUG``: (200.0, 260.0)...), set with ``LIM`` before the run.
    limits: Mapping[str, tuple[float, float]]

    @property
    def name(self) -> str:
        return f"inspect {self.mode.lower()}"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("InspectStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("InspectStep.collect")
