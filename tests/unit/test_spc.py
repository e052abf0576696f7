"""SPC of a lot's values (packline.spc) on records made here: the I-MR arithmetic, recipe limits,
Cpk, points out of control, and a value no unit has."""

from __future__ import annotations

import pytest

from packline import spc
from packline.errors import NotFound
from packline.store.lot_records import LotRecords
from sequences.jobs import SiteOutcome, StripOutcome
from sequences.records import MemoryRecorder, StepRecord

LIMITS = {"limits": {"COPL": [0.0, 100.0], "WARP": [0.0, 50.0]}}


def records(
    values: list[float], *, step: str = "inspect ball", name: str = "coplanarity_um"
) -> LotRecords:
    recorded = MemoryRecorder()
    sites = tuple(
        SiteOutcome(i + 1, "P", 0, {name: v, "note": "ok", "flag": True})
        for i, v in enumerate(values)
    )
    outcome = StripOutcome("S1", step, "metrology", "P" * len(values), sites, {}, LIMITS)
    recorded.steps.append(StepRecord("L1", "S1", 0, step, "metrology", "metrology", 0, 1, outcome))
    return LotRecords("L1", "r", "", 1, len(values), ("S1",), recorded, {})


def test_individuals_and_moving_range_limits_and_cpk() -> None:
    chart = spc.spc(records([20.0, 22.0, 21.0, 23.0, 24.0]), "coplanarity_um")
    assert chart["n"] == 5 and chart["moving_ranges"] == [2.0, 1.0, 2.0, 1.0]
    assert chart["mean"] == pytest.approx(22.0)
    assert chart["sigma_within"] == pytest.approx(1.5 / 1.128)
    assert chart["ucl"] == pytest.approx(22.0 + 3 * 1.5 / 1.128)
    assert chart["mr_ucl"] == pytest.approx(3.267 * 1.5)
    assert (chart["lsl"], chart["usl"]) == (0.0, 100.0)
    assert chart["cpk"] == pytest.approx(22.0 / (3 * 1.5 / 1.128), abs=1e-3)
    assert chart["out_of_control"] == [] and chart["unit"] == "µm"


def test_a_point_outside_the_control_limits_is_flagged() -> None:
    chart = spc.spc(records([20.0, 20.5, 20.0, 20.5, 20.0, 20.5, 35.0, 20.0]), "coplanarity_um")
    assert chart["out_of_control"] == [6]


def test_a_value_without_recipe_limits_has_no_cpk() -> None:
    chart = spc.spc(
        records([1.0, 2.0, 3.0], step="dice", name="max_chipping_um"), "max_chipping_um"
    )
    assert chart["lsl"] is None and chart["usl"] is None and chart["cpk"] is None


def test_only_numbers_are_charted_and_an_unknown_value_is_not_found() -> None:
    lot = records([1.0, 2.0])
    assert spc.measured_values(lot) == ["coplanarity_um"]
    with pytest.raises(NotFound, match="has no value 'note'; its values: coplanarity_um"):
        spc.spc(lot, "note")


def test_the_chart_is_a_png() -> None:
    assert spc.png(spc.spc(records([1.0, 2.0, 1.5]), "coplanarity_um"))[:4] == b"\x89PNG"
