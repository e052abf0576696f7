"""MS-3 measurement modes: limit items with their defaults and defect codes, per-site time and
record value fields (metrology.md §1, §4, §5, §8)."""

from __future__ import annotations

from dataclasses import dataclass

NOT_MEASURABLE = 9515
LIMIT_RANGE = (-5000.0, 5000.0)
LOAD_S, ALIGN_S, UNLOAD_S = 6.0, 4.0, 6.0  # §8: LOAD + ALIGN + UNLOAD = 16 s


@dataclass(frozen=True)
class LimitItem:
    """A ``LIM`` item: decimals of its values, default window, defect code when outside it."""

    name: str
    decimals: int
    default_lo: float
    default_hi: float
    defect: int


@dataclass(frozen=True)
class ValueField:
    """One value field of a site record; ``item`` is the limit it is judged by (None: shown only)."""

    name: str
    decimals: int
    item: str | None = None


@dataclass(frozen=True)
class ModeDef:
    """One MODE of §1: seconds per site (§8), its limit items and its record fields (§5)."""

    name: str
    site_s: float
    items: tuple[LimitItem, ...]
    fields: tuple[ValueField, ...]


MODES: dict[str, ModeDef] = {
    mode.name: mode
    for mode in (
        ModeDef(
            "DIE",
            0.6,
            (
                LimitItem("DX", 1, -25.0, 25.0, 9501),
                LimitItem("DY", 1, -25.0, 25.0, 9501),
                LimitItem("DT", 2, -0.5, 0.5, 9502),
            ),
            (ValueField("dx", 1, "DX"), ValueField("dy", 1, "DY"), ValueField("dtheta", 2, "DT")),
        ),
        ModeDef(
            "SLUG",
            1.2,
            (
                LimitItem("SLUG", 1, 200.0, 260.0, 9503),
                LimitItem("PADX", 1, 95.0, 100.0, 9504),
                LimitItem("RESCU", 1, 0.0, 1.0, 9505),
            ),
            (
                ValueField("slug", 1, "SLUG"),
                ValueField("padx", 1, "PADX"),
                ValueField("rescu", 1, "RESCU"),
            ),
        ),
        ModeDef(
            "BALL",
            2.5,
            (
                LimitItem("BALLH", 1, 350.0, 450.0, 9506),
                LimitItem("COPL", 1, 0.0, 100.0, 9507),
                LimitItem("CLEAR", 1, 100.0, 1000.0, 9508),
                LimitItem("MISS", 0, 0.0, 0.0, 9509),
            ),
            (
                ValueField("ballh_mean", 1, "BALLH"),
                ValueField("ballh_min", 1),
                ValueField("copl", 1, "COPL"),
                ValueField("slug", 1),
                ValueField("clear", 1, "CLEAR"),
                ValueField("missing", 0, "MISS"),
            ),
        ),
        ModeDef(
            "RECESS",
            0.8,
            (
                LimitItem("VIA", 1, 23.0, 27.0, 9510),
                LimitItem("AREA", 1, 10.0, 14.0, 9511),
                LimitItem("RESID", 1, 0.0, 0.5, 9512),
            ),
            (
                ValueField("via_mean", 1, "VIA"),
                ValueField("via_min", 1),
                ValueField("area", 1, "AREA"),
                ValueField("resid", 1, "RESID"),
            ),
        ),
        ModeDef(
            "PKG",
            0.5,
            (
                LimitItem("THK", 1, 270.0, 330.0, 9513),
                LimitItem("WARP", 1, 0.0, 50.0, 9514),
                LimitItem("PADP", 1, 5.0, 50.0, 9516),
            ),
            (
                ValueField("thk", 1, "THK"),
                ValueField("warp", 1, "WARP"),
                ValueField("padp", 1, "PADP"),
            ),
        ),
    )
}

#: Item name -> (mode name, item).
ITEMS: dict[str, tuple[str, LimitItem]] = {
    item.name: (mode.name, item) for mode in MODES.values() for item in mode.items
}

Values = dict[str, float | None]

#: Per MODE, derived once (a site's measurement and judgement use them): record decimals by
#: value field, limit items by name, and each item's ``<item>.lo`` / ``<item>.hi`` parameters.
DECIMALS: dict[str, dict[str, int]] = {
    mode.name: {f.name: f.decimals for f in mode.fields} for mode in MODES.values()
}
_ITEMS_BY_NAME: dict[str, dict[str, LimitItem]] = {
    mode.name: {item.name: item for item in mode.items} for mode in MODES.values()
}
LIMIT_PARAMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    mode.name: tuple((i.name, f"{i.name}.lo", f"{i.name}.hi") for i in mode.items)
    for mode in MODES.values()
}


def judge(mode: str, values: Values, limits: dict[str, tuple[float, float]]) -> int:
    """Lowest defect code of the evaluated items outside [lo, hi], 0 when all pass (§5).

    Empty fields (no slug, no area recess, no back-face pads) are not evaluated.
    """
    items = _ITEMS_BY_NAME[mode]
    defects = []
    for value_field in MODES[mode].fields:
        value = values.get(value_field.name)
        if value_field.item is None or value is None:
            continue
        lo, hi = limits[value_field.item]
        if not lo <= value <= hi:
            defects.append(items[value_field.item].defect)
    return min(defects, default=0)


def format_values(mode: str, values: Values | None) -> tuple[str, ...]:
    """The record's value fields with the stated decimals; empty when not measured."""
    fields = MODES[mode].fields
    if values is None:
        return ("",) * len(fields)
    return tuple(
        "" if values.get(f.name) is None else f"{values[f.name]:.{f.decimals}f}" for f in fields
    )
