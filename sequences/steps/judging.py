"""Host judgement: the master recipe's windows applied to what a tool reported.

A tool judges against its working set-points, which an operator may have changed at the panel
after the step wrote them, and a batch tool fails a load only for what its alarms marked. So
the host judges again what the tool passed: a site (or a whole strip) that is P at the tool
but outside a window of the master recipe becomes F with :data:`HOST_OUTSIDE_RECIPE`. What
the tool failed keeps the tool's defect code.

Values come back rounded to the manual's resolution; each check allows half of it, so that a
value the tool passed before rounding is never failed for its rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from drivers.base import Tool
from drivers.modbus_tool import ModbusTool, PositionResult
from drivers.records import SiteRecord, StripSummary
from drivers.states import ToolState
from sequences.jobs import SiteOutcome, StripJob, StripOutcome, Value, whole_strip_sites

#: Host defect code (below the tools' 1000-9999 blocks): outside the master recipe's window.
HOST_OUTSIDE_RECIPE = 901
#: The host's own defect codes and their texts, for reports beside the tools' defect tables.
HOST_DEFECT_TEXTS: Mapping[int, str] = {
    HOST_OUTSIDE_RECIPE: "outside the master recipe's window (host judgement)",
}
INF = float("inf")


#: A value's window: (low, high), None for an open side.
Window = tuple[float | None, float | None]
_windows: ContextVar[dict[str, Window | None] | None] = ContextVar("judged_windows", default=None)


@contextmanager
def recording_windows() -> Iterator[dict[str, Window | None]]:
    """The windows the checks inside the block judge against, by value name (for the step's
    records: SPC's specification limits); None for a value judged against different windows in
    the block (a window that follows each shot)."""
    windows: dict[str, Window | None] = {}
    token = _windows.set(windows)
    try:
        yield windows
    finally:
        _windows.reset(token)


_ended_in: ContextVar[ToolState | None] = ContextVar("cycle_ended_in", default=None)


@contextmanager
def cycle_ended_in(state: ToolState | None) -> Iterator[None]:
    """Inside the block :func:`end_state` is ``state``: the state the cycle's wait saw it end
    in (DONE or ABORTED, where the tool stays until acknowledged), not asked again."""
    token = _ended_in.set(state)
    try:
        yield
    finally:
        _ended_in.reset(token)


def end_state(tool: Tool) -> str:
    """The name of the state the collected cycle ended in (:func:`cycle_ended_in`; else
    asked of the tool)."""
    state = _ended_in.get()
    return (tool.state() if state is None else state).name


def _note_window(name: str, low: float, high: float) -> None:
    windows = _windows.get()
    if windows is None:
        return
    window = (None if low == -INF else float(low), None if high == INF else float(high))
    if name not in windows:
        windows[name] = window
    elif windows[name] != window:
        windows[name] = None


def within(
    name: str, value: float | int | None, low: float, high: float, resolution: float
) -> str | None:
    """``None`` when ``low <= value <= high`` (give or take half the resolution), else why not."""
    _note_window(name, low, high)
    slack = resolution / 2.0
    if value is None:
        return f"{name} not reported"
    if low - slack <= value <= high + slack:
        return None
    if high == INF:
        return f"{name} {value:g} below {low:g}"
    if low == -INF:
        return f"{name} {value:g} above {high:g}"
    return f"{name} {value:g} outside {low:g}..{high:g}"


def around(
    name: str, value: float | int | None, target: float, tolerance: float, resolution: float
) -> str | None:
    """:func:`within` ``target ± tolerance``."""
    return within(name, value, target - tolerance, target + tolerance, resolution)


def at_least(name: str, value: float | int | None, low: float, resolution: float) -> str | None:
    return within(name, value, low, INF, resolution)


def at_most(name: str, value: float | int | None, high: float, resolution: float) -> str | None:
    return within(name, value, -INF, high, resolution)


def problems_of(checks: Iterable[str | None]) -> str:
    """The failed checks as one text (empty: all passed)."""
    return "; ".join(problem for problem in checks if problem)


def judge(result: str, defect: int, problems: str) -> tuple[str, int]:
    """A tool's P becomes F :data:`HOST_OUTSIDE_RECIPE` when the host found problems."""
    if result == "P" and problems:
        return "F", HOST_OUTSIDE_RECIPE
    return result, defect


#: A record type's value field names, asked of its first record (they are its dataclass
#: fields: the same for every record of the type, and ``value_fields`` rebuilds them per call).
_VALUE_FIELDS: dict[type[SiteRecord], tuple[str, ...]] = {}


def values_of(record: SiteRecord) -> dict[str, Value]:
    """The record's measured values that apply (the manual leaves the others empty)."""
    names = _VALUE_FIELDS.get(type(record))
    if names is None:
        names = _VALUE_FIELDS[type(record)] = record.value_fields
    return {name: value for name in names if (value := getattr(record, name)) is not None}


R = TypeVar("R", bound=SiteRecord)


def judged_sites(
    job: StripJob,
    summary: StripSummary,
    result_map: str,
    records: Sequence[R],
    problems: Callable[[R], str],
    *,
    tool: Tool,
    where: str = "",
) -> tuple[dict[int, str], tuple[SiteOutcome, ...]]:
    """One strip's cycle of a site-by-site tool after the host's judgement: the host's problems
    by site (``problems`` of each site the tool passed, where there are any) and the per-site
    outcomes.

    Raises :class:`ProtocolError` (led by ``where``, ``magazine strip 2: ``) for results of
    another strip than the job's. The records must agree with the result map, and a site the
    input map skipped must be X (otherwise the tool worked on a map other than the step's,
    and nothing it says can be trusted): both raise :class:`ProtocolError` too.
    """
    if summary.strip_id != job.strip_id:
        raise tool.protocol_error(
            f"{where}results are for strip {summary.strip_id!r}, not {job.strip_id!r}"
        )
    host = {r.site: found for r in records if r.result == "P" and (found := problems(r))}
    outcomes = []
    for record in records:
        index = record.site - 1
        if not 0 <= index < job.sites or result_map[index] != record.result:
            raise tool.protocol_error(
                f"result record of site {record.site} ({record.result}) does not match the "
                f"result map {result_map!r}"
            )
        if job.input_map[index] == "0" and record.result != "X":
            raise tool.protocol_error(
                f"strip {job.strip_id}: site {record.site} is {record.result}, but the input map "
                "skipped it"
            )
        result, defect = judge(record.result, record.defect, host.get(record.site, ""))
        outcomes.append(SiteOutcome(record.site, result, defect, values_of(record)))
    if [o.site for o in outcomes] != list(range(1, job.sites + 1)):
        raise tool.protocol_error(
            f"strip {job.strip_id}: {len(outcomes)} result records for {job.sites} sites"
        )
    return host, tuple(outcomes)


def map_of(sites: Iterable[SiteOutcome]) -> str:
    """The result map of per-site outcomes (one character per site, in site order)."""
    return "".join(site.result for site in sites)


def batch_outcomes(
    step: Any,
    tool: ModbusTool,
    jobs: Sequence[StripJob],
    result: Any,
    station: str,
    **tool_summary: Any,
) -> list[StripOutcome]:
    """One outcome per strip of a batch tool's load (job k at position k of ``result``), judged
    as a whole (README §8: one result per load position): every site of the input map gets
    the position's result after the host's judgement (``step.judge_load(result)``), with the
    load's values (the step's ``result_values`` table: record name -> result field) for P and
    F, none for N. The tool summary is the cycle's time and end state, then ``tool_summary``.

    A position must carry the job's strip id and a P, F or N (a loaded position reported X or
    without data means the tool ran another load than the step's): else
    :class:`ProtocolError`.
    """
    values = {name: getattr(result, field) for name, field in step.result_values.items()}
    problems = step.judge_load(result)
    positions: Sequence[PositionResult] = result.positions
    summary = {
        "cycle_s": tool.finished_cycle_s(),
        "end_state": end_state(tool),
        **tool_summary,
    }
    outcomes = []
    for k, job in enumerate(jobs):
        position = positions[k]
        if position.strip_id != job.strip_id or position.result not in ("P", "F", "N"):
            raise tool.protocol_error(
                f"position {position.position} reports strip {position.strip_id!r} "
                f"{position.result or 'no data'}, expected strip {job.strip_id!r} P, F or N"
            )
        judged, defect = judge(position.result, position.defect, problems)
        sites = whole_strip_sites(job, judged, defect, values if judged != "N" else {})
        failed = {"host_failed": problems} if judged != position.result else {}
        outcomes.append(
            StripOutcome(
                job.strip_id,
                step.name,
                station,
                map_of(sites),
                sites,
                {**summary, **failed},
                dict(step.recipe_values()),
            )
        )
    return outcomes


def site_strip_outcome(
    step: Any,
    job: StripJob,
    station: str,
    sites: tuple[SiteOutcome, ...],
    tool_summary: Mapping[str, Any],
    summary: StripSummary,
    host_failed: Mapping[int, str],
) -> StripOutcome:
    """The outcome of one strip of a site-by-site tool: the tool's own fields plus its counts
    (passed, failed, skipped, not processed) and the sites the host failed, with the step's
    recipe values."""
    fields = {
        **tool_summary,
        "passed": summary.passed,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "not_processed": summary.not_processed,
    }
    if host_failed:
        fields["host_failed"] = dict(host_failed)
    return StripOutcome(
        job.strip_id, step.name, station, map_of(sites), sites, fields, step.recipe_values()
    )


def judged_strip(
    step: Any,
    tool: Tool,
    jobs: Sequence[StripJob],
    station: str,
    result: Any,
    problems: Callable[[R], str],
    **tool_summary: Any,
) -> list[StripOutcome]:
    """The one outcome of the one job of a single-strip site-by-site cycle (``result``: summary,
    result map and site records): each site the tool passed judged again by ``problems``
    (:func:`judged_sites`); the tool summary is the cycle's time and end state, then
    ``tool_summary`` (the step's tool recipe or program first)."""
    (job,) = jobs
    summary: StripSummary = result.summary
    records: Sequence[R] = result.records
    host, sites = judged_sites(job, summary, result.result_map, records, problems, tool=tool)
    fields = {
        "cycle_s": summary.cycle_s,
        "end_state": end_state(tool),
        **tool_summary,
    }
    return [site_strip_outcome(step, job, station, sites, fields, summary, host)]
