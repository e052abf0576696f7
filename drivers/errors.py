"""The suite's error hierarchy: every driver raises these and nothing else.

Each error names the tool, its address and what was sent, so that a log line or a
traceback alone tells an engineer which tool refused what.
"""

from __future__ import annotations


class PacklineError(Exception):
    """Base of every error a packline driver raises."""

    def __init__(self, message: str, *, tool: str = "", address: str = "", sent: str = "") -> None:
        self.tool = tool
        self.address = address
        self.sent = sent
        self.reason = message
        super().__init__(self._compose(message))

    def _compose(self, message: str) -> str:
        where = f"{self.tool} at {self.address}" if self.address else self.tool
        text = f"{where}: {message}" if where else message
        if self.sent:
            text += f" (sent {self.sent!r})"
        return text


class CommunicationError(PacklineError):
    """The link to the tool failed: nothing usable came back."""


class ToolTimeout(CommunicationError):
    """No (complete) reply within the timeout."""


class ConnectionLost(CommunicationError):
    """The connection could not be opened or was closed by the peer."""


class ProtocolError(PacklineError):
    """A reply came back but is malformed or not what the protocol allows."""


class ParameterOutOfRange(PacklineError, ValueError):
    """A value was refused by the driver before anything was sent."""


class ToolError(PacklineError):
    """The tool understood the request and rejected it with a catalogue code (README §7).

    ``code`` is the catalogue code (e.g. 22), ``text`` the catalogue text
    (``Interlock active``) and ``detail`` the part after ``;`` (``DOOR``), if any.
    SCPI tools also report their native code in ``native_code`` (e.g. -222).
    """

    def __init__(
        self,
        code: int,
        text: str,
        detail: str = "",
        *,
        native_code: int | None = None,
        tool: str = "",
        address: str = "",
        sent: str = "",
    ) -> None:
        self.code = code
        self.text = text
        self.detail = detail
        self.native_code = native_code
        label = f"{code} {text}" + (f";{detail}" if detail else "")
        if native_code is not None and native_code != code:
            label = f"{label} [{native_code}]"
        super().__init__(f"tool error {label}", tool=tool, address=address, sent=sent)


class NotAllowedInState(ToolError):
    """Catalogue code 20/21/24: the command is not valid in the tool's current state."""


class InterlockActive(ToolError):
    """Catalogue code 22: an interlock (``detail``) blocks the command."""


class AlarmActive(ToolError):
    """Catalogue code 23: an active alarm (``detail`` = its code) blocks the command."""


class ToolAlarm(PacklineError):
    """A tool alarm that a caller asked to be raised as an exception (code, class, text)."""

    def __init__(
        self, code: int, alarm_class: str, text: str, *, tool: str = "", address: str = ""
    ) -> None:
        self.code = code
        self.alarm_class = alarm_class
        self.text = text
        super().__init__(f"alarm {code} ({alarm_class}) {text}", tool=tool, address=address)


CATALOGUE: dict[int, str] = {
    1: "Checksum error",
    2: "Framing error",
    3: "Frame too long",
    10: "Unknown command",
    11: "Syntax error",
    12: "Bad parameter",
    13: "Out of range",
    14: "Settings conflict",
    20: "Not allowed in state",
    21: "Busy",
    22: "Interlock active",
    23: "Alarm active",
    24: "No recipe loaded",
    25: "Recipe not found",
    26: "Map length mismatch",
    27: "No results available",
    28: "Storage full",
}

_ERROR_CLASS_BY_CODE: dict[int, type[ToolError]] = {
    20: NotAllowedInState,
    21: NotAllowedInState,
    22: InterlockActive,
    23: AlarmActive,
    24: NotAllowedInState,
}


def tool_error(
    code: int,
    detail: str = "",
    *,
    text: str | None = None,
    native_code: int | None = None,
    **where: str,
) -> ToolError:
    """Build the right :class:`ToolError` subclass for a catalogue code (``where``: the
    tool, address and what was sent)."""
    cls = _ERROR_CLASS_BY_CODE.get(code, ToolError)
    text = CATALOGUE.get(code, "Unknown error") if text is None else text
    return cls(code, text, detail, native_code=native_code, **where)
