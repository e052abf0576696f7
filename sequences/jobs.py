"""What flows through the line: strip jobs going into a step, outcomes coming out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Value = float | int | str | None


@dataclass(frozen=True)
class StripJob:
    """One strip handed to a step: its id, layout, and which sites to process (``1``/``0``)."""

    strip_id: str
    rows: int
    cols: int
    input_map: str

    @property
    def sites(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class SiteOutcome:
    """What a step did to one site: map character, defect code, measured values (unit-named)."""

    site: int
    result: str
    defect: int = 0
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class StripOutcome:
    """The result of one step on one strip.

    ``result_map`` has one character per site (P F X N). ``tool_summary`` holds what the tool
    reported for the cycle (cycle time, counts, tool-specific fields), ``recipe_values`` the
    set-points the step used, so that every unit's history says what it was processed with.
    """

    strip_id: str
    step: str
    station: str
    result_map: str
    sites: tuple[SiteOutcome, ...]
    tool_summary: Mapping[str, Any] = field(default_factory=dict)
    recipe_values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def next_input_map(self) -> str:
        """The next step's input map: P -> 1, F/X/N -> 0 (README §4)."""
        return "".join("1" if c == "P" else "0" for c in self.result_map)


def whole_strip_sites(
    job: StripJob, result: str, defect: int, values: Mapping[str, Value]
) -> tuple[SiteOutcome, ...]:
    """Per-site outcomes for a step that judges a strip as a whole (laminate, mold, etch):
    every site of the input map gets the strip's result; skipped sites are X."""
    return tuple(
        SiteOutcome(
            site,
            result if flag == "1" else "X",
            defect if flag == "1" else 0,
            values if flag == "1" else {},
        )
        for site, flag in enumerate(job.input_map, start=1)
    )
