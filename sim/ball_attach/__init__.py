"""Simulated BA-8 ball attach line (ball-attach.md): SCPI over TCP front + process model
(zone heaters and N₂ atmosphere, pipelined magazine, reflow profile, ball physics)."""

from __future__ import annotations

from typing import Any

from sim.ball_attach.model import BallAttachModel
from sim.ball_attach.server import ball_attach_server
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["BallAttachModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "tcp",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated BA-8 on loopback (``port=0``: any free port) or a pty.

    ``options`` go to :class:`BallAttachModel`: ``ball_supply_pct``, ``flux_supply_pct``
    (reservoir levels at power-up, default 100) and ``faults`` (a prepared FaultInjector).
    """
    model = BallAttachModel(clock, world, seed=seed, **options)
    return SimulatedTool(model, ball_attach_server(model, transport=transport, port=port)).start()
