"""The API's request and response models: they validate requests and write the OpenAPI document.

Response models name the fields the CLI and the page read and allow the rest of the
controller's answer (``extra="allow"``), so a field added below shows up without a change here.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from packline.vocabulary import (
    ID_PATTERN,
    ID_RULE,
    LOT_COMMANDS,
    MAX_STRIPS,
    PRIORITY_RANGE,
    RECIPE_NAME_PATTERN,
    ROLES,
    STATION_COMMANDS,
    USER_NAME_PATTERN,
)

LotCommand = Enum("LotCommand", {c: c for c in LOT_COMMANDS}, type=str)  # type: ignore[misc]
StationCommand = Enum("StationCommand", {c: c for c in STATION_COMMANDS}, type=str)  # type: ignore[misc]

PRIORITY_MIN, PRIORITY_MAX = PRIORITY_RANGE.start, PRIORITY_RANGE.stop - 1

Id = Annotated[str, Field(pattern=ID_PATTERN, description=ID_RULE)]
RecipeName = Annotated[
    str,
    Field(
        pattern=RECIPE_NAME_PATTERN,
        description="a recipe name of configs/recipes (file name without .yaml)",
    ),
]


class Request(BaseModel):
    """A request body: unknown fields are refused, so that a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ServiceRequest(Request):
    """``POST /stations/{name}/disable`` (a reason is required) and ``/enable``."""

    reason: str = Field(default="", max_length=200, description="why (required to disable)")


class Answer(BaseModel):
    """An answer: the named fields are checked, the controller's other fields pass through."""

    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every 4xx and 5xx answer: what was wrong, and each problem found."""

    error: str
    problems: list[str]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    uptime_s: float = Field(description="seconds since the server started")


class LotRequest(Request):
    """A lot to queue. Without ``recipe`` the heat-slug (die equal to the opening) recipe;
    either ``strips`` (the daemon makes the ids) or ``strip_ids``, not both."""

    recipe: RecipeName | None = None
    strips: int | None = Field(default=None, ge=1, le=MAX_STRIPS)
    strip_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_STRIPS)
    lot_id: Id | None = None
    priority: int = Field(
        default=0, ge=PRIORITY_MIN, le=PRIORITY_MAX, description="higher goes first"
    )

    @model_validator(mode="after")
    def _one_way_to_name_strips(self) -> LotRequest:
        if self.strips is not None and self.strip_ids is not None:
            raise ValueError("give strips or strip_ids, not both")
        if self.strip_ids is not None and len(set(self.strip_ids)) != len(self.strip_ids):
            raise ValueError("strip_ids must be unique")
        return self


class RecipeValidateRequest(Request):
    """Either the name of a stored recipe or the YAML text of one."""

    name: RecipeName | None = None
    text: str | None = Field(default=None, min_length=1, description="recipe YAML")

    @model_validator(mode="after")
    def _exactly_one(self) -> RecipeValidateRequest:
        if (self.name is None) == (self.text is None):
            raise ValueError("give exactly one of name and text")
        return self


class SignIn(Request):
    user: str = Field(pattern=USER_NAME_PATTERN, description="a user made by 'packline user add'")
    password: str = Field(min_length=1, max_length=1024)


class Session(BaseModel):
    """A signed-in user and the API token that now stands for them."""

    user: str
    role: str = Field(description=f"one of {', '.join(ROLES)}")
    token: str | None = Field(default=None, description="only when just signed in")


class Lot(Answer):
    """A lot: status, recipe, counts, per-step progress and per-strip status."""

    lot_id: str
    status: str = Field(description="queued, running, held, aborting, complete or aborted")


class Strip(Answer):
    strip_id: str
    status: str


class StripMap(BaseModel):
    """A strip's site maps as E142-style XML (one SubstrateMap per step)."""

    strip_id: str
    xml: str


class Unit(Answer):
    strip_id: str
    site: int


class Station(Answer):
    """PackML state, tool kind, address, current step and strips, alarms, policy, E10 times."""

    name: str
    state: str


class Alarm(Answer):
    alarm_id: int


class Recipe(Answer):
    name: str


class RecipeValidation(BaseModel):
    valid: bool
    problems: list[str]
    route: list[Any] = Field(description="the route's steps (empty when invalid)")


class E10(BaseModel):
    """E10 time per station, in tool seconds (wall seconds x the daemon's time scale)."""

    unit: str = Field(description="always tool_s: tool seconds")
    time_scale: float = Field(description="tool seconds per wall second (--time-scale)")
    stations: dict[str, dict[str, float]] = Field(description="seconds per E10 category")


Json = dict[str, Any]


class LotPriority(Request):
    """A lot's new priority (higher goes first at a free station; FIFO within a priority)."""

    priority: int = Field(ge=PRIORITY_MIN, le=PRIORITY_MAX)
