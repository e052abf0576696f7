"""BALL ATTACH (heat-slug claim 2): flux, balls, reflow and inspection on the ball attach line,
a magazine of up to 20 strips per cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.ball_attach import ReflowLimits
from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep


@dataclass(frozen=True)
class BallAttachStep(ProcessStep):
    tool = "ball-attach"
    batch_max = 20

    tool_recipe: str
    ball_diameter_mm: float
    balls_per_site: int
    flux_thickness_um: int
    zone_temperatures_c: tuple[float, float, float, float, float, float, float, float]
    reflow_speed_mm_s: float
    reflow_limits: ReflowLimits

    @property
    def name(self) -> str:
        return "ball attach"

    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        raise NotImplementedError("BallAttachStep.set_up")

    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        raise NotImplementedError("BallAttachStep.collect")
