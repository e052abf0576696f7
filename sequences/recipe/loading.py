"""Loading a master recipe: every problem listed, each naming its field, the value and the
allowed range, before anything touches a tool.

Field problems come from pydantic (ranges declared with ``span``), rewritten so that a range
reads whole: ``mold.cure_time_s: 200 is outside 60–180 s (TM-4 CURE_S; 60–120 s in-mold cure)``.
Cross-field checks (claim 3, die against opening, etch guard...) then run on every section that
validated, so a file with a bad mold set-point *and* a slug thicker than the balls reports both.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any, cast

import annotated_types
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from sequences.config_errors import (
    ConfigError,
    load_yaml,
    model_of,
    resolve_loc,
    tagged_members,
    unknown_key,
)
from sequences.recipe.base import CROSS_CHECK_ERROR, fmt, run_cross_checks
from sequences.recipe.film import FilmRecipe
from sequences.recipe.heat_slug import HeatSlugRecipe
from sequences.units import unit_of

Recipe = HeatSlugRecipe | FilmRecipe

RECIPES_DIR = Path(__file__).resolve().parent.parent.parent / "configs" / "recipes"

PRODUCTS: dict[str, type[HeatSlugRecipe] | type[FilmRecipe]] = {
    "heat-slug": HeatSlugRecipe,
    "ultra-thin-film": FilmRecipe,
}


def recipe_files(directory: Path = RECIPES_DIR) -> list[Path]:
    """The master recipes of a directory, by name."""
    return sorted(directory.glob("*.yaml"))


def load_recipe(path: str | Path) -> Recipe:
    """Load and validate a master recipe; :class:`ConfigError` lists every problem."""
    path = Path(path)
    return validate_recipe(load_yaml(path), str(path), file_stem=path.stem)


def validate_recipe(data: Any, source: str, *, file_stem: str | None = None) -> Recipe:
    """Validate parsed recipe data (``source`` names it in the error)."""
    if not isinstance(data, dict):
        raise ConfigError(source, [f"<top>: a recipe is a mapping of sections, got {data!r}"])
    product = data.get("product")
    if product not in PRODUCTS:
        expected = ", ".join(repr(p) for p in PRODUCTS)
        if product is None:
            raise ConfigError(source, [f"product: missing (one of {expected})"])
        raise ConfigError(source, [f"product: {product!r} is not one of {expected}"])
    model = PRODUCTS[product]
    problems: list[str] = []
    recipe: Recipe | None = None
    try:
        recipe = model.model_validate(data)
    except ValidationError as exc:
        problems += describe_problems(model, exc)
        # The cross checks on what validates: a section with a bad field is rebuilt from its
        # good fields, and a check that needs a bad (absent) field is skipped.
        problems += run_cross_checks(model.checks, _partial(model, data), partial=True)
    name = data.get("name")
    if file_stem is not None and isinstance(name, str) and name != file_stem:
        problems.append(f"name: {name!r} is not the file's name {file_stem!r}")
    if problems or recipe is None:
        raise ConfigError(source, problems)
    return recipe


def _partial(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``model`` built without validation from the fields of ``data`` that validate; fields that
    do not are left out (not defaulted), so reading them raises AttributeError."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in data:
            if not info.is_required():
                values[name] = info.get_default(call_default_factory=True)
            continue
        raw = data[name]
        try:
            field_type = cast(Any, Annotated[info.annotation, info])
            values[name] = TypeAdapter(field_type).validate_python(raw)
            continue
        except ValidationError:
            pass
        section = _section_model(info.annotation, raw)
        if section is not None and isinstance(raw, dict):
            values[name] = _partial(section, raw)
    instance = model.model_construct(**values)
    for name in set(model.model_fields) - set(values):
        instance.__dict__.pop(name, None)
    return instance


def _section_model(annotation: Any, raw: Any) -> type[BaseModel] | None:
    """The model a section's data is meant for (by its ``method`` tag in a union)."""
    tagged = tagged_members(annotation)
    if tagged:
        tag = raw.get("method") if isinstance(raw, dict) else None
        return model_of(tagged[tag]) if isinstance(tag, str) and tag in tagged else None
    return model_of(annotation)


# -- pydantic errors as field, value, range -------------------------------------------------------
def describe_problems(model: type[BaseModel], error: ValidationError) -> list[str]:
    """One line per field problem (the model-level cross-check error is left out)."""
    problems = []
    for item in error.errors():
        if item["type"] == CROSS_CHECK_ERROR:
            continue
        path, info, annotation = resolve_loc(model, item["loc"])
        problems.append(_message(model, path, info, annotation, item))
    return problems


def _message(
    model: type[BaseModel],
    path: str,
    info: FieldInfo | None,
    annotation: Any,
    item: Any,
) -> str:
    kind: str = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    why = f" ({info.description})" if info is not None and info.description else ""
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(info, annotation)
        if low is not None and high is not None:
            unit = unit_of(path.rsplit(".", 1)[-1].split("[", 1)[0])
            unit = f" {unit}" if unit else ""
            number = isinstance(value, int | float) and not isinstance(value, bool)
            given = fmt(value) if number else repr(value)
            return f"{path}: {given} is outside {fmt(low)}–{fmt(high)}{unit}{why}"
    if kind == "missing":
        return f"{path}: missing{why}"
    if kind == "extra_forbidden":
        parent = model_of(resolve_loc(model, item["loc"][:-1])[2])
        names = list(parent.model_fields) if parent is not None else []
        return unknown_key(path, str(item["loc"][-1]), names)
    if kind == "literal_error":
        return f"{path}: {value!r} is not {ctx.get('expected', 'allowed')}{why}"
    tag = f"{path}.{ctx.get('discriminator', '').strip(chr(39))}"  # the section's ``method``
    if kind == "union_tag_invalid":
        return f"{tag}: {ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"{tag}: missing"
    message: str = item["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        return f"{path}: {message}"
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"{path}: {message}{shown}"


def _bounds(info: FieldInfo | None, annotation: Any) -> tuple[float | None, float | None]:
    """(lower, upper) of a field, or of an ``Annotated`` item (tuple members)."""
    metadata: list[Any] = list(info.metadata) if info is not None else []
    if typing.get_origin(annotation) is Annotated:
        for extra in typing.get_args(annotation)[1:]:
            metadata += list(extra.metadata) if isinstance(extra, FieldInfo) else [extra]
    low: float | None = None
    high: float | None = None
    for constraint in metadata:
        if isinstance(constraint, annotated_types.Ge):
            low = float(constraint.ge)  # type: ignore[arg-type]
        elif isinstance(constraint, annotated_types.Gt):
            low = float(constraint.gt)  # type: ignore[arg-type]
        elif isinstance(constraint, annotated_types.Le):
            high = float(constraint.le)  # type: ignore[arg-type]
        elif isinstance(constraint, annotated_types.Lt):
            high = float(constraint.lt)  # type: ignore[arg-type]
    return low, high
