"""Simulated UVL-3 UV laser (laser.md): SCPI over TCP front + ablation process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.laser.model import PATTERNS, LaserModel
from sim.laser.server import laser_server
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["PATTERNS", "LaserModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "tcp",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated laser on loopback (``port=0``: any free port) or a pty.

    ``options`` go to :class:`LaserModel` (source hours and efficiency, defect rates, faults).
    """
    model = LaserModel(clock, world, seed=seed, **options)
    return SimulatedTool(model, laser_server(model, transport=transport, port=port)).start()
