"""Etch chemistries of the WE-2 (etch-bath.md §1, §4, §5) and the etch-rate model of §5.

r = r_ref · exp[−(Ea/R)(1/T − 1/T_ref)] · (C/C_ref)^a · g, T in K, C = CONC_PV.
CUCL2 at 50 °C / 32 °Bé gives r_ref = 33 µm/min (230 µm in 418 s); KOH at 80 °C / 30 wt%
gives 5 µm/min (25 µm in 300 s). FECL3 ages with its copper loading: g = 1 − CU_LOAD/100 g/L.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

R_J_PER_MOL_K = 8.314
KELVIN = 273.15
#: Copper loading added to a 100 L bath by one Format A strip whose 200 µm slice is etched
#: through (etch-bath.md §5): g/L per µm of slice removed.
CU_LOAD_G_L_PER_STRIP_UM = 0.17 / 200.0
#: CUCL2 with AUTO_DOSE regenerates and bleeds to hold the loading here (§5).
CUCL2_REGENERATED_LOAD_G_L = 140.0


@dataclass(frozen=True)
class Chemistry:
    """One row of the CHEMISTRY table with its rate constants, windows and fresh-bath state."""

    code: int
    name: str
    r_ref_um_min: float
    t_ref_c: float
    c_ref: float
    ea_j_mol: float
    order: float
    temp_window_c: tuple[float, float]
    conc_window: tuple[float, float]
    etch_factor: float  # downward : sideways (process-reference §1); KOH: not used
    fresh_conc: float
    fresh_acid_mol_l: float
    fresh_orp_mv: float
    fresh_cu_load_g_l: float

    #: CUCL2 and FECL3 etch copper (Package A); KOH etches polyimide (Package B).
    is_copper: bool = True


CUCL2 = Chemistry(
    1, "CUCL2", 33.0, 50.0, 32.0, 30_000.0, 1.0, (45.0, 55.0), (28.0, 36.0), 3.0,
    fresh_conc=32.0, fresh_acid_mol_l=1.35, fresh_orp_mv=540.0,
    fresh_cu_load_g_l=CUCL2_REGENERATED_LOAD_G_L,
)  # fmt: skip
FECL3 = Chemistry(
    2, "FECL3", 20.0, 45.0, 40.0, 20_000.0, 1.0, (40.0, 55.0), (36.0, 42.0), 2.8,
    fresh_conc=40.0, fresh_acid_mol_l=0.17, fresh_orp_mv=580.0, fresh_cu_load_g_l=0.0,
)  # fmt: skip
KOH = Chemistry(
    3, "KOH", 5.0, 80.0, 30.0, 60_000.0, 1.5, (65.0, 90.0), (10.0, 45.0), 1.0,
    fresh_conc=30.0, fresh_acid_mol_l=0.0, fresh_orp_mv=0.0, fresh_cu_load_g_l=0.0,
    is_copper=False,
)  # fmt: skip

CHEMISTRIES: dict[int, Chemistry] = {c.code: c for c in (CUCL2, FECL3, KOH)}


def ageing_factor(chemistry: Chemistry, cu_load_g_l: float) -> float:
    """g of §5: 1 − CU_LOAD/100 g/L for FECL3 (a dead bath at 100 g/L), 1 otherwise."""
    if chemistry.code != FECL3.code:
        return 1.0
    return max(0.0, 1.0 - cu_load_g_l / 100.0)


def etch_rate_um_min(
    chemistry: Chemistry, temp_c: float, conc: float, cu_load_g_l: float = 0.0
) -> float:
    """Etch rate in µm/min at bath temperature ``temp_c`` and concentration ``conc``."""
    if conc <= 0.0:
        return 0.0
    t_k = temp_c + KELVIN
    t_ref_k = chemistry.t_ref_c + KELVIN
    arrhenius = math.exp(-(chemistry.ea_j_mol / R_J_PER_MOL_K) * (1.0 / t_k - 1.0 / t_ref_k))
    concentration = (conc / chemistry.c_ref) ** chemistry.order
    return (
        chemistry.r_ref_um_min * arrhenius * concentration * ageing_factor(chemistry, cu_load_g_l)
    )
