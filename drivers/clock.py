"""Tool time as the host side sees it: a small protocol, and the wall-scaled clock.

Host code (a driver's :meth:`~drivers.base.Tool.wait_for_state`, the steps' waits, the lot
runner) measures bounds and poll intervals in *tool seconds* through a :class:`HostClock`:

- :class:`WallClock` maps tool time to wall time at a fixed scale (a real line: scale 1; a
  wall-scaled dry run or ``packline serve --simulate``: scale N);
- the simulators' virtual clock (``sim.clock.VirtualClock``) advances tool time only when
  every host thread of the process waits on it. Drivers may not import ``sim``: packline wires
  that clock in, and it satisfies this protocol structurally.

Link timeouts are never tool time: a transport waits in wall seconds whatever the clock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, runtime_checkable


@runtime_checkable
class HostCondition(Protocol):
    """A condition variable whose ``wait`` timeout is in the clock's tool seconds."""

    def __enter__(self) -> bool: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def notify_all(self) -> None: ...


class HostClock(Protocol):
    """What host code needs of tool time."""

    #: True when tool time is virtual (advances only while every participant waits).
    virtual: bool

    def now(self) -> float:
        """Monotonic tool seconds."""
        ...

    def timestamp(self) -> float:
        """Epoch seconds for records (lot records, state events, alarms)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of tool time."""
        ...

    def condition(self) -> HostCondition:
        """A condition variable for threads that take part in this clock."""
        ...

    def participant(self, name: str) -> contextlib.AbstractContextManager[None]:
        """The calling thread takes part in the clock for the ``with`` block."""
        ...

    def enroll(self, name: str) -> object:
        """Reserve a place for a thread about to start (deterministic order); the thread
        passes the returned ticket to :meth:`attach`."""
        ...

    def attach(self, ticket: object) -> contextlib.AbstractContextManager[None]:
        """The calling thread takes the place reserved by :meth:`enroll`."""
        ...

    @property
    def record_scale(self) -> float:
        """Tool seconds per second of :meth:`timestamp` (the time scale of a wall clock, 1 for
        a virtual clock whose timestamps are already tool time)."""
        ...


class _ScaledCondition(threading.Condition):
    """A :class:`threading.Condition` whose timeouts are tool seconds at a fixed scale."""

    def __init__(self, time_scale: float) -> None:
        super().__init__(threading.RLock())
        self._time_scale = time_scale

    def wait(self, timeout: float | None = None) -> bool:
        return super().wait(None if timeout is None else timeout / self._time_scale)


class WallClock:
    """Tool time = wall time × ``time_scale`` (1 on a real line).

    It measures how far the host falls behind its own schedule: every :meth:`sleep` that
    wakes later than asked adds its lateness, in tool seconds, to the sleeping thread's lag
    (:meth:`lag_s`). At a high scale a loaded machine wakes late and answers late, and a
    dry run's figures then describe the machine, not the line.
    """

    virtual = False

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        self.time_scale = float(time_scale)
        self._lag_s: dict[int, float] = {}
        self.worst_late_s = 0.0

    @property
    def record_scale(self) -> float:
        return self.time_scale

    def now(self) -> float:
        return time.monotonic() * self.time_scale

    def timestamp(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        wall_s = max(0.0, seconds) / self.time_scale
        due = time.monotonic() + wall_s
        time.sleep(wall_s)
        late_s = (time.monotonic() - due) * self.time_scale
        if late_s > 0:
            ident = threading.get_ident()
            self._lag_s[ident] = self._lag_s.get(ident, 0.0) + late_s
            self.worst_late_s = max(self.worst_late_s, late_s)

    def lag_s(self) -> float:
        """Tool seconds the most-delayed thread woke late in all (0 if none slept)."""
        return max(self._lag_s.values(), default=0.0)

    def condition(self) -> HostCondition:
        return _ScaledCondition(self.time_scale)

    @contextlib.contextmanager
    def participant(self, name: str) -> Iterator[None]:
        yield

    def enroll(self, name: str) -> object:
        return name

    def attach(self, ticket: object) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def __repr__(self) -> str:
        return f"WallClock({self.time_scale:g})"
