"""What every master recipe is built from: strict models, ranged fields with their reason,
acceptance windows, the strip formats, and cross-field checks that name fields and ranges.

A field's range is declared once, with ``span(lo, hi, why)``: pydantic refuses a value outside
it, and the loader (:mod:`sequences.recipe.loading`) turns the refusal into
``mold.cure_time_s: 200 is outside 60–180 s (TM-4 CURE_S)``. Checks that need several fields
(claim 3, an etch guard against the rate model...) are registered per product with
:func:`cross_check`; they run on every section that validated, so one pass lists every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from drivers.metrology import LIMIT_ITEMS

#: Error type of the model-level check that reruns the cross checks (see ``checked_recipe``).
CROSS_CHECK_ERROR = "recipe_cross_check"


class RecipeModel(BaseModel):
    """A section of a master recipe: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def span(lo: float, hi: float, why: str, **kwargs: Any) -> Any:
    """A required field (or one with ``default=``) limited to [lo, hi], saying where the range
    comes from (a manual parameter, a process-reference window)."""
    return Field(ge=lo, le=hi, description=why, **kwargs)


def declared_range(member: Any, part: int | None = None) -> tuple[Any, Any]:
    """A driver member's declared range: a register's limits, a setting's codec's (``part``:
    the codec of one value of a multi-value setting, ``PLACe:TOLerance`` xy is 0)."""
    if hasattr(member, "limits"):
        return member.limits
    codec = member.codec if part is None else member.codecs[part]
    return codec.lo, codec.hi


def declared(
    member: Any,
    note: str = "",
    *,
    part: int | None = None,
    tool_default: bool = False,
    **kwargs: Any,
) -> Any:
    """A field limited to a driver member's declared range (said once, on the member) and
    described by the tool's model and the manual's name (``TM-4 CURE_S``), then ``note``;
    ``part`` as for :func:`declared_range`; ``tool_default``: the member's default is the
    field's."""
    lo, hi = declared_range(member, part)
    if tool_default:
        kwargs["default"] = member.default
    return span(lo, hi, f"{member.owner.model} {member.key}{note}", **kwargs)


# -- acceptance and process windows -----------------------------------------------------------
def window_check(lo: float, hi: float, why: str, *, strict: bool = False) -> AfterValidator:
    """Validator of a ``[min, max]`` pair that must lie inside [lo, hi] (``strict``: with
    min < max, as the BA-8 demands of its reflow limits)."""

    def check(window: tuple[float, float]) -> tuple[float, float]:
        low, high = window
        if low > high or (strict and low == high):
            relation = "above" if low > high else "equal to"
            raise ValueError(f"[{low:g}, {high:g}]: min {relation} max")
        if low < lo or high > hi:
            raise ValueError(f"[{low:g}, {high:g}] is outside {lo:g}–{hi:g} ({why})")
        return window

    return AfterValidator(check)


#: The range every MS-3 ``LIM`` item declares for lo and hi (−5000.0 to 5000.0, metrology.md
#: §4); one range for all, or this unpacking fails at import.
(LIM_RANGE,) = {declared_range(item, part=0) for item in LIMIT_ITEMS.values()}
#: Metrology acceptance limits, written ``clearance_um: [100.0, 1000.0]``: ``LIM <item>,<lo>,<hi>``
#: takes :data:`LIM_RANGE` with lo <= hi.
LimitWindow = Annotated[tuple[float, float], window_check(*LIM_RANGE, "MS-3 LIM range")]


def contains(limits: tuple[float, float], value: float) -> bool:
    return limits[0] <= value <= limits[1]


def outside(
    where: str, value: float, window: tuple[float, float], unit: str, why: str
) -> list[str]:
    """No problem when ``value`` lies in ``window``, else ``where: 12 s is outside 0.3–1 s why``."""
    if contains(window, value):
        return []
    low, high = fmt(window[0]), fmt(window[1])
    return [f"{where}: {fmt(value)} {unit} is outside {low}–{high} {unit} {why}"]


# -- recipe sections -> driver records ------------------------------------------------------------
T = TypeVar("T")


def tool_record(section: BaseModel, record: Callable[..., T], table: Mapping[str, str]) -> T:
    """The driver's record (``MoldRecipe``...) of a recipe section, by one explicit table:
    record field (the driver member's name) -> section field. A table says each mapping once;
    ``tests/unit/test_recipes.py`` checks that it covers the record and names real fields."""
    return record(**{field: getattr(section, name) for field, name in table.items()})


# -- strip formats (interfaces README §4) -----------------------------------------------------
@dataclass(frozen=True)
class StripFormat:
    """A reference strip format: layout, site pitch and package body."""

    name: str
    family: str
    rows: int
    cols: int
    pitch_mm: float
    body_mm: float

    @property
    def sites(self) -> int:
        return self.rows * self.cols

    @property
    def street_um(self) -> float:
        """Saw street between package bodies: pitch − body."""
        return round((self.pitch_mm - self.body_mm) * 1000.0, 3)

    def describe(self) -> str:
        return (
            f"strip format {self.name}: {self.rows} × {self.cols} = {self.sites} sites, "
            f"{self.pitch_mm:.3f} mm pitch, body {self.body_mm:.1f} × {self.body_mm:.1f} mm"
        )


STRIP_FORMATS = {
    "A": StripFormat("A", "heat-slug BGA", 3, 10, 17.3, 17.0),
    "B": StripFormat("B", "ultra-thin film", 8, 30, 5.3, 5.0),
}


class StripSpec(RecipeModel):
    """The strip the lot runs on; the tools' stored recipes (A-*, B-*) carry its layout."""

    format: Literal["A", "B"] = Field(description="reference strip format, interfaces README §4")

    @property
    def layout(self) -> StripFormat:
        return STRIP_FORMATS[self.format]


# -- cross-field checks -------------------------------------------------------------------------
R = TypeVar("R", bound=BaseModel)


#: A check over several sections: ``check(recipe) -> problems``.
CrossCheck = Callable[[Any], list[str]]


def cross_check(
    registry: list[CrossCheck], *sections: str
) -> Callable[[Callable[[R], list[str]]], Callable[[R], list[str]]]:
    """Register ``function(recipe) -> problems`` in ``registry``; ``sections``: the ones it
    reads, for the reader."""

    def register(function: Callable[[R], list[str]]) -> Callable[[R], list[str]]:
        registry.append(function)
        return function

    return register


def run_cross_checks(
    registry: list[CrossCheck], recipe: Any, *, partial: bool = False
) -> list[str]:
    """Problems of every check. On a ``partial`` recipe (the loader's, whose invalid fields are
    left out: ``loading._partial``) a check that reads a missing field is skipped."""
    problems: list[str] = []
    for check in registry:
        try:
            problems.extend(check(recipe))
        except AttributeError:
            if not partial:
                raise
    return problems


def refuse_if_problems(problems: list[str]) -> None:
    """Raise the model-level error that carries the cross-check problems (one per line)."""
    if problems:
        raise PydanticCustomError(
            CROSS_CHECK_ERROR, "{problems}", {"problems": "\n".join(problems)}
        )


def fmt(value: float) -> str:
    """A number as a person writes it: 200, 7.5, 0.35. An integer too large for a float (a
    400-digit value in a broken file) is named as such rather than raising OverflowError."""
    try:
        return f"{value:g}"
    except OverflowError:
        return f"an integer {'below -' if value < 0 else 'above '}1.8e308"


def fmt_window(limits: tuple[float, float]) -> str:
    """A ``[min, max]`` window as written in the recipe: ``[200, 260]``."""
    return f"[{fmt(limits[0])}, {fmt(limits[1])}]"
