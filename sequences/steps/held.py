"""What the host knows its tools hold: the set-points it last wrote to each, so that a step
skips those the tool already holds (a die bonder's 17 settings, re-sent every strip, cost 17
exchanges each time).

The host trusts a tool to hold what it was sent while nothing could have changed it
unseen. The knowledge is forgotten when the tool's link was opened again (a reconnect, a
power cycle), when a step loads a recipe or program (it overwrites the working set; a reset
unloads it, so the next set-up loads again), when a cycle met an alarm or a lost link, and
when a step failed anywhere (a refused set-point of a checked group included). Edits at the
tool's own panel during a remote-controlled lot are not seen (the manuals give no change
counter): the line runs its lots in remote mode.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from drivers.base import Tool

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
