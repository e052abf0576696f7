"""packline drivers: one class per line tool, over VISA, serial and Modbus transports.

Engineers use them directly::

    from drivers.mold_press import MoldPress, MoldRecipe
    from drivers.states import ToolState

    with MoldPress.open("modbus+tcp://127.0.0.1:5020?unit=1") as press:
        press.wait_for_state([ToolState.IDLE, ToolState.READY], timeout_s=60)  # out of INIT
        press.arm(MoldRecipe(cure_s=90), strip_ids={1: "LA2403-017"})

The README and ``docs/tools/`` show a whole cycle per tool.

Every driver raises only the errors of :mod:`drivers.errors`.
"""

from drivers.errors import (
    AlarmActive,
    CommunicationError,
    ConnectionLost,
    InterlockActive,
    NotAllowedInState,
    PacklineError,
    ParameterOutOfRange,
    ProtocolError,
    ToolAlarm,
    ToolError,
    ToolTimeout,
)

__all__ = [
    "AlarmActive",
    "CommunicationError",
    "ConnectionLost",
    "InterlockActive",
    "NotAllowedInState",
    "PacklineError",
    "ParameterOutOfRange",
    "ProtocolError",
    "ToolAlarm",
    "ToolError",
    "ToolTimeout",
]
