"""Master recipes (configs/recipes/*.yaml): one per product variant, validated on load.

A recipe states a variant's geometry, materials, set-points and windows per step, and its
acceptance limits, with units in the names. :func:`load_recipe` refuses a file with every
problem listed (field, value, allowed range); :mod:`sequences.route` derives the route from it.

- :mod:`.heat_slug`: the heat-slug BGA (die smaller / equal / larger than the opening);
- :mod:`.film`: the ultra-thin film package (etch or laser recess, wire or flip-chip, plate);
- :mod:`.sections`: sections both share (die bonder placement, wire bond, mold, etch bath, dice);
- :mod:`.process_models`: the reflow, cure, etch and ablation models the checks use;
- :mod:`.loading`: loading and problem messages.
"""

from sequences.recipe.base import STRIP_FORMATS, StripFormat
from sequences.recipe.film import EtchRecess, FilmRecipe, FlipChip, LaserRecess, WireBonded
from sequences.recipe.heat_slug import DieAttachVariant, HeatSlugRecipe, die_attach_variant
from sequences.recipe.loading import (
    RECIPES_DIR,
    Recipe,
    load_recipe,
    recipe_files,
    validate_recipe,
)

__all__ = [
    "RECIPES_DIR",
    "STRIP_FORMATS",
    "DieAttachVariant",
    "EtchRecess",
    "FilmRecipe",
    "FlipChip",
    "HeatSlugRecipe",
    "LaserRecess",
    "Recipe",
    "StripFormat",
    "WireBonded",
    "die_attach_variant",
    "load_recipe",
    "recipe_files",
    "validate_recipe",
]
