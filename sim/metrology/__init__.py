"""Simulated MS-3 metrology station (metrology.md): line ASCII front (pty or TCP) + process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.fronts.line_ascii import LineAsciiFront, LineAsciiServer
from sim.metrology.commands import metrology_commands
from sim.metrology.model import MetrologyModel
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["MetrologyModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "pty",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated MS-3 on a pty (``transport="pty"``: address is the device path, the
    RS-232 port of the manual) or on loopback TCP (``"tcp"``: ``socket://127.0.0.1:PORT``)."""
    model = MetrologyModel(clock, world, seed=seed, **options)
    front = LineAsciiFront(model, metrology_commands(model))
    return SimulatedTool(model, LineAsciiServer(front, transport=transport, port=port)).start()
