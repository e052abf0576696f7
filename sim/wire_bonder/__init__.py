"""Simulated WB-3 wire bonder (wire-bonder.md): framed serial front + process model.

The front serves a pty by default (address = the device path, e.g. ``/dev/pts/5``) or
loopback TCP with ``transport="tcp"`` (address ``socket://127.0.0.1:PORT``).
"""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.fronts.framed import FramedFront, FramedServer
from sim.simulated_tool import SimulatedTool
from sim.wire_bonder.commands import WireBonderCommands
from sim.wire_bonder.model import WireBonderModel
from sim.world import World

__all__ = ["WireBonderCommands", "WireBonderModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "pty",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated wire bonder; ``options`` go to :class:`WireBonderModel` (initial
    stage temperature, consumables, bond event rates)."""
    model = WireBonderModel(clock, world, seed=seed, **options)
    front = FramedFront(WireBonderCommands(model).execute, model.faults, name=model.tool_name)
    return SimulatedTool(model, FramedServer(front, transport=transport, port=port)).start()
