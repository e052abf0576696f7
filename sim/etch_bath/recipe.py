"""The WE-2's working recipe (HR 100-118 in engineering units), its §4 cross-checks, and the
END_REASON codes of IR 115."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sim.etch_bath.chemistry import CHEMISTRIES, Chemistry
from sim.modbus_model import ModbusToolModel


class EndReason(IntEnum):
    """IR 115 END_REASON."""

    NONE = 0
    TIME = 1
    DEPTH = 2
    HOST = 3
    MAX_TIME = 4
    ABORTED = 5


@dataclass(frozen=True)
class Recipe:
    """The model's recipe settings (HR 100-118 of the manual)."""

    chemistry: Chemistry
    temp_sp_c: float
    temp_band_c: float
    conc_sp: float
    conc_band: float
    acid_sp_mol_l: float
    orp_sp_mv: float
    cu_load_max_g_l: float
    pump_speed_pct: float
    endpoint_mode: int  # 0 TIME, 1 DEPTH, 2 HOST
    etch_time_s: int
    etch_time_max_s: int
    depth_target_um: float
    lower_speed_mm_s: float
    drip_s: float
    rinse_s: float
    auto_dose: bool
    load_mask: int

    @classmethod
    def of(cls, model: ModbusToolModel) -> Recipe:
        value, count = model.setting, model.setting_int
        return cls(
            chemistry=CHEMISTRIES[count("CHEMISTRY")],
            temp_sp_c=value("TEMP_SP"),
            temp_band_c=value("TEMP_BAND"),
            conc_sp=value("CONC_SP"),
            conc_band=value("CONC_BAND"),
            acid_sp_mol_l=value("ACID_SP"),
            orp_sp_mv=float(value("ORP_SP")),
            cu_load_max_g_l=value("CU_LOAD_MAX"),
            pump_speed_pct=float(value("PUMP_SPEED")),
            endpoint_mode=count("ENDPOINT_MODE"),
            etch_time_s=count("ETCH_TIME_S"),
            etch_time_max_s=count("ETCH_TIME_MAX_S"),
            depth_target_um=value("DEPTH_TARGET"),
            lower_speed_mm_s=float(value("LOWER_SPEED")),
            drip_s=float(value("DRIP_S")),
            rinse_s=float(value("RINSE_S")),
            auto_dose=bool(count("AUTO_DOSE")),
            load_mask=count("LOAD_MASK"),
        )

    def conflicts(self) -> list[str]:
        """The §4 cross-checks at ARM and START that fail (empty: consistent)."""
        c = self.chemistry
        problems = []
        if not c.temp_window_c[0] <= self.temp_sp_c <= c.temp_window_c[1]:
            problems.append(f"TEMP_SP outside {c.temp_window_c} for {c.name}")
        if not c.conc_window[0] <= self.conc_sp <= c.conc_window[1]:
            problems.append(f"CONC_SP outside {c.conc_window} for {c.name}")
        if c.name == "FECL3" and self.cu_load_max_g_l > 100.0:
            problems.append("CU_LOAD_MAX above 100.0 g/L for FECL3")
        if self.endpoint_mode == 0 and self.etch_time_max_s < self.etch_time_s:
            problems.append("ETCH_TIME_MAX_S below ETCH_TIME_S in mode TIME")
        return problems
