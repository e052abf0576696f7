"""packline drivers: one class per line tool, over VISA, serial and Modbus transports.

Engineers use them directly::

    from drivers import MoldPress
    with MoldPress.open("modbus+tcp://127.0.0.1:5020?unit=1") as press:
        press.arm(recipe)

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
