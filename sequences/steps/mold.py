"""MOLD (heat-slug claim 1; film claim 1): transfer molding on the mold press, up to 4 strips
per shot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from drivers.mold_press import MoldPress, MoldRecipe, ShotResult
from sequences.recipe.base import fmt
from sequences.steps.batch import BatchStep
from sequences.steps.judging import around, at_least, problems_of, within

#: mold-press.md §3 nominal phase times that no register sets: LOAD, CLAMP, OPEN, CLEAN, UNLOAD.
LOAD_S, CLAMP_S, OPEN_S, CLEAN_S, UNLOAD_S = 10.0, 8.0, 8.0, 20.0, 10.0
#: mold-press.md §5 criteria the manual fixes: clamp force ≥ 95 %, peak transfer ≥ 90 % of SP.
CLAMP_FORCE_MIN_FRACTION = 0.95
TRANSFER_P_MIN_FRACTION = 0.90


@dataclass(frozen=True)
class MoldStep(BatchStep, tool="mold-press", driver=MoldPress, clears={"TEMP", "LOAD"}):
    name: ClassVar[str] = "mold"
    #: The load's values in the unit records: record name -> ShotResult field.
    result_values: ClassVar[Mapping[str, str]] = {
        "fill_time_s": "fill_time_s",
        "peak_transfer_pressure_mpa": "peak_transfer_pressure_mpa",
        "cull_height_mm": "cull_height_mm",
        "alpha_at_open": "alpha_at_open",
        "t_alpha03_s": "t_alpha03_s",
        "chase_temp_min_c": "chase_temp_min_c",
        "chase_temp_max_c": "chase_temp_max_c",
        "clamp_force_min_kn": "clamp_force_min_kn",
    }
    result_block = "shot_result"
    result_map_name = "shot_map"
    batch_max = 4
    #: mold-press.md §8: both chases 25 -> 175 °C at 5 °C/min, +60 s stable: 31 min.
    heat_up_tool_s: ClassVar[float] = 3600.0

    recipe: MoldRecipe

    def setpoint_text(self) -> str:
        m = self.recipe
        return (
            f"{fmt(m.chase_top_sp_c)}/{fmt(m.chase_bottom_sp_c)} °C, "
            f"{fmt(m.transfer_pressure_sp_mpa)} MPa, cure {m.cure_s} s, α ≥ {fmt(m.alpha_min)}"
        )

    @property
    def expected_cycle_tool_s(self) -> float:
        """§3: LOAD + PREHEAT_S + CLAMP + fill + CURE_S + OPEN (+ CLEAN) + UNLOAD (179 s at
        defaults)."""
        r = self.recipe
        clean_s = CLEAN_S if r.auto_clean else 0.0
        return (
            LOAD_S
            + r.preheat_s
            + CLAMP_S
            + r.nominal_fill_s
            + r.cure_s
            + OPEN_S
            + clean_s
            + UNLOAD_S
        )

    def judge_load(self, shot: ShotResult) -> str:
        """The shot's result (IR 110-125) against mold-press.md §5 defect criteria, with the
        master recipe's set-points."""
        r = self.recipe
        low_c = min(r.chase_top_sp_c, r.chase_bottom_sp_c) - r.temp_band_c
        high_c = max(r.chase_top_sp_c, r.chase_bottom_sp_c) + r.temp_band_c
        return problems_of(
            [
                within("fill_time_s", shot.fill_time_s, 0.0, shot.t_alpha03_s, 0.1),
                at_least("alpha_at_open", shot.alpha_at_open, r.alpha_min, 0.001),
                around(
                    "cull_height_mm", shot.cull_height_mm, r.cull_sp_mm, r.cull_tolerance_mm, 0.01
                ),
                at_least("chase_temp_min_c", shot.chase_temp_min_c, low_c, 0.1),
                within("chase_temp_max_c", shot.chase_temp_max_c, low_c, high_c, 0.1),
                at_least(
                    "clamp_force_min_kn",
                    shot.clamp_force_min_kn,
                    CLAMP_FORCE_MIN_FRACTION * r.clamp_force_sp_kn,
                    1.0,
                ),
                at_least(
                    "peak_transfer_pressure_mpa",
                    shot.peak_transfer_pressure_mpa,
                    TRANSFER_P_MIN_FRACTION * r.transfer_pressure_sp_mpa,
                    0.01,
                ),
            ]
        )
