"""Master recipes (configs/recipes/) and the routes derived from them."""

from __future__ import annotations

import copy
import dataclasses
import functools
import operator
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from drivers.dicing_saw import CutSettings, DicingSaw
from drivers.errors import ParameterOutOfRange
from drivers.etch_bath import Chemistry
from drivers.laminator import LaminationRecipe, Laminator
from drivers.metrology import LIMIT_ITEMS, InspectionSetPoints, Metrology
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.wire_bonder import WireBonder, WireBondParameters
from sequences.config_errors import ConfigError
from sequences.recipe import (
    RECIPES_DIR,
    DieAttachVariant,
    FilmRecipe,
    HeatSlugRecipe,
    die_attach_variant,
    load_recipe,
    recipe_files,
)
from sequences.recipe.film import FilmPackageInspection, RecessInspection
from sequences.recipe.heat_slug import BallInspection, Laminate, SlugInspection
from sequences.recipe.sections import Dice, InspectionLimits, Mold, PackageInspection, WireBond
from sequences.route import Route, route_for
from sequences.steps.die_bond import DieBondStep
from sequences.steps.etch import EtchStep
from sequences.steps.inspect import InspectStep
from sequences.steps.laser_recess import LaserRecessStep
from sequences.steps.wire_bond import WireBondStep

HEAT_SLUG_TAIL = [
    "wire bond",
    "mold",
    "etch",
    "inspect slug",
    "ball attach",
    "inspect ball",
    "dice",
    "inspect pkg",
]
FILM_TAIL = ["mold", "dice", "inspect pkg"]
FILM_BONDING = {"wire": ["die attach", "wire bond"], "flipchip": ["flip-chip"]}

#: Every seed variant, by file, with the step names its route must have, in order; a film
#: variant is a recess method by a bonding, with or without the plate.
EXPECTED_ROUTES = {
    "heat-slug-die-smaller": ["laminate", "die attach", "gap fill", *HEAT_SLUG_TAIL],
    "heat-slug-die-equal": ["laminate", "die attach", *HEAT_SLUG_TAIL],
    "heat-slug-die-larger": ["laminate", "die attach", *HEAT_SLUG_TAIL],
} | {
    f"film-{recess}-{bonding}{plate}": [
        f"recess ({recess})",
        "inspect recess",
        *(["plate"] if plate else []),
        *FILM_BONDING[bonding],
        *FILM_TAIL,
    ]
    for recess in ("etch", "laser")
    for bonding in FILM_BONDING
    for plate in ("", "-plate")
}


def recipe_data(name: str) -> dict[str, Any]:
    return yaml.safe_load((RECIPES_DIR / f"{name}.yaml").read_text())


def write_recipe(
    tmp_path: Path,
    base: str,
    changes: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
) -> Path:
    """``base`` with dotted-path ``changes`` and ``remove``d keys, saved under its own name."""
    data = copy.deepcopy(recipe_data(base))

    def parent(dotted: str) -> tuple[dict[str, Any], str]:
        *parents, key = dotted.split(".")
        return functools.reduce(operator.getitem, parents, data), key

    for dotted, value in (changes or {}).items():
        node, key = parent(dotted)
        node[key] = value
    for dotted in remove:
        node, key = parent(dotted)
        del node[key]
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_recipe(path)
    return caught.value.problems


def die_bond_steps(route: Route) -> list[DieBondStep]:
    return [step for step in route.steps if isinstance(step, DieBondStep)]


# == the recipe set ===============================================================================
def test_every_seed_variant_has_one_recipe_named_for_what_it_makes() -> None:
    assert sorted(p.stem for p in recipe_files()) == sorted(EXPECTED_ROUTES)


@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTES))
def test_recipe_loads_and_yields_its_route(name: str) -> None:
    recipe = load_recipe(RECIPES_DIR / f"{name}.yaml")
    route = route_for(recipe)

    assert recipe.name == name
    assert route.recipe_name == name
    assert route.step_names == EXPECTED_ROUTES[name]
    layout = (3, 10, 17.3) if name.startswith("heat-slug") else (8, 30, 5.3)
    assert (route.rows, route.cols, route.pitch_mm) == layout
    assert len(route.claims) == len(route.steps)


@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTES))
def test_recipe_file_says_what_it_makes_in_a_comment_header(name: str) -> None:
    text = (RECIPES_DIR / f"{name}.yaml").read_text()
    header = text.split("\nproduct:", 1)[0]
    assert header.startswith("# ")
    assert "Makes:" in header
    assert "Route" in header


# == heat-slug: the die-attach variant follows from die and opening (claims 5-8) =================
def test_die_smaller_than_opening_is_attached_inside_then_gap_filled() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-smaller.yaml")
    assert isinstance(recipe, HeatSlugRecipe)
    attach, gap_fill = die_bond_steps(route_for(recipe))

    assert recipe.variant is DieAttachVariant.SMALLER
    assert (attach.kind, attach.tool_recipe) == ("die attach", "A-SMALL-1")
    assert (attach.settings.mode, attach.settings.place_zref) == ("EPOXY", "BASE")
    assert attach.settings.dispense_volume_nl == 600  # 5 × 5 mm die × 24 µm bond line
    assert (gap_fill.kind, gap_fill.tool_recipe) == ("gap fill", "A-SMALL-2")
    assert gap_fill.settings.mode == "GAPFILL"
    assert gap_fill.settings.dispense_pattern in ("RING", "FILL")
    # gap area × opening depth: (49 − 25) mm² × 360 µm, as the DB-4's stored A-SMALL-2.
    assert gap_fill.settings.dispense_volume_nl == 8640


def test_die_equal_to_opening_is_attached_inside_without_gap_fill() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-equal.yaml")
    (attach,) = die_bond_steps(route_for(recipe))

    assert attach.tool_recipe == "A-EQUAL"
    assert (attach.settings.place_zref, attach.settings.dispense_pattern) == ("BASE", "STAR")
    assert attach.settings.dispense_volume_nl == 1225


def test_die_larger_than_opening_sits_on_substrate_top_with_the_opening_filled() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-larger.yaml")
    (attach,) = die_bond_steps(route_for(recipe))

    assert attach.tool_recipe == "A-LARGE"
    assert (attach.settings.place_zref, attach.settings.dispense_pattern) == ("TOP", "FILL")
    # Opening filled to the slice (49 mm² × 360 µm) + bond line under the overhang (32 × 25).
    assert attach.settings.dispense_volume_nl == 18440


@pytest.mark.parametrize(
    ("die_mm", "expected"),
    [
        ((5.0, 5.0), DieAttachVariant.SMALLER),
        ((6.89, 6.89), DieAttachVariant.SMALLER),
        ((6.90, 6.90), DieAttachVariant.EQUAL),
        ((7.0, 7.0), DieAttachVariant.EQUAL),
        ((7.10, 7.10), DieAttachVariant.EQUAL),
        ((7.11, 7.11), DieAttachVariant.LARGER),
        ((6.89, 7.0), DieAttachVariant.SMALLER),  # a gap on two sides
        ((9.0, 9.0), DieAttachVariant.LARGER),
        ((9.0, 7.0), None),  # overhangs along one side only: no claim covers it
        ((5.0, 9.0), None),
    ],
)
def test_die_attach_variant_boundary_is_a_tenth_of_a_millimetre(
    die_mm: tuple[float, float], expected: DieAttachVariant | None
) -> None:
    assert die_attach_variant(*die_mm, 7.0, 7.0) is expected


def test_die_at_the_top_of_the_equal_band_is_still_attached_inside(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path, "heat-slug-die-equal", {"die.size_x_mm": 7.1, "die.size_y_mm": 7.1}
    )
    (attach,) = die_bond_steps(route_for(load_recipe(path)))
    assert attach.tool_recipe == "A-EQUAL"


def test_die_barely_larger_than_the_opening_is_refused_for_lack_of_support(
    tmp_path: Path,
) -> None:
    path = write_recipe(
        tmp_path, "heat-slug-die-larger", {"die.size_x_mm": 7.2, "die.size_y_mm": 7.2}
    )
    (problem,) = problems_of(path)
    assert problem.startswith("die.size_x_mm/size_y_mm: die 7.2 × 7.2 mm, opening 7 × 7 mm")
    assert "0.100 mm on the substrate top per side, below 0.25 mm" in problem


# == heat-slug: claim 3 ===========================================================================
#: 0.30 mm balls (heights 180–270 µm) over the 225 µm slug of the shipped recipes.
CLAIM_3_BALLS = {
    "balls.ball_diameter_mm": 0.30,
    "inspection.ball.ball_height_um": [180.0, 260.0],
    "inspection.ball.clearance_um": [0.5, 1000.0],
}


def test_claim_3_slug_a_micron_thinner_than_the_balls_is_accepted(tmp_path: Path) -> None:
    changes = CLAIM_3_BALLS | {"balls.ball_height_um": 226.0}
    recipe = load_recipe(write_recipe(tmp_path, "heat-slug-die-equal", changes))
    assert isinstance(recipe, HeatSlugRecipe)
    assert recipe.nominal_clearance_um == 1.0


def test_claim_3_is_refused_also_when_the_model_is_built_in_python() -> None:
    data = recipe_data("heat-slug-die-equal")
    data["slice"]["thickness_um"] = 290.0
    data["balls"]["ball_height_um"] = 300.0
    with pytest.raises(ValidationError, match="claim 3"):
        HeatSlugRecipe.model_validate(data)


def test_claim_3_is_measured_at_inspection_with_a_clearance_above_zero() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-equal.yaml")
    (ball,) = [s for s in route_for(recipe).steps if s.name == "inspect ball"]
    assert isinstance(ball, InspectStep)
    assert ball.limits["CLEAR"][0] > 0


#: A shipped recipe with one fault, and the one problem the loader names for it.
ONE_FAULT = {
    "die-just-under-the-equal-band-needs-a-gap-fill": (
        {"die.size_x_mm": 6.89, "die.size_y_mm": 6.89},
        "gap_fill: missing; the die is smaller than the opening and claim 5 fills the gap "
        "between die and opening wall with a second adhesive",
    ),
    "die-larger-along-one-side-only-is-refused": (
        {"die.size_x_mm": 9.0},
        "die.size_x_mm/size_y_mm: die 9 × 7 mm, opening 7 × 7 mm: the die is larger than the "
        "opening along one side only; claims 5-7 need it smaller or equal on both sides, or "
        "larger on both",
    ),
    "gap-fill-on-a-die-that-fills-the-opening-is-refused": (
        {"gap_fill": recipe_data("heat-slug-die-smaller")["gap_fill"]},
        "gap_fill: given, but the die fills the opening: there is no gap to fill",
    ),
    "claim-3-slug-as-tall-as-the-balls-is-refused": (
        CLAIM_3_BALLS | {"balls.ball_height_um": 225.0},
        "claim 3: slice.thickness_um + slice_adhesive.thickness_um = 200 + 25 = 225 µm must be "
        "below balls.ball_height_um 225 µm (the heat slug thinner than the solder balls)",
    ),
    "claim-3-clearance-limit-at-zero-is-refused": (
        {"inspection.ball.clearance_um": [0.0, 1000.0]},
        "inspection.ball.clearance_um: lower limit 0 µm must be above 0 (claim 3: the slug "
        "thinner than every ball)",
    ),
    "clearance-limit-above-the-nominal-clearance-is-refused": (
        {"inspection.ball.clearance_um": [200.0, 1000.0]},
        "inspection.ball.clearance_um: lower limit 200 µm is above the nominal clearance 175 µm "
        "(ball height − slug)",
    ),
    "reflow-limits-need-min-below-max": (
        {"balls.peak_window_c": [240.0, 240.0]},
        "balls.peak_window_c: [240, 240]: min equal to max",
    ),
    "timed-etch-outside-the-over-etch-window-is-refused": (
        {"etch.endpoint": "TIME", "etch.etch_time_s": 380},
        "etch.etch_time_s: 380 s etches 209.0 µm at 33.0 µm/min, an over-etch of 4.5 % outside "
        "10–20 %",
    ),
}


@pytest.mark.parametrize(("changes", "problem"), ONE_FAULT.values(), ids=ONE_FAULT)
def test_one_fault_in_the_die_equal_recipe_is_the_one_problem_named(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    assert problems_of(write_recipe(tmp_path, "heat-slug-die-equal", changes)) == [problem]


def test_a_method_tag_that_is_not_a_word_is_named_not_a_crash(tmp_path: Path) -> None:
    """A section's ``method`` given as a list or a mapping (a YAML slip) is refused by name;
    it was looked up as a tag and crashed the loader (unhashable)."""
    changes = {"recess.method": ["etch"], "bonding.method": {"wire": True}}
    assert problems_of(write_recipe(tmp_path, "film-etch-wire", changes)) == [
        "recess.method: \"['etch']\" is not one of 'etch', 'laser'",
        "bonding.method: \"{'wire': True}\" is not one of 'wire', 'flip-chip'",
    ]


# == broken recipes list every problem: field, value, range ======================================
def test_broken_recipe_lists_every_problem_with_field_value_and_range(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path,
        "heat-slug-die-smaller",
        {
            "laminate.platen_temperature_c": 140.0,
            "mold.cure_time_s": 200,
            "balls.zone_temperatures_c": [330.0, 160.0, 175.0, 185.0, 200.0, 220.0, 250.0, 250.0],
            "wire_bond.wire_material": "AG",
            "wire_bond.loop_hieght_um": 250,
            "gap_fill.pattern": "DOT",
            "inspection.package.warpage_um": [50.0, 0.0],
            "slice.thickness_um": 290.0,
            "balls.ball_height_um": 300.0,
        },
        remove=("etch.over_etch_pct",),
    )
    problems = problems_of(path)

    assert problems == [
        "laminate.platen_temperature_c: 140 is outside 150–190 °C "
        "(LM-8 PLATEN_SP; lamination 150–190 °C)",
        "gap_fill.pattern: 'DOT' is not 'RING' or 'FILL' (DB-4: GAPFILL needs RING or FILL)",
        "wire_bond.wire_material: 'AG' is not 'AU' or 'CU' (WB-3 WIRE_MAT)",
        "wire_bond.loop_hieght_um: unknown key; did you mean 'loop_height_um'? (known keys: "
        "program, wires_per_unit, wire_material, wire_diameter_um, stage_temperature_c, "
        "ball_force_gf, ball_time_ms, ball_ultrasonic_pct, stitch_force_gf, stitch_time_ms, "
        "stitch_ultrasonic_pct, loop_height_um, fab_diameter_um, gas_flow_l_min, "
        "consecutive_fail_limit)",
        "mold.cure_time_s: 200 is outside 60–180 s (TM-4 CURE_S; 60–120 s in-mold cure)",
        "etch.over_etch_pct: missing (etch beyond the slice thickness, 10–20 %)",
        "balls.zone_temperatures_c[0]: 330 is outside 25–300 °C (BA-8 REFLow:ZONE1..8:TEMPerature)",
        "inspection.package.warpage_um: [50, 0]: min above max",
        # The cross checks run on what validated, so claim 3 is not hidden by the errors above.
        "claim 3: slice.thickness_um + slice_adhesive.thickness_um = 290 + 25 = 315 µm must be "
        "below balls.ball_height_um 300 µm (the heat slug thinner than the solder balls)",
        "inspection.slug.slug_protrusion_um: [200, 260] does not contain the nominal slug "
        "315 µm (slice + adhesive): every good unit would fail",
        "inspection.ball.ball_height_um: [350, 450] does not contain balls.ball_height_um 300 µm",
    ]


def test_file_that_is_not_a_recipe_says_what_product_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("product: heat-sink\nname: x\n")
    assert problems_of(path) == [
        "product: 'heat-sink' is not one of 'heat-slug', 'ultra-thin-film'"
    ]
    path.write_text("name: x\n")
    assert problems_of(path) == ["product: missing (one of 'heat-slug', 'ultra-thin-film')"]
    path.write_text("- just\n- a list\n")
    assert problems_of(path)[0].startswith("<top>: a recipe is a mapping of sections")


def test_recipe_name_must_be_its_file_name(tmp_path: Path) -> None:
    source = write_recipe(tmp_path, "film-etch-wire")
    renamed = source.with_name("film-etch-wire-copy.yaml")
    source.rename(renamed)
    assert problems_of(renamed) == [
        "name: 'film-etch-wire' is not the file's name 'film-etch-wire-copy'"
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"laminate.standby_temperature_c": 120.0, "laminate.platen_temperature_c": 160.0},
            "laminate.standby_temperature_c: 120 °C is above 110 °C (platen_temperature_c − 50, "
            "LM-8 ARM check)",
        ),
        (
            {"wire_bond.fab_diameter_um": 80},
            "wire_bond.fab_diameter_um: 80 µm is outside 37.5–75 µm (1.5–3.0 × wire_diameter_um "
            "25, WB-3 START check)",
        ),
        (
            {
                "mold.chase_top_temperature_c": 165.0,
                "mold.chase_bottom_temperature_c": 165.0,
                "mold.cure_time_s": 60,
            },
            "mold.cure_time_s: 60 s gives α = 0.701 at mold open (165 °C, Kamal–Sourour), below "
            "alpha_at_open_min 0.8",
        ),
        (
            {"etch.concentration_be": 38.0},
            "etch.concentration_be: 38 °Bé is outside 28–36 °Bé for CUCL2 (WE-2 ARM check)",
        ),
        (
            {"etch.etch_time_max_s": 450},
            "etch.etch_time_max_s: 450 s is below 523 s (1.25 × the nominal 418 s to etch 230 µm "
            "in CUCL2 at 50 °C, 32; WE-2 rate estimate)",
        ),
        (
            {"etch.cu_load_max_g_l": 120.0},
            "etch.cu_load_max_g_l: 120 g/L is below 150 g/L; a regenerated cupric bath holds "
            "~140 g/L and would raise alarm 5123 and block the bath",
        ),
        (
            {"dice.blade_thickness_um": 280},
            "dice.blade_thickness_um + 2 × offset_limit_um: 330 µm is wider than the 300 µm "
            "street between package bodies",
        ),
        (
            {"dice.blade_thickness_um": 20, "dice.spindle_speed_krpm": 35.0},
            "dice.spindle_speed_krpm: 35 krpm is above 30 krpm for a 20 µm blade (DS-2 START "
            "check)",
        ),
        (
            {"strip.format": "B"},
            "strip.format: 'B' is not 'A' (heat-slug strips are Format A)",
        ),
    ],
)
def test_heat_slug_cross_checks_name_fields_values_and_ranges(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    path = write_recipe(tmp_path, "heat-slug-die-equal", changes)
    assert problem in problems_of(path)


def test_reflow_zones_that_overshoot_the_peak_window_are_refused(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, "heat-slug-die-equal", {"balls.reflow_speed_mm_s": 8.0})
    problems = problems_of(path)
    assert any(
        p.startswith("balls.zone_temperatures_c/reflow_speed_mm_s: peak 2") for p in problems
    )


def test_ferric_chloride_slug_etch_is_accepted_in_its_window(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path,
        "heat-slug-die-equal",
        {
            "etch.chemistry": "FECL3",
            "etch.temperature_c": 45.0,
            "etch.concentration_be": 40.0,
            "etch.acid_mol_l": 0.17,
            "etch.orp_mv": 580,
            "etch.cu_load_max_g_l": 100.0,
            "etch.etch_time_max_s": 1200,
        },
    )
    (etch,) = [s for s in route_for(load_recipe(path)).steps if isinstance(s, EtchStep)]
    assert etch.chemistry is Chemistry.FECL3
    assert etch.recipe.depth_target_um == 230.0


def test_timed_etch_in_the_over_etch_window_is_accepted(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path, "heat-slug-die-equal", {"etch.endpoint": "TIME", "etch.etch_time_s": 420}
    )
    (etch,) = [s for s in route_for(load_recipe(path)).steps if isinstance(s, EtchStep)]
    assert (etch.recipe.endpoint_mode.name, etch.recipe.etch_time_s) == ("TIME", 420)


def test_heat_slug_etch_target_is_the_slice_plus_its_over_etch() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-smaller.yaml")
    (etch,) = [s for s in route_for(recipe).steps if isinstance(s, EtchStep)]
    assert (etch.kind, etch.chemistry) == ("etch", Chemistry.CUCL2)
    assert etch.recipe.depth_target_um == 230.0  # 200 µm × (1 + 15 %)
    assert (etch.recipe.temp_sp_c, etch.recipe.conc_sp) == (50.0, 32.0)


# == film: recess method, plate and bonding follow from the recipe (claims 1-4) ==================
def test_film_recess_by_etch_is_koh_past_the_film() -> None:
    route = route_for(load_recipe(RECIPES_DIR / "film-etch-wire.yaml"))
    recess = route.steps[0]
    assert isinstance(recess, EtchStep)
    assert (recess.kind, recess.chemistry) == ("recess (etch)", Chemistry.KOH)
    assert recess.recipe.depth_target_um == 27.5  # 25 µm film + 10 %: the pads stop it


@pytest.mark.parametrize(
    ("name", "tool_recipe", "area_limits"),
    [("film-laser-wire", "B-IO16", False), ("film-laser-wire-plate", "B-IO16-DIE4", True)],
)
def test_film_recess_by_laser_uses_the_pattern_the_recipe_needs(
    name: str, tool_recipe: str, area_limits: bool
) -> None:
    route = route_for(load_recipe(RECIPES_DIR / f"{name}.yaml"))
    laser, inspect = route.steps[:2]
    assert isinstance(laser, LaserRecessStep) and isinstance(inspect, InspectStep)
    assert (laser.tool_recipe, laser.settings.pattern) == (
        tool_recipe,
        tool_recipe.removeprefix("B-"),
    )
    assert laser.settings.film_thickness_um == 25.0
    assert ("AREA" in inspect.limits) is area_limits


def test_film_bonding_and_plate_use_the_film_tool_recipes() -> None:
    wire = route_for(load_recipe(RECIPES_DIR / "film-etch-wire-plate.yaml"))
    plate, glue = die_bond_steps(wire)
    assert (plate.kind, plate.tool_recipe, plate.settings.mode) == ("plate", "B-PLATE", "PLATE")
    assert plate.settings.dispense_volume_nl == 100  # 2 × 2 mm × 25 µm, as B-PLATE
    assert (glue.tool_recipe, glue.settings.dispense_volume_nl) == ("B-GLUE", 220)
    (bond,) = [s for s in wire.steps if isinstance(s, WireBondStep)]
    assert bond.program == "B16"

    flip = route_for(load_recipe(RECIPES_DIR / "film-laser-flipchip.yaml"))
    (chip,) = die_bond_steps(flip)
    assert (chip.kind, chip.tool_recipe, chip.settings.mode) == ("flip-chip", "B-FC", "FLIPCHIP")
    assert not any(isinstance(s, WireBondStep) for s in flip.steps)


def test_film_route_sheet_names_the_claims_of_each_variant() -> None:
    wire = route_for(load_recipe(RECIPES_DIR / "film-etch-wire-plate.yaml"))
    flip = route_for(load_recipe(RECIPES_DIR / "film-etch-flipchip-plate.yaml"))
    assert dict(zip(wire.step_names, wire.claims, strict=True))["plate"] == "B2"
    assert dict(zip(flip.step_names, flip.claims, strict=True))["plate"] == "B4"
    assert dict(zip(flip.step_names, flip.claims, strict=True))["flip-chip"] == "B3"
    assert "claims B1, B3, B4" in flip.variant


@pytest.mark.parametrize(
    ("base", "changes", "problem"),
    [
        (
            "film-etch-wire",
            {"film.material": "polymer"},
            "film.material: 'polymer' cannot be recessed with KOH (it etches polyimide); use PI "
            "or the laser",
        ),
        (
            "film-laser-wire",
            {"recess.via_max_pulses": 130},
            "recess.via_max_pulses: 130 is below the 132 pulses a 25 µm film needs at 1.08 J/cm² "
            "(fluence − 10 %, the UVL-3 power tolerance): vias would not open (8501)",
        ),
        (
            "film-laser-wire-plate",
            {"recess.die_recess_depth_um": 25.0, "inspection.recess.die_recess_depth_um": [23, 27]},
            "recess.die_recess_depth_um: 25 µm must be below film.thickness_um 25 µm (UVL-3 START "
            "check)",
        ),
        (
            "film-laser-wire-plate",
            {"plate.size_x_mm": 2.5, "plate.size_y_mm": 2.5},
            "plate.size_x_mm/size_y_mm: 2.5 × 2.5 mm does not fit the 2.0 × 2.0 mm die-area "
            "recess (recess.die_recess)",
        ),
        (
            "film-etch-wire",
            {"bonding.wire_bond.wires_per_unit": 32},
            "bonding.wire_bond.wires_per_unit: 32 is not film.io_legs_per_unit 16 (one wire per "
            "recessed leg)",
        ),
        (
            "film-etch-flipchip",
            {"die.bump_height_um": 20.0},
            "die.bump_height_um: 20 µm must exceed film.thickness_um 25 µm to reach the pads in "
            "the recessed legs (claim 3)",
        ),
        (
            "film-etch-flipchip-plate",
            {"plate.thickness_um": 30.0},
            "plate.thickness_um + plate.bond_line_um: 30 + 25 = 55 µm must be below the die's "
            "standoff 50 µm above the film (die.bump_height_um − film.thickness_um)",
        ),
        (
            "film-etch-flipchip",
            {"bonding.bump": "au-stud", "bonding.bond_time_s": 0.5},
            "bonding.bond_force_n: 30 N is 191 gf per bump over 16 bumps, outside 20–40 gf "
            "(Au-stud thermosonic)",
        ),
        (
            "film-etch-flipchip",
            {"bonding.bond_temperature_c": 320.0},
            "bonding.bond_temperature_c: 320 °C is outside 250–300 °C (solder thermocompression)",
        ),
        (
            "film-laser-wire",
            {"inspection.recess.die_recess_depth_um": [10.0, 14.0]},
            "inspection.recess.die_recess_depth_um: given, but there is no die recess",
        ),
        (
            "film-laser-wire-plate",
            {"inspection.recess.die_recess_depth_um": [10.5, 14.5]},
            "inspection.recess.die_recess_depth_um: [10.5, 14.5] does not contain "
            "recess.die_recess_depth_um ± die_recess_tolerance_um [10, 14] µm, which the laser "
            "already passed",
        ),
        (
            "film-etch-wire",
            {"inspection.package.package_thickness_um": [200.0, 280.0]},
            "inspection.package.package_thickness_um: [200, 280] does not contain the nominal "
            "300 µm (film + mold cap)",
        ),
        (
            "film-etch-wire",
            {"recess.method": "lazer"},
            "recess.method: 'lazer' is not one of 'etch', 'laser'",
        ),
    ],
)
def test_film_cross_checks_name_fields_values_and_ranges(
    tmp_path: Path, base: str, changes: dict[str, Any], problem: str
) -> None:
    assert problem in problems_of(write_recipe(tmp_path, base, changes))


def test_flip_chip_die_without_bumps_is_refused(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, "film-laser-flipchip", remove=("die.bump_height_um",))
    assert problems_of(path) == ["die.bump_height_um: missing (a flip-chip die bonds by its bumps)"]


def test_au_stud_flip_chip_in_its_window_is_accepted(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path,
        "film-etch-flipchip",
        {
            "bonding.bump": "au-stud",
            "bonding.bond_force_n": 4.7,  # 16 bumps × 30 gf
            "bonding.bond_time_s": 0.5,
            "bonding.bond_temperature_c": 200.0,
        },
    )
    recipe = load_recipe(path)
    assert isinstance(recipe, FilmRecipe)
    assert "au-stud" in route_for(recipe).variant


# == every set-point a route sends is one the tool accepts ========================================
@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTES))
def test_every_set_point_a_route_sends_is_in_its_tools_range(name: str) -> None:
    """Each step's set-points are its own driver's record, every value inside the declared
    range and the manual's cross-field rules kept; the MS-3 limits inside LIM's range."""
    for step in route_for(load_recipe(RECIPES_DIR / f"{name}.yaml")).steps:
        setpoints = step.setpoints
        if isinstance(step, InspectStep):
            assert isinstance(setpoints, InspectionSetPoints)
            assert setpoints.windows() == step.item_limits, "every limit, none lost or added"
            for low, high in step.limits.values():
                assert -5000.0 <= low <= high <= 5000.0
        assert setpoints is not None and type(setpoints).driver is step.driver, step.name
        try:
            setpoints.check()
        except ParameterOutOfRange as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{name}: {step.name}: {exc}")
        if isinstance(step, EtchStep):
            assert step.recipe.conflicts(step.chemistry) == []


# == the route sheet ==============================================================================
def test_route_sheet_shows_variant_tools_set_points_and_claims() -> None:
    sheet = route_for(load_recipe(RECIPES_DIR / "heat-slug-die-larger.yaml")).describe()
    text = "\n".join(sheet)

    assert sheet[0] == "recipe heat-slug-die-larger (heat-slug)"
    assert sheet[1].startswith("variant: die 9 × 9 mm larger than the opening 7 × 7 mm")
    assert "(claims A7, A8)" in sheet[1]
    assert "A-LARGE: EPOXY ZREF TOP FILL 18440 nL" in text
    assert "[A7, A8]" in text
    assert "A-BALL: BALLH 350–450, COPL 0–100, CLEAR 100–1000, MISS 0–0  [A2, A3]" in text
    assert "claim A3: slug 225 µm (slice 200 + adhesive 25) < ball height 400 µm" in text


def test_route_refuses_claims_that_do_not_match_its_steps() -> None:
    route = route_for(load_recipe(RECIPES_DIR / "film-etch-wire.yaml"))
    with pytest.raises(ValueError, match="claim entries"):
        dataclasses.replace(route, claims=("B1",))


# == packline recipe check ========================================================================
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "packline.cli", "recipe", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_recipe_check_prints_the_route_sheet_of_a_good_recipe() -> None:
    result = run_cli(str(RECIPES_DIR / "heat-slug-die-smaller.yaml"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "heat-slug-die-smaller.yaml: ok" in result.stdout
    assert "variant: die 5 × 5 mm smaller than the opening 7 × 7 mm" in result.stdout
    assert "gap fill" in result.stdout
    assert "A-SMALL-2: GAPFILL ZREF BASE RING 8640 nL" in result.stdout
    assert "checked before the lot starts:" in result.stdout


def test_cli_recipe_check_lists_the_problems_of_a_broken_recipe(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path,
        "film-etch-wire",
        {"mold.cure_time_s": 200, "recess.temperature_c": 60.0},
    )
    result = run_cli(str(RECIPES_DIR / "film-etch-wire.yaml"), str(path))

    assert result.returncode == 2
    good, broken = result.stdout.split("\n\n", 1)
    assert good.startswith(f"{RECIPES_DIR / 'film-etch-wire.yaml'}: ok")
    assert broken.splitlines() == [
        f"{path}: 2 problem(s)",
        "  - recess.temperature_c: 60 is outside 65–90 °C (WE-2 TEMP_SP for KOH 65–90 °C "
        "(PI etch 70–90 °C))",
        "  - mold.cure_time_s: 200 is outside 60–180 s (TM-4 CURE_S; 60–120 s in-mold cure)",
    ]


def test_a_400_digit_set_point_is_a_range_problem_not_an_overflow(tmp_path: Path) -> None:
    """A number too large for a float (found by the loader fuzz) is named and refused, never an
    OverflowError out of the message that shows it."""
    path = write_recipe(tmp_path, "heat-slug-die-equal", {"die_attach.cure_time_s": 10**400})
    problems = problems_of(path)
    assert any(p.startswith("die_attach.cure_time_s") for p in problems), problems


@pytest.mark.parametrize(
    ("section", "record", "driver"),
    [
        (Mold, MoldRecipe, MoldPress),
        (Laminate, LaminationRecipe, Laminator),
        (WireBond, WireBondParameters, WireBonder),
        (Dice, CutSettings, DicingSaw),
    ],
)
def test_a_sections_tool_table_maps_every_record_field_to_a_section_field_once(
    section: Any, record: Any, driver: type
) -> None:
    table = section.tool_fields
    # Every record field, and no other; the dicing recipe leaves CUT:CHECk at its default.
    left_at_default = {"cut_check_every"} if record is CutSettings else set()
    assert set(table) == {f.name for f in dataclasses.fields(record)} - left_at_default
    assert set(table.values()) <= set(section.model_fields), "each names a section field"
    assert len(set(table.values())) == len(table), "no section field feeds two record fields"
    assert all(hasattr(driver, name) for name in table), "record fields are driver members"


def test_the_mold_section_becomes_the_shot_recipe_by_its_table() -> None:
    recipe = load_recipe(RECIPES_DIR / "heat-slug-die-equal.yaml")
    assert isinstance(recipe, HeatSlugRecipe)
    shot = recipe.mold.mold_recipe()
    assert shot.cure_s == recipe.mold.cure_time_s
    assert shot.chase_top_sp_c == recipe.mold.chase_top_temperature_c
    assert shot.alpha_min == recipe.mold.alpha_at_open_min
    press_load = recipe.laminate.lamination_recipe()
    assert press_load.dwell_s == recipe.laminate.dwell_s
    assert press_load.vacuum_sp_kpa == recipe.laminate.vacuum_kpa


# == the MS-3 limit sections against the driver's LIM declarations ================================
@pytest.mark.parametrize(
    "section",
    [SlugInspection, BallInspection, PackageInspection, RecessInspection, FilmPackageInspection],
    ids=lambda s: s.__name__,
)
def test_inspection_sections_name_declared_lim_items_of_one_mode_in_their_range(
    section: type[InspectionLimits],
) -> None:
    """Each ``ms3_items`` key is a declared LIM item, all of one MODE, each field a window;
    a window outside the declared LIM range is refused by the recipe with the range named."""
    items = [LIMIT_ITEMS[item] for item in section.ms3_items]
    assert len({item.mode for item in items}) == 1, section.ms3_items
    assert set(section.ms3_items.values()) <= set(section.model_fields)
    lo, hi = Metrology.copl_limits_um.bound.lo, Metrology.copl_limits_um.bound.hi
    assert (lo, hi) == (-5000.0, 5000.0), "metrology.md §4"
    field = next(iter(section.ms3_items.values()))
    windows = {name: (0.0, 1.0) for name in section.model_fields}
    with pytest.raises(ValueError, match="outside -5000–5000 \\(MS-3 LIM range\\)"):
        section.model_validate(windows | {field: (lo - 0.1, 0.0)})
    assert section.model_validate(windows | {field: (lo, hi)}).limits()[
        next(iter(section.ms3_items))
    ] == (lo, hi)
