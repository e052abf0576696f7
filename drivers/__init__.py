"""packline drivers: one class per line tool, over VISA, serial and Modbus transports, for
engineers to use directly (``with MoldPress.open(address) as press: ...``); the README and
``docs/tools/`` show a whole cycle per tool. Every driver raises only the errors of
:mod:`drivers.errors`.
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
