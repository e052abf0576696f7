"""The typed records the store's reads return.

They are dicts at run time (JSON-ready: the API answers them as they are) and ``TypedDict``s
for the type checker, so a caller that reads a field the store does not give, or misspells
one, is caught by mypy instead of at a ``KeyError``.
"""

from __future__ import annotations

from typing import TypedDict

#: Strips per disposition, and the strips not disposed yet.
StripCounts = TypedDict(
    "StripCounts", {"complete": int, "scrapped": int, "on hold": int, "in progress": int}
)


class LotSummary(TypedDict):
    """A lot without its recipe text, progress or strips (``lots()``, ``open_lots()``)."""

    lot_id: str
    recipe_name: str
    recipe_source: str
    steps: list[str]
    rows: int
    cols: int
    status: str
    reason: str
    created: float
    started: float | None
    finished: float | None
    submit_seq: int
    #: Higher goes first at a free station (FIFO by ``submit_seq`` within a priority).
    priority: int
    strip_count: int
    strip_ids: list[str]
    counts: StripCounts


class StepProgress(TypedDict):
    """One step of a lot: strips done, units in (not X), passed, failed, not processed."""

    step_index: int
    step: str
    strips_done: int
    units_in: int
    units_passed: int
    units_failed: int
    units_not_processed: int


class StripStatus(TypedDict):
    """Where a strip of a lot stands (``processing`` with its station while on a tool)."""

    strip_id: str
    position: int
    status: str
    reason: str
    station: str
    next_step: int
    input_map: str


class LotRecord(LotSummary):
    """A lot with its recipe text, per-step progress and every strip's status (``lot()``)."""

    recipe_text: str
    progress: list[StepProgress]
    strips: list[StripStatus]


class StripStep(TypedDict):
    step_index: int
    step: str
    station: str
    tool: str
    started: float
    ended: float
    result_map: str
    tool_summary: dict[str, object]
    recipe_values: dict[str, object]


class StripRecord(StripStatus):
    """A strip: its status, its lot and every step it went through (``strip()``)."""

    lot_id: str
    disposed_at: float | None
    steps: list[StripStep]


class UnitStep(TypedDict):
    step_index: int
    step: str
    station: str
    tool: str
    started: float
    ended: float
    result: str
    defect: int
    values: dict[str, object]
    recipe_values: dict[str, object]


class UnitRecord(TypedDict):
    """A unit's genealogy: every step of one site, in route order (``unit()``)."""

    strip_id: str
    site: int
    lot_id: str
    steps: list[UnitStep]


#: An alarm and its acknowledgement (``class`` is a keyword, hence this form).
AlarmEntry = TypedDict(
    "AlarmEntry",
    {
        "alarm_id": int,
        "lot_id": str,
        "time": float,
        "station": str,
        "strip_ids": list[str],
        "code": int,
        "class": str,
        "text": str,
        "handling": str,
        "acked_at": float | None,
        "acked_by": str | None,
        "active": bool,
    },
)


class CommandEntry(TypedDict):
    """One operator command: who asked what of which target, and what came of it."""

    command_id: int
    time: float
    target_kind: str
    target: str
    command: str
    by: str
    result: str
