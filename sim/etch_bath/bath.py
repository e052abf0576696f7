"""The WE-2 tank: temperature, composition, level and recirculation (etch-bath.md §3, §5, §8).

Heat-up at 1.5 °C/min (25 → 50 °C plus 60 s stable ≈ 17 min, 25 → 80 °C ≈ 38 min), Newton
cooling of the 100 L tank at 0.3 °C/min near 50 °C, replenisher dosing that pulls
concentration, free acid and ORP to their set-points, copper loading from the dissolved slice
(CUCL2 with dosing bleeds back to 140 g/L), level with evaporation, drag-out and top-up.
The values here are the true ones; sensor noise is added when registers are read.

Every piece is in closed form for a step of any length at constant control and a constant
copper dissolution rate (a linear ramp, Newton cooling, first-order dosing against a constant
source), so the model can jump from event to event (:mod:`sim.etch_bath.events`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.etch_bath.chemistry import CUCL2, CUCL2_REGENERATED_LOAD_G_L, Chemistry

AMBIENT_C = 25.0
HEAT_RATE_C_PER_S = 1.5 / 60.0
#: Newton cooling coefficient: 0.3 °C/min at 50 °C (25 K above ambient).
COOL_PER_S = 0.3 / 60.0 / 25.0
NOMINAL_LEVEL_MM = 400.0
LEVEL_LOW_MM = 350.0
LEVEL_HIGH_MM = 450.0
#: A leak (condition LEVEL) and an overfill (LEVEL_HIGH) leave the level here.
LEAK_LEVEL_MM = 340.0
OVERFILL_LEVEL_MM = 460.0
TOP_UP_MM_PER_S = 1.0
EVAPORATION_MM_PER_S_PER_K = 0.5 / 3600.0 / 25.0  # 0.5 mm/h at 50 °C
DRAG_OUT_MM_PER_STRIP = 0.05
DOSING_TAU_S = 120.0
CU_BLEED_TAU_S = 600.0
#: Recirculation flow at PUMP_SPEED 100 %; a clogged filter (condition FLOW) passes 30 %.
FLOW_FULL_L_MIN = 50.0
CLOGGED_FLOW_FRACTION = 0.3
#: Without regeneration, each g/L of dissolved copper costs free acid and ORP.
ACID_PER_CU_MOL_PER_G = 0.03
ORP_PER_CU_MV_PER_G = 3.0


@dataclass
class BathControl:
    """What the station's controllers are asked to do in one time step."""

    temp_sp_c: float
    conc_sp: float
    acid_sp_mol_l: float
    orp_sp_mv: float
    pump_speed_pct: float
    heater_allowed: bool
    pump_allowed: bool
    dosing_allowed: bool
    flow_clogged: bool = False
    leaking: bool = False
    overfilled: bool = False


class Bath:
    """The tank's state for one chemistry."""

    def __init__(self, chemistry: Chemistry, *, temp_c: float = AMBIENT_C) -> None:
        self.temp_c = temp_c
        self.heater_out_pct = 0.0
        self.flow_l_min = 0.0
        self.pump_running = False
        self.dosing_active = False
        self.level_mm = NOMINAL_LEVEL_MM
        self.renew(chemistry)

    def renew(self, chemistry: Chemistry) -> None:
        """A fresh bath of ``chemistry`` (make-up, or after a chemistry change or a dump)."""
        self.chemistry = chemistry
        self.conc = chemistry.fresh_conc
        self.acid_mol_l = chemistry.fresh_acid_mol_l
        self.orp_mv = chemistry.fresh_orp_mv
        self.cu_load_g_l = chemistry.fresh_cu_load_g_l

    @property
    def heater_on(self) -> bool:
        return self.heater_out_pct > 0.0

    def advance(self, dt_s: float, control: BathControl, cu_g_l_s: float = 0.0) -> None:
        """Integrate the tank over ``dt_s`` seconds while copper dissolves at ``cu_g_l_s``."""
        evaporated_mm = self._temperature(dt_s, control)
        self.pump_running = control.pump_allowed
        nominal = FLOW_FULL_L_MIN * control.pump_speed_pct / 100.0
        clogged = CLOGGED_FLOW_FRACTION if control.flow_clogged else 1.0
        self.flow_l_min = nominal * clogged if self.pump_running else 0.0
        self._level(dt_s, control, evaporated_mm)
        self._composition(dt_s, control, cu_g_l_s if self.chemistry.is_copper else 0.0)

    def nominal_flow_l_min(self, pump_speed_pct: float) -> float:
        return FLOW_FULL_L_MIN * pump_speed_pct / 100.0

    def drag_out(self, strips: int) -> None:
        """A carrier leaving the tank takes some liquid with it."""
        self.level_mm -= DRAG_OUT_MM_PER_STRIP * strips

    def _temperature(self, dt_s: float, control: BathControl) -> float:
        """Heat (a linear ramp up to the set-point), hold, or cool (Newton, down to the
        set-point if the heater may run); return the level evaporated meanwhile (mm)."""
        start_c = self.temp_c
        loss_c_per_s = COOL_PER_S * (start_c - AMBIENT_C)
        if control.heater_allowed and start_c < control.temp_sp_c:
            ramp_s = min(dt_s, (control.temp_sp_c - start_c) / HEAT_RATE_C_PER_S)
            self.temp_c = min(control.temp_sp_c, start_c + HEAT_RATE_C_PER_S * dt_s)
            self.heater_out_pct = 100.0
            mean_c = start_c + HEAT_RATE_C_PER_S * ramp_s / 2.0  # over the ramp, then held
            excess_k_s = (mean_c - AMBIENT_C) * ramp_s + (self.temp_c - AMBIENT_C) * (dt_s - ramp_s)
            return EVAPORATION_MM_PER_S_PER_K * max(0.0, excess_k_s)
        if control.heater_allowed and start_c - control.temp_sp_c < 1e-9:
            self.heater_out_pct = min(100.0, 100.0 * loss_c_per_s / HEAT_RATE_C_PER_S)
            return EVAPORATION_MM_PER_S_PER_K * max(0.0, start_c - AMBIENT_C) * dt_s
        self.heater_out_pct = 0.0
        floor_c = control.temp_sp_c if control.heater_allowed else -math.inf
        cool_s = dt_s
        if floor_c > AMBIENT_C:  # cooling stops at the set-point
            cool_s = min(dt_s, math.log((start_c - AMBIENT_C) / (floor_c - AMBIENT_C)) / COOL_PER_S)
        decay = math.exp(-COOL_PER_S * cool_s)
        self.temp_c = max(floor_c, AMBIENT_C + (start_c - AMBIENT_C) * decay)
        excess_k_s = (start_c - AMBIENT_C) * (1.0 - decay) / COOL_PER_S + max(
            0.0, self.temp_c - AMBIENT_C
        ) * (dt_s - cool_s)
        return EVAPORATION_MM_PER_S_PER_K * max(0.0, excess_k_s)

    def _level(self, dt_s: float, control: BathControl, evaporated_mm: float) -> None:
        if control.leaking:
            self.level_mm = LEAK_LEVEL_MM
            return
        if control.overfilled:
            self.level_mm = OVERFILL_LEVEL_MM
            return
        self.level_mm -= evaporated_mm
        if control.dosing_allowed and self.level_mm < NOMINAL_LEVEL_MM:
            self.level_mm = min(NOMINAL_LEVEL_MM, self.level_mm + TOP_UP_MM_PER_S * dt_s)

    def _composition(self, dt_s: float, control: BathControl, cu_g_l_s: float) -> None:
        """Dosing pulls towards the set-points (first order) while dissolving copper loads the
        bath and costs free acid and ORP at a constant rate: exact for any step."""
        copper = self.chemistry.is_copper
        if control.dosing_allowed:
            self.conc = settle(self.conc, control.conc_sp, 0.0, DOSING_TAU_S, dt_s)
            if copper:
                self.acid_mol_l = settle(
                    self.acid_mol_l, control.acid_sp_mol_l,
                    -ACID_PER_CU_MOL_PER_G * cu_g_l_s, DOSING_TAU_S, dt_s,
                )  # fmt: skip
                self.orp_mv = settle(
                    self.orp_mv, control.orp_sp_mv,
                    -ORP_PER_CU_MV_PER_G * cu_g_l_s, DOSING_TAU_S, dt_s,
                )  # fmt: skip
        elif copper:
            self.acid_mol_l -= ACID_PER_CU_MOL_PER_G * cu_g_l_s * dt_s
            self.orp_mv -= ORP_PER_CU_MV_PER_G * cu_g_l_s * dt_s
        if self.chemistry.code == CUCL2.code and control.dosing_allowed:
            self.cu_load_g_l = settle(
                self.cu_load_g_l, CUCL2_REGENERATED_LOAD_G_L, cu_g_l_s, CU_BLEED_TAU_S, dt_s
            )
        else:
            self.cu_load_g_l += cu_g_l_s * dt_s
        self.acid_mol_l = max(0.0, self.acid_mol_l)
        self.dosing_active = control.dosing_allowed and (
            abs(self.conc - control.conc_sp) > 0.05
            or self.level_mm < NOMINAL_LEVEL_MM - 0.5
            or (copper and abs(self.acid_mol_l - control.acid_sp_mol_l) > 0.005)
            or (copper and abs(self.orp_mv - control.orp_sp_mv) > 1.0)
        )


def settle(value: float, setpoint: float, source_per_s: float, tau_s: float, dt_s: float) -> float:
    """``value`` after ``dt_s`` of dx/dt = source + (setpoint − x)/τ: first order towards
    setpoint + source·τ (where a constant source and the pull balance)."""
    goal = setpoint + source_per_s * tau_s
    return goal + (value - goal) * math.exp(-dt_s / tau_s)
