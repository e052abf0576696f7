"""Simulated DB-4 die bonder (die-bonder.md): SCPI front over TCP (or a pty) + process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.die_bonder.model import DieBonderModel
from sim.die_bonder.process import ProcessSpread
from sim.die_bonder.server import build_front
from sim.fronts.scpi_server import ScpiServer
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["DieBonderModel", "ProcessSpread", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "tcp",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated DB-4 on loopback TCP (``port=0``: any free port) or on a pty.

    ``options`` go to :class:`DieBonderModel`: ``syringe_nl``, ``dies``, ``plates``, ``spread``.
    """
    model = DieBonderModel(clock, world, seed=seed, **options)
    server = ScpiServer(build_front(model), transport=transport, port=port)
    return SimulatedTool(model, server).start()
