"""The register side of the Modbus simulators: which words and bits a read returns.

The models hold engineering values and physics; the register images (addresses, scales,
encodings) are here for the common blocks of README §9.2 and in each tool's
``registers.py`` for its own blocks. A :class:`RegisterMap` joins them for the front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.modbus_model import ModbusToolModel, string_words, words_of
from sim.tool_model import State


@dataclass(frozen=True)
class RegisterMap:
    """A tool's input-register and discrete-input images beyond the common blocks."""

    inputs: Callable[[Any], dict[int, int]]
    discretes: Callable[[Any], dict[int, bool]]

    def input_words(self, model: ModbusToolModel) -> dict[int, int]:
        return common_input_image(model) | self.inputs(model)

    def discrete_bits(self, model: ModbusToolModel) -> dict[int, bool]:
        return common_discrete_image(model) | self.discretes(model)


#: A tool with only the common blocks.
COMMON_ONLY = RegisterMap(inputs=lambda model: {}, discretes=lambda model: {})


def common_input_image(model: ModbusToolModel) -> dict[int, int]:
    """IR 0-27 and 900-917 (README §9.2 common blocks)."""
    words: dict[int, int] = {}
    state = model.state
    elapsed = int(model.cycle_elapsed_s)
    remaining = int(model.remaining_s()) if model.cycle_active else 0
    alarm_words = [0, 0, 0, 0]
    for code in model.active_alarms:
        bit = model.alarm_by_code[code].word_bit
        if bit is not None:
            alarm_words[bit[0] - 1] |= 1 << bit[1]
    active_list = (model.active_alarms + [0] * 8)[:8]
    interlock_word = 0
    for index, (name, _) in enumerate(model.interlock_table):
        if model.interlock_active(name):
            interlock_word |= 1 << index
    values = [
        int(state),
        model.phase_code(),
        model.blocking_alarm() or 0 if state is State.ALARM else 0,
        len(model.active_alarms),
        model.reject_reason,
        model.reject_count & 0xFFFF,
        int(model.heartbeat_s) & 0xFFFF,
        model.hr("RECIPE_ID") if model.armed else 0,
        *words_of(elapsed, "u32"),
        *words_of(remaining, "u32"),
        *words_of(model.cycle_count, "u32"),
        interlock_word,
        sum(1 for c in model.active_alarms if model.alarm_by_code[c].alarm_class == "W"),
        *alarm_words,
        *active_list,
    ]
    words.update(enumerate(values))
    words[900] = 100
    for offset, word in enumerate(string_words(model.model_name, 8)):
        words[901 + offset] = word
    for offset, word in enumerate(string_words(model.serial, 8)):
        words[909 + offset] = word
    words[917] = model.firmware_code
    return words


def common_discrete_image(model: ModbusToolModel) -> dict[int, bool]:
    """DI 0-7 (README §9.2 common blocks)."""
    return {
        0: bool(model.active_alarms),
        1: model.cycle_active,
        2: model.state is State.READY,
        3: model.results_available,
        4: bool(model.active_interlocks()),
        5: not model.conditions.get("ESTOP", False),
        6: not model.conditions.get("DOOR", False),
        7: bool(model.conditions.get("HOST_WDT", False)),
    }
