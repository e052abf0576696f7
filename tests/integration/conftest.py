"""What the simulator tests share: a driver opened on a freshly started simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers.registry import driver_class
from drivers.states import ToolState
from sim.simulated_tool import SimulatedTool

#: ``start_tool("laser", timeout_s=0.3, seed=11, **serve_options)`` -> driver, its simulator.
StartTool = Callable[..., tuple[Any, SimulatedTool]]


@pytest.fixture
def start_tool(sim_tool: Callable[..., SimulatedTool]) -> Iterator[StartTool]:
    """Factory: a simulator of the tool (``sim_tool`` options) and its driver connected with
    ``timeout_s`` (and ``link`` options: ``{"retries": 1}``), once the tool is out of INIT
    (IDLE); the driver is closed after the test."""
    with ExitStack() as opened:

        def start(
            tool: str, *, timeout_s: float, link: dict[str, Any] | None = None, **options: Any
        ) -> tuple[Any, SimulatedTool]:
            simulated = sim_tool(tool, **options)
            driver = driver_class(tool).open(simulated.address, timeout_s=timeout_s, **(link or {}))
            opened.enter_context(driver)
            driver.wait_for_state([ToolState.IDLE], timeout_s=5.0, poll_s=0.005)
            return driver, simulated

        yield start
