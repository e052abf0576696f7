"""Register images of the simulated TM-4 (mold-press.md §4): input registers and discrete
inputs computed from the model when the front reads them. The front side of the simulator:
the model holds engineering values, this file their addresses and scales."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.fronts.modbus_map import RegisterMap

if TYPE_CHECKING:
    from sim.mold_press.model import MoldPressModel


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
        codes = {"": 0, "P": 1, "F": 2, "X": 3, "N": 4}
        for row in model.results.rows:
            words[117 + row.site] = codes[row.result]
            words[121 + row.site] = row.defect
    return words


def discrete_image(model: MoldPressModel) -> dict[int, bool]:
    """DI 16-22."""
    return {
        16: model.conditions_in_band(),
        17: model.clamp_force_kn > 0.95 * model.sp("CLAMP_FORCE_SP"),
        18: model.plunger_pos_mm == 0.0,
        19: not model.conditions.get("HYDRAULIC", False),
        20: not model.conditions.get("AIR", False),
        21: model.pellet_stock >= model.hr("PELLETS_PER_SHOT"),
        22: bool(model.hr("VACUUM_ASSIST")) and model.phase in ("CLAMP", "TRANSFER", "CURE"),
    }


MOLD_PRESS_REGISTERS = RegisterMap(inputs=input_image, discretes=discrete_image)
