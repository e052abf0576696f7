"""Set-up helpers the process steps share: recipe windows refused before anything is sent, a
tool's power-up waited out, and a batch tool armed only when its recipe changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drivers.base import Tool
from drivers.modbus_tool import LOAD_MASK, BatchModbusTool, Register
from drivers.setpoints import SetPoints
from drivers.states import ToolState
from sequences.jobs import StripJob
from sequences.steps.base import Pace
from sequences.steps.held import held_setpoints, state_seen

#: States in which a step may set a tool up (README §5 matrix: set parameter, load, arm).
SETTLED = frozenset({ToolState.IDLE, ToolState.HEATING, ToolState.READY})
#: Bound on INIT and SETUP, tool seconds (longest in the manuals: 40 s die-bonder calibration).
SETTLE_TOOL_S = 120.0


def wait_settled(tool: Tool, pace: Pace) -> ToolState:
    """Wait (bounded) until the tool is past INIT or SETUP: IDLE, HEATING or READY; a settled
    state the host learned a moment ago (within the manual's poll interval, nothing sent
    since: :func:`sequences.steps.held.note_state`) is not asked again."""
    seen = state_seen(tool, pace.host_clock.now(), tool.poll_interval_s)
    if seen in SETTLED:
        return seen
    return pace.wait_for_state(tool, SETTLED, SETTLE_TOOL_S)


def positions_of(jobs: Sequence[StripJob]) -> dict[int, str]:
    """Batch tools: job k goes to load position (slot) k, 1-based."""
    return {position: job.strip_id for position, job in enumerate(jobs, start=1)}


def apply_setpoints(
    tool: Tool,
    setpoints: SetPoints,
    strip_ids: Mapping[int, str] | None = None,
    *,
    state: ToolState | None = None,
    **recipe_options: Any,
) -> bool:
    """Write a step's set-points to its tool: the one place a step writes them. Whether
    anything was written (a batch tool: armed, :func:`arm_batch`).

    A text tool gets each set-point in the record's (the manual's) order, except those it holds
    from the host's last set-up (:mod:`sequences.steps.held`) or that an earlier write of this
    set-up reset to them (a declaration's ``resets``); an indexed row (the BA-8's zone
    temperatures) only at the indices whose value differs from the tool's, since a zone change
    sends the oven back to HEATING.
    """
    if isinstance(tool, BatchModbusTool):
        return arm_batch(tool, setpoints, strip_ids or {}, state=state, **recipe_options)
    held = held_setpoints(tool)
    known: dict[str, Any] = held if held is not None else {}
    wrote = False
    for member, value in setpoints.values().items():
        if member in known and known[member] == value:
            continue
        known.pop(member, None)  # unknown until written (a failure forgets them all)
        declaration = setpoints.declaration(member)
        if getattr(declaration, "count", None) is None:
            setattr(tool, member, value)
            wrote = True
        else:
            row = getattr(tool, member)
            for index, item in enumerate(value, start=1):
                (checked,) = declaration.checked(item, f"{member}[{index}]")
                if row[index] != checked:
                    row[index] = item
                    wrote = True
        known[member] = value
        resets = getattr(declaration, "resets", None)  # MS-3 MODE: every limit to its default
        if resets is not None:
            for reset, holds in resets(value).items():
                known.pop(reset, None)
                if holds is not None:
                    known[reset] = holds
    return wrote


def set_strip_size(tool: Any, size: tuple[int, int]) -> None:
    """Strip rows x columns on a text tool: skipped when it holds them from the host's last
    set-up (:mod:`sequences.steps.held`), else read and written only when they differ."""
    held = held_setpoints(tool)
    if held is not None and held.get("strip_size") == size:
        return
    if tool.strip_size != size:
        tool.strip_size = size
    if held is not None:
        held["strip_size"] = size


def arm_batch(
    tool: BatchModbusTool,
    recipe: SetPoints,
    strip_ids: Mapping[int, str],
    *,
    state: ToolState | None = None,
    **recipe_options: Any,
) -> bool:
    """Write the recipe for the positions of ``strip_ids`` and ARM (manual §5 sequence), unless
    the tool is armed (HEATING or READY) with these very recipe registers: then only LOAD_MASK
    and the strip ids are written. ARM restarts the tool's in-band timer, so re-arming an
    unchanged recipe would cost every cycle 60 s (mold press, laminator, etch bath).

    ``state``: the tool's state as the set-up read it a moment ago, nothing sent since (else
    asked). Returns whether the tool was armed.
    """
    block = tool.recipe_registers(recipe, sorted(strip_ids))
    mask = getattr(type(tool), LOAD_MASK)
    settings = {register: value for register, value in block.items() if register is not mask}
    state = tool.state() if state is None else state
    if state in (ToolState.HEATING, ToolState.READY) and holding_equal(tool, settings):
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
