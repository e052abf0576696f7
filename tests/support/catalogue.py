"""What a driver must raise for each code of the common error catalogue (interfaces README §7),
said once for the driver tests' error tables."""

from __future__ import annotations

from drivers.errors import AlarmActive, InterlockActive, NotAllowedInState, ToolError

#: The catalogue codes whose errors have their own class; every other code is a plain ToolError.
_CLASS_OF_CODE: dict[int, type[ToolError]] = {
    20: NotAllowedInState,
    21: NotAllowedInState,
    22: InterlockActive,
    23: AlarmActive,
    24: NotAllowedInState,
}


def error_class(code: int) -> type[ToolError]:
    """The :class:`ToolError` class a reply carrying catalogue ``code`` must raise."""
    return _CLASS_OF_CODE.get(code, ToolError)


def detail_of(text: str) -> str:
    """The detail a reply text carries after ``;`` (``"Interlock active;DOOR"`` -> ``"DOOR"``)."""
    return text.partition(";")[2]
