"""A Modbus batch tool's model on a hand-driven clock (laminator, mold press, etch bath): holding
registers by manual name, READY with loaded strips, START into a phase, the result block."""

from __future__ import annotations

from typing import ClassVar

from sim.fronts.modbus_map import RegisterMap, words_of
from sim.modbus_model import Setting
from sim.tool_model import State
from tests.support.model_bench import ModelBench


class ModbusModelBench(ModelBench):
    """Subclasses name the model, its register map, the IR of its result map and defects, its
    positions, and the steps (tool s) in which it heats to READY and runs into a phase."""

    registers: ClassVar[RegisterMap]
    result_map_ir: ClassVar[int]
    defects_ir: ClassVar[int]
    positions: ClassVar[int]
    advance_step_s: ClassVar[float | None] = 1.0
    ready_step_s: ClassVar[float] = 1.0
    phase_step_s: ClassVar[float] = 1.0

    def write(self, **registers: int) -> None:
        """Holding registers by manual name in register units, as the front decodes them."""
        values: dict[str, Setting] = {}
        for name, raw in registers.items():
            definition = self.registers.holding_def(name)
            values[name] = definition.decode(words_of(raw, definition.reg_type))
        self.model.apply_settings(values)

    def ready(self, slots: dict[int, str] | None = None, **registers: int) -> None:
        """Past power-up, write registers, ARM and wait for READY. ``slots``: the strip ID at
        each loaded position (their bits are set in LOAD_MASK)."""
        self.until(lambda: self.model.state is not State.INIT)
        for slot, strip_id in (slots or {}).items():
            self.model.apply_settings({f"STRIP_ID_{slot}": strip_id})
            registers.setdefault("LOAD_MASK", 0)
            registers["LOAD_MASK"] |= 1 << (slot - 1)
        self.write(**registers)
        self.model.do_arm()
        self.until_in(State.READY, step_s=self.ready_step_s)

    def start_in(
        self,
        phase: str,
        after_s: float = 0.0,
        slots: dict[int, str] | None = None,
        **registers: int,
    ) -> None:
        """START (from power-up: READY first, as :meth:`ready`) and run into ``phase`` (plus
        ``after_s``)."""
        if self.model.state is not State.READY:
            self.ready(slots, **registers)
        self.model.do_start()
        self.until(lambda: self.model.phase == phase, step_s=self.phase_step_s)
        self.advance(after_s)

    def cycle(
        self, slots: dict[int, str] | None = None, limit_s: float = 4 * 3600.0, **registers: int
    ) -> float:
        """START (from power-up: READY first, as :meth:`ready`) and run until the cycle is over;
        the sim seconds it ran."""
        if self.model.state is not State.READY:
            self.ready(slots, **registers)
        self.model.do_start()
        return self.finish(limit_s)

    def finish(self, limit_s: float = 4 * 3600.0) -> float:
        """Run the started cycle to its end; the sim seconds it took."""
        return self.until(lambda: not self.model.cycle_active, limit_s)

    def inputs(self) -> dict[int, int]:
        return self.registers.input_words(self.model)

    def result_map(self) -> str:
        words = self.inputs()
        return "".join(" PFXN"[words[self.result_map_ir + k]] for k in range(self.positions))

    def defects(self) -> list[int]:
        words = self.inputs()
        return [words[self.defects_ir + k] for k in range(self.positions)]
