"""The WE-2 tank: temperature, composition, level and recirculation (etch-bath.md §3, §5, §8).

Heat-up at 1.5 °C/min (25 → 50 °C plus 60 s stable ≈ 17 min, 25 → 80 °C ≈ 38 min), Newton
cooling of the 100 L tank at 0.3 °C/min near 50 °C, replenisher dosing that pulls
concentration, free acid and ORP to their set-points, copper loading from the dissolved slice
(CUCL2 with dosing bleeds back to 140 g/L), level with evaporation, drag-out and top-up.
The values here are the true ones; sensor noise is added when registers are read.
"""

from __future__ import annotations

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

    def advance(self, dt_s: float, control: BathControl) -> None:
        """Integrate the tank over ``dt_s`` seconds."""
        self._temperature(dt_s, control)
        self.pump_running = control.pump_allowed
        nominal = FLOW_FULL_L_MIN * control.pump_speed_pct / 100.0
        clogged = CLOGGED_FLOW_FRACTION if control.flow_clogged else 1.0
        self.flow_l_min = nominal * clogged if self.pump_running else 0.0
        self._level(dt_s, control)
        self._composition(dt_s, control)

    def nominal_flow_l_min(self, pump_speed_pct: float) -> float:
        return FLOW_FULL_L_MIN * pump_speed_pct / 100.0

    def dissolve(self, cu_g_l: float) -> None:
        """Copper etched off the strips goes into solution."""
        if cu_g_l <= 0.0 or not self.chemistry.is_copper:
            return
        self.cu_load_g_l += cu_g_l
        self.acid_mol_l = max(0.0, self.acid_mol_l - ACID_PER_CU_MOL_PER_G * cu_g_l)
        self.orp_mv -= ORP_PER_CU_MV_PER_G * cu_g_l

    def drag_out(self, strips: int) -> None:
        """A carrier leaving the tank takes some liquid with it."""
        self.level_mm -= DRAG_OUT_MM_PER_STRIP * strips

    def _temperature(self, dt_s: float, control: BathControl) -> None:
        loss_c_per_s = COOL_PER_S * (self.temp_c - AMBIENT_C)
        if control.heater_allowed and self.temp_c < control.temp_sp_c:
            self.temp_c = min(control.temp_sp_c, self.temp_c + HEAT_RATE_C_PER_S * dt_s)
            self.heater_out_pct = 100.0
            return
        if control.heater_allowed and self.temp_c - control.temp_sp_c < 1e-9:
            self.heater_out_pct = min(100.0, 100.0 * loss_c_per_s / HEAT_RATE_C_PER_S)
            return
        self.heater_out_pct = 0.0
        cooled = self.temp_c - loss_c_per_s * dt_s
        if control.heater_allowed:
            cooled = max(cooled, control.temp_sp_c)
        self.temp_c = cooled

    def _level(self, dt_s: float, control: BathControl) -> None:
        if control.leaking:
            self.level_mm = LEAK_LEVEL_MM
            return
        if control.overfilled:
            self.level_mm = OVERFILL_LEVEL_MM
            return
        self.level_mm -= EVAPORATION_MM_PER_S_PER_K * max(0.0, self.temp_c - AMBIENT_C) * dt_s
        if control.dosing_allowed and self.level_mm < NOMINAL_LEVEL_MM:
            self.level_mm = min(NOMINAL_LEVEL_MM, self.level_mm + TOP_UP_MM_PER_S * dt_s)

    def _composition(self, dt_s: float, control: BathControl) -> None:
        copper = self.chemistry.is_copper
        self.dosing_active = control.dosing_allowed and (
            abs(self.conc - control.conc_sp) > 0.05
            or self.level_mm < NOMINAL_LEVEL_MM - 0.5
            or (copper and abs(self.acid_mol_l - control.acid_sp_mol_l) > 0.005)
            or (copper and abs(self.orp_mv - control.orp_sp_mv) > 1.0)
        )
        if not control.dosing_allowed:
            return
        pull = min(1.0, dt_s / DOSING_TAU_S)
        self.conc += (control.conc_sp - self.conc) * pull
        if copper:
            self.acid_mol_l += (control.acid_sp_mol_l - self.acid_mol_l) * pull
            self.orp_mv += (control.orp_sp_mv - self.orp_mv) * pull
        if self.chemistry.code == CUCL2.code:
            bleed = min(1.0, dt_s / CU_BLEED_TAU_S)
            self.cu_load_g_l += (CUCL2_REGENERATED_LOAD_G_L - self.cu_load_g_l) * bleed
