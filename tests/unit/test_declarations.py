"""The tool-recipe dataclasses against the drivers' declarations: a default or a range exists
once, on the declared member, and every recipe field is a member of its tool's table."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from drivers.ball_attach import BallAttach
from drivers.base import Tool
from drivers.dicing_saw import DicingSaw
from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.etch_bath import EtchBath, EtchRecipe
from drivers.laminator import LaminationRecipe, Laminator
from drivers.laser import Laser
from drivers.metrology import Metrology
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.records import AlarmInfo, alarms, defects
from drivers.registers import Holding, Register
from drivers.settings import Setting
from drivers.wire_bonder import WireBonder

RECIPES: list[tuple[type[Any], type[Tool]]] = [
    (MoldRecipe, MoldPress),
    (LaminationRecipe, Laminator),
    (EtchRecipe, EtchBath),
    (DieBondSettings, DieBonder),
]
DRIVERS = [BallAttach, DicingSaw, DieBonder, EtchBath, Laminator, Laser, Metrology, MoldPress]
DRIVERS += [WireBonder]


def _members(driver: type[Tool]) -> dict[str, Any]:
    """Every declared setting and register of a driver, its bases' included."""
    found: dict[str, Any] = {}
    for cls in reversed(driver.__mro__):
        found.update(
            (name, member)
            for name, member in vars(cls).items()
            if isinstance(member, Setting | Register)
        )
    return found


@pytest.mark.parametrize(("recipe", "driver"), RECIPES, ids=lambda x: x.__name__)
def test_recipe_fields_are_the_tools_declared_members_with_their_defaults(
    recipe: type[Any], driver: type[Tool]
) -> None:
    members = _members(driver)
    for field in dataclasses.fields(recipe):
        member = members.get(field.name)
        assert isinstance(member, Setting | Holding), f"{field.name} is not declared on {driver}"
        assert field.default == member.default, field.name
        assert field.default is not None, f"{driver.__name__}.{field.name} has no default"


@pytest.mark.parametrize(("recipe", "driver"), RECIPES, ids=lambda x: x.__name__)
def test_every_member_with_a_default_is_in_the_recipe(
    recipe: type[Any], driver: type[Tool]
) -> None:
    with_default = {name for name, member in _members(driver).items() if member.default is not None}
    assert with_default == {f.name for f in dataclasses.fields(recipe)}


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.__name__)
def test_every_declared_default_is_inside_the_declared_range(driver: type[Tool]) -> None:
    for name, member in _members(driver).items():
        if member.default is None:
            continue
        if isinstance(member, Register):
            default = int(member.default) if isinstance(member.default, bool) else member.default
            member.to_words(default)
        else:
            default = member.default
            if dataclasses.is_dataclass(default) and not isinstance(default, type):
                default = dataclasses.astuple(default)
            values = default if len(member.codecs) > 1 else (default,)
            for codec, value in zip(member.codecs, values, strict=True):
                codec.check(value, name)


def test_a_recipe_default_outside_its_range_would_be_caught() -> None:
    with pytest.raises(ValueError, match="outside"):
        MoldPress.cure_s.to_words(MoldPress.cure_s.default * 10)


def test_alarm_and_defect_tables_read_like_the_manual_rows() -> None:
    table = alarms("""
        4001 A Emergency stop
        4201 W Pellet supply low
    """)
    assert list(table.values()) == [
        AlarmInfo(4001, "A", "Emergency stop"),
        AlarmInfo(4201, "W", "Pellet supply low"),
    ]
    assert defects("4501 incomplete fill (short shot)") == {4501: "incomplete fill (short shot)"}


@pytest.mark.parametrize("row", ["4001 A", "A 4001 Emergency stop"])
def test_a_table_row_that_does_not_fit_is_named(row: str) -> None:
    with pytest.raises(ValueError, match=repr(row)):
        alarms(row)
