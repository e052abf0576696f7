"""Statistical process control of a lot's measured values: an individuals / moving-range chart
of one value (every unit in strip and site order) against the recipe's limits, with Cpk.

Limits come from the recipe values the step ran with: the metrology limits (``limits`` by
item, mapped to the value they judge by :data:`sequences.steps.inspect.ITEM_FIELDS`). Values
of other tools have no recipe limits here: their chart has control limits but no Cpk.
"""

from __future__ import annotations

import io
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from packline.errors import NotFound
from packline.lot_reports import unit_of
from packline.store.lot_records import LotRecords
from sequences.steps.inspect import ITEM_FIELDS

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


def spc(records: LotRecords, value: str) -> dict[str, Any]:
    """The chart's data: points, centre line, control limits, spec limits, Cpk and the points
    out of control. :class:`NotFound` if no unit of the lot has that value."""
    points: list[dict[str, Any]] = []
    limits: tuple[float, float] | None = None
    step = ""
    for record in sorted(records.recorded.steps, key=lambda r: (r.strip_id, r.step_index)):
        for site in record.outcome.sites:
            number = _number(site.values.get(value))
            if number is None:
                continue
            points.append({"strip": record.strip_id, "site": site.site, "x": number})
            step = step or record.step
            limits = limits or recipe_limits(record.outcome.recipe_values, value)
    if not points:
        known = ", ".join(measured_values(records)) or "none"
        raise NotFound(f"lot {records.lot_id} has no value {value!r}; its values: {known}")
    xs = [p["x"] for p in points]
    ranges = [abs(b - a) for a, b in itertools.pairwise(xs)]
    mean = statistics.fmean(xs)
    mr_bar = statistics.fmean(ranges) if ranges else 0.0
    sigma = mr_bar / D2
    ucl, lcl = mean + 3 * sigma, mean - 3 * sigma
    out = [i for i, x in enumerate(xs) if sigma and not lcl <= x <= ucl]
    return {
        "lot": records.lot_id,
        "value": value,
        "unit": unit_of(value),
        "step": step,
        "n": len(xs),
        "points": points,
        "moving_ranges": ranges,
        "mean": mean,
        "sigma_within": sigma,
        "ucl": ucl,
        "lcl": lcl,
        "mr_bar": mr_bar,
        "mr_ucl": D4 * mr_bar,
        "lsl": limits[0] if limits else None,
        "usl": limits[1] if limits else None,
        "cpk": cpk(mean, sigma, limits),
        "out_of_control": out,
    }


def recipe_limits(recipe_values: Mapping[str, Any], value: str) -> tuple[float, float] | None:
    """(lower, upper) of ``value`` from a metrology step's recipe ``limits``, if it has them."""
    limits = recipe_values.get("limits")
    if not isinstance(limits, Mapping):
        return None
    for item, field in ITEM_FIELDS.items():
        window = limits.get(item)
        if field == value and isinstance(window, Sequence) and len(window) == 2:
            return float(window[0]), float(window[1])
    return None


def cpk(mean: float, sigma: float, limits: tuple[float, float] | None) -> float | None:
    """min(USL - mean, mean - LSL) / 3 sigma; None without limits or without spread."""
    if limits is None or not sigma:
        return None
    lower, upper = limits
    return round(min(upper - mean, mean - lower) / (3 * sigma), 3)


def png(chart: Mapping[str, Any]) -> bytes:
    """The individuals and moving-range charts as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p["x"] for p in chart["points"]]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), dpi=100, sharex=True)
    top.plot(range(1, len(xs) + 1), xs, marker="o", markersize=3, linewidth=0.8)
    for level, style, label in (
        (chart["mean"], "-", "mean"),
        (chart["ucl"], "--", "UCL"),
        (chart["lcl"], "--", "LCL"),
    ):
        top.axhline(level, linestyle=style, color="grey", linewidth=0.8, label=label)
    for level, label in ((chart["lsl"], "LSL"), (chart["usl"], "USL")):
        if level is not None:
            top.axhline(level, color="red", linewidth=1.0, label=label)
    out = chart["out_of_control"]
    if out:
        top.plot([i + 1 for i in out], [xs[i] for i in out], "rx", markersize=8)
    cpk_text = "no recipe limits" if chart["cpk"] is None else f"Cpk {chart['cpk']:.2f}"
    top.set_title(
        f"Lot {chart['lot']}: {chart['value']} [{chart['unit']}] ({chart['step']}), "
        f"n={chart['n']}, {cpk_text}"
    )
    top.set_ylabel(f"{chart['value']} [{chart['unit']}]")
    top.legend(loc="upper right", fontsize=7, ncol=5)
    bottom.plot(range(2, len(xs) + 1), chart["moving_ranges"], marker="o", markersize=3)
    bottom.axhline(chart["mr_bar"], color="grey", linewidth=0.8)
    bottom.axhline(chart["mr_ucl"], color="grey", linestyle="--", linewidth=0.8)
    bottom.set_ylabel("moving range")
    bottom.set_xlabel("unit (strip order, site order)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
