"""Simulated WE-2 etch bath (etch-bath.md): Modbus RTU on a pty, or Modbus TCP through the
gateway, in front of the bath's process model."""

from __future__ import annotations

from typing import Any

from sim.clock import SimClock
from sim.etch_bath.front import EtchFront
from sim.etch_bath.model import EtchBathModel
from sim.simulated_tool import SimulatedTool
from sim.world import World

__all__ = ["EtchBathModel", "serve"]

BAUD_CODES = {9600: 0, 19200: 1, 38400: 2, 57600: 3}
PARITY_CODES = {"E": 0, "O": 1, "N": 2}


def serve(
    *,
    clock: SimClock,
    world: World,
    seed: int = 0,
    port: int = 0,
    transport: str = "rtu",
    unit_id: int = 1,
    chemistry: int = 1,
    baudrate: int = 19200,
    parity: str = "E",
    **options: Any,
) -> SimulatedTool:
    """Start a simulated etch bath.

    ``transport="rtu"``: Modbus RTU on a pty (its device is in ``.address``); ``"tcp"``: the
    Modbus TCP gateway on loopback (``port=0``: any free port). ``unit_id``, ``chemistry``,
    ``baudrate`` and ``parity`` are the station settings (HR 100, 500-502) the bath was
    configured with. Other options go to :class:`EtchBathModel` (``bath_temp_c``,
    ``cu_load_g_l``).
    """
    if transport not in ("rtu", "tcp"):
        raise ValueError(f"transport {transport!r} not one of 'rtu', 'tcp'")
    if baudrate not in BAUD_CODES or parity.upper() not in PARITY_CODES:
        raise ValueError(f"line settings {baudrate} {parity!r} not in HR 501/502 (etch-bath.md §4)")
    if not 1 <= unit_id <= 247:
        raise ValueError(f"unit id {unit_id} outside 1-247")
    model = EtchBathModel(
        clock,
        world,
        seed=seed,
        chemistry=chemistry,
        unit_id=unit_id,
        baud_code=BAUD_CODES[baudrate],
        parity_code=PARITY_CODES[parity.upper()],
        **options,
    )
    front = EtchFront(
        model,
        gateway=transport == "tcp",
        mode=transport,
        port=port,
        unit_ids=(unit_id,),
        baudrate=baudrate,
        parity=parity.upper(),
    )
    return SimulatedTool(model, front).start()
