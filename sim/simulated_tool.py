"""A simulated tool: a process model and the front that serves it.

Models are lazy: a request advances the model to the clock's time, event by event, so its
state at any requested time is the same whether or not anything happened in between. On a
wall-scaled clock a ticker still advances the model now and then (an external controller
watching the log, the host watchdog); on a virtual clock there is none: an idle simulated
line uses no CPU."""

from __future__ import annotations

import threading
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

    def __init__(self, model: ToolModel, server: Server) -> None:
        self.model = model
        self.server = server
        self._stop = threading.Event()
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
            self._ticker.start()
        return self

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
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
        while not self._stop.wait(self.tick_wall_s):
            self.model.advance()
