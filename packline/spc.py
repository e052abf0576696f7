"""Statistical process control of a lot's measured values: an individuals / moving-range chart
of one value (every unit in strip and site order) against the recipe's limits, with Cpk. A
value a strip has as a whole (laminate, mold, etch: every site of the strip gets the same) is
one point per strip (``site`` None), not one per site, which would shrink sigma.

Specification limits are the windows the host judged the value against, as the step recorded
them with its recipe values (``judged_windows``, from the master recipe: pull strength, ball
shear, BLT, etch depth, mold and metrology values alike); a one-sided window (``at least``)
gives a one-sided Cpk. Records made before steps recorded their windows fall back to the
metrology limits (``limits`` by item, mapped to values by
:data:`sequences.steps.inspect.ITEM_FIELDS`). A value judged against no window, or against one
that changed from cycle to cycle, has control limits but no Cpk.
"""

from __future__ import annotations

import io
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packline.errors import NotFound
from packline.store.lot_records import LotRecords
from sequences.steps.inspect import ITEM_FIELDS
from sequences.units import unit_of

#: (lower, upper) specification limits; None for an open side.
Limits = tuple[float | None, float | None]


@dataclass(frozen=True)
class SpcPoint:
    """One point of the chart: a unit (``site``), or a strip's whole-strip value (site None)."""

    strip: str
    site: int | None
    x: float


@dataclass(frozen=True)
class SpcChart:
    """An individuals / moving-range chart of one value of a lot, with its limits and Cpk."""

    lot: str
    value: str
    unit: str
    step: str  # the step that recorded the value
    n: int
    points: list[SpcPoint]
    moving_ranges: list[float]
    mean: float
    sigma_within: float  # mean moving range / d2
    ucl: float
    lcl: float
    mr_bar: float
    mr_ucl: float
    lsl: float | None
    usl: float | None
    cpk: float | None
    out_of_control: list[int]  # indexes of the points outside LCL..UCL


#: Individuals chart constants for moving ranges of two: d2 and D4.
D2 = 1.128
D4 = 3.267


def measured_values(records: LotRecords) -> list[str]:
    """The names of the numeric values the lot's units have, sorted."""
    return sorted(
        {
            name
            for r in records.recorded.steps
            for site in r.outcome.sites
            for name, value in site.values.items()
            if _number(value) is not None
        }
    )


def spc(records: LotRecords, value: str) -> SpcChart:
    """The chart's data: points, centre line, control limits, spec limits, Cpk and the points
    out of control. :class:`NotFound` if no unit of the lot has that value."""
    points: list[SpcPoint] = []
    windows: set[Limits | None] = set()
    step = ""
    for record in sorted(records.recorded.steps, key=lambda r: (r.strip_id, r.step_index)):
        numbers: list[tuple[int | None, float]] = [
            (site.site, number)
            for site in record.outcome.sites
            if (number := _number(site.values.get(value))) is not None
        ]
        if not numbers:
            continue
        if len(numbers) > 1 and len({number for _, number in numbers}) == 1:
            numbers = [(None, numbers[0][1])]  # the strip's value, given to every site: once
        points.extend(SpcPoint(record.strip_id, s, x) for s, x in numbers)
        step = step or record.step
        windows.add(recipe_limits(record.outcome.recipe_values, value))
    # Specification limits only where every cycle was held to the same window.
    limits = next(iter(windows)) if len(windows) == 1 else None
    if not points:
        known = ", ".join(measured_values(records)) or "none"
        raise NotFound(f"lot {records.lot_id} has no value {value!r}; its values: {known}")
    xs = [p.x for p in points]
    ranges = [abs(b - a) for a, b in itertools.pairwise(xs)]
    mean = statistics.fmean(xs)
    mr_bar = statistics.fmean(ranges) if ranges else 0.0
    sigma = mr_bar / D2
    ucl, lcl = mean + 3 * sigma, mean - 3 * sigma
    out = [i for i, x in enumerate(xs) if sigma and not lcl <= x <= ucl]
    return SpcChart(
        lot=records.lot_id,
        value=value,
        unit=unit_of(value, unitless="1"),
        step=step,
        n=len(xs),
        points=points,
        moving_ranges=ranges,
        mean=mean,
        sigma_within=sigma,
        ucl=ucl,
        lcl=lcl,
        mr_bar=mr_bar,
        mr_ucl=D4 * mr_bar,
        lsl=limits[0] if limits else None,
        usl=limits[1] if limits else None,
        cpk=cpk(mean, sigma, limits),
        out_of_control=out,
    )


def recipe_limits(recipe_values: Mapping[str, Any], value: str) -> Limits | None:
    """(lower, upper) of ``value``: the window the step judged it against, else a metrology
    step's recipe ``limits``; None if neither names it."""
    judged = recipe_values.get("judged_windows")
    if isinstance(judged, Mapping):
        window = judged.get(value)
        if isinstance(window, Sequence) and len(window) == 2 and window != [None, None]:
            return _bound(window[0]), _bound(window[1])
    limits = recipe_values.get("limits")
    if not isinstance(limits, Mapping):
        return None
    for item, field in ITEM_FIELDS.items():
        window = limits.get(item)
        if field == value and isinstance(window, Sequence) and len(window) == 2:
            return float(window[0]), float(window[1])
    return None


def cpk(mean: float, sigma: float, limits: Limits | None) -> float | None:
    """min(USL - mean, mean - LSL) / 3 sigma over the sides the limits have (one side: CPU or
    CPL); None without limits or without spread."""
    if limits is None or not sigma:
        return None
    lower, upper = limits
    sides = [
        d
        for d in (None if upper is None else upper - mean, None if lower is None else mean - lower)
        if d is not None
    ]
    return round(min(sides) / (3 * sigma), 3) if sides else None


def png(chart: SpcChart) -> bytes:
    """The individuals and moving-range charts as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p.x for p in chart.points]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), dpi=100, sharex=True)
    top.plot(range(1, len(xs) + 1), xs, marker="o", markersize=3, linewidth=0.8)
    for level, style, label in (
        (chart.mean, "-", "mean"),
        (chart.ucl, "--", "UCL"),
        (chart.lcl, "--", "LCL"),
    ):
        top.axhline(level, linestyle=style, color="grey", linewidth=0.8, label=label)
    for limit, label in ((chart.lsl, "LSL"), (chart.usl, "USL")):
        if limit is not None:
            top.axhline(limit, color="red", linewidth=1.0, label=label)
    out = chart.out_of_control
    if out:
        top.plot([i + 1 for i in out], [xs[i] for i in out], "rx", markersize=8)
    cpk_text = "no recipe limits" if chart.cpk is None else f"Cpk {chart.cpk:.2f}"
    top.set_title(
        f"Lot {chart.lot}: {chart.value} [{chart.unit}] ({chart.step}), n={chart.n}, {cpk_text}"
    )
    top.set_ylabel(f"{chart.value} [{chart.unit}]")
    top.legend(loc="upper right", fontsize=7, ncol=5)
    bottom.plot(range(2, len(xs) + 1), chart.moving_ranges, marker="o", markersize=3)
    bottom.axhline(chart.mr_bar, color="grey", linewidth=0.8)
    bottom.axhline(chart.mr_ucl, color="grey", linestyle="--", linewidth=0.8)
    bottom.set_ylabel("moving range")
    bottom.set_xlabel("unit (strip order, site order)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _bound(limit: Any) -> float | None:
    return None if limit is None else float(limit)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
