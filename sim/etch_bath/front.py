"""The WE-2's Modbus front: the generic Modbus front with the etch bath's own rules.

- The tool coils 16-18 (END_ETCH, HOIST_UP, HOIST_DOWN) are command coils: an FC15 that sets
  more than one command coil to 1 is refused with 03 (README §9.2), and nothing of an FC15 is
  written when any part is refused. An FC05 reply echoes the request (§9).
- RTU: only the bath's unit id is answered; others, and broadcasts, get no reply.
- TCP is the gateway of etch-bath.md §2: another unit id gets 0x0A (path unavailable); while
  the RS-485 side is silent (condition ``BUS``) the gateway waits 500 ms and answers 0x0B.
  On RTU the same condition means no reply at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.etch_bath.model import LEVEL_COILS, TOOL_COMMAND_COILS, EtchBathModel
from sim.etch_bath.registers import ETCH_BATH_REGISTERS
from sim.fronts.modbus import ModbusFront, NoReply, ToolDatastore
from sim.fronts.modbus_pdu import (
    GATEWAY_NO_RESPONSE,
    GATEWAY_PATH_UNAVAILABLE,
    ILLEGAL_ADDRESS,
    ILLEGAL_VALUE,
)
from sim.modbus_model import COMMAND_COILS
from sim.tool_model import Reject

GATEWAY_WAIT_S = 0.5  # wall time: link timing is not scaled


class EtchDatastore(ToolDatastore):
    """ToolDatastore plus the gateway's unit routing and the bath's command coils."""

    model: EtchBathModel

    def __init__(
        self, model: EtchBathModel, *, unit_ids: Sequence[int], gateway: bool = False
    ) -> None:
        super().__init__(model, unit_ids=unit_ids, registers=ETCH_BATH_REGISTERS)
        self.gateway = gateway

    def route(self, unit_id: int) -> tuple[int | None, float]:
        bus_silent = bool(self.model.conditions.get("BUS"))
        if not self.gateway:
            if unit_id not in self.unit_ids:
                raise NoReply(f"unit {unit_id}")  # another slave's address on the bus
            if bus_silent:
                raise NoReply("RS-485 bus silent: no reply")
            return None, 0.0
        if unit_id not in self.unit_ids:
            return GATEWAY_PATH_UNAVAILABLE, 0.0
        if bus_silent:
            return GATEWAY_NO_RESPONSE, GATEWAY_WAIT_S
        return None, 0.0

    def _write_coils(self, address: int, bits: list[bool]) -> int | None:
        model = self.model
        addresses = list(range(address, address + len(bits)))
        if not all(self.registers.is_coil(a) for a in addresses):
            return ILLEGAL_ADDRESS
        names = [
            COMMAND_COILS[a] if a < len(COMMAND_COILS) else self.registers.coils[a]
            for a in addresses
        ]
        writes = dict(zip(names, bits, strict=True))
        commands = [
            name
            for name, bit in writes.items()
            if bit and (name in COMMAND_COILS or name in TOOL_COMMAND_COILS)
        ]
        if len(commands) > 1:
            return ILLEGAL_VALUE
        levels = {name: bit for name, bit in writes.items() if name in LEVEL_COILS}
        if any(not bit for bit in levels.values()) and model.cycle_active:
            raise Reject(20, model.state_name())  # checked before anything is done
        if commands:
            command = commands[0]
            if command in COMMAND_COILS:
                model.command(command)
            else:
                model.tool_coil(command, True)
        for name, bit in levels.items():
            model.tool_coil(name, bit)
        return None


class EtchFront(ModbusFront):
    """ModbusFront serving an :class:`EtchDatastore` (RTU on a pty, or the TCP gateway)."""

    def __init__(self, model: EtchBathModel, *, gateway: bool, **options: Any) -> None:
        super().__init__(model, registers=ETCH_BATH_REGISTERS, **options)
        self.datastore = EtchDatastore(
            model, unit_ids=sorted(self.datastore.unit_ids), gateway=gateway
        )
        self.datastore.on_drop = self._drop_connections
