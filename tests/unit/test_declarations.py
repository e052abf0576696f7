"""The tool-recipe dataclasses and result records against the drivers' declarations: a default
or a range exists once, on the declared member, every recipe field is a member of its tool's
table, and every result, status or multi-value record has one field per declared value."""

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
from drivers.modbus_tool import ResultBlock
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.records import AlarmInfo, alarms, defects
from drivers.registers import Block, Holding, Register
from drivers.settings import Reading, Setting
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


def _record_fields(record: Any) -> list[str]:
    """The constructor fields of a record type (a dataclass or a NamedTuple)."""
    if dataclasses.is_dataclass(record):
        return [f.name for f in dataclasses.fields(record) if f.init]
    return list(record._fields)


def _is_record(record: Any) -> bool:
    return dataclasses.is_dataclass(record) or hasattr(record, "_fields")


def _declared(kind: type[Any]) -> list[tuple[str, Any]]:
    """Every ``kind`` declaration of the drivers whose reply is a record type."""
    return [
        (f"{driver.__name__}.{name}", member)
        for driver in DRIVERS
        for cls in driver.__mro__
        for name, member in vars(cls).items()
        if isinstance(member, kind) and _is_record(member.record)
    ]


@pytest.mark.parametrize(
    ("name", "block"), _declared(Block), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_result_and_status_record_is_its_blocks_registers(
    name: str, block: Block[Any]
) -> None:
    """A block's record has one field per declared register (under its name or keyword), and
    the positions of a result block: no field is typed twice or left to a default."""
    declared = [r.name for r in block.registers] + list(block.renamed)
    if isinstance(block, ResultBlock):  # POS_RESULT and POS_DEFECT become the positions
        declared = [n for n in declared if n not in ("position_results", "position_defects")]
        declared.append("positions")
    assert sorted(_record_fields(block.record)) == sorted(declared), name


@pytest.mark.parametrize(
    ("name", "reading"), _declared(Reading), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_multi_value_record_has_one_field_per_declared_value(
    name: str, reading: Reading[Any]
) -> None:
    assert len(_record_fields(reading.record)) == len(reading.codecs), name
