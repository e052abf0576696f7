"""A simulated tool: a process model and the front that serves it.

Models are lazy: a request advances the model to the clock's time, event by event, so its
state at any requested time is the same whether or not anything happened in between. On a
wall-scaled clock a ticker still advances the model when its own events fall due (an
external controller watching the log, the host watchdog): every ``tick_wall_s`` while the
model must be stepped, else asleep until its next event or the next request (a settled
idle tool uses no CPU). The ticker measures how late it wakes (:attr:`SimulatedTool.lag_s`),
so ``sim serve`` can say when it could not keep its scale. On a virtual clock there is no
ticker at all."""

from __future__ import annotations

import math
import threading
import time
from types import TracebackType
from typing import Protocol, Self

from sim.faults import FaultInjector
from sim.tool_model import ToolModel


class Server(Protocol):
    """What every front offers: start, stop, and the address a driver opens."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def address(self) -> str: ...


class SimulatedTool:
    """A running simulated tool. Use as a context manager or call :meth:`stop`."""

    tick_wall_s = 0.02
    #: The longest a settled tool's ticker sleeps without a request (wall seconds).
    idle_wall_s = 1.0
    #: Lateness a wall-scaled simulator does not promise to beat (a stepping tool's events
    #: already fall up to one tick late): only a wake-up later than this counts as lag.
    late_grace_wall_s = tick_wall_s

    def __init__(self, model: ToolModel, server: Server) -> None:
        self.model = model
        self.server = server
        self._stop = threading.Event()
        self._wake = threading.Event()
        #: Tool seconds the ticker's wake-ups came late in all, and the latest one.
        self.lag_s = 0.0
        self.worst_late_s = 0.0
        self._ticker = threading.Thread(
            target=self._tick, name=f"{model.tool_name}-ticker", daemon=True
        )

    @property
    def address(self) -> str:
        """The address string a packline driver opens (VISA resource, serial URL, Modbus URL)."""
        return self.server.address

    @property
    def faults(self) -> FaultInjector:
        return self.model.faults

    @property
    def tool_name(self) -> str:
        return self.model.tool_name

    def start(self) -> Self:
        self.server.start()
        if not self.model.clock.virtual:
            self.model.on_sync = self._wake.set
            self._ticker.start()
        return self

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        if self._ticker.is_alive():
            self._ticker.join(timeout=2)
        self.server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _tick(self) -> None:
        """Advance the model when it has something to do; when the advance made an event
        happen, add how late it came (past the time asked and :attr:`late_grace_wall_s`, up
        to the end of the advance that caught up) to :attr:`lag_s`."""
        clock = self.model.clock
        while not self._stop.is_set():
            idle_s = self.model.idle_for_s()
            sleep_s = self.tick_wall_s
            if idle_s is not None:
                sleep_s = max(self.tick_wall_s, min(self.idle_wall_s, clock.wall_seconds(idle_s)))
            due = time.monotonic() + sleep_s
            woken = self._wake.wait(sleep_s)
            if self._stop.is_set():
                return
            self._wake.clear()
            before = self.model.observable()
            self.model.advance()
            # Late matters only for an event this tick made happen (a request that woke the
            # ticker early has advanced the model itself; an idle tick shows nothing).
            if not woken and self.model.observable() != before:
                late_s = (time.monotonic() - due - self.late_grace_wall_s) * clock.time_scale
                if late_s > 0 and math.isfinite(late_s):
                    self.lag_s += late_s
                    self.worst_late_s = max(self.worst_late_s, late_s)
