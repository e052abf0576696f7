"""Set-up helpers the process steps share: recipe windows refused before anything is sent, a
tool's power-up waited out, and a batch tool armed only when its recipe changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from drivers.base import Tool
from drivers.errors import ParameterOutOfRange
from drivers.modbus_tool import LOAD_MASK, BatchModbusTool, Register
from drivers.states import ToolState
from sequences.jobs import StripJob
from sequences.steps.base import Pace, StepRefused

#: States in which a step may set a tool up (README §5 matrix: set parameter, load, arm).
SETTLED = frozenset({ToolState.IDLE, ToolState.HEATING, ToolState.READY})
#: Bound on INIT and SETUP, tool seconds (longest in the manuals: 40 s die-bonder calibration).
SETTLE_TOOL_S = 120.0


def refuse_outside(step: str, tool: Tool, check: Callable[[], object]) -> None:
    """Run a recipe-window check; a value outside the manual's window refuses the step."""
    try:
        check()
    except ParameterOutOfRange as problem:
        raise StepRefused(
            f"{step}: recipe outside the tool's window: {problem.reason}",
            tool=tool.tool_name,
            address=tool.address,
        ) from None


def refuse(step: str, tool: Tool, reason: str) -> StepRefused:
    """A :class:`StepRefused` naming the step, the tool and why."""
    return StepRefused(f"{step}: {reason}", tool=tool.tool_name, address=tool.address)


def wait_settled(tool: Tool, pace: Pace) -> ToolState:
    """Wait (bounded) until the tool is past INIT or SETUP: IDLE, HEATING or READY."""
    return pace.wait_for_state(tool, SETTLED, SETTLE_TOOL_S)


def positions_of(jobs: Sequence[StripJob]) -> dict[int, str]:
    """Batch tools: job k goes to load position (slot) k, 1-based."""
    return {position: job.strip_id for position, job in enumerate(jobs, start=1)}


def arm_batch(
    tool: BatchModbusTool, recipe: Any, strip_ids: Mapping[int, str], **recipe_options: Any
) -> bool:
    """Write the recipe for the positions of ``strip_ids`` and ARM (manual §5 sequence), unless
    the tool is armed (HEATING or READY) with these very recipe registers: then only LOAD_MASK
    and the strip ids are written. ARM restarts the tool's in-band timer, so re-arming an
    unchanged recipe would cost every cycle 60 s (mold press, laminator, etch bath).

    Returns whether the tool was armed.
    """
    block = tool.recipe_registers(recipe, sorted(strip_ids))
    mask = getattr(type(tool), LOAD_MASK)
    settings = {register: value for register, value in block.items() if register is not mask}
    if tool.state() in (ToolState.HEATING, ToolState.READY) and holding_equal(tool, settings):
        tool.write_block({mask: block[mask]})
        tool.set_strip_ids(strip_ids)
        return False
    tool.arm(recipe, strip_ids=strip_ids, **recipe_options)
    return True


def holding_equal(tool: BatchModbusTool, values: Mapping[Register, Any]) -> bool:
    """Whether the tool's holding registers hold ``values`` (one read over their span)."""
    first = min(register.address for register in values)
    last = max(register.address + register.length for register in values)
    words = tool.read_registers("holding", first, last - first)
    return all(
        words[r.address - first : r.address - first + r.length] == r.to_words(value)
        for r, value in values.items()
    )
