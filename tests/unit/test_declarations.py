"""The tool-recipe dataclasses and result records against the drivers' declarations: a default
or a range exists once, on the declared member, every recipe field is a member of its tool's
table, and every result, status or multi-value record has one field per declared value."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from drivers.ball_attach import BallAttach, BallAttachSettings, ReflowLimits
from drivers.base import Tool
from drivers.dicing_saw import DicingSaw
from drivers.die_bonder import DieBonder, DieBondSettings
from drivers.errors import ParameterOutOfRange
from drivers.etch_bath import EtchBath, EtchRecipe
from drivers.laminator import LaminationRecipe, Laminator
from drivers.laser import Laser
from drivers.metrology import Metrology
from drivers.modbus_tool import ResultBlock
from drivers.mold_press import MoldPress, MoldRecipe
from drivers.records import AlarmInfo, alarms, defects
from drivers.registers import Block, Holding, Register
from drivers.setpoints import SetPoints
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


def _setpoint_records() -> list[type[SetPoints]]:
    found, kinds = [], list(SetPoints.__subclasses__())
    while kinds:
        kind = kinds.pop()
        found.append(kind)
        kinds.extend(kind.__subclasses__())
    return sorted(found, key=lambda kind: kind.__name__)


SETPOINT_RECORDS = _setpoint_records()


def test_every_step_kind_writes_one_of_the_setpoint_records() -> None:
    """The one set-point shape: every tool a step writes settings to has its record."""
    names = {kind.__name__ for kind in SETPOINT_RECORDS}
    assert names == {
        "AblationSettings",
        "BallAttachSettings",
        "CutSettings",
        "DieBondSettings",
        "EtchRecipe",
        "InspectionSetPoints",
        "LaminationRecipe",
        "MoldRecipe",
        "WireBondParameters",
    }


@pytest.mark.parametrize("record", SETPOINT_RECORDS, ids=lambda r: r.__name__)
def test_setpoint_records_are_their_drivers_writable_members_in_manual_order(
    record: type[SetPoints],
) -> None:
    """Each field is a writable setting or holding register of the record's driver, fields in
    the order the driver declares them (the manual's), and a default is the member's."""
    members = _members(record.driver)
    names = [field.name for field in dataclasses.fields(record)]  # type: ignore[arg-type]
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        member = members.get(field.name)
        assert isinstance(member, Setting | Holding), f"{field.name} is not on {record.driver}"
        assert getattr(member, "writable", True), f"{field.name} is read-only"
        if field.default is not dataclasses.MISSING and field.default is not None:
            assert field.default == member.default, field.name
    assert names == [name for name in members if name in names]


def test_a_setpoint_outside_its_declared_range_or_rule_names_the_member() -> None:
    with pytest.raises(ParameterOutOfRange, match=r"cure_s = 200 outside 60\.\.180 s"):
        MoldRecipe(cure_s=200).check()
    with pytest.raises(ParameterOutOfRange, match="S1 < S2 < S3"):
        MoldRecipe(stage1_end_mm=45.0).check()
    with pytest.raises(ParameterOutOfRange, match=r"zone_temperature_c\[2\] = 320.0 outside"):
        BallAttachSettings(
            50, 0.5, 192, (150.0, 320.0) + (200.0,) * 6, 12.0, ReflowLimits()
        ).check()
    with pytest.raises(ParameterOutOfRange, match="zone_temperature_c takes 8 values"):
        BallAttachSettings(50, 0.5, 192, (150.0,), 12.0, ReflowLimits()).check()


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
