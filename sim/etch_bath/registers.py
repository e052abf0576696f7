"""Register map of the simulated WE-2 (etch-bath.md §4): holding registers HR 100-118 and
500-502, input registers IR 100-140, discrete inputs DI 16-27 and coils 16-20; the front side
of the simulator (the model holds engineering values). Sensor values
carry small noise (σ 0.03 °C, 0.03 °Bé/wt%, 0.003 mol/L, 0.5 mV, 0.3 mm, 0.5 % of flow).
"""

from __future__ import annotations

from sim.etch_bath.bath import LEVEL_HIGH_MM
from sim.etch_bath.hoist import BOTTOM_MM, TOP_MM
from sim.etch_bath.model import SLOTS, EtchBathModel
from sim.fronts.modbus_map import RESULT_CODES, HoldingDef, RegisterMap, strip_id_defs

HOLDING = (
    HoldingDef(100, "CHEMISTRY", "u16", 1, 3, write_rule="idle"),
    HoldingDef(101, "TEMP_SP", "s16", 200, 950, divisor=10),
    HoldingDef(102, "TEMP_BAND", "u16", 5, 50, divisor=10),
    HoldingDef(103, "CONC_SP", "u16", 100, 500, divisor=10),
    HoldingDef(104, "CONC_BAND", "u16", 5, 50, divisor=10),
    HoldingDef(105, "ACID_SP", "u16", 0, 300, divisor=100),
    HoldingDef(106, "ORP_SP", "u16", 300, 700),
    HoldingDef(107, "CU_LOAD_MAX", "u16", 100, 2000, divisor=10),
    HoldingDef(108, "PUMP_SPEED", "u16", 50, 100),
    HoldingDef(109, "ENDPOINT_MODE", "u16", 0, 2),
    HoldingDef(110, "ETCH_TIME_S", "u16", 10, 3600),
    HoldingDef(111, "ETCH_TIME_MAX_S", "u16", 10, 7200),
    HoldingDef(112, "DEPTH_TARGET", "u32", 100, 100000, divisor=100, length=2),
    HoldingDef(114, "LOWER_SPEED", "u16", 5, 50),
    HoldingDef(115, "DRIP_S", "u16", 0, 60),
    HoldingDef(116, "RINSE_S", "u16", 0, 600),
    HoldingDef(117, "AUTO_DOSE", "u16", 0, 1),
    HoldingDef(118, "LOAD_MASK", "u16", 1, 1023),
    *strip_id_defs(SLOTS),
    HoldingDef(500, "UNIT_ID", "u16", 1, 247, write_rule="idle"),
    HoldingDef(501, "BAUD", "u16", 0, 3, write_rule="idle"),
    HoldingDef(502, "PARITY", "u16", 0, 2, write_rule="idle"),
)
#: Coils 16-20 by the model's name (16-18 commands, 19-20 levels).
COILS = {16: "END_ETCH", 17: "HOIST_UP", 18: "HOIST_DOWN", 19: "HEATER_ENABLE", 20: "PUMP_ENABLE"}


def _word(value: float) -> int:
    return round(value) & 0xFFFF


def input_image(model: EtchBathModel) -> dict[int, int]:
    """IR 100-140. The etch summary (115-120) shows once ETCH has ended (END_REASON is read
    right after END_ETCH, §9); the positions (121-140) once the cycle is over."""
    b, noise = model.bath, model.sensor_rng.gauss
    copper = model.chemistry.is_copper
    depth = round(model.etch_depth_um * 100)
    words = {
        100: _word(10 * (b.temp_c + noise(0.0, 0.03))),
        101: _word(10 * (model.conc_measured + noise(0.0, 0.03))),
        102: _word(100 * (b.acid_mol_l + noise(0.0, 0.003))) if copper else 0,
        103: _word(b.orp_mv + noise(0.0, 0.5)) if copper else 0,
        104: _word(10 * b.cu_load_g_l) if copper else 0,
        105: _word(b.level_mm + noise(0.0, 0.3)),
        106: _word(10 * b.flow_l_min * (1.0 + noise(0.0, 0.005))) if b.flow_l_min else 0,
        107: _word(b.heater_out_pct),
        108: _word(model.hoist_position_mm()),
        109: _word(100 * model.rate_est_um_min),
        110: (depth >> 16) & 0xFFFF,
        111: depth & 0xFFFF,
        112: model.etch_elapsed_s & 0xFFFF,
        113: model.etch_remaining_s() & 0xFFFF,
        114: model.strip_present,
    }
    for address in range(115, 141):
        words[address] = 0
    if model.end_reason:
        f = model.final
        final_depth = round(f["depth_um"] * 100)
        words |= {
            115: int(model.end_reason),
            116: (final_depth >> 16) & 0xFFFF,
            117: final_depth & 0xFFFF,
            118: round(f["etch_s"]),
            119: _word(100 * f["rate_um_min"]),
            120: _word(10 * f["temp_c"]),
        }
    if model.results_available:
        assert model.results is not None
        for row in model.results.rows:
            words[120 + row.site] = RESULT_CODES[row.result]
            words[130 + row.site] = row.defect
    return words


def discrete_image(model: EtchBathModel) -> dict[int, bool]:
    """DI 16-27."""
    b = model.bath
    position = model.hoist_position_mm()
    nominal_flow = b.nominal_flow_l_min(model.recipe.pump_speed_pct)
    return {
        16: model.conditions_in_band(),
        17: abs(model.conc_measured - model.recipe.conc_sp) <= model.recipe.conc_band,
        18: not model.level_low,
        19: b.level_mm > LEVEL_HIGH_MM,
        20: position <= TOP_MM + 1e-6,
        21: position >= BOTTOM_MM - 1e-6,
        22: model.carrier_present,
        23: b.pump_running,
        24: b.heater_on,
        25: b.dosing_active,
        26: not model.conditions.get("EXHAUST", False),
        27: b.pump_running and b.flow_l_min >= 0.5 * nominal_flow,
    }


ETCH_BATH_REGISTERS = RegisterMap(
    holding=HOLDING,
    inputs=input_image,
    discretes=discrete_image,
    input_ranges=((100, 140),),
    discrete_ranges=((16, 27),),
    coils=COILS,
)
