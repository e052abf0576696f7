"""The ultra-thin film package master recipe (seeds/ultra-thin-film-package-claims.txt).

The I/O-leg positions of a PI (or polymer) film carrier are recessed by chemical etching or by
laser down to the metal pads (claim 1); an optional metal plate goes on the carrier at the
die's back-face position (claims 2, 4); the die is glued and wire bonded to the pads in the
recessed legs (claim 1), or flip-chip bonded to them by its I/O bumps (claim 3); then mold and
dice into single packages whose pads protrude at the carrier's back face (claim 1).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.etch_bath import WINDOWS, Chemistry, EtchBath
from drivers.laser import Laser
from sequences.recipe.base import (
    CrossCheck,
    LimitWindow,
    RecipeModel,
    StripSpec,
    contains,
    cross_check,
    declared,
    fmt,
    fmt_window,
    outside,
    span,
)
from sequences.recipe.process_models import LASER_POWER_TOLERANCE, pulses_to_breakthrough
from sequences.recipe.sections import (
    BathSettings,
    Dice,
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

#: The UVL-3 area recess of the *-DIE4 patterns: 2.0 × 2.0 mm (laser.md §1).
DIE_RECESS_SIDE_MM = 2.0
#: Room around the die for the recessed I/O legs, per side.
LEG_MARGIN_MM = 0.5
#: Flip-chip windows by bump (process-reference §1 [E]): Au-stud thermosonic 20–40 gf per bump,
#: 0.3–1 s; solder thermocompression, tool 250–300 °C, 2–10 s.
AU_STUD_GF_PER_BUMP, AU_STUD_TIME_S = (20.0, 40.0), (0.3, 1.0)
SOLDER_TCB_TEMPERATURE_C, SOLDER_TCB_TIME_S = (250.0, 300.0), (2.0, 10.0)
GF_PER_N = 1000.0 / 9.80665
#: The WE-2's KOH window (etch-bath.md §4), the recess etch's range.
KOH = WINDOWS[Chemistry.KOH]


class Film(RecipeModel):
    """The carrier film (claim 1) and its recessed I/O legs."""

    material: Literal["PI", "polymer"] = Field(description="claim 1: polymer or polyimide film")
    thickness_um: float = declared(
        Laser.film_thickness_um, "; the leg recess goes through it to the pads"
    )
    io_legs_per_unit: Literal[16, 32] = Field(
        description="recessed I/O legs per package (laser patterns IO16, IO32)"
    )


class FilmDie(RecipeModel):
    """The die: outline, thickness, and for flip-chip its I/O bump height (claim 3)."""

    size_x_mm: float = span(0.3, 4.5, "die along X")
    size_y_mm: float = span(0.3, 4.5, "die along Y")
    thickness_um: float = span(25.0, 500.0, "die thickness")
    bump_height_um: float | None = span(10.0, 150.0, "I/O bump height (flip-chip)", default=None)

    @property
    def area_mm2(self) -> float:
        return self.size_x_mm * self.size_y_mm


class EtchRecess(BathSettings):
    """Claim 1 by chemical etching: KOH on the WE-2; the Cu pads stop the etch."""

    method: Literal["etch"]
    chemistry: Literal["KOH"] = Field(description="WE-2 CHEMISTRY of the station")
    temperature_c: float = span(*KOH.temp_c, "WE-2 TEMP_SP for KOH 65–90 °C (PI etch 70–90 °C)")
    concentration_wt_pct: float = span(*KOH.conc, "WE-2 CONC_SP for KOH, wt%")
    concentration_band_wt_pct: float = declared(EtchBath.conc_band, " (±), wt%")
    over_etch_pct: float = span(10.0, 30.0, "etch beyond the film thickness; the pads stop it")


class LaserRecess(RecipeModel):
    """Claim 1 by laser fabrication: UVL-3 vias down to the pads, optional die-area recess."""

    method: Literal["laser"]
    fluence_j_cm2: float = span(
        0.5, 2.0, "UVL-3 LASer:FLUence (0.20–3.00); PI at 355 nm 0.5–2 J/cm²"
    )
    frequency_khz: int = declared(Laser.frequency_khz)
    spot_um: int = declared(Laser.spot_um)
    via_max_pulses: int = declared(Laser.via_max_pulses, " (breakthrough endpoint on)")
    die_recess: bool = Field(
        default=False, description="ablate the 2.0 × 2.0 mm die-area recess (*-DIE4 pattern)"
    )
    die_recess_depth_um: float = declared(Laser.recess_depth_um, default=12.0)
    die_recess_tolerance_um: float = declared(Laser.recess_tolerance_um, default=2.0)

    def pattern(self, io_legs: int) -> str:
        return f"IO{io_legs}" + ("-DIE4" if self.die_recess else "")


class Plate(PlaceSettings):
    """The metal plate at the die's back-face position (claims 2, 4), placed per site."""

    material: str = Field(min_length=1, description="plate metal")
    thickness_um: float = span(5.0, 100.0, "plate thickness")
    size_x_mm: float = span(0.3, 4.5, "plate along X")
    size_y_mm: float = span(0.3, 4.5, "plate along Y")

    @property
    def area_mm2(self) -> float:
        return self.size_x_mm * self.size_y_mm


class WireBonded(RecipeModel):
    """Claim 1: the die glued to the carrier, wires from the die to the pads in the legs."""

    method: Literal["wire"]
    die_attach: PlaceSettings = Field(description="DIE ATTACH on the DB-4, EPOXY (B-GLUE)")
    wire_bond: WireBond = Field(description="WIRE BOND on the WB-3")


class FlipChip(RecipeModel):
    """Claim 3: the die's I/O bumps bonded to the pads in the legs (DB-4 FLIPCHIP)."""

    method: Literal["flip-chip"]
    bump: Literal["solder", "au-stud"] = Field(description="bump metallurgy")
    bond_force_n: float = declared(DieBonder.bond_force_n)
    bond_temperature_c: float = declared(DieBonder.bond_temperature_c, " (bond head)")
    bond_time_s: float = declared(DieBonder.bond_time_s)
    stage_temperature_c: float = declared(DieBonder.stage_temperature_c)
    place_tolerance_xy_um: float = declared(DieBonder.place_tolerance, " xy", part=0)
    place_tolerance_theta_deg: float = declared(DieBonder.place_tolerance, " θ", part=1)

    def settings(self) -> DieBondSettings:
        return DieBondSettings(
            mode="FLIPCHIP",
            place_zref="BASE",
            place_tolerance=(self.place_tolerance_xy_um, self.place_tolerance_theta_deg),
            bond_force_n=self.bond_force_n,
            bond_temperature_c=self.bond_temperature_c,
            bond_time_s=self.bond_time_s,
            stage_temperature_c=self.stage_temperature_c,
        )


Recess = Annotated[EtchRecess | LaserRecess, Field(discriminator="method")]
Bonding = Annotated[WireBonded | FlipChip, Field(discriminator="method")]


class RecessInspection(InspectionLimits):
    """MS-3 mode RECESS limits (after the recess)."""

    ms3_items: ClassVar[Mapping[str, str]] = {
        "VIA": "via_depth_um",
        "RESID": "residual_pi_um",
        "AREA": "die_recess_depth_um",
    }

    via_depth_um: LimitWindow = Field(description="VIA: I/O-leg recess depth (mean)")
    die_recess_depth_um: LimitWindow | None = Field(
        default=None, description="AREA: die recess depth (laser die recess only)"
    )
    residual_pi_um: LimitWindow = Field(description="RESID: PI left on the pads")


class FilmPackageInspection(PackageInspection):
    """MS-3 mode PKG limits, with the pad protrusion at the back face (claim 1)."""

    ms3_items: ClassVar[Mapping[str, str]] = {
        **PackageInspection.ms3_items,
        "PADP": "pad_protrusion_um",
    }

    pad_protrusion_um: LimitWindow = Field(description="PADP: pad protrusion, back face")


class FilmInspection(RecipeModel):
    """Acceptance limits of the two MS-3 inspections of the film route."""

    recess: RecessInspection = Field(description="after the recess (B-RECESS)")
    package: FilmPackageInspection = Field(description="after dicing (B-PKG)")


# -- the recipe ---------------------------------------------------------------------------------
class FilmRecipe(MasterRecipe):
    """Master recipe of one ultra-thin film variant: recess method, bonding, plate."""

    checks: ClassVar[list[CrossCheck]] = []

    product: Literal["ultra-thin-film"] = Field(description="selects this schema")
    strip: StripSpec = Field(description="strip format (B)")
    film: Film = Field(description="the PI or polymer carrier film (claim 1)")
    die: FilmDie = Field(description="die outline, thickness, bumps")
    recess: Recess = Field(description="RECESS of the I/O legs: chemical etch or laser (claim 1)")
    plate: Plate | None = Field(default=None, description="claims 2, 4: optional metal plate")
    bonding: Bonding = Field(description="glued die + wire bond (claim 1) or flip-chip (claim 3)")
    mold: Mold = Field(description="MOLD on the TM-4 (claim 1)")
    dice: Dice = Field(description="DICE into single packages on the DS-2 (claim 1)")
    inspection: FilmInspection = Field(description="MS-3 acceptance limits")

    # -- what follows from the recipe ------------------------------------------------------------
    @property
    def recess_depth_target_um(self) -> float:
        """KOH: through the film plus the over-etch (the pads stop it)."""
        assert isinstance(self.recess, EtchRecess)
        return round(self.film.thickness_um * (1.0 + self.recess.over_etch_pct / 100.0), 2)

    @property
    def package_thickness_um(self) -> float:
        return self.film.thickness_um + self.mold.cap_thickness_um

    @property
    def die_attach_volume_nl(self) -> int:
        """Glued die: die area × bond line (1 mm² × 1 µm = 1 nL)."""
        assert isinstance(self.bonding, WireBonded)
        return round(self.die.area_mm2 * self.bonding.die_attach.bond_line_um)

    @property
    def plate_volume_nl(self) -> int:
        assert self.plate is not None
        return round(self.plate.area_mm2 * self.plate.bond_line_um)


# -- cross-field checks ---------------------------------------------------------------------------
_check = functools.partial(cross_check, FilmRecipe.checks)


_check("strip")(strip_is_format("B", "film"))


@_check("recess", "film")
def _recess_suits_the_film(r: FilmRecipe) -> list[str]:
    """KOH hydrolyses polyimide; the laser stops on the pads if it gets through the film."""
    recess, film = r.recess, r.film
    problems = []
    if isinstance(recess, EtchRecess):
        if film.material != "PI":
            problems.append(
                f"film.material: {film.material!r} cannot be recessed with KOH (it etches "
                "polyimide); use PI or the laser"
            )
        target = film.thickness_um * (1.0 + recess.over_etch_pct / 100.0)
        problems += recess.endpoint_problems(
            "recess",
            "KOH",
            recess.temperature_c,
            recess.concentration_wt_pct,
            target,
            (film.thickness_um, 10.0, 30.0),
        )
        return problems
    weakest = recess.fluence_j_cm2 * (1.0 - LASER_POWER_TOLERANCE)
    needed = pulses_to_breakthrough(film.thickness_um, weakest)
    if needed is None or needed > recess.via_max_pulses:
        problems.append(
            f"recess.via_max_pulses: {recess.via_max_pulses} is below the {needed} pulses a "
            f"{fmt(film.thickness_um)} µm film needs at {weakest:.2f} J/cm² (fluence − 10 %, the "
            "UVL-3 power tolerance): vias would not open (8501)"
        )
    if recess.die_recess and recess.die_recess_depth_um >= film.thickness_um:
        problems.append(
            f"recess.die_recess_depth_um: {fmt(recess.die_recess_depth_um)} µm must be below "
            f"film.thickness_um {fmt(film.thickness_um)} µm (UVL-3 START check)"
        )
    return problems


@_check("recess", "die", "plate")
def _die_recess_holds_its_part(r: FilmRecipe) -> list[str]:
    """The 2.0 × 2.0 mm die-area recess holds the plate, or the die when there is no plate."""
    if not (isinstance(r.recess, LaserRecess) and r.recess.die_recess):
        return []
    part, where = (r.plate, "plate") if r.plate is not None else (r.die, "die")
    if max(part.size_x_mm, part.size_y_mm) > DIE_RECESS_SIDE_MM:
        return [
            f"{where}.size_x_mm/size_y_mm: {fmt(part.size_x_mm)} × {fmt(part.size_y_mm)} mm "
            f"does not fit the {DIE_RECESS_SIDE_MM} × {DIE_RECESS_SIDE_MM} mm die-area recess "
            "(recess.die_recess)"
        ]
    return []


@_check("strip", "die", "plate")
def _die_and_plate_fit(r: FilmRecipe) -> list[str]:
    """The die leaves room for the legs; the plate stays within the die's outline."""
    problems = []
    largest = r.strip.layout.body_mm - 2.0 * LEG_MARGIN_MM
    if max(r.die.size_x_mm, r.die.size_y_mm) > largest:
        problems.append(
            f"die.size_x_mm/size_y_mm: {fmt(r.die.size_x_mm)} × {fmt(r.die.size_y_mm)} mm is "
            f"larger than {fmt(largest)} mm (body less {LEG_MARGIN_MM} mm of I/O legs per side)"
        )
    plate = r.plate
    if plate is not None and (
        plate.size_x_mm > r.die.size_x_mm or plate.size_y_mm > r.die.size_y_mm
    ):
        problems.append(
            f"plate.size_x_mm/size_y_mm: {fmt(plate.size_x_mm)} × {fmt(plate.size_y_mm)} mm "
            f"exceeds the die {fmt(r.die.size_x_mm)} × {fmt(r.die.size_y_mm)} mm (claim 2: the "
            "plate corresponds to the die's back face)"
        )
    if plate is not None:
        problems += dispense_problems("plate", r.plate_volume_nl, "area × bond_line_um")
    return problems


@_check("bonding", "film", "die")
def _bonding_reaches_the_pads(r: FilmRecipe) -> list[str]:
    """Wire: one wire per recessed leg (claim 1). Flip-chip: bumps tall enough to reach the
    pads at the bottom of the legs (claim 3), bonded in the bump's window."""
    bonding, die, film = r.bonding, r.die, r.film
    if isinstance(bonding, WireBonded):
        problems = bonding.wire_bond.problems("bonding.wire_bond")
        if bonding.wire_bond.wires_per_unit != film.io_legs_per_unit:
            problems.append(
                f"bonding.wire_bond.wires_per_unit: {bonding.wire_bond.wires_per_unit} is not "
                f"film.io_legs_per_unit {film.io_legs_per_unit} (one wire per recessed leg)"
            )
        if die.bump_height_um is not None:
            problems.append("die.bump_height_um: given, but the die is glued and wire bonded")
        volume = r.die_attach_volume_nl
        return problems + dispense_problems("bonding.die_attach", volume, "area × bond_line_um")
    problems = []
    if die.bump_height_um is None:
        problems.append("die.bump_height_um: missing (a flip-chip die bonds by its bumps)")
    elif die.bump_height_um <= film.thickness_um:
        problems.append(
            f"die.bump_height_um: {fmt(die.bump_height_um)} µm must exceed film.thickness_um "
            f"{fmt(film.thickness_um)} µm to reach the pads in the recessed legs (claim 3)"
        )
    if bonding.bump == "au-stud":
        per_bump_gf = bonding.bond_force_n * GF_PER_N / film.io_legs_per_unit
        low, high = AU_STUD_GF_PER_BUMP
        if not low <= per_bump_gf <= high:
            problems.append(
                f"bonding.bond_force_n: {fmt(bonding.bond_force_n)} N is {per_bump_gf:.0f} gf per "
                f"bump over {film.io_legs_per_unit} bumps, outside {fmt(low)}–{fmt(high)} gf "
                "(Au-stud thermosonic)"
            )
        problems += outside(
            "bonding.bond_time_s", bonding.bond_time_s, AU_STUD_TIME_S, "s", "(Au-stud)"
        )
    else:
        problems += outside(
            "bonding.bond_temperature_c",
            bonding.bond_temperature_c,
            SOLDER_TCB_TEMPERATURE_C,
            "°C",
            "(solder thermocompression)",
        )
        problems += outside(
            "bonding.bond_time_s", bonding.bond_time_s, SOLDER_TCB_TIME_S, "s", "(solder TCB)"
        )
    return problems


@_check("bonding", "film", "die", "plate", "recess")
def _plate_under_a_flip_chip_clears_the_die(r: FilmRecipe) -> list[str]:
    """A plate under a flip-chip die stays below the die face, or the bumps cannot land."""
    bonding, plate, die = r.bonding, r.plate, r.die
    if not isinstance(bonding, FlipChip) or plate is None or die.bump_height_um is None:
        return []
    recess = r.recess
    recessed = (
        recess.die_recess_depth_um if isinstance(recess, LaserRecess) and recess.die_recess else 0.0
    )
    stack = plate.thickness_um + plate.bond_line_um - recessed
    standoff = die.bump_height_um - r.film.thickness_um
    if stack >= standoff:
        return [
            f"plate.thickness_um + plate.bond_line_um: {fmt(plate.thickness_um)} + "
            f"{fmt(plate.bond_line_um)}{f' − recess {fmt(recessed)}' if recessed else ''} = "
            f"{fmt(stack)} µm must be below the die's standoff {fmt(standoff)} µm above the film "
            "(die.bump_height_um − film.thickness_um)"
        ]
    return []


_check("mold")(mold_fills_and_cures)
_check("dice", "strip")(saw_fits_street)


@_check("inspection", "film", "recess")
def _recess_limits(r: FilmRecipe) -> list[str]:
    """VIA holds the film thickness (the recess ends on the pads); AREA is given exactly when
    there is a die recess, and holds its depth."""
    limits = r.inspection.recess
    problems = []
    if not contains(limits.via_depth_um, r.film.thickness_um):
        problems.append(
            f"inspection.recess.via_depth_um: {fmt_window(limits.via_depth_um)} does not contain "
            f"film.thickness_um {fmt(r.film.thickness_um)} µm (the legs end on the pads)"
        )
    recess = r.recess
    if isinstance(recess, LaserRecess) and recess.die_recess:
        depth = recess.die_recess_depth_um
        if limits.die_recess_depth_um is None:
            problems.append("inspection.recess.die_recess_depth_um: missing (die recess ablated)")
        else:
            tolerance = recess.die_recess_tolerance_um
            band = (depth - tolerance, depth + tolerance)
            window = limits.die_recess_depth_um
            if not (window[0] <= band[0] and band[1] <= window[1]):
                problems.append(
                    f"inspection.recess.die_recess_depth_um: {fmt_window(window)} does not "
                    f"contain recess.die_recess_depth_um ± die_recess_tolerance_um "
                    f"{fmt_window(band)} µm, which the laser already passed"
                )
    elif limits.die_recess_depth_um is not None:
        problems.append("inspection.recess.die_recess_depth_um: given, but there is no die recess")
    return problems


_check("inspection", "film", "mold")(package_limits_hold_the_package("film"))
