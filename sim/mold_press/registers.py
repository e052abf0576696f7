"""Register map of the simulated TM-4 (mold-press.md §4): holding registers, input registers
and discrete inputs. The front side of the simulator: the model holds engineering values,
this file their addresses, scales and encodings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.fronts.modbus_map import RESULT_CODES, HoldingDef, RegisterMap, strip_id_defs

if TYPE_CHECKING:
    from sim.mold_press.model import MoldPressModel


HOLDING = (
    HoldingDef(100, "CHASE_TOP_SP", "s16", 1650, 1850, divisor=10),
    HoldingDef(101, "CHASE_BOT_SP", "s16", 1650, 1850, divisor=10),
    HoldingDef(102, "TEMP_BAND", "u16", 10, 100, divisor=10),
    HoldingDef(103, "CLAMP_FORCE_SP", "u16", 200, 800),
    HoldingDef(104, "TRANSFER_P_SP", "u16", 500, 1000, divisor=100),
    HoldingDef(105, "S1_END_POS", "u16", 10, 600, divisor=10),
    HoldingDef(106, "S1_SPEED", "u16", 5, 200, divisor=10),
    HoldingDef(107, "S2_END_POS", "u16", 10, 600, divisor=10),
    HoldingDef(108, "S2_SPEED", "u16", 5, 200, divisor=10),
    HoldingDef(109, "S3_END_POS", "u16", 10, 600, divisor=10),
    HoldingDef(110, "S3_SPEED", "u16", 5, 200, divisor=10),
    HoldingDef(111, "CURE_S", "u16", 60, 180),
    HoldingDef(112, "PELLET_PREHEAT_SP", "s16", 600, 1000, divisor=10),
    HoldingDef(113, "SUBSTRATE_PREHEAT_SP", "s16", 1000, 1750, divisor=10),
    HoldingDef(114, "PREHEAT_S", "u16", 5, 60),
    HoldingDef(115, "PELLETS_PER_SHOT", "u16", 1, 16),
    HoldingDef(116, "CULL_SP", "u16", 200, 800, divisor=100),
    HoldingDef(117, "CULL_TOL", "u16", 10, 200, divisor=100),
    HoldingDef(118, "ALPHA_MIN", "u16", 500, 990, divisor=1000),
    HoldingDef(119, "AUTO_CLEAN", "u16", 0, 1),
    HoldingDef(120, "VACUUM_ASSIST", "u16", 0, 1),
    HoldingDef(121, "LOAD_MASK", "u16", 1, 15),
    *strip_id_defs(4),
)


def input_image(model: MoldPressModel) -> dict[int, int]:
    """IR 100-125 (mold-press.md §4), from the model's engineering values."""
    valid = model.results_available
    s = model.shot
    words = {
        100: round(model.top_pv_c * 10) & 0xFFFF,
        101: round(model.bottom_pv_c * 10) & 0xFFFF,
        102: round(model.clamp_force_kn),
        103: round(model.transfer_p_mpa * 100),
        104: round(model.plunger_pos_mm * 10),
        105: round(model.plunger_speed_mm_s * 10),
        106: model.pellet_stock,
        107: model.strip_present,
        108: int(model.phase_elapsed_s) if model.cycle_active else 0,
        109: round(model.alpha * 1000) if model.curing else 0,
    }
    if valid:
        words |= {
            110: round(s.get("fill_s", 0.0) * 10),
            111: round(s.get("peak_p_mpa", 0.0) * 100),
            112: round(s.get("cull_mm", 0.0) * 100),
            113: round(s.get("alpha_open", 0.0) * 1000),
            114: round(s.get("t_alpha03_s", 0.0) * 10),
            115: round(s.get("temp_min", 0.0) * 10) & 0xFFFF,
            116: round(s.get("temp_max", 0.0) * 10) & 0xFFFF,
            117: round(s.get("clamp_min_kn", 0.0)),
        }
        assert model.results is not None
        for row in model.results.rows:
            words[117 + row.site] = RESULT_CODES[row.result]
            words[121 + row.site] = row.defect
    return words


def discrete_image(model: MoldPressModel) -> dict[int, bool]:
    """DI 16-22."""
    return {
        16: model.conditions_in_band(),
        17: model.clamp_force_kn > 0.95 * model.setting("CLAMP_FORCE_SP"),
        18: model.plunger_pos_mm == 0.0,
        19: not model.conditions.get("HYDRAULIC", False),
        20: not model.conditions.get("AIR", False),
        21: model.pellet_stock >= model.setting_int("PELLETS_PER_SHOT"),
        22: bool(model.setting_int("VACUUM_ASSIST"))
        and model.phase in ("CLAMP", "TRANSFER", "CURE"),
    }


MOLD_PRESS_REGISTERS = RegisterMap(
    holding=HOLDING,
    inputs=input_image,
    discretes=discrete_image,
    input_ranges=((100, 125),),
    discrete_ranges=((16, 22),),
)
