"""The unit a value's name ends in (``cure_time_s`` -> ``s``): one table for the recipe's
error messages and the lot reports' columns and charts, so that a name reads with the same
unit wherever packline shows it."""

from __future__ import annotations

#: Name suffix -> unit, longest suffix first (``_wt_pct`` before ``_pct``, ``_mm_s`` before ``_s``).
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "_c_per_min": "°C/min",
            "_um_min": "µm/min",
            "_wt_pct": "wt%",
            "_j_cm2": "J/cm²",
            "_l_min": "L/min",
            "_mol_l": "mol/L",
            "_mm_s": "mm/s",
            "_g_l": "g/L",
            "_krpm": "krpm",
            "_khz": "kHz",
            "_mpa": "MPa",
            "_kpa": "kPa",
            "_deg": "°",
            "_pct": "%",
            "_be": "°Bé",
            "_um": "µm",
            "_mm": "mm",
            "_nl": "nL",
            "_kn": "kN",
            "_gf": "gf",
            "_mv": "mV",
            "_ms": "ms",
            "_c": "°C",
            "_s": "s",
            "_n": "N",
        }.items(),
        key=lambda pair: -len(pair[0]),
    )
)


def unit_of(name: str, unitless: str = "") -> str:
    """The unit ``name`` ends in; ``unitless`` for a name without a unit suffix (a count)."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return unitless
