"""What a driver must raise for each code of the common error catalogue (interfaces README §7),
said once for the driver tests' error tables, and the facts such an error carries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

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


@contextmanager
def raises_catalogue_error(
    code: int,
    text: str = "",
    *,
    detail: str | None = None,
    native: int | None = None,
    tool: str = "",
    address: str = "",
    sent: str = "",
) -> Iterator[pytest.ExceptionInfo[ToolError]]:
    """``pytest.raises`` for what a reply carrying catalogue ``code`` and ``text`` must raise:
    exactly the code's class, with the code and the detail of ``text`` (or ``detail``); where
    given, the protocol's own code, and the tool, address and message sent, each named in it."""
    with pytest.raises(error_class(code)) as raised:
        yield raised
    error = raised.value
    detail = detail_of(text) if detail is None else detail
    assert (type(error), error.code, error.detail) == (error_class(code), code, detail)
    assert native is None or error.native_code == native
    for name, value in (("tool", tool), ("address", address), ("sent", sent)):
        assert not value or (getattr(error, name) == value and value in str(error)), name
