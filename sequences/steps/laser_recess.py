"""RECESS by laser (film claim 1): via (I/O-leg) and optional die recesses in the PI film on
the UV laser, one strip per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class LaserRecessStep(ProcessStep):
    tool = "laser"
    batch_max = 1

    tool_recipe: str
    pattern: str
    fluence_j_cm2: float
    frequency_khz: int
    spot_um: int
    film_thickness_um: float
    via_max_pulses: int
    recess_depth_um: float
    recess_tolerance_um: float

    @property
    def name(self) -> str:
        return "recess (laser)"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("LaserRecessStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("LaserRecessStep.collect")
