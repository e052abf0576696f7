"""ETCH on the etch bath, up to 10 strips per carrier: the copper slice into a heat slug
exposing the bond pads (heat-slug claims 1, 10, 11), or the PI film recesses with KOH (film
claim 1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from drivers.base import Tool
from drivers.etch_bath import Chemistry, EndpointMode, EtchBath, EtchRecipe, EtchResult
from sequences.recipe.base import fmt
from sequences.recipe.process_models import ETCH_RATES
from sequences.steps.base import driver_for, refuse
from sequences.steps.batch import BatchStep
from sequences.steps.judging import around, at_least, problems_of

#: etch-bath.md §3: LOAD, the rinse's handling, UNLOAD (s), and the hoist's travel (mm).
LOAD_S, RINSE_HANDLING_S, UNLOAD_S, HOIST_TRAVEL_MM = 5.0, 52.0, 5.0, 400.0


@dataclass(frozen=True)
class EtchStep(
    BatchStep,
    tool="etch-bath",
    driver=EtchBath,
    clears={"TEMP", "LOAD", "CARRIER"},
    settings=("chemistry",),
):
    #: The load's values in the unit records: record name -> EtchResult field.
    result_values: ClassVar[Mapping[str, str]] = {
        "depth_um": "final_depth_um",
        "etch_s": "final_etch_s",
        "rate_um_min": "mean_rate_um_min",
        "temp_c": "mean_temp_c",
    }
    result_map_name = "carrier_map"
    batch_max = 10
    #: etch-bath.md §8: 25 -> 80 °C (KOH) in 38 min; the tool's own heat-up timeout alarm
    #: (5105) comes at 60 min, so the host's bound lies beyond it.
    heat_up_tool_s: ClassVar[float] = 3900.0

    #: "etch" (copper slug etch) or "recess (etch)" (KOH on PI film).
    kind: str
    #: The chemistry the station must hold (checked against the station setting before arming).
    chemistry: Chemistry
    recipe: EtchRecipe

    @property
    def name(self) -> str:
        return self.kind

    def setpoint_text(self) -> str:
        e = self.recipe
        unit = "wt%" if self.chemistry is Chemistry.KOH else "°Bé"
        end = (
            f"depth {fmt(e.depth_target_um)} µm"
            if e.endpoint_mode.name == "DEPTH"
            else f"time {e.etch_time_s} s"
        )
        return (
            f"{self.chemistry.name} {fmt(e.temp_sp_c)} °C {fmt(e.conc_sp)} {unit}, {end}, "
            f"guard {e.etch_time_max_s} s"
        )

    @property
    def etch_tool_s(self) -> float:
        """The ETCH phase: ETCH_TIME_S (mode TIME), or DEPTH_TARGET at the §5 rate estimate for
        TEMP_SP and CONC_SP, at most ETCH_TIME_MAX_S (mode DEPTH)."""
        r = self.recipe
        if r.endpoint_mode is EndpointMode.TIME:
            return float(r.etch_time_s)
        rate_um_min = ETCH_RATES[Chemistry(self.chemistry).name].rate_um_min(r.temp_sp_c, r.conc_sp)
        return min(float(r.etch_time_max_s), 60.0 * r.depth_target_um / rate_um_min)

    @property
    def expected_cycle_tool_s(self) -> float:
        """§3: LOAD, LOWER, ETCH, RAISE, DRIP, RINSE, UNLOAD (≈ 582 s for CuCl2 to 230 µm,
        ≈ 464 s for the KOH recess to 25 µm)."""
        r = self.recipe
        travel_s = HOIST_TRAVEL_MM / r.lower_speed_mm_s
        handling_s = LOAD_S + 2 * travel_s + r.drip_s + r.rinse_s + RINSE_HANDLING_S + UNLOAD_S
        return handling_s + self.etch_tool_s

    # -- phases --------------------------------------------------------------------------------
    def check(self, tool: Tool) -> None:
        """Interlocks, the recipe's ranges, the station's CHEMISTRY (the step's, else refused
        naming both), the §4 windows for that chemistry, and an endpoint the step can run."""
        super().check(tool)
        bath = driver_for(self, tool, EtchBath)
        station = Chemistry(bath.chemistry)
        if station != self.chemistry:
            raise refuse(
                self.name,
                tool,
                f"the station's CHEMISTRY is {station.name}, the step needs {self.chemistry.name}",
            )
        conflicts = self.recipe.conflicts(self.chemistry)
        if conflicts:
            raise refuse(self.name, tool, "; ".join(conflicts))
        if self.recipe.endpoint_mode is EndpointMode.HOST:
            raise refuse(
                self.name, tool, "ENDPOINT_MODE HOST needs a host endpoint loop; use TIME or DEPTH"
            )

    def arm_options(self) -> dict[str, Any]:
        """ARM checks the recipe against the station's CHEMISTRY (slots 1..n; READY: the bath
        at TEMP_SP)."""
        return {"chemistry": self.chemistry}

    def load_summary(self, result: EtchResult) -> dict[str, Any]:
        return {"end_reason": result.end_reason.name, self.result_map_name: result.result_map}

    def judge_load(self, result: EtchResult) -> str:
        """IR 115-140 against DEPTH_TARGET (a depth the tool does not judge in mode TIME) and
        TEMP_SP ± TEMP_BAND."""
        r = self.recipe
        return problems_of(
            [
                at_least("depth_um", result.final_depth_um, r.depth_target_um, 0.01),
                around("temp_c", result.mean_temp_c, r.temp_sp_c, r.temp_band_c, 0.1),
            ]
        )
