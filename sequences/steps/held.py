"""What the host knows its tools hold: the set-points it last wrote to each, so that a step
skips those the tool already holds (a die bonder's 17 settings, re-sent every strip, cost 17
exchanges each time).

The host trusts a tool to hold what it was sent while nothing could have changed it
unseen. The knowledge is forgotten when the tool's link was opened again (a reconnect, a
power cycle), when a step loads a recipe or program (it overwrites the working set; a reset
unloads it, so the next set-up loads again), when a cycle met an alarm or a lost link, and
when a step failed anywhere (a refused set-point of a checked group included). Edits at the
tool's own panel during a remote-controlled lot are not seen (the manuals give no change
counter): the line runs its lots in remote mode. Likewise the host knows a state it learned
a moment ago and a gauge's passed calibration (below).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from drivers.base import Tool
from drivers.metrology import Calibration, Metrology
from drivers.states import ToolState

T = TypeVar("T")

_HELD: weakref.WeakKeyDictionary[Tool, tuple[int, dict[str, Any]]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def held_setpoints(tool: Tool) -> dict[str, Any] | None:
    """The set-points (by driver member) ``tool`` holds from the host, to read and extend; None
    when its link cannot tell a reconnect (then nothing is trusted)."""
    opened = getattr(getattr(tool, "link", None), "opened", None)
    if not isinstance(opened, int):
        return None
    with _LOCK:
        entry = _HELD.get(tool)
        if entry is None or entry[0] != opened:
            entry = (opened, {})
            _HELD[tool] = entry
        return entry[1]


def forget_held(tool: Tool) -> None:
    """Trust nothing ``tool`` was sent before: the next set-up writes every set-point."""
    with _LOCK:
        _HELD.pop(tool, None)


#: The key under which a tool's held set-points keep the stored recipe (program) the host
#: loaded or found loaded: forgotten with them, so after a reconnect, a failure, an alarm or
#: another load the tool is asked its name again.
_RECIPE = "(recipe)"


def held_recipe(tool: Tool) -> str | None:
    """The name of the stored recipe ``tool`` holds from the host (None: not known)."""
    recipe = (held_setpoints(tool) or {}).get(_RECIPE)
    return recipe if isinstance(recipe, str) else None


def note_recipe(tool: Tool, name: str) -> None:
    """Remember that ``tool`` has the stored recipe ``name`` loaded (after :func:`forget_held`
    when it was loaded just now: the load replaced the working set)."""
    note_reading(tool, _RECIPE, name)


def held_reading(tool: Tool, member: str, read: Callable[[], T]) -> T:
    """A value of ``tool`` that only the host's own commands or a cycle change (the saw's
    BLADe:LIMit machine setting; its blade count and exposure after the last cycle, which a
    step notes with :func:`note_reading`): the one the host knows, held and forgotten like the
    set-points, else ``read()`` and remembered."""
    held = held_setpoints(tool)
    if held is not None and member in held:
        return cast(T, held[member])
    value = read()
    note_reading(tool, member, value)
    return value


def note_reading(tool: Tool, member: str, value: Any | None) -> None:
    """Remember ``value`` of ``tool``'s ``member`` (None: forget it, e.g. before a cycle or a
    command that changes it)."""
    held = held_setpoints(tool)
    if held is None:
        return
    if value is None:
        held.pop(member, None)
    else:
        held[member] = value


#: The held reading under which a step's check leaves the interlocks it judged (read then, or
#: by the station's upkeep a moment before) for its own set-up to take (:func:`take_reading`).
CHECKED_INTERLOCKS = "(interlocks at check)"


def take_reading(tool: Tool, member: str) -> Any | None:
    """The value of ``tool``'s ``member`` the host noted (:func:`note_reading`), forgotten as it
    is taken; None when none is known."""
    return (held_setpoints(tool) or {}).pop(member, None)


#: The state the host last learned from a command the tool took (an ACK that leaves it
#: READY), by tool: the link's opens then and the host clock's tool seconds then.
_STATE_SEEN: weakref.WeakKeyDictionary[Tool, tuple[int, float, ToolState]] = (
    weakref.WeakKeyDictionary()
)


def note_state(tool: Tool, now_s: float, state: ToolState | None) -> None:
    """Remember that ``tool`` was in ``state`` at tool time ``now_s`` (None: not known)."""
    opened = getattr(getattr(tool, "link", None), "opened", None)
    with _LOCK:
        if state is not None and isinstance(opened, int):
            _STATE_SEEN[tool] = (opened, now_s, state)
        else:
            _STATE_SEEN.pop(tool, None)


def state_seen(tool: Tool, now_s: float, within_s: float) -> ToolState | None:
    """The state :func:`note_state` remembered for ``tool`` if it was learned at most
    ``within_s`` tool seconds before ``now_s`` on the same link, forgotten as it is taken."""
    opened = getattr(getattr(tool, "link", None), "opened", None)
    with _LOCK:
        entry = _STATE_SEEN.pop(tool, None)
    if entry is None or entry[0] != opened or not 0.0 <= now_s - entry[1] <= within_s:
        return None
    return entry[2]


#: A passed calibration the host read (metrology ``CAL?``), by tool: the link's opens then,
#: the host clock's tool seconds then, and the hours since the calibration it reported.
_CALIBRATED: weakref.WeakKeyDictionary[Tool, tuple[int, float, float]] = weakref.WeakKeyDictionary()


def note_calibration(tool: Tool, now_s: float, passed: bool, hours_since: float | None) -> None:
    """Remember what a ``CAL?`` read at tool time ``now_s`` said: a passed calibration and its
    age, or (anything else, or a CAL sent since) nothing known."""
    opened = getattr(getattr(tool, "link", None), "opened", None)
    with _LOCK:
        if passed and hours_since is not None and isinstance(opened, int):
            _CALIBRATED[tool] = (opened, now_s, hours_since)
        else:
            _CALIBRATED.pop(tool, None)


def forget_calibration(tool: Tool) -> None:
    """Know nothing of ``tool``'s calibration: the next inspection asks ``CAL?`` (after a
    failed step: a refused RUN may have been the calibration's interlock)."""
    note_calibration(tool, 0.0, False, None)


def calibrated_hours_ago(tool: Tool, now_s: float) -> float | None:
    """Hours since ``tool``'s last passed calibration at tool time ``now_s``, as the host
    knows it from an earlier ``CAL?`` on the same link (only ``CAL`` replaces a
    calibration; a power-up loses it and opens the link again); None when not known."""
    opened = getattr(getattr(tool, "link", None), "opened", None)
    with _LOCK:
        entry = _CALIBRATED.get(tool)
    if entry is None or entry[0] != opened:
        return None
    return entry[2] + max(0.0, now_s - entry[1]) / 3600.0


def read_calibration(gauge: Metrology, now_s: float) -> Calibration:
    """``CAL?`` on ``gauge`` at tool time ``now_s``, remembered (:func:`note_calibration`)."""
    calibration = gauge.calibration()
    note_calibration(gauge, now_s, calibration.passed, calibration.hours_since)
    return calibration
