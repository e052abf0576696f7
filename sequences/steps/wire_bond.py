"""WIRE BOND (heat-slug claim 1; film claim 1, glued dies): die top to substrate/film pads on
the wire bonder, one strip per cycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class WireBondStep(ProcessStep):
    tool = "wire-bonder"
    batch_max = 1

    #: Bond program stored on the bonder (``A64``, ``B16``).
    program: str
    #: §4.2 parameters written after loading the program, by manual name (``STAGE_T``...).
    parameters: Mapping[str, float | str]

    @property
    def name(self) -> str:
        return "wire bond"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("WireBondStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("WireBondStep.collect")
