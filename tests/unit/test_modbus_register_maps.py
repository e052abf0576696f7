"""The Modbus register maps (front side) against the models they serve: every holding register
carries a setting the model has, the power-on settings encode inside the manual's ranges, and a
written register value reaches the model in engineering units and reads back unchanged."""

from __future__ import annotations

import pytest

from sim.clock import SimClock
from sim.etch_bath.model import EtchBathModel
from sim.etch_bath.registers import ETCH_BATH_REGISTERS
from sim.fronts.modbus_map import RegisterMap
from sim.laminator.model import LaminatorModel
from sim.laminator.registers import LAMINATOR_REGISTERS
from sim.modbus_model import ModbusToolModel
from sim.mold_press.model import MoldPressModel
from sim.mold_press.registers import MOLD_PRESS_REGISTERS
from sim.world import World

TOOLS = [
    (MoldPressModel, MOLD_PRESS_REGISTERS),
    (LaminatorModel, LAMINATOR_REGISTERS),
    (EtchBathModel, ETCH_BATH_REGISTERS),
]


def build(model_type: type[ModbusToolModel]) -> ModbusToolModel:
    return model_type(SimClock(), World())


@pytest.mark.parametrize(
    ("model_type", "registers"), TOOLS, ids=lambda t: getattr(t, "__name__", "")
)
def test_every_holding_register_carries_a_model_setting_and_every_setting_has_a_register(
    model_type: type[ModbusToolModel], registers: RegisterMap
) -> None:
    model = build(model_type)
    mapped = {d.name for d in registers.holding_defs}
    assert mapped == set(model.settings)


@pytest.mark.parametrize(
    ("model_type", "registers"), TOOLS, ids=lambda t: getattr(t, "__name__", "")
)
def test_power_on_settings_encode_inside_the_manuals_ranges(
    model_type: type[ModbusToolModel], registers: RegisterMap
) -> None:
    model = build(model_type)
    for definition in registers.holding_defs:
        if definition.reg_type == "string" or definition.lo is None or definition.hi is None:
            continue
        raw = definition.raw(definition.encode(model.settings[definition.name]))
        assert definition.lo <= raw <= definition.hi, definition.name


def test_a_scaled_register_reaches_the_model_in_engineering_units_and_reads_back() -> None:
    model = build(MoldPressModel)
    top = MOLD_PRESS_REGISTERS.holding_def("CHASE_TOP_SP")
    model.apply_settings({"CHASE_TOP_SP": top.decode([1803])})
    assert model.setting("CHASE_TOP_SP") == pytest.approx(180.3)
    assert MOLD_PRESS_REGISTERS.holding_words(model)[100] == 1803
    depth = ETCH_BATH_REGISTERS.holding_def("DEPTH_TARGET")  # u32 over HR 112-113
    bath = build(EtchBathModel)
    bath.apply_settings({"DEPTH_TARGET": depth.decode([0x0001, 0x86A0])})  # 100000
    assert bath.setting("DEPTH_TARGET") == pytest.approx(1000.0)
    assert bath.recipe.depth_target_um == pytest.approx(1000.0)
    words = ETCH_BATH_REGISTERS.holding_words(bath)
    assert (words[112], words[113]) == (0x0001, 0x86A0)
