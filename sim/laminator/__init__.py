"""Simulated LM-8 vacuum laminator (laminator.md): Modbus TCP front + process model.

Options of :func:`serve` (all keyword): ``stack`` ``"cu-slice"`` (Package A: Cu slice + sheet
adhesive, the default) or ``"plate-sheet"`` (Package B: metal plate sheet + adhesive);
``slice_thickness_um`` (Cu slice, default 200); ``adhesive_thickness_um`` (sheet adhesive,
13-102, default 25).
"""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.fronts.modbus import ModbusFront
from sim.laminator.model import LaminatorModel
from sim.laminator.registers import LAMINATOR_REGISTERS
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["LaminatorModel", "serve"]


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "tcp",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated laminator on loopback (``port=0``: any free port); Modbus TCP only."""
    if transport != "tcp":
        raise ValueError(f"the LM-8 speaks Modbus TCP only, not {transport!r}")
    model = LaminatorModel(clock, world, seed=seed, **options)
    return SimulatedTool(
        model, ModbusFront(model, port=port, registers=LAMINATOR_REGISTERS)
    ).start()
