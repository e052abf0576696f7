"""The heat-slug BGA master recipe (seeds/heat-slug-package-claims.txt).

A copper slice is laminated with sheet adhesive under a substrate with an opening (claims 1, 4,
9); the die goes on the slice inside the opening or on the substrate top, as its size against
the opening says (claims 5-8); wire bond, mold, the slice is etched into a heat slug exposing
the bottom pads (claims 1, 10, 11), and solder balls taller than the slug is thick are
attached (claims 2, 3).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from drivers.ball_attach import BallAttach, BallAttachSettings, ReflowLimits
from drivers.errors import ParameterOutOfRange
from drivers.etch_bath import WINDOWS, Chemistry, EtchBath
from drivers.laminator import STANDBY_GAP_C, LaminationRecipe, Laminator
from sequences.recipe.base import (
    CrossCheck,
    LimitWindow,
    RecipeModel,
    StripSpec,
    contains,
    cross_check,
    declared,
    declared_range,
    fmt,
    fmt_window,
    outside,
    span,
    tool_record,
    window_check,
)
from sequences.recipe.process_models import reflow_profile
from sequences.recipe.sections import (
    BathSettings,
    Dice,
    GapFill,
    InspectionLimits,
    MasterRecipe,
    Mold,
    PackageInspection,
    PlaceSettings,
    WireBond,
    dispense_problems,
    mold_fills_and_cures,
    package_limits_hold_the_package,
    saw_fits_street,
    strip_is_format,
)

#: Die and opening sides that differ by at most this much are "equal" (claim 6): the die fills
#: the opening within the sawing tolerance of a die and the routing tolerance of an opening.
EQUAL_TOLERANCE_MM = 0.10
#: A die larger than the opening rests on the substrate top all round by at least this much.
MIN_OVERLAP_MM = 0.25
#: Room around the die for the wire-bond fingers on the substrate top, per side.
BOND_FINGER_MARGIN_MM = 1.0
#: SAC305 profile windows (process-reference §1): ramp 1–3 °C/s (Tuya), cool <= 6 °C/s (J-STD-020).
MAX_RAMP_C_S, MAX_COOL_C_S = 3.0, 6.0
#: Reflowed ball height as a share of the ball diameter (0.8 nominal; 0.6-0.9 accepted).
BALL_HEIGHT_SHARE = (0.6, 0.9)
#: For <= 1.0 mm pitch: 0.3–0.6 mm balls and coplanarity <= 0.15 mm (process-reference [E]).
FINE_PITCH_MM, FINE_PITCH_BALL_MM, FINE_PITCH_COPLANARITY_UM = 1.0, (0.30, 0.60), 150.0
#: Free HCl of a cupric chloride bath, mol/L (process-reference §1, Cu etch table).
CUCL2_ACID_MOL_L = (1.3, 1.4)
#: A regenerated cupric bath holds about 140 g/L Cu (etch-bath.md §5); the alarm limit needs room.
CUCL2_CU_LOAD_MIN_G_L = 150.0
#: Ferric chloride: ±1.5 °C (process-reference §1); the WE-2 windows are the driver's WINDOWS.
FECL3_TEMPERATURE_BAND_C = 1.5


class DieAttachVariant(Enum):
    """Where the die goes, from its size against the opening (claims 5-8)."""

    SMALLER = "smaller"  # claim 5: on the slice inside the opening, then gap fill
    EQUAL = "equal"  # claim 6: on the slice inside the opening
    LARGER = "larger"  # claims 7, 8: on the substrate top, adhesive fills the opening

    @property
    def claims(self) -> str:
        """The claims it implements, as the route sheet writes them (``A`` for this patent)."""
        return {"smaller": "A5", "equal": "A6", "larger": "A7, A8"}[self.value]


def die_attach_variant(
    die_x_mm: float, die_y_mm: float, opening_x_mm: float, opening_y_mm: float
) -> DieAttachVariant | None:
    """SMALLER when the die fits the opening with a gap, EQUAL when both sides are within
    ±0.10 mm of the opening's, LARGER when the die overhangs the opening on every side; None
    for a die that is larger along one side only (no claim covers it)."""
    dx = round(die_x_mm - opening_x_mm, 6)
    dy = round(die_y_mm - opening_y_mm, 6)
    if abs(dx) <= EQUAL_TOLERANCE_MM and abs(dy) <= EQUAL_TOLERANCE_MM:
        return DieAttachVariant.EQUAL
    if dx <= EQUAL_TOLERANCE_MM and dy <= EQUAL_TOLERANCE_MM:
        return DieAttachVariant.SMALLER
    if dx > EQUAL_TOLERANCE_MM and dy > EQUAL_TOLERANCE_MM:
        return DieAttachVariant.LARGER
    return None


# -- geometry and materials -----------------------------------------------------------------------
class Substrate(RecipeModel):
    """The BGA substrate and its opening (claim 1); the opening depth is the substrate's."""

    thickness_um: float = span(100.0, 1000.0, "substrate thickness = opening depth (Format A 360)")
    opening_x_mm: float = span(1.0, 15.0, "opening along X (Format A 7.0)")
    opening_y_mm: float = span(1.0, 15.0, "opening along Y (Format A 7.0)")

    @property
    def opening_area_mm2(self) -> float:
        return self.opening_x_mm * self.opening_y_mm


class Die(RecipeModel):
    """The die's bottom outline and thickness."""

    size_x_mm: float = span(0.5, 16.0, "die along X")
    size_y_mm: float = span(0.5, 16.0, "die along Y")
    thickness_um: float = span(50.0, 800.0, "die thickness")

    @property
    def area_mm2(self) -> float:
        return self.size_x_mm * self.size_y_mm


class Slice(RecipeModel):
    """The metal slice under the substrate (claim 1): copper (claim 9)."""

    material: Literal["Cu"] = Field(description="claim 9: the slice is copper")
    thickness_um: float = span(
        50.0, 300.0, "Cu slice; the slug must stay thinner than the balls (≲ 0.3 mm)"
    )


class SliceAdhesive(RecipeModel):
    """The sheet adhesive that bonds the slice to the substrate (claim 4)."""

    material: str = Field(min_length=1, description="sheet adhesive product")
    thickness_um: float = span(13.0, 102.0, "sheet adhesive 13–102 µm (Pyralux LF)")


class Laminate(RecipeModel):
    """LM-8 press profile (laminator.md §4); process window 150–190 °C, 1–3 MPa, 2–5 °C/min,
    30–90 min dwell, under vacuum."""

    #: LaminationRecipe field (the Laminator member) -> this section's field.
    tool_fields: ClassVar[Mapping[str, str]] = {
        "platen_sp_c": "platen_temperature_c",
        "standby_sp_c": "standby_temperature_c",
        "ramp_rate_c_per_min": "ramp_rate_c_per_min",
        "dwell_s": "dwell_s",
        "cool_rate_c_per_min": "cool_rate_c_per_min",
        "unload_sp_c": "unload_temperature_c",
        "pressure_sp_mpa": "pressure_mpa",
        "pressure_band_mpa": "pressure_band_mpa",
        "temp_band_c": "temperature_band_c",
        "vacuum_sp_kpa": "vacuum_kpa",
        "evac_s": "evacuation_s",
    }

    platen_temperature_c: float = declared(Laminator.platen_sp_c, "; lamination 150–190 °C")
    standby_temperature_c: float = declared(Laminator.standby_sp_c)
    ramp_rate_c_per_min: float = declared(Laminator.ramp_rate_c_per_min, "; 2–5 °C/min")
    dwell_s: int = declared(Laminator.dwell_s, "; 30–90 min")
    cool_rate_c_per_min: float = declared(Laminator.cool_rate_c_per_min, " (controlled cool-down)")
    unload_temperature_c: float = declared(Laminator.unload_sp_c)
    pressure_mpa: float = declared(Laminator.pressure_sp_mpa, "; 1–3 MPa")
    pressure_band_mpa: float = declared(Laminator.pressure_band_mpa, " (±)", tool_default=True)
    temperature_band_c: float = declared(Laminator.temp_band_c, " (±); ±2 °C", tool_default=True)
    vacuum_kpa: float = declared(Laminator.vacuum_sp_kpa, ", absolute")
    evacuation_s: int = declared(Laminator.evac_s)

    def lamination_recipe(self) -> LaminationRecipe:
        """HR 100-110 of one press load."""
        return tool_record(self, LaminationRecipe, self.tool_fields)


class SlugEtch(BathSettings):
    """WE-2 copper etch of the slice into the heat slug (claims 1, 10, 11)."""

    chemistry: Literal["CUCL2", "FECL3"] = Field(description="WE-2 CHEMISTRY of the station")
    temperature_c: float = span(40.0, 55.0, "WE-2 TEMP_SP: CUCL2 45–55, FECL3 40–55 °C")
    concentration_be: float = span(28.0, 42.0, "WE-2 CONC_SP: CUCL2 28–36, FECL3 36–42 °Bé")
    concentration_band_be: float = declared(EtchBath.conc_band, " (±)")
    acid_mol_l: float = declared(EtchBath.acid_sp_mol_l, ", free HCl")
    orp_mv: int = declared(EtchBath.orp_sp_mv)
    cu_load_max_g_l: float = declared(EtchBath.cu_load_max_g_l)
    over_etch_pct: float = span(10.0, 20.0, "etch beyond the slice thickness, 10–20 %")


_PEAK_C = declared_range(BallAttach.reflow_limits, 0)
_TAL_S = declared_range(BallAttach.reflow_limits, 2)
ReflowPeakWindow = Annotated[
    tuple[float, float], window_check(*_PEAK_C, "BA-8 REFLow:LIMits peak", strict=True)
]
ReflowTalWindow = Annotated[
    tuple[float, float], window_check(*_TAL_S, "BA-8 REFLow:LIMits TAL", strict=True)
]
_ZONE_C = declared_range(BallAttach.zone_temperature_c)
ZoneTemperature = Annotated[
    float, Field(ge=_ZONE_C[0], le=_ZONE_C[1], description="BA-8 REFLow:ZONE<n>")
]


class Balls(RecipeModel):
    """BA-8 ball attach (claim 2) and the nominal ball height claim 3 is judged against."""

    alloy: Literal["SAC305"] = Field(description="BA-8 BALL:ALLoy; the profile model is SAC305's")
    ball_diameter_mm: float = declared(BallAttach.ball_diameter_mm)
    ball_pitch_mm: float = span(0.40, 1.27, "land pitch (Format A 1.00 mm)")
    balls_per_site: int = declared(BallAttach.balls_per_site, " (Format A 192)")
    ball_height_um: float = span(100.0, 900.0, "nominal reflowed ball height (claim 3)")
    flux_thickness_um: int = declared(BallAttach.flux_thickness_um)
    zone_temperatures_c: tuple[
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
        ZoneTemperature,
    ] = Field(description="BA-8 REFLow:ZONE1..8:TEMPerature")
    reflow_speed_mm_s: float = declared(BallAttach.reflow_speed_mm_s)
    peak_window_c: ReflowPeakWindow = Field(description="BA-8 REFLow:LIMits peak; SAC305 235–245")
    time_above_liquidus_window_s: ReflowTalWindow = Field(
        description="BA-8 REFLow:LIMits TAL; SAC305 50–70 s"
    )

    def ball_attach_settings(self) -> BallAttachSettings:
        """The BA-8 §4 set-points of the ball-attach step."""
        return BallAttachSettings(
            flux_thickness_um=self.flux_thickness_um,
            ball_diameter_mm=self.ball_diameter_mm,
            balls_per_site=self.balls_per_site,
            zone_temperature_c=self.zone_temperatures_c,
            reflow_speed_mm_s=self.reflow_speed_mm_s,
            reflow_limits=ReflowLimits(*self.peak_window_c, *self.time_above_liquidus_window_s),
        )


class SlugInspection(InspectionLimits):
    """MS-3 mode SLUG limits (after the etch)."""

    ms3_items: ClassVar[Mapping[str, str]] = {
        "SLUG": "slug_protrusion_um",
        "PADX": "pad_exposure_pct",
        "RESCU": "residual_cu_um",
    }

    slug_protrusion_um: LimitWindow = Field(description="SLUG: slug below the substrate bottom")
    pad_exposure_pct: LimitWindow = Field(description="PADX: exposed pad area")
    residual_cu_um: LimitWindow = Field(description="RESCU: copper left on the pads")


class BallInspection(InspectionLimits):
    """MS-3 mode BALL limits (after ball attach): claim 2 (flush balls), claim 3 (CLEAR)."""

    ms3_items: ClassVar[Mapping[str, str]] = {
        "BALLH": "ball_height_um",
        "COPL": "coplanarity_um",
        "CLEAR": "clearance_um",
        "MISS": "missing_balls",
    }

    ball_height_um: LimitWindow = Field(description="BALLH: mean ball height")
    coplanarity_um: LimitWindow = Field(description="COPL: coplanarity")
    clearance_um: LimitWindow = Field(description="CLEAR: min ball height − slug protrusion")
    missing_balls: LimitWindow = Field(description="MISS: missing balls, count")


class HeatSlugInspection(RecipeModel):
    """Acceptance limits of the three MS-3 inspections of the heat-slug route."""

    slug: SlugInspection = Field(description="after the etch (A-SLUG)")
    ball: BallInspection = Field(description="after ball attach (A-BALL), claims 2, 3")
    package: PackageInspection = Field(description="after singulation (A-PKG)")


# -- the recipe ---------------------------------------------------------------------------------
class HeatSlugRecipe(MasterRecipe):
    """Master recipe of one heat-slug variant: geometry, materials, set-points, limits."""

    checks: ClassVar[list[CrossCheck]] = []

    product: Literal["heat-slug"] = Field(description="selects this schema")
    strip: StripSpec = Field(description="strip format (A)")
    substrate: Substrate = Field(description="substrate and its opening (claim 1)")
    die: Die = Field(description="die outline: with the opening, it picks the die-attach variant")
    slice: Slice = Field(description="the Cu slice under the substrate (claims 1, 9)")
    slice_adhesive: SliceAdhesive = Field(description="its sheet adhesive (claim 4)")
    laminate: Laminate = Field(description="LAMINATE on the LM-8 (claims 1, 4, 9)")
    die_attach: PlaceSettings = Field(description="DIE ATTACH on the DB-4, EPOXY (claims 5-7)")
    gap_fill: GapFill | None = Field(default=None, description="claim 5: die smaller only")
    wire_bond: WireBond = Field(description="WIRE BOND on the WB-3 (claim 1)")
    mold: Mold = Field(description="MOLD on the TM-4 (claim 1)")
    etch: SlugEtch = Field(description="ETCH of the slice on the WE-2 (claims 1, 10, 11)")
    balls: Balls = Field(description="BALL ATTACH on the BA-8 (claims 2, 3)")
    dice: Dice = Field(description="singulation on the DS-2")
    inspection: HeatSlugInspection = Field(description="MS-3 acceptance limits")

    # -- what follows from the recipe ------------------------------------------------------------
    @property
    def variant(self) -> DieAttachVariant:
        variant = _variant_of(self)
        assert variant is not None, "refused at validation"
        return variant

    @property
    def slug_protrusion_um(self) -> float:
        """The slug below the pad plane: slice + its adhesive."""
        return self.slice.thickness_um + self.slice_adhesive.thickness_um

    @property
    def nominal_clearance_um(self) -> float:
        """Claim 3 margin: nominal ball height − slug protrusion."""
        return self.balls.ball_height_um - self.slug_protrusion_um

    @property
    def etch_depth_target_um(self) -> float:
        return round(self.slice.thickness_um * (1.0 + self.etch.over_etch_pct / 100.0), 2)

    @property
    def package_thickness_um(self) -> float:
        return self.substrate.thickness_um + self.mold.cap_thickness_um

    @property
    def die_attach_volume_nl(self) -> int:
        """Die on the slice: die area × bond line. Die on the substrate top: the opening filled
        to the slice (opening area × depth) plus the bond line under the overhang (claim 7).
        1 mm² × 1 µm = 1 nL."""
        die, sub, bond_line_um = self.die, self.substrate, self.die_attach.bond_line_um
        if self.variant is DieAttachVariant.LARGER:
            fill = sub.opening_area_mm2 * sub.thickness_um
            overhang = (die.area_mm2 - sub.opening_area_mm2) * bond_line_um
            return round(fill + overhang)
        return round(die.area_mm2 * bond_line_um)

    @property
    def gap_fill_volume_nl(self) -> int:
        """(opening area − die area) × opening depth × fill height (claim 5)."""
        assert self.gap_fill is not None
        gap_mm2 = self.substrate.opening_area_mm2 - self.die.area_mm2
        return round(gap_mm2 * self.substrate.thickness_um * self.gap_fill.fill_height_pct / 100.0)


# -- cross-field checks ---------------------------------------------------------------------------
_check = functools.partial(cross_check, HeatSlugRecipe.checks)


def _variant_of(r: HeatSlugRecipe) -> DieAttachVariant | None:
    """The die-attach variant of the recipe's die and opening (None: no claim covers it)."""
    die, sub = r.die, r.substrate
    return die_attach_variant(die.size_x_mm, die.size_y_mm, sub.opening_x_mm, sub.opening_y_mm)


_check("strip")(strip_is_format("A", "heat-slug"))


@_check("strip", "die", "substrate")
def _die_against_opening(r: HeatSlugRecipe) -> list[str]:
    """Claims 5-7: the die is smaller than, equal to, or larger than the opening."""
    die, sub = r.die, r.substrate
    sizes = (
        f"die {fmt(die.size_x_mm)} × {fmt(die.size_y_mm)} mm, "
        f"opening {fmt(sub.opening_x_mm)} × {fmt(sub.opening_y_mm)} mm"
    )
    variant = _variant_of(r)
    problems = []
    if variant is None:
        problems.append(
            f"die.size_x_mm/size_y_mm: {sizes}: the die is larger than the opening along one side "
            "only; claims 5-7 need it smaller or equal on both sides, or larger on both"
        )
    elif variant is DieAttachVariant.LARGER:
        overlap = min(die.size_x_mm - sub.opening_x_mm, die.size_y_mm - sub.opening_y_mm) / 2.0
        if overlap < MIN_OVERLAP_MM:
            problems.append(
                f"die.size_x_mm/size_y_mm: {sizes}: the die rests {overlap:.3f} mm on the "
                f"substrate top per side, below {MIN_OVERLAP_MM} mm (claim 7 bonds it there)"
            )
    body = r.strip.layout.body_mm
    largest = body - 2.0 * BOND_FINGER_MARGIN_MM
    if max(die.size_x_mm, die.size_y_mm) > largest:
        problems.append(
            f"die.size_x_mm/size_y_mm: {fmt(die.size_x_mm)} × {fmt(die.size_y_mm)} mm is larger "
            f"than {fmt(largest)} mm (body {fmt(body)} mm less {BOND_FINGER_MARGIN_MM} mm of "
            "bond fingers per side)"
        )
    return problems


@_check("die", "substrate", "gap_fill")
def _gap_fill_for_smaller_die_only(r: HeatSlugRecipe) -> list[str]:
    """Claim 5: a die smaller than the opening needs the gap filled; the others have no gap."""
    variant = _variant_of(r)
    if variant is DieAttachVariant.SMALLER and r.gap_fill is None:
        return [
            "gap_fill: missing; the die is smaller than the opening and claim 5 fills the gap "
            "between die and opening wall with a second adhesive"
        ]
    if variant in (DieAttachVariant.EQUAL, DieAttachVariant.LARGER) and r.gap_fill is not None:
        where = "fills" if variant is DieAttachVariant.EQUAL else "covers"
        return [f"gap_fill: given, but the die {where} the opening: there is no gap to fill"]
    return []


@_check("die", "substrate", "die_attach", "gap_fill")
def _dispense_volumes_in_range(r: HeatSlugRecipe) -> list[str]:
    """The derived dispense volumes must be ones the DB-4 accepts."""
    variant = _variant_of(r)
    if variant is None:
        return []
    volumes = {"die_attach": r.die_attach_volume_nl}
    if variant is DieAttachVariant.SMALLER and r.gap_fill is not None:
        volumes["gap_fill"] = r.gap_fill_volume_nl
    derived_from = "derived from die, opening and bond line"
    return [p for where, nl in volumes.items() for p in dispense_problems(where, nl, derived_from)]


@_check("slice", "slice_adhesive", "balls")
def _claim_3_slug_thinner_than_balls(r: HeatSlugRecipe) -> list[str]:
    """Claim 3: the heat slug (slice + adhesive below the pads) is thinner than the balls."""
    slug = r.slug_protrusion_um
    if slug >= r.balls.ball_height_um:
        return [
            f"claim 3: slice.thickness_um + slice_adhesive.thickness_um = "
            f"{fmt(r.slice.thickness_um)} + {fmt(r.slice_adhesive.thickness_um)} = {fmt(slug)} µm "
            f"must be below balls.ball_height_um {fmt(r.balls.ball_height_um)} µm "
            "(the heat slug thinner than the solder balls)"
        ]
    return []


@_check("laminate")
def _laminator_standby(r: HeatSlugRecipe) -> list[str]:
    """LM-8 ARM check: STANDBY_SP <= PLATEN_SP − 50 °C."""
    lam = r.laminate
    highest = lam.platen_temperature_c - STANDBY_GAP_C
    try:
        lam.lamination_recipe().check_rules()
    except ParameterOutOfRange:
        return [
            f"laminate.standby_temperature_c: {fmt(lam.standby_temperature_c)} °C is above "
            f"{fmt(highest)} °C (platen_temperature_c − {fmt(STANDBY_GAP_C)}, LM-8 ARM check)"
        ]
    return []


@_check("wire_bond")
def _wire_bond_start_checks(r: HeatSlugRecipe) -> list[str]:
    """WB-3 START checks."""
    return r.wire_bond.problems("wire_bond")


_check("mold")(mold_fills_and_cures)


@_check("etch")
def _etch_bath_window(r: HeatSlugRecipe) -> list[str]:
    """WE-2 chemistry windows and the bath rules of the reference."""
    etch = r.etch
    window = WINDOWS[Chemistry[etch.chemistry]]
    arm_check = f"for {etch.chemistry} (WE-2 ARM check)"
    problems = outside("etch.temperature_c", etch.temperature_c, window.temp_c, "°C", arm_check)
    problems += outside(
        "etch.concentration_be", etch.concentration_be, window.conc, "°Bé", arm_check
    )
    if etch.chemistry == "FECL3":
        cu_load_max = window.cu_load_max_g_l
        if cu_load_max is not None and etch.cu_load_max_g_l > cu_load_max:
            problems.append(
                f"etch.cu_load_max_g_l: {fmt(etch.cu_load_max_g_l)} g/L is above "
                f"{fmt(cu_load_max)} g/L (FECL3 dies above it; WE-2 ARM check)"
            )
        if etch.temperature_band_c > FECL3_TEMPERATURE_BAND_C:
            problems.append(
                f"etch.temperature_band_c: ±{fmt(etch.temperature_band_c)} °C is wider than "
                f"±{FECL3_TEMPERATURE_BAND_C} °C (ferric etch rate: 5 °C cooler, ~30 % slower)"
            )
    else:
        acid = "(cupric chloride free HCl)"
        problems += outside("etch.acid_mol_l", etch.acid_mol_l, CUCL2_ACID_MOL_L, "mol/L", acid)
        if etch.auto_dose and etch.cu_load_max_g_l < CUCL2_CU_LOAD_MIN_G_L:
            problems.append(
                f"etch.cu_load_max_g_l: {fmt(etch.cu_load_max_g_l)} g/L is below "
                f"{fmt(CUCL2_CU_LOAD_MIN_G_L)} g/L; a regenerated cupric bath holds ~140 g/L and "
                "would raise alarm 5123 and block the bath"
            )
    return problems


@_check("etch", "slice")
def _etch_endpoint(r: HeatSlugRecipe) -> list[str]:
    """Claims 1, 11: the etch goes through the slice (over-etch 10–20 %) before the guard."""
    etch = r.etch
    target = r.slice.thickness_um * (1.0 + etch.over_etch_pct / 100.0)
    return etch.endpoint_problems(
        "etch",
        etch.chemistry,
        etch.temperature_c,
        etch.concentration_be,
        target,
        (r.slice.thickness_um, 10.0, 20.0),
    )


@_check("balls")
def _reflow_profile_in_window(r: HeatSlugRecipe) -> list[str]:
    """The profile the zones give (BA-8 model) within the limits and the SAC305 rates; balls
    that suit the pitch."""
    balls = r.balls
    profile = reflow_profile(balls.zone_temperatures_c, balls.reflow_speed_mm_s)
    problems = []
    if not contains(balls.peak_window_c, profile.peak_c):
        problems.append(
            f"balls.zone_temperatures_c/reflow_speed_mm_s: peak {profile.peak_c:.1f} °C (BA-8 "
            f"profile model) is outside peak_window_c {fmt_window(balls.peak_window_c)}"
        )
    if not contains(balls.time_above_liquidus_window_s, profile.time_above_liquidus_s):
        problems.append(
            f"balls.zone_temperatures_c/reflow_speed_mm_s: time above liquidus "
            f"{profile.time_above_liquidus_s:.1f} s is outside time_above_liquidus_window_s "
            f"{fmt_window(balls.time_above_liquidus_window_s)}"
        )
    if profile.max_ramp_c_s > MAX_RAMP_C_S:
        problems.append(
            f"balls.zone_temperatures_c: ramp {profile.max_ramp_c_s:.2f} °C/s is above "
            f"{MAX_RAMP_C_S} °C/s (SAC305 profile)"
        )
    if -profile.max_cool_c_s > MAX_COOL_C_S:
        problems.append(
            f"balls.zone_temperatures_c: cooling {-profile.max_cool_c_s:.2f} °C/s is above "
            f"{MAX_COOL_C_S} °C/s (J-STD-020)"
        )
    low, high = (share * balls.ball_diameter_mm * 1000.0 for share in BALL_HEIGHT_SHARE)
    if not low <= balls.ball_height_um <= high:
        problems.append(
            f"balls.ball_height_um: {fmt(balls.ball_height_um)} µm is outside {low:.0f}–"
            f"{high:.0f} µm (0.6–0.9 × ball_diameter_mm {fmt(balls.ball_diameter_mm)})"
        )
    d_low, d_high = FINE_PITCH_BALL_MM
    if balls.ball_pitch_mm <= FINE_PITCH_MM and not d_low <= balls.ball_diameter_mm <= d_high:
        problems.append(
            f"balls.ball_diameter_mm: {fmt(balls.ball_diameter_mm)} mm is outside {d_low}–"
            f"{d_high} mm for a {fmt(balls.ball_pitch_mm)} mm pitch"
        )
    return problems


_check("dice", "strip")(saw_fits_street)


@_check("inspection", "slice", "slice_adhesive")
def _slug_limits_hold_the_slug(r: HeatSlugRecipe) -> list[str]:
    """The SLUG window contains the nominal slug protrusion (slice + adhesive)."""
    slug = r.slug_protrusion_um
    limits = r.inspection.slug.slug_protrusion_um
    if not contains(limits, slug):
        return [
            f"inspection.slug.slug_protrusion_um: {fmt_window(limits)} does not contain the nominal "
            f"slug {fmt(slug)} µm (slice + adhesive): every good unit would fail"
        ]
    return []


@_check("inspection", "balls", "slice", "slice_adhesive")
def _ball_limits_measure_claim_3(r: HeatSlugRecipe) -> list[str]:
    """Claim 3 at inspection: CLEAR must be > 0 and reachable; BALLH holds the nominal height;
    coplanarity as the pitch allows."""
    ball, balls = r.inspection.ball, r.balls
    problems = []
    if not contains(ball.ball_height_um, balls.ball_height_um):
        problems.append(
            f"inspection.ball.ball_height_um: {fmt_window(ball.ball_height_um)} does not contain "
            f"balls.ball_height_um {fmt(balls.ball_height_um)} µm"
        )
    if ball.clearance_um[0] <= 0.0:
        problems.append(
            f"inspection.ball.clearance_um: lower limit {fmt(ball.clearance_um[0])} µm must be "
            "above 0 (claim 3: the slug thinner than every ball)"
        )
    clearance = balls.ball_height_um - r.slice.thickness_um - r.slice_adhesive.thickness_um
    if 0.0 < clearance < ball.clearance_um[0]:
        problems.append(
            f"inspection.ball.clearance_um: lower limit {fmt(ball.clearance_um[0])} µm is above "
            f"the nominal clearance {fmt(clearance)} µm (ball height − slug)"
        )
    if balls.ball_pitch_mm <= FINE_PITCH_MM and ball.coplanarity_um[1] > FINE_PITCH_COPLANARITY_UM:
        problems.append(
            f"inspection.ball.coplanarity_um: upper limit {fmt(ball.coplanarity_um[1])} µm is "
            f"above {fmt(FINE_PITCH_COPLANARITY_UM)} µm for a {fmt(balls.ball_pitch_mm)} mm pitch"
        )
    return problems


_check("inspection", "substrate", "mold")(package_limits_hold_the_package("substrate"))
