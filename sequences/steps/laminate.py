"""LAMINATE (heat-slug claims 1, 4, 9): the Cu slice with sheet adhesive under the substrate,
on the laminator, up to 8 strips per press load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from drivers.laminator import LaminationRecipe, LaminationResult, Laminator
from sequences.recipe.base import fmt
from sequences.steps.batch import BatchStep
from sequences.steps.judging import at_least, at_most, problems_of

#: laminator.md §7 alarm 1122: vacuum is lost in DWELL above twice VACUUM_SP.
VACUUM_LOST_FACTOR = 2.0


@dataclass(frozen=True)
class LaminateStep(BatchStep, tool="laminator", driver=Laminator, clears={"TEMP", "LOAD"}):
    name: ClassVar[str] = "laminate"
    #: The load's values in the unit records: record name -> LaminationResult field.
    result_values: ClassVar[Mapping[str, str]] = {
        "peak_temp_c": "peak_temp_c",
        "max_temp_dev_c": "max_temp_dev_c",
        "min_pressure_dwell_mpa": "min_pressure_dwell_mpa",
        "max_vacuum_dwell_kpa": "max_vacuum_dwell_kpa",
        "dwell_actual_s": "dwell_actual_s",
    }
    result_map_name = "load_map"
    batch_max = 8
    #: laminator.md §9: 25 -> 100 °C standby in 11 min; the tool's own heat-up timeout alarm
    #: (1105) comes at 30 min, so the host's bound lies beyond it.
    heat_up_tool_s: ClassVar[float] = 2400.0

    recipe: LaminationRecipe

    def setpoint_text(self) -> str:
        r = self.recipe
        return (
            f"{fmt(r.platen_sp_c)} °C, {fmt(r.pressure_sp_mpa)} MPa, dwell {r.dwell_s} s, "
            f"vacuum {fmt(r.vacuum_sp_kpa)} kPa"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """§9: close, evacuate, pressurize, ramp, dwell, cool and vent of the recipe (≈ 94 min
        at defaults)."""
        return self.recipe.nominal_cycle_s

    def judge_load(self, result: LaminationResult) -> str:
        """IR 110-130: the whole dwell at PLATEN_SP ± TEMP_BAND, PRESSURE_SP - PRESSURE_BAND and
        under vacuum (the tool fails a load only for excursions longer than its alarm delays).
        READY means the platens are at STANDBY_SP."""
        r = self.recipe
        return problems_of(
            [
                at_least("dwell_actual_s", result.dwell_actual_s, r.dwell_s, 1.0),
                at_most("max_temp_dev_c", result.max_temp_dev_c, r.temp_band_c, 0.1),
                at_least(
                    "min_pressure_dwell_mpa",
                    result.min_pressure_dwell_mpa,
                    r.pressure_sp_mpa - r.pressure_band_mpa,
                    0.01,
                ),
                at_most(
                    "max_vacuum_dwell_kpa",
                    result.max_vacuum_dwell_kpa,
                    VACUUM_LOST_FACTOR * r.vacuum_sp_kpa,
                    0.1,
                ),
            ]
        )
