"""SPC of a lot's values (packline.spc) on records made here: the I-MR arithmetic, recipe limits,
Cpk, points out of control, and a value no unit has."""

from __future__ import annotations

import dataclasses

import pytest

from packline import spc
from packline.errors import NotFound
from packline.store.lot_records import LotRecords
from sequences.jobs import SiteOutcome, StripOutcome
from sequences.records import MemoryRecorder, StepRecord

LIMITS = {"limits": {"COPL": [0.0, 100.0], "WARP": [0.0, 50.0]}}


def strip_records(
    values_by_strip: list[list[float]],
    recipe_values: dict[str, object],
    name: str,
    step: str = "etch",
    **other_values: object,
) -> LotRecords:
    """One ``step`` record per strip, each with the recipe values the step recorded."""
    recorded = MemoryRecorder()
    strips = tuple(f"S{i + 1}" for i in range(len(values_by_strip)))
    for strip, values in zip(strips, values_by_strip, strict=True):
        measured = [{name: v, **other_values} for v in values]
        sites = tuple(SiteOutcome(i + 1, "P", 0, m) for i, m in enumerate(measured))
        outcome = StripOutcome(strip, step, "tool", "P" * len(values), sites, {}, recipe_values)
        recorded.steps.append(StepRecord("L1", strip, 0, step, "tool", "tool", 0, 1, outcome))
    return LotRecords("L1", "r", "", len(strips), len(values_by_strip[0]), strips, recorded, {})


def records(
    values: list[float], *, step: str = "inspect ball", name: str = "coplanarity_um"
) -> LotRecords:
    return strip_records([values], LIMITS, name, step, note="ok", flag=True)


def test_individuals_and_moving_range_limits_and_cpk() -> None:
    chart = spc.spc(records([20.0, 22.0, 21.0, 23.0, 24.0]), "coplanarity_um")
    assert chart.n == 5 and chart.moving_ranges == [2.0, 1.0, 2.0, 1.0]
    assert chart.mean == pytest.approx(22.0)
    assert chart.sigma_within == pytest.approx(1.5 / 1.128)
    assert chart.ucl == pytest.approx(22.0 + 3 * 1.5 / 1.128)
    assert chart.mr_ucl == pytest.approx(3.267 * 1.5)
    assert (chart.lsl, chart.usl) == (0.0, 100.0)
    assert chart.cpk == pytest.approx(22.0 / (3 * 1.5 / 1.128), abs=1e-3)
    assert chart.out_of_control == [] and chart.unit == "µm"


def test_a_point_outside_the_control_limits_is_flagged() -> None:
    chart = spc.spc(records([20.0, 20.5, 20.0, 20.5, 20.0, 20.5, 35.0, 20.0]), "coplanarity_um")
    assert chart.out_of_control == [6]


def test_a_value_without_recipe_limits_has_no_cpk() -> None:
    chart = spc.spc(
        records([1.0, 2.0, 3.0], step="dice", name="max_chipping_um"), "max_chipping_um"
    )
    assert chart.lsl is None and chart.usl is None and chart.cpk is None


def test_only_numbers_are_charted_and_an_unknown_value_is_not_found() -> None:
    lot = records([1.0, 2.0])
    assert spc.measured_values(lot) == ["coplanarity_um"]
    with pytest.raises(NotFound, match="has no value 'note'; its values: coplanarity_um"):
        spc.spc(lot, "note")


def test_the_chart_is_a_png() -> None:
    assert spc.png(spc.spc(records([1.0, 2.0, 1.5]), "coplanarity_um"))[:4] == b"\x89PNG"


def test_the_window_the_host_judged_against_gives_any_value_its_limits_one_sided_too() -> None:
    judged = {"judged_windows": {"depth_um": [230.0, None], "temp_c": [48.5, 51.5]}}
    chart = spc.spc(strip_records([[240.0, 241.0], [242.0, 239.0]], judged, "depth_um"), "depth_um")
    assert (chart.lsl, chart.usl) == (230.0, None)
    sigma = (1.0 + 1.0 + 3.0) / 3 / 1.128
    assert chart.cpk == pytest.approx((240.5 - 230.0) / (3 * sigma), abs=1e-3)


def test_a_value_the_strip_has_as_a_whole_is_one_point_per_strip() -> None:
    judged = {"judged_windows": {"depth_um": [230.0, None]}}
    lot = strip_records([[240.0] * 4, [244.0] * 4, [241.0] * 4], judged, "depth_um")
    chart = spc.spc(lot, "depth_um")
    assert [p.x for p in chart.points] == [240.0, 244.0, 241.0]
    assert [p.site for p in chart.points] == [None, None, None]
    assert chart.n == 3 and chart.moving_ranges == [4.0, 3.0]


def test_a_window_that_changed_between_cycles_gives_no_spec_limits() -> None:
    recorded = strip_records([[1.0, 2.0]], {"judged_windows": {"fill_time_s": [0.0, 20.0]}}, "x")
    other = strip_records([[3.0, 1.0]], {"judged_windows": {"x": [0.0, 21.0]}}, "x")
    first = strip_records([[1.0, 2.0]], {"judged_windows": {"x": [0.0, 20.0]}}, "x")
    first.recorded.steps.extend(dataclasses.replace(r, strip_id="S2") for r in other.recorded.steps)
    chart = spc.spc(first, "x")
    assert chart.n == 4
    assert chart.lsl is None and chart.usl is None and chart.cpk is None
    assert spc.spc(recorded, "x").cpk is None, "a window of another value is not this one's"
