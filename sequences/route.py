"""Process routes: the steps a product variant runs, derived from its master recipe.

Nothing here is a hand-made list per variant: the die-attach variant follows from the die's
size against the opening (heat-slug claims 5-8), the recess method, plate and bonding method
from the film recipe (film claims 1-4). Each step is built from the recipe's section for it,
with the tool recipe it loads and the set-points it writes, and carries the claims it
implements, so the route sheet (:meth:`Route.describe`) can be held next to the patent.
Claims are written ``A5`` (heat-slug patent) and ``B3`` (film patent), as the line table in
shared/interfaces/README.md §2 does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drivers.die_bonder import DieBondSettings
from drivers.etch_bath import Chemistry
from drivers.laser import AblationSettings
from sequences.recipe import (
    DieAttachVariant,
    EtchRecess,
    FilmRecipe,
    FlipChip,
    HeatSlugRecipe,
    LaserRecess,
    Recipe,
    StripFormat,
    WireBonded,
)
from sequences.recipe.base import fmt
from sequences.recipe.process_models import (
    LASER_POWER_TOLERANCE,
    degree_of_cure,
    etch_time_s,
    pulses_to_breakthrough,
    reflow_profile,
    time_to_cure,
)
from sequences.recipe.sections import Dice, Mold, WireBond
from sequences.steps.ball_attach import BallAttachStep
from sequences.steps.base import ProcessStep
from sequences.steps.dice import DiceStep
from sequences.steps.die_bond import DieBondStep
from sequences.steps.etch import EtchStep
from sequences.steps.inspect import InspectStep
from sequences.steps.laminate import LaminateStep
from sequences.steps.laser_recess import LaserRecessStep
from sequences.steps.mold import MoldStep
from sequences.steps.wire_bond import WireBondStep

#: Stored tool recipes the steps load before writing the master recipe's set-points.
DIE_ATTACH_TOOL_RECIPES = {
    DieAttachVariant.SMALLER: "A-SMALL-1",
    DieAttachVariant.EQUAL: "A-EQUAL",
    DieAttachVariant.LARGER: "A-LARGE",
}
GAP_FILL_TOOL_RECIPE = "A-SMALL-2"
GLUE_TOOL_RECIPE, FLIP_CHIP_TOOL_RECIPE, PLATE_TOOL_RECIPE = "B-GLUE", "B-FC", "B-PLATE"
BALL_ATTACH_TOOL_RECIPE = "A-BALL050"


@dataclass(frozen=True)
class Route:
    """The route of one master recipe: its steps in order, on a strip of ``rows`` × ``cols``.

    ``claims`` (one entry per step, or empty) and ``notes`` (the pre-lot checks the recipe
    passed) are for the route sheet; the lot runner needs only the steps.
    """

    recipe_name: str
    product: str
    variant: str
    rows: int
    cols: int
    steps: tuple[ProcessStep, ...]
    pitch_mm: float = 0.0
    claims: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.claims and len(self.claims) != len(self.steps):
            raise ValueError(f"{len(self.claims)} claim entries for {len(self.steps)} steps")

    @property
    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]

    def describe(self) -> list[str]:
        """The route sheet: variant, strip, each step with tool, set-points and claims."""
        lines = [
            f"recipe {self.recipe_name} ({self.product})",
            f"variant: {self.variant}",
            f"strip: {self.rows} × {self.cols} = {self.rows * self.cols} sites"
            + (f", {self.pitch_mm:.3f} mm pitch" if self.pitch_mm else ""),
            "route:",
        ]
        width = max(len(step.name) for step in self.steps)
        for index, step in enumerate(self.steps, start=1):
            claims = (
                f"  [{self.claims[index - 1]}]" if self.claims and self.claims[index - 1] else ""
            )
            lines.append(
                f"  {index:2d}. {step.name:<{width}}  {step.tool:<11}  {step.setpoint_text()}{claims}"
            )
        if self.notes:
            lines.append("checked before the lot starts:")
            lines += [f"  - {note}" for note in self.notes]
        return lines


#: A step and the claims it implements.
Planned = tuple[ProcessStep, str]


def route_for(recipe: Recipe) -> Route:
    """The route a master recipe asks for."""
    if isinstance(recipe, HeatSlugRecipe):
        return heat_slug_route(recipe)
    return film_route(recipe)


# == heat-slug BGA ==================================================================================
def heat_slug_route(recipe: HeatSlugRecipe) -> Route:
    """Laminate, die attach as the die fits the opening, wire bond, mold, etch the slug, balls,
    singulate; inspections after the etch, the balls and singulation."""
    strip = recipe.strip.layout
    return _route(
        recipe,
        heat_slug_variant(recipe),
        (
            # The Cu slice (claim 9) with sheet adhesive (claim 4) under the substrate (claim 1).
            (LaminateStep(recipe=recipe.laminate.lamination_recipe()), "A1, A4, A9"),
            *die_attach_for(recipe),  # claim A5, A6, or A7 + A8
            wire_bond(recipe.wire_bond, strip, "A1"),
            (MoldStep(recipe=recipe.mold.mold_recipe()), "A1"),
            etch_slug(recipe),  # claims A1, A10, A11
            inspect("SLUG", strip, recipe.inspection.slug.limits(), "A1, A11"),
            # Solder balls flush with each other on the exposed pads (claim 2).
            (BallAttachStep(BALL_ATTACH_TOOL_RECIPE, recipe.balls.ball_attach_settings()), "A2"),
            inspect("BALL", strip, recipe.inspection.ball.limits(), "A2, A3"),
            singulate(recipe.dice, strip),
            inspect("PKG", strip, recipe.inspection.package.limits(), ""),
        ),
        heat_slug_notes(recipe),
    )


def heat_slug_variant(recipe: HeatSlugRecipe) -> str:
    die, sub = recipe.die, recipe.substrate
    sizes = (
        f"die {fmt(die.size_x_mm)} × {fmt(die.size_y_mm)} mm",
        f"opening {fmt(sub.opening_x_mm)} × {fmt(sub.opening_y_mm)} mm",
    )
    variant = recipe.variant
    if variant is DieAttachVariant.SMALLER:
        text = (
            f"{sizes[0]} smaller than the {sizes[1]}: on the slice inside the opening, gap filled"
        )
    elif variant is DieAttachVariant.EQUAL:
        text = f"{sizes[0]} equal to the {sizes[1]}: on the slice inside the opening"
    else:
        text = (
            f"{sizes[0]} larger than the {sizes[1]}: on the substrate top, the adhesive filling "
            "the opening down to the slice"
        )
    claims = variant.claims
    label = "claims" if "," in claims else "claim"
    return f"{text} ({label} {claims}); {recipe.etch.chemistry} slug etch"


def die_attach_for(recipe: HeatSlugRecipe) -> tuple[Planned, ...]:
    """Claim 5: on the slice inside the opening, then gap fill; claim 6: on the slice inside
    the opening; claims 7, 8: on the substrate top, the adhesive filling the opening."""
    variant, strip = recipe.variant, recipe.strip.layout
    on_top = variant is DieAttachVariant.LARGER
    settings = recipe.die_attach.settings(
        mode="EPOXY",
        pattern="FILL" if on_top else "STAR",
        zref="TOP" if on_top else "BASE",
        volume_nl=recipe.die_attach_volume_nl,
    )
    tool_recipe, claims = DIE_ATTACH_TOOL_RECIPES[variant], variant.claims
    attach = die_bond("die attach", tool_recipe, settings, strip, claims)
    if variant is not DieAttachVariant.SMALLER:
        return (attach,)
    assert recipe.gap_fill is not None
    settings = recipe.gap_fill.settings(volume_nl=recipe.gap_fill_volume_nl)
    return (attach, die_bond("gap fill", GAP_FILL_TOOL_RECIPE, settings, strip, "A5"))


def etch_slug(recipe: HeatSlugRecipe) -> Planned:
    """Etch the slice into a heat slug and expose the bond pads (claims 1, 10, 11)."""
    etch = recipe.etch
    return (
        EtchStep(
            kind="etch",
            chemistry=Chemistry[etch.chemistry],
            recipe=etch.etch_recipe(
                temperature_c=etch.temperature_c,
                concentration=etch.concentration_be,
                concentration_band=etch.concentration_band_be,
                depth_target_um=recipe.etch_depth_target_um,
                acid_mol_l=etch.acid_mol_l,
                orp_mv=etch.orp_mv,
                cu_load_max_g_l=etch.cu_load_max_g_l,
            ),
        ),
        "A1, A10, A11",
    )


def heat_slug_notes(recipe: HeatSlugRecipe) -> tuple[str, ...]:
    etch, slug = recipe.etch, recipe.slug_protrusion_um
    nominal_s = etch_time_s(
        etch.chemistry, etch.temperature_c, etch.concentration_be, recipe.etch_depth_target_um
    )
    profile = reflow_profile(recipe.balls.zone_temperatures_c, recipe.balls.reflow_speed_mm_s)
    return (
        f"claim A3: slug {fmt(slug)} µm (slice {fmt(recipe.slice.thickness_um)} + adhesive "
        f"{fmt(recipe.slice_adhesive.thickness_um)}) < ball height "
        f"{fmt(recipe.balls.ball_height_um)} µm: clearance {fmt(recipe.nominal_clearance_um)} µm, "
        f"inspected as CLEAR {fmt(recipe.inspection.ball.clearance_um[0])}–"
        f"{fmt(recipe.inspection.ball.clearance_um[1])} µm",
        f"etch: depth target {fmt(recipe.etch_depth_target_um)} µm = slice × "
        f"(1 + {fmt(etch.over_etch_pct)} %), nominal {nominal_s:.0f} s, guard "
        f"{etch.etch_time_max_s} s",
        f"reflow (BA-8 profile model): peak {profile.peak_c:.1f} °C, TAL "
        f"{profile.time_above_liquidus_s:.1f} s, ramp {profile.max_ramp_c_s:.2f} °C/s, cool "
        f"{-profile.max_cool_c_s:.2f} °C/s",
        _mold_note(recipe.mold),
        _package_note(recipe, "substrate"),
    )


# == ultra-thin film package =======================================================================
def film_route(recipe: FilmRecipe) -> Route:
    """Recess the legs (etch or laser), [plate], glue + wire bond or flip-chip, mold, dice;
    inspections after the recess and after dicing."""
    strip = recipe.strip.layout
    return _route(
        recipe,
        film_variant(recipe),
        (
            recess(recipe),  # claim B1
            inspect("RECESS", strip, recipe.inspection.recess.limits(), "B1"),
            *plate_for(recipe),  # claims B2, B4
            *bond_die(recipe),  # claim B1 (glue + wire) or B3 (flip-chip)
            (MoldStep(recipe=recipe.mold.mold_recipe()), "B1"),
            singulate(recipe.dice, strip, "B1"),
            inspect("PKG", strip, recipe.inspection.package.limits(), "B1"),
        ),
        film_notes(recipe),
    )


def film_variant(recipe: FilmRecipe) -> str:
    if isinstance(recipe.recess, EtchRecess):
        recess_text = f"{recipe.recess.chemistry} chemical-etch recess"
    else:
        recess_text = "laser recess" + (" with die-area recess" if recipe.recess.die_recess else "")
    if isinstance(recipe.bonding, WireBonded):
        bond_text, claims = "glued die + wire bond", ["B1"]
    else:
        bond_text, claims = f"flip-chip die ({recipe.bonding.bump} bumps)", ["B1", "B3"]
    if recipe.plate is not None:
        claims.append("B2" if isinstance(recipe.bonding, WireBonded) else "B4")
    plate_text = "metal plate" if recipe.plate is not None else "no plate"
    return (
        f"{recipe.film.material} film {fmt(recipe.film.thickness_um)} µm, {recess_text}, "
        f"{bond_text}, {plate_text} ({'claims' if len(claims) > 1 else 'claim'} "
        f"{', '.join(claims)})"
    )


def recess(recipe: FilmRecipe) -> Planned:
    """The I/O-leg recesses by chemical etching or laser fabrication (claim 1)."""
    method = recipe.recess
    if isinstance(method, EtchRecess):
        return (
            EtchStep(
                kind="recess (etch)",
                chemistry=Chemistry.KOH,
                recipe=method.etch_recipe(
                    temperature_c=method.temperature_c,
                    concentration=method.concentration_wt_pct,
                    concentration_band=method.concentration_band_wt_pct,
                    depth_target_um=recipe.recess_depth_target_um,
                ),
            ),
            "B1",
        )
    pattern = method.pattern(recipe.film.io_legs_per_unit)
    return (
        LaserRecessStep(
            tool_recipe=f"B-{pattern}",
            settings=AblationSettings(
                pattern=pattern,
                fluence_j_cm2=method.fluence_j_cm2,
                frequency_khz=method.frequency_khz,
                spot_um=method.spot_um,
                film_thickness_um=recipe.film.thickness_um,
                via_max_pulses=method.via_max_pulses,
                recess_depth_um=method.die_recess_depth_um,
                recess_tolerance_um=method.die_recess_tolerance_um,
            ),
            nominal_sites=recipe.strip.layout.sites,
        ),
        "B1",
    )


def plate_for(recipe: FilmRecipe) -> tuple[Planned, ...]:
    """The metal plate at the die's back-face position (claim 2; claim 4 with a flip chip),
    placed on the carrier before the die."""
    plate = recipe.plate
    if plate is None:
        return ()
    settings = plate.settings(
        mode="PLATE", pattern="DOT", zref="BASE", volume_nl=recipe.plate_volume_nl
    )
    claims = "B2" if isinstance(recipe.bonding, WireBonded) else "B4"
    return (die_bond("plate", PLATE_TOOL_RECIPE, settings, recipe.strip.layout, claims),)


def bond_die(recipe: FilmRecipe) -> tuple[Planned, ...]:
    """Claim 1: the die glued to the carrier and wire bonded to the pads in the legs; claim 3:
    the die's bumps bonded to those pads."""
    bonding, strip = recipe.bonding, recipe.strip.layout
    if isinstance(bonding, FlipChip):
        return (die_bond("flip-chip", FLIP_CHIP_TOOL_RECIPE, bonding.settings(), strip, "B3"),)
    settings = bonding.die_attach.settings(
        mode="EPOXY", pattern="STAR", zref="BASE", volume_nl=recipe.die_attach_volume_nl
    )
    glue = die_bond("die attach", GLUE_TOOL_RECIPE, settings, strip, "B1")
    return (glue, wire_bond(bonding.wire_bond, strip, "B1"))


def film_notes(recipe: FilmRecipe) -> tuple[str, ...]:
    notes = []
    method, film = recipe.recess, recipe.film
    if isinstance(method, EtchRecess):
        nominal_s = etch_time_s(
            "KOH", method.temperature_c, method.concentration_wt_pct, recipe.recess_depth_target_um
        )
        notes.append(
            f"recess: KOH depth target {fmt(recipe.recess_depth_target_um)} µm = film "
            f"{fmt(film.thickness_um)} µm × (1 + {fmt(method.over_etch_pct)} %), the Cu pads stop "
            f"it; nominal {nominal_s:.0f} s, guard {method.etch_time_max_s} s"
        )
    else:
        assert isinstance(method, LaserRecess)
        pulses = pulses_to_breakthrough(film.thickness_um, method.fluence_j_cm2)
        weak = pulses_to_breakthrough(
            film.thickness_um, method.fluence_j_cm2 * (1.0 - LASER_POWER_TOLERANCE)
        )
        notes.append(
            f"recess: breakthrough after {pulses} pulses ({weak} at −10 % fluence) of at most "
            f"{method.via_max_pulses} per via"
        )
    if isinstance(recipe.bonding, FlipChip) and recipe.die.bump_height_um is not None:
        notes.append(
            f"flip-chip: bumps {fmt(recipe.die.bump_height_um)} µm reach the pads "
            f"{fmt(film.thickness_um)} µm down the legs; die standoff "
            f"{fmt(recipe.die.bump_height_um - film.thickness_um)} µm above the film"
        )
    notes.append(_mold_note(recipe.mold))
    notes.append(_package_note(recipe, "film"))
    return tuple(notes)


# == steps both products share =======================================================================
def die_bond(
    kind: str, tool_recipe: str, settings: DieBondSettings, strip: StripFormat, claims: str
) -> Planned:
    """A pass on the die bonder (die attach, gap fill, plate, flip-chip) over the strip."""
    step = DieBondStep(
        kind=kind, tool_recipe=tool_recipe, settings=settings, nominal_sites=strip.sites
    )
    return step, claims


def wire_bond(section: WireBond, strip: StripFormat, claims: str) -> Planned:
    """Bond wires from the die to the substrate or to the pads in the legs."""
    step = WireBondStep(
        program=section.program,
        parameters=section.parameters(),
        wires_per_unit=section.wires_per_unit,
        nominal_sites=strip.sites,
    )
    return step, claims


def singulate(section: Dice, strip: StripFormat, claims: str = "") -> Planned:
    """Saw the strip into single packages."""
    return (
        DiceStep(
            tool_recipe=f"{strip.name}-SING",
            settings=section.cut_settings(),
            nominal_strip=(strip.rows, strip.cols),
            nominal_pitch_mm=(strip.pitch_mm, strip.pitch_mm),
        ),
        claims,
    )


def inspect(
    mode: str, strip: StripFormat, limits: Mapping[str, tuple[float, float]], claims: str
) -> Planned:
    """Measure in one MS-3 mode against the recipe's limits (stored recipe ``A-SLUG``...)."""
    step = InspectStep(
        mode=mode,
        tool_recipe=f"{strip.name}-{mode}",
        limits=dict(limits),
        nominal_sites=strip.sites,
    )
    return step, claims


def _route(
    recipe: Recipe, variant: str, planned: tuple[Planned, ...], notes: tuple[str, ...]
) -> Route:
    layout = recipe.strip.layout
    return Route(
        recipe_name=recipe.name,
        product=recipe.product,
        variant=variant,
        rows=layout.rows,
        cols=layout.cols,
        steps=tuple(step for step, _claims in planned),
        pitch_mm=layout.pitch_mm,
        claims=tuple(claims for _step, claims in planned),
        notes=notes,
    )


def _mold_note(section: Mold) -> str:
    temperature = section.mold_temperature_c
    alpha = degree_of_cure(temperature, section.fill_time_s + section.cure_time_s)
    return (
        f"mold: fill {section.fill_time_s:.1f} s before gel (α 0.3 at "
        f"{time_to_cure(0.3, temperature):.1f} s); α {alpha:.2f} at open ≥ "
        f"{fmt(section.alpha_at_open_min)}"
    )


def _package_note(recipe: Recipe, carrier: str) -> str:
    low, high = recipe.inspection.package.package_thickness_um
    return (
        f"package {fmt(recipe.package_thickness_um)} µm ({carrier} + mold cap) inside THK "
        f"{fmt(low)}–{fmt(high)} µm"
    )
