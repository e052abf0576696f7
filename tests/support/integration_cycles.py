"""What the simulator tests do around a tool's cycle, said once: wait for its end, name the
alarm that stopped it, and clear the alarms to see where the tool goes (README §6)."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.errors import ToolAlarm
from drivers.states import ToolState

FINISHED = (ToolState.DONE, ToolState.ABORTED)


def finished(tool: Any, timeout_s: float = 10.0, poll_s: float = 0.005) -> ToolState:
    """The state the cycle ended in, DONE or ABORTED (a :class:`ToolAlarm` if one stopped it)."""
    return tool.wait_for_state(FINISHED, timeout_s=timeout_s, poll_s=poll_s)


def stopping_alarm(tool: Any, timeout_s: float = 10.0) -> tuple[int, str]:
    """The code and class of the alarm that stops the cycle; fails if it ends without one."""
    with pytest.raises(ToolAlarm) as raised:
        finished(tool, timeout_s)
    return raised.value.code, raised.value.alarm_class


def cleared(tool: Any) -> ToolState:
    """The tool's state after CLEAR: still ALARM while a cause persists."""
    tool.clear_alarms()
    return tool.state()
