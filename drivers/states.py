"""The common tool state model of the interface manuals (README §5)."""

from __future__ import annotations

from enum import IntEnum


class ToolState(IntEnum):
    """Tool states with their Modbus codes; SCPI/ASCII tools report the names."""

    INIT = 0
    IDLE = 1
    HEATING = 2
    READY = 3
    RUNNING = 4
    PAUSED = 5
    ALARM = 6
    DONE = 7
    ABORTED = 8
    SETUP = 9

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_name(cls, name: str) -> ToolState:
        """Parse a reported state name; WARMUP (saw, laser) is the HEATING state."""
        name = name.strip().upper()
        if name == "WARMUP":
            return cls.HEATING
        return cls[name]
