"""The bounded waits of the integration tests, said once: poll until something holds, or until
the link answers again, and fail the test naming what did not happen in time; or act in the
background once something holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from drivers.errors import CommunicationError

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout_s: float,
    what: str | Callable[[], object] = "the condition was not reached",
    *,
    poll_s: float = 0.01,
) -> T:
    """Poll ``condition`` every ``poll_s`` until it returns something true, and return that;
    fail after ``timeout_s`` with ``what`` (a callable: what it returns at that moment)."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(poll_s)
    return value


@contextmanager
def raises_within(
    error: type[BaseException] | tuple[type[BaseException], ...],
    seconds: float,
    *,
    match: str | None = None,
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """``pytest.raises`` that also fails when the error took ``seconds`` or longer to come:
    a driver's every wait is bounded."""
    started = time.monotonic()
    with pytest.raises(error, match=match) as raised:
        yield raised
    assert time.monotonic() - started < seconds, f"raised after more than {seconds} s"


def answered(call: Callable[[], T], timeout_s: float, *, poll_s: float = 0.01) -> T:
    """What ``call`` returns once the link answers again: a :class:`CommunicationError` (a
    stalled or dropped link still recovering) is retried until ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except CommunicationError:
            assert time.monotonic() < deadline, "the link did not recover"
            time.sleep(poll_s)


def when(
    condition: Callable[[], bool],
    action: Callable[[], object],
    timeout_s: float = 10.0,
    *,
    poll_s: float = 0.0005,
) -> threading.Thread:
    """In the background (an operator, a watcher): ``action()`` once ``condition()`` holds, or
    after ``timeout_s`` at the latest; the started thread, for a test that joins it."""

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            time.sleep(poll_s)
        action()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher
