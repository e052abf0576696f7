"""Simulated DS-2 dicing saw (dicing-saw.md): SCPI front on a pty (``ASRL/dev/pts/N::INSTR``,
the RS-232 port) or loopback TCP (a serial device server), and the process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.dicing_saw.model import DicingSawModel
from sim.dicing_saw.server import DicingSawFront
from sim.fronts.scpi_server import ScpiServer
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["DicingSawModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "pty",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated DS-2 on a pty (default) or on loopback TCP (``port=0``: any free port).

    Options: ``blade_count`` (line passes already cut by the mounted blade, default 0).
    """
    model = DicingSawModel(clock, world, seed=seed, **options)
    server = ScpiServer(DicingSawFront(model), transport=transport, port=port)
    return SimulatedTool(model, server).start()
