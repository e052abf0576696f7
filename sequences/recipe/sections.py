"""Recipe sections both products share: die bonder placement, wire bond, mold, dice.

Field names carry their unit; ranges are the tool manuals' (the tool would refuse anything
else) unless a process-reference window is narrower, and each field says which.
Handling settings that rarely change per product (pellets per shot, cull, auto-clean...) keep
the manual's default; process set-points have none and must be stated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from drivers.dicing_saw import CutSettings, DicingSaw, max_spindle_speed_krpm
from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.errors import ParameterOutOfRange
from drivers.etch_bath import EndpointMode, EtchBath, EtchRecipe
from drivers.mold_press import MoldPress, MoldRecipe, check_stage_order
from drivers.wire_bonder import (
    CU_GAS_FLOW_MIN_L_MIN,
    WireBonder,
    WireBondParameters,
    fab_window_um,
    lacks_forming_gas,
)
from sequences.recipe.base import (
    CrossCheck,
    LimitWindow,
    RecipeModel,
    StripSpec,
    contains,
    declared,
    declared_range,
    fmt,
    fmt_window,
    refuse_if_problems,
    run_cross_checks,
    span,
    tool_record,
)
from sequences.recipe.process_models import degree_of_cure, etch_time_s, time_to_cure

TOOL_NAME = r"^[A-Za-z0-9._-]{1,16}$"
#: DB-4 DISPense:VOLume range, nL.
DISPENSE_RANGE_NL = declared_range(DieBonder.dispense_volume_nl)


#: A recipe's name, which is its file's name.
RECIPE_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"


class MasterRecipe(RecipeModel):
    """What every master recipe has: its product, name, description and strip, and the
    cross-field checks of its product (``checks``, filled by each product's ``@_check``s),
    run once every section is valid."""

    checks: ClassVar[list[CrossCheck]]

    product: str = Field(description="selects the schema")
    name: str = Field(pattern=RECIPE_NAME, description="recipe name = file name")
    description: str = Field(min_length=1, description="what the recipe makes")
    strip: StripSpec = Field(description="strip format")

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        refuse_if_problems(run_cross_checks(self.checks, self))
        return self


class PlaceSettings(RecipeModel):
    """DB-4 dispense-and-place set-points (die-bonder.md §4) of a glued die or a plate."""

    adhesive: str = Field(min_length=1, description="adhesive product, for the unit records")
    bond_line_um: float = declared(
        DieBonder.place_blt_um, "; Ag-epoxy BLT >= 12 µm, best 12–75 µm (EPO-TEK)"
    )
    dispense_tolerance_pct: int = declared(DieBonder.dispense_tolerance_pct)
    place_force_n: float = declared(DieBonder.place_force_n)
    place_tolerance_xy_um: float = declared(DieBonder.place_tolerance, " xy", part=0)
    place_tolerance_theta_deg: float = declared(DieBonder.place_tolerance, " θ", part=1)
    stage_temperature_c: float = declared(DieBonder.stage_temperature_c)
    cure_enabled: bool = Field(default=True, description="DB-4 CURE:STATe (snap-cure track)")
    cure_temperature_c: float = declared(DieBonder.cure_temperature_c)
    cure_time_s: int = declared(DieBonder.cure_time_s)

    def settings(self, *, mode: str, pattern: str, zref: str, volume_nl: int) -> DieBondSettings:
        """DB-4 §4 parameters for EPOXY or PLATE with the derived dispense volume."""
        return DieBondSettings(
            mode=mode,
            dispense_volume_nl=volume_nl,
            dispense_pattern=pattern,
            dispense_tolerance_pct=self.dispense_tolerance_pct,
            place_zref=zref,
            place_force_n=self.place_force_n,
            place_blt_um=self.bond_line_um,
            place_tolerance=(self.place_tolerance_xy_um, self.place_tolerance_theta_deg),
            stage_temperature_c=self.stage_temperature_c,
            cure_enabled=self.cure_enabled,
            cure_temperature_c=self.cure_temperature_c,
            cure_time_s=self.cure_time_s,
        )


class GapFill(RecipeModel):
    """Second adhesive into the gap between die and opening wall (heat-slug claim 5)."""

    adhesive: str = Field(min_length=1, description="gap-fill adhesive product")
    pattern: Literal["RING", "FILL"] = Field(description="DB-4: GAPFILL needs RING or FILL")
    fill_height_pct: float = span(
        50.0, 100.0, "share of the opening depth filled; volume = gap area × depth × share"
    )
    dispense_tolerance_pct: int = declared(DieBonder.dispense_tolerance_pct)
    stage_temperature_c: float = declared(DieBonder.stage_temperature_c)
    cure_enabled: bool = Field(default=True, description="DB-4 CURE:STATe")
    cure_temperature_c: float = declared(DieBonder.cure_temperature_c)
    cure_time_s: int = declared(DieBonder.cure_time_s)

    def settings(self, *, volume_nl: int) -> DieBondSettings:
        """DB-4 §4 parameters of the GAPFILL pass (ZREF BASE: the slice inside the opening)."""
        return DieBondSettings(
            mode="GAPFILL",
            dispense_volume_nl=volume_nl,
            dispense_pattern=self.pattern,
            dispense_tolerance_pct=self.dispense_tolerance_pct,
            place_zref="BASE",
            stage_temperature_c=self.stage_temperature_c,
            cure_enabled=self.cure_enabled,
            cure_temperature_c=self.cure_temperature_c,
            cure_time_s=self.cure_time_s,
        )


class WireBond(RecipeModel):
    """WB-3 bond program and §4.2 parameters (written over the program after loading it)."""

    #: WireBondParameters field (the WireBonder member) -> this section's field.
    tool_fields: ClassVar[Mapping[str, str]] = {
        "wire_material": "wire_material",
        "wire_diameter_um": "wire_diameter_um",
        "stage_temperature_sp_c": "stage_temperature_c",
        "ball_force_gf": "ball_force_gf",
        "ball_time_ms": "ball_time_ms",
        "ball_ultrasonic_pct": "ball_ultrasonic_pct",
        "stitch_force_gf": "stitch_force_gf",
        "stitch_time_ms": "stitch_time_ms",
        "stitch_ultrasonic_pct": "stitch_ultrasonic_pct",
        "loop_height_um": "loop_height_um",
        "fab_diameter_um": "fab_diameter_um",
        "gas_flow_l_min": "gas_flow_l_min",
        "consecutive_fail_limit": "consecutive_fail_limit",
    }

    program: str = Field(pattern=TOOL_NAME, description="taught bond program on the WB-3")
    wires_per_unit: int = span(1, 2000, "wires of the program (WB-3 WIRES)")
    wire_material: Literal["AU", "CU"] = Field(description="WB-3 WIRE_MAT")
    wire_diameter_um: int = declared(WireBonder.wire_diameter_um, "; 18–50 µm wire (Amtech)")
    stage_temperature_c: float = declared(WireBonder.stage_temperature_sp_c)
    ball_force_gf: int = declared(WireBonder.ball_force_gf)
    ball_time_ms: int = declared(WireBonder.ball_time_ms)
    ball_ultrasonic_pct: int = declared(WireBonder.ball_ultrasonic_pct)
    stitch_force_gf: int = declared(WireBonder.stitch_force_gf)
    stitch_time_ms: int = declared(WireBonder.stitch_time_ms)
    stitch_ultrasonic_pct: int = declared(WireBonder.stitch_ultrasonic_pct)
    loop_height_um: int = declared(WireBonder.loop_height_um, "; loop >= 100 µm, typically 200–300")
    fab_diameter_um: int = declared(WireBonder.fab_diameter_um)
    gas_flow_l_min: float = declared(WireBonder.gas_flow_l_min, " (forming gas)", default=0.6)
    consecutive_fail_limit: int = declared(WireBonder.consecutive_fail_limit, default=3)

    def parameters(self) -> WireBondParameters:
        """The §4.2 parameters the wire-bond step writes over the program."""
        return tool_record(self, WireBondParameters, self.tool_fields)

    def problems(self, where: str) -> list[str]:
        """WB-3 START checks (wire-bonder.md §4.2)."""
        problems = []
        low, high = fab_window_um(self.wire_diameter_um)
        if not low <= self.fab_diameter_um <= high:
            problems.append(
                f"{where}.fab_diameter_um: {self.fab_diameter_um} µm is outside "
                f"{low:g}–{high:g} µm (1.5–3.0 × wire_diameter_um {self.wire_diameter_um}, "
                "WB-3 START check)"
            )
        if lacks_forming_gas(self.wire_material, self.gas_flow_l_min):
            problems.append(
                f"{where}.gas_flow_l_min: {self.gas_flow_l_min:g} L/min is below "
                f"{CU_GAS_FLOW_MIN_L_MIN:g} L/min "
                "(Cu wire needs forming gas, WB-3 START check)"
            )
        return problems


class Mold(RecipeModel):
    """TM-4 shot recipe (mold-press.md §4) and the mold cap it gives."""

    #: MoldRecipe field (the MoldPress member) -> this section's field.
    tool_fields: ClassVar[Mapping[str, str]] = {
        "chase_top_sp_c": "chase_top_temperature_c",
        "chase_bottom_sp_c": "chase_bottom_temperature_c",
        "temp_band_c": "temperature_band_c",
        "clamp_force_sp_kn": "clamp_force_kn",
        "transfer_pressure_sp_mpa": "transfer_pressure_mpa",
        "stage1_end_mm": "stage1_end_mm",
        "stage1_speed_mm_s": "stage1_speed_mm_s",
        "stage2_end_mm": "stage2_end_mm",
        "stage2_speed_mm_s": "stage2_speed_mm_s",
        "stage3_end_mm": "stage3_end_mm",
        "stage3_speed_mm_s": "stage3_speed_mm_s",
        "cure_s": "cure_time_s",
        "pellet_preheat_sp_c": "pellet_preheat_temperature_c",
        "substrate_preheat_sp_c": "substrate_preheat_temperature_c",
        "preheat_s": "preheat_time_s",
        "pellets_per_shot": "pellets_per_shot",
        "cull_sp_mm": "cull_height_mm",
        "cull_tolerance_mm": "cull_tolerance_mm",
        "alpha_min": "alpha_at_open_min",
        "auto_clean": "auto_clean",
        "vacuum_assist": "vacuum_assist",
    }

    compound: str = Field(min_length=1, description="epoxy mold compound product")
    cap_thickness_um: float = span(100.0, 1500.0, "mold cap above the carrier top")
    chase_top_temperature_c: float = declared(MoldPress.chase_top_sp_c, "; EMC window 165–185 °C")
    chase_bottom_temperature_c: float = declared(MoldPress.chase_bottom_sp_c)
    temperature_band_c: float = declared(MoldPress.temp_band_c, " (±)")
    clamp_force_kn: int = declared(MoldPress.clamp_force_sp_kn)
    transfer_pressure_mpa: float = declared(MoldPress.transfer_pressure_sp_mpa, "; 5–10 MPa")
    stage1_end_mm: float = declared(MoldPress.stage1_end_mm, tool_default=True)
    stage1_speed_mm_s: float = declared(MoldPress.stage1_speed_mm_s, tool_default=True)
    stage2_end_mm: float = declared(MoldPress.stage2_end_mm, tool_default=True)
    stage2_speed_mm_s: float = declared(MoldPress.stage2_speed_mm_s, tool_default=True)
    stage3_end_mm: float = declared(MoldPress.stage3_end_mm, " (fill position)", tool_default=True)
    stage3_speed_mm_s: float = declared(MoldPress.stage3_speed_mm_s, tool_default=True)
    cure_time_s: int = declared(MoldPress.cure_s, "; 60–120 s in-mold cure")
    pellet_preheat_temperature_c: float = declared(MoldPress.pellet_preheat_sp_c)
    substrate_preheat_temperature_c: float = declared(MoldPress.substrate_preheat_sp_c)
    preheat_time_s: int = declared(MoldPress.preheat_s)
    pellets_per_shot: int = declared(MoldPress.pellets_per_shot, tool_default=True)
    cull_height_mm: float = declared(MoldPress.cull_sp_mm, tool_default=True)
    cull_tolerance_mm: float = declared(MoldPress.cull_tolerance_mm, tool_default=True)
    alpha_at_open_min: float = declared(MoldPress.alpha_min, ": degree of cure at mold open")
    auto_clean: bool = Field(default=True, description="TM-4 AUTO_CLEAN")
    vacuum_assist: bool = Field(default=True, description="TM-4 VACUUM_ASSIST")

    @property
    def fill_time_s(self) -> float:
        """Nominal plunger travel time of the shot recipe (``MoldRecipe.nominal_fill_s``)."""
        return self.mold_recipe().nominal_fill_s

    @property
    def mold_temperature_c(self) -> float:
        return (self.chase_top_temperature_c + self.chase_bottom_temperature_c) / 2.0

    def mold_recipe(self) -> MoldRecipe:
        """HR 100-120 of one shot."""
        return tool_record(self, MoldRecipe, self.tool_fields)

    def problems(self, where: str) -> list[str]:
        """TM-4 ARM check (S1 < S2 < S3) and the cure model: the cavity fills before the
        compound gels (fill time below t(α = 0.3), else a short shot, defect 4501) and the
        compound reaches ALPHA_MIN by mold open (else under-cure, 4502)."""
        problems = []
        try:
            check_stage_order(self.stage1_end_mm, self.stage2_end_mm, self.stage3_end_mm)
        except ParameterOutOfRange:
            ends = f"{self.stage1_end_mm:g}, {self.stage2_end_mm:g}, {self.stage3_end_mm:g}"
            problems.append(
                f"{where}.stage1_end_mm/stage2_end_mm/stage3_end_mm: {ends} mm must increase "
                "(TM-4 ARM check)"
            )
            return problems
        temperature = self.mold_temperature_c
        gel_s = time_to_cure(0.3, temperature)
        if self.fill_time_s >= gel_s:
            problems.append(
                f"{where}: plunger fill time {self.fill_time_s:.1f} s (stage ends and speeds) is "
                f"not below {gel_s:.1f} s, when the compound reaches α = 0.3 at "
                f"{temperature:g} °C: short shot (process-reference §2.2)"
            )
        alpha = degree_of_cure(temperature, self.fill_time_s + self.cure_time_s)
        if alpha < self.alpha_at_open_min:
            problems.append(
                f"{where}.cure_time_s: {self.cure_time_s} s gives α = {alpha:.3f} at mold open "
                f"({temperature:g} °C, Kamal–Sourour), below alpha_at_open_min "
                f"{self.alpha_at_open_min:g}"
            )
        return problems


class Dice(RecipeModel):
    """DS-2 cut set-points (dicing-saw.md §4): singulation of either product."""

    #: CutSettings field (the DicingSaw member) -> this section's field.
    tool_fields: ClassVar[Mapping[str, str]] = {
        "spindle_speed_krpm": "spindle_speed_krpm",
        "blade_thickness_um": "blade_thickness_um",
        "cut_feed_mm_s": "feed_mm_s",
        "cut_passes": "passes",
        "cut_offset_limit_um": "offset_limit_um",
        "cut_chipping_limit_um": "chipping_limit_um",
    }

    spindle_speed_krpm: float = declared(
        DicingSaw.spindle_speed_krpm, "; mold/Cu strips 25–35 krpm"
    )
    blade_thickness_um: int = declared(DicingSaw.blade_thickness_um)
    feed_mm_s: float = declared(DicingSaw.cut_feed_mm_s, "; mold/Cu strips 20–80 mm/s")
    passes: int = declared(DicingSaw.cut_passes, " (step cut)")
    chipping_limit_um: int = declared(DicingSaw.cut_chipping_limit_um)
    offset_limit_um: int = declared(DicingSaw.cut_offset_limit_um)

    def cut_settings(self) -> CutSettings:
        """The §4 cut set-points of the singulation step (CUT:CHECk at the manual's default)."""
        return tool_record(self, CutSettings, self.tool_fields)

    def problems(self, where: str, street_um: float) -> list[str]:
        """DS-2 START check (spindle speed against blade thickness) and the street: the kerf,
        wherever the offset limit lets it wander, must stay between the package bodies."""
        problems = []
        max_krpm = max_spindle_speed_krpm(self.blade_thickness_um)
        if self.spindle_speed_krpm > max_krpm:
            problems.append(
                f"{where}.spindle_speed_krpm: {self.spindle_speed_krpm:g} krpm is above "
                f"{max_krpm:g} krpm for a {self.blade_thickness_um} µm blade (DS-2 START check)"
            )
        kerf_um = self.blade_thickness_um + 2 * self.offset_limit_um
        if kerf_um > street_um:
            problems.append(
                f"{where}.blade_thickness_um + 2 × offset_limit_um: {kerf_um} µm is wider than "
                f"the {street_um:g} µm street between package bodies"
            )
        return problems


class InspectionLimits(RecipeModel):
    """MS-3 acceptance limits of one mode: a window per field, named for the route by its MS-3
    item in ``ms3_items`` (item -> field, in the order the limits are written); a window left
    out (None) is not inspected."""

    ms3_items: ClassVar[Mapping[str, str]]

    def limits(self) -> dict[str, tuple[float, float]]:
        windows = {item: getattr(self, field) for item, field in self.ms3_items.items()}
        return {item: window for item, window in windows.items() if window is not None}


class PackageInspection(InspectionLimits):
    """MS-3 mode PKG acceptance limits (metrology.md §4)."""

    ms3_items: ClassVar[Mapping[str, str]] = {"THK": "package_thickness_um", "WARP": "warpage_um"}

    package_thickness_um: LimitWindow = Field(description="THK: package thickness, µm")
    warpage_um: LimitWindow = Field(description="WARP: warpage, µm")


class BathSettings(RecipeModel):
    """WE-2 endpoint and handling settings of an etch (etch-bath.md §4); the chemistry's own
    set-points are in the product's etch section."""

    temperature_band_c: float = declared(EtchBath.temp_band_c, " (±)")
    endpoint: Literal["DEPTH", "TIME"] = Field(
        default="DEPTH", description="WE-2 ENDPOINT_MODE: end on the integrated depth, or on time"
    )
    etch_time_s: int | None = declared(EtchBath.etch_time_s, " (endpoint TIME only)", default=None)
    etch_time_max_s: int = declared(EtchBath.etch_time_max_s, ": guard in every mode")
    pump_speed_pct: int = declared(EtchBath.pump_speed_pct, tool_default=True)
    lower_speed_mm_s: int = declared(EtchBath.lower_speed_mm_s, tool_default=True)
    drip_s: int = declared(EtchBath.drip_s, tool_default=True)
    rinse_s: int = declared(EtchBath.rinse_s, tool_default=True)
    auto_dose: bool = Field(default=True, description="WE-2 AUTO_DOSE: replenisher and top-up")

    def endpoint_problems(
        self,
        where: str,
        chemistry: str,
        temperature_c: float,
        concentration: float,
        depth_um: float,
        over_etch: tuple[float, float, float],
    ) -> list[str]:
        """The guard must leave room for a slower bath; a TIME etch must land in the over-etch
        window. ``over_etch`` is (nominal depth without over-etch, min %, max %)."""
        nominal_s = etch_time_s(chemistry, temperature_c, concentration, depth_um)
        problems = []
        needed_s = GUARD_MARGIN * nominal_s
        if self.etch_time_max_s < needed_s:
            problems.append(
                f"{where}.etch_time_max_s: {self.etch_time_max_s} s is below {needed_s:.0f} s "
                f"({GUARD_MARGIN:g} × the nominal {nominal_s:.0f} s to etch {depth_um:g} µm in "
                f"{chemistry} at {temperature_c:g} °C, {concentration:g}; WE-2 rate estimate)"
            )
        if self.endpoint == "TIME":
            if self.etch_time_s is None:
                problems.append(f"{where}.etch_time_s: missing (endpoint TIME needs it)")
                return problems
            base_um, low_pct, high_pct = over_etch
            rate = 60.0 * depth_um / nominal_s
            reached_um = rate * self.etch_time_s / 60.0
            over_pct = 100.0 * (reached_um / base_um - 1.0)
            if not low_pct <= over_pct <= high_pct:
                problems.append(
                    f"{where}.etch_time_s: {self.etch_time_s} s etches {reached_um:.1f} µm at "
                    f"{rate:.1f} µm/min, an over-etch of {over_pct:.1f} % outside "
                    f"{low_pct:g}–{high_pct:g} %"
                )
            if self.etch_time_max_s < self.etch_time_s:
                problems.append(
                    f"{where}.etch_time_max_s: {self.etch_time_max_s} s is below etch_time_s "
                    f"{self.etch_time_s} s (WE-2 settings conflict)"
                )
        elif self.etch_time_s is not None:
            problems.append(f"{where}.etch_time_s: given, but endpoint is {self.endpoint}")
        return problems

    def etch_recipe(
        self,
        *,
        temperature_c: float,
        concentration: float,
        concentration_band: float,
        depth_target_um: float,
        acid_mol_l: float = EtchBath.acid_sp_mol_l.default,
        orp_mv: int = EtchBath.orp_sp_mv.default,
        cu_load_max_g_l: float = EtchBath.cu_load_max_g_l.default,
    ) -> EtchRecipe:
        """HR 101-117 of one carrier."""
        return EtchRecipe(
            temp_sp_c=temperature_c,
            temp_band_c=self.temperature_band_c,
            conc_sp=concentration,
            conc_band=concentration_band,
            acid_sp_mol_l=acid_mol_l,
            orp_sp_mv=orp_mv,
            cu_load_max_g_l=cu_load_max_g_l,
            pump_speed_pct=self.pump_speed_pct,
            endpoint_mode=EndpointMode[self.endpoint],
            etch_time_s=self.etch_time_s if self.etch_time_s is not None else _ETCH_TIME_S,
            etch_time_max_s=self.etch_time_max_s,
            depth_target_um=round(depth_target_um, 2),
            lower_speed_mm_s=self.lower_speed_mm_s,
            drip_s=self.drip_s,
            rinse_s=self.rinse_s,
            auto_dose=self.auto_dose,
        )


_ETCH_TIME_S = EtchBath.etch_time_s.default

#: The etch guard (ETCH_TIME_MAX_S) must allow this multiple of the nominal etch time, so that
#: a bath 20 % slower than its estimate still ends on depth, not on the guard (alarm 5150).
GUARD_MARGIN = 1.25


# -- cross-field checks both products register (each at its place in its own list) ---------------
def strip_is_format(strip_format: str, product: str) -> Callable[[MasterRecipe], list[str]]:
    """The check that the strip is ``strip_format``: the product's tool recipes (die bonder,
    saw, metrology) carry that format's layout."""

    def check(r: MasterRecipe) -> list[str]:
        if r.strip.format != strip_format:
            return [
                f"strip.format: {r.strip.format!r} is not {strip_format!r} "
                f"({product} strips are Format {strip_format})"
            ]
        return []

    return check


def dispense_problems(where: str, volume_nl: int, derived_from: str) -> list[str]:
    """A derived dispense volume the DB-4 refuses (DISPense:VOLume), ``derived_from`` what."""
    low, high = DISPENSE_RANGE_NL
    if low <= volume_nl <= high:
        return []
    return [
        f"{where}: dispense volume {volume_nl} nL ({derived_from}) is outside {low}–{high} nL "
        "(DB-4 DISPense:VOLume)"
    ]


def mold_fills_and_cures(r: Any) -> list[str]:
    """TM-4 ARM check and the cure model."""
    problems: list[str] = r.mold.problems("mold")
    return problems


def saw_fits_street(r: Any) -> list[str]:
    """DS-2 START check and the saw street."""
    problems: list[str] = r.dice.problems("dice", r.strip.layout.street_um)
    return problems


def package_limits_hold_the_package(carrier: str) -> Callable[[Any], list[str]]:
    """The check that the THK window contains the nominal package: ``carrier`` (the section
    under the mold: substrate, film) + mold cap."""

    def check(r: Any) -> list[str]:
        thickness = getattr(r, carrier).thickness_um + r.mold.cap_thickness_um
        limits = r.inspection.package.package_thickness_um
        if not contains(limits, thickness):
            return [
                f"inspection.package.package_thickness_um: {fmt_window(limits)} does not contain "
                f"the nominal {fmt(thickness)} µm ({carrier} + mold cap)"
            ]
        return []

    return check
