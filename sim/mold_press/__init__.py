"""Simulated TM-4 transfer mold press (mold-press.md): Modbus TCP front + process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.fronts.modbus import ModbusFront
from sim.mold_press.model import MoldPressModel
from sim.mold_press.registers import MOLD_PRESS_REGISTERS
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["MoldPressModel", "serve"]


def serve(
    *, clock: SimClock, world: World, seed: int = 0, port: int = 0, **options: Any
) -> SimulatedTool:
    """Start a simulated mold press on loopback (``port=0``: any free port)."""
    model = MoldPressModel(clock, world, seed=seed, **options)
    return SimulatedTool(
        model, ModbusFront(model, port=port, registers=MOLD_PRESS_REGISTERS)
    ).start()
