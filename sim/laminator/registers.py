"""Register map of the simulated LM-8 (laminator.md §4): holding registers, input registers
and discrete inputs. The front side of the simulator: the model holds engineering values,
this file their addresses, scales and encodings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.fronts.modbus_map import RESULT_CODES, HoldingDef, RegisterMap, strip_id_defs
from sim.laminator.tables import PRESSING_PHASES

if TYPE_CHECKING:
    from sim.laminator.model import LaminatorModel


HOLDING = (
    HoldingDef(100, "PLATEN_SP", "s16", 1500, 1900, divisor=10),
    HoldingDef(101, "STANDBY_SP", "s16", 500, 1200, divisor=10),
    HoldingDef(102, "RAMP_RATE", "u16", 20, 50, divisor=10),
    HoldingDef(103, "DWELL_S", "u16", 1800, 5400),
    HoldingDef(104, "COOL_RATE", "u16", 20, 50, divisor=10),
    HoldingDef(105, "UNLOAD_SP", "s16", 400, 1000, divisor=10),
    HoldingDef(106, "PRESSURE_SP", "u16", 100, 300, divisor=100),
    HoldingDef(107, "PRESSURE_BAND", "u16", 5, 50, divisor=100),
    HoldingDef(108, "TEMP_BAND", "u16", 5, 50, divisor=10),
    HoldingDef(109, "VACUUM_SP", "u16", 5, 200, divisor=10),
    HoldingDef(110, "EVAC_S", "u16", 60, 900),
    HoldingDef(111, "LOAD_MASK", "u16", 1, 255),
    *strip_id_defs(8),
)


def input_image(model: LaminatorModel) -> dict[int, int]:
    """IR 100-130 (laminator.md §4), from the model's engineering values."""
    sp = model.active_sp_c()
    words = {
        100: round(model.top.pv_c * 10) & 0xFFFF,
        101: round(model.bottom.pv_c * 10) & 0xFFFF,
        102: round(sp * 10) & 0xFFFF if sp is not None else 0,
        103: round(model.press.pressure_mpa * 100),
        104: round(model.chamber.pressure_kpa * 10),
        105: model.strip_present,
        106: int(model.phase_elapsed_s) if model.cycle_active else 0,
        107: round(model.dwell_remaining_s()),
        108: round(model.top.output_pct),
        109: round(model.bottom.output_pct),
    }
    if model.results_available:
        assert model.results is not None
        for row in model.results.rows:
            words[109 + row.site] = RESULT_CODES[row.result]
            words[117 + row.site] = row.defect
        s = model.stats
        words |= {
            126: round(s.peak_temp_c * 10) & 0xFFFF,
            127: round(s.max_temp_dev_c * 10),
            128: round((s.min_pressure_mpa or 0.0) * 100),
            129: round((s.max_vacuum_kpa or 0.0) * 10),
            130: round(model.dwell_actual_s),
        }
    return words


def discrete_image(model: LaminatorModel) -> dict[int, bool]:
    """DI 16-21."""
    pressing = model.cycle_active and model.phase in ("PRESSURIZE", *PRESSING_PHASES)
    pressure_ok = abs(model.press.pressure_mpa - model.pressure_sp_mpa) <= model.pressure_band_mpa
    locked = (model.cycle_active and not model.aborting) or model.vent_remaining_s > 0.0
    return {
        16: model.conditions_in_band(),
        17: pressing and pressure_ok,
        18: model.chamber.pressure_kpa <= model.vacuum_sp_kpa,
        19: locked and not model.conditions.get("DOOR", False),
        20: not model.conditions.get("HYDRAULIC", False),
        21: not model.conditions.get("COOLING_WATER", False),
    }


LAMINATOR_REGISTERS = RegisterMap(
    holding=HOLDING,
    inputs=input_image,
    discretes=discrete_image,
    input_ranges=((100, 130),),
    discrete_ranges=((16, 21),),
)
