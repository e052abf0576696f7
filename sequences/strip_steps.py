"""One cycle of one tool on a strip (or a shot of strips): set up, start, wait, read, acknowledge.

Waits are bounded in *tool* seconds and divided by the line's time scale, so the same code
runs a real tool (scale 1) and a simulator at scale 1000. A tool alarm during the wait
surfaces as :class:`drivers.errors.ToolAlarm`; the caller decides what the line does next.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from drivers.base import Tool
from drivers.die_bonder import DieBonder
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.states import ToolState
from drivers.wire_bonder import WireBonder

FINISHED = (ToolState.DONE, ToolState.ABORTED)


@dataclass(frozen=True)
class Pace:
    """How tool time maps to wall time on this line."""

    time_scale: float = 1.0

    def wall_s(self, tool_s: float) -> float:
        return tool_s / self.time_scale

    def poll_s(self, tool: Tool) -> float:
        """The tool's poll interval, shortened in proportion at high time scales (>= 2 ms)."""
        return max(0.002, tool.poll_interval_s * min(1.0, 10.0 / self.time_scale))


@dataclass(frozen=True)
class StepOutcome:
    """What one step did to its strip(s)."""

    step: str
    station: str
    strip_id: str
    final_state: ToolState
    result_map: str
    summary: str
    wall_s: float

    @property
    def passed_sites(self) -> int:
        return self.result_map.count("P")


def _wait_ready(tool: Tool, pace: Pace, heat_up_tool_s: float) -> None:
    tool.wait_for_state(
        [ToolState.READY], timeout_s=pace.wall_s(heat_up_tool_s), poll_s=pace.poll_s(tool)
    )


def _wait_finished(tool: Tool, pace: Pace, cycle_tool_s: float) -> ToolState:
    return tool.wait_for_state(
        FINISHED, timeout_s=pace.wall_s(cycle_tool_s), poll_s=pace.poll_s(tool)
    )


def die_attach(
    bonder: DieBonder,
    *,
    station: str,
    recipe: str,
    strip_id: str,
    input_map: str,
    pace: Pace,
    heat_up_tool_s: float = 1800.0,
    cycle_tool_s: float = 3600.0,
) -> StepOutcome:
    """Load the die-bond recipe if needed, bond one strip, read its results, acknowledge."""
    started = time.monotonic()
    if bonder.recipe_name()[0] != recipe or bonder.state() not in (
        ToolState.READY,
        ToolState.HEATING,
    ):
        bonder.load_recipe(recipe)
    _wait_ready(bonder, pace, heat_up_tool_s)
    bonder.strip_id = strip_id
    bonder.input_map = input_map
    bonder.start()
    final = _wait_finished(bonder, pace, cycle_tool_s)
    result = bonder.cycle_result()
    bonder.acknowledge()
    s = result.summary
    mode, used = s.extra
    summary = f"{s.passed} P / {s.failed} F / {s.skipped} X / {s.not_processed} N, {mode}, {used} placed, cycle {s.cycle_s:.1f} s"
    return StepOutcome(
        "die attach",
        station,
        strip_id,
        final,
        result.result_map,
        summary,
        time.monotonic() - started,
    )


def wire_bond(
    bonder: WireBonder,
    *,
    station: str,
    program: str,
    strip_id: str,
    input_map: str,
    pace: Pace,
    heat_up_tool_s: float = 1800.0,
    cycle_tool_s: float = 3600.0,
) -> StepOutcome:
    """Load the bond program if needed, bond one strip, read its results, acknowledge."""
    started = time.monotonic()
    if bonder.program().name != program or bonder.state() not in (
        ToolState.READY,
        ToolState.HEATING,
    ):
        bonder.load_program(program)
    _wait_ready(bonder, pace, heat_up_tool_s)
    bonder.strip_id = strip_id
    bonder.input_map = input_map
    bonder.start()
    final = _wait_finished(bonder, pace, cycle_tool_s)
    result = bonder.cycle_result()
    bonder.acknowledge()
    s = result.summary
    summary = f"{s.passed} P / {s.failed} F / {s.skipped} X / {s.not_processed} N, {s.wires_bonded} wires, cycle {s.cycle_s:.1f} s"
    return StepOutcome(
        "wire bond",
        station,
        strip_id,
        final,
        result.result_map,
        summary,
        time.monotonic() - started,
    )


def mold_shot(
    press: MoldPress,
    *,
    station: str,
    recipe: MoldRecipe,
    strips: Mapping[int, str],
    pace: Pace,
    heat_up_tool_s: float = 3600.0,
    cycle_tool_s: float = 900.0,
) -> list[StepOutcome]:
    """Mold one shot of up to four strips; one outcome per strip (the shot's position result)."""
    started = time.monotonic()
    press.arm(recipe, strip_ids=strips)
    _wait_ready(press, pace, heat_up_tool_s)
    press.start()
    final = _wait_finished(press, pace, cycle_tool_s)
    shot = press.shot_result()
    press.acknowledge()
    wall_s = time.monotonic() - started
    outcomes = []
    for position, strip_id in strips.items():
        result = shot.positions[position - 1]
        defect = (
            f", defect {result.defect} {press.defect_texts.get(result.defect, '')}".rstrip()
            if result.defect
            else ""
        )
        summary = f"position {position}: {result.result}{defect}; fill {shot.fill_time_s:.1f} s, alpha at open {shot.alpha_at_open:.3f}"
        outcomes.append(
            StepOutcome("mold", station, strip_id, final, result.result, summary, wall_s)
        )
    return outcomes
