"""The lot report: yield per step and overall, defect Pareto, alarms and their handling, cycle
time per station, and line throughput against the bottleneck bound.

All times in the report are tool (process) seconds: wall seconds × the line's time scale, so
a dry run at scale 1000 and a real run report comparable figures.

Bottleneck bound. For each station kind k (m_k stations, busy for B_k tool seconds in all), no
schedule can finish the lot before the first strip has reached k, k has done its work, and
the last strip has gone through the steps after k:
``T_k = upstream_k + B_k / m_k + downstream_k``, where upstream/downstream are one strip's
path of mean cycle times through the steps before k's first and after k's last step. The
largest ``T_k`` is the bottleneck bound on the lot's makespan; the line throughput is compared
with ``strips / T_bound``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sequences.lot import LotPlan, StripProgress
from sequences.packml import PackState
from sequences.records import AlarmRecord, CycleRecord, MemoryRecorder, StepRecord
from sequences.station_machine import StateEvent, cycle_phases, e10_seconds


@dataclass(frozen=True)
class StationInfo:
    name: str
    tool: str


def build_report(
    plan: LotPlan,
    recorder: MemoryRecorder,
    strips: Mapping[str, StripProgress],
    stations: Sequence[StationInfo],
    *,
    time_scale: float,
    recipe_name: str,
    defect_texts: Mapping[int, str],
    span: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The report as plain data (written as JSON, rendered as text and HTML).

    ``span``: when the lot runner started and returned (epoch s); the makespan, the E10 window
    and the progress clock all run from its start, and the makespan ends when the last strip
    has ended. Without it, the first set-up to the last cycle's end."""
    sites = plan.rows * plan.cols
    cycles = [c for c in recorder.cycles]
    start = min((c.setup_started for c in cycles), default=0.0)
    end = max((c.ended for c in cycles), default=start)
    if span is not None:
        start, end = span[0], max(span[1], end)
    makespan_s = (end - start) * time_scale

    # Grouped once (by step, by station): each figure below reads its own group, so the
    # report is linear in the records, not records x steps or events x stations.
    records_of_step: dict[int, list[StepRecord]] = defaultdict(list)
    for r in recorder.steps:
        records_of_step[r.step_index].append(r)
    durations_of_step: dict[str, list[float]] = defaultdict(list)
    for c in cycles:
        durations_of_step[c.step].append((c.ended - c.started) * time_scale)
    per_step = []
    for index, step in enumerate(plan.steps):
        records = records_of_step.get(index, [])
        units_in = sum(1 for r in records for s in r.outcome.sites if s.result != "X")
        passed = sum(1 for r in records for s in r.outcome.sites if s.result == "P")
        durations = durations_of_step.get(step.name, [])
        per_step.append(
            {
                "step": step.name,
                "tool": step.tool,
                "strips": len(records),
                "units_in": units_in,
                "units_passed": passed,
                "yield_pct": round(100.0 * passed / units_in, 2) if units_in else None,
                "mean_cycle_s": round(statistics.fmean(durations), 1) if durations else None,
            }
        )

    last = len(plan.steps) - 1
    good_units = sum(
        1
        for r in recorder.steps
        if r.step_index == last and strips[r.strip_id].status == "complete"
        for s in r.outcome.sites
        if s.result == "P"
    )
    total_units = len(plan.strip_ids) * sites

    pareto = Counter(
        (r.step, s.defect) for r in recorder.steps for s in r.outcome.sites if s.result == "F"
    )
    defects = [
        {"step": step, "defect": code, "text": defect_texts.get(code, ""), "units": count}
        for (step, code), count in pareto.most_common()
    ]

    by_station: dict[str, list[float]] = defaultdict(list)
    for c in cycles:
        by_station[c.station].append((c.ended - c.started) * time_scale)
    station_rows = []
    for station in stations:
        durations = by_station.get(station.name, [])
        busy = sum(durations)
        station_rows.append(
            {
                "station": station.name,
                "tool": station.tool,
                "cycles": len(durations),
                "mean_cycle_s": round(statistics.fmean(durations), 1) if durations else None,
                "min_cycle_s": round(min(durations), 1) if durations else None,
                "max_cycle_s": round(max(durations), 1) if durations else None,
                "busy_s": round(busy, 1),
                "utilization_pct": round(100.0 * busy / makespan_s, 1) if makespan_s else None,
            }
        )

    events_of: dict[str, list[StateEvent]] = defaultdict(list)
    for e in recorder.events:
        events_of[e.station].append(e)
    cycles_of: dict[str, list[CycleRecord]] = defaultdict(list)
    for c in cycles:
        cycles_of[c.station].append(c)
    for row in station_rows:
        events = events_of.get(str(row["station"]), [])
        mine = cycles_of.get(str(row["station"]), [])
        phases = cycle_phases(mine, until=end)
        totals = e10_seconds(events, start=start, until=end, phases=phases) if events else {}
        row["e10_s"] = {
            category.value: round(seconds * time_scale, 1) for category, seconds in totals.items()
        }

    bound = bottleneck_bound(plan, per_step, station_rows, stations, cycles, time_scale)
    finished = [s for s in strips.values() if s.status == "complete"]
    throughput = len(finished) / makespan_s * 3600.0 if makespan_s else 0.0
    bound_throughput = len(finished) / bound["bound_s"] * 3600.0 if bound["bound_s"] else 0.0
    return {
        "lot": plan.lot_id,
        "started_at": start,
        "recipe": recipe_name,
        "strips": len(plan.strip_ids),
        "sites_per_strip": sites,
        "time_scale": time_scale,
        "makespan_s": round(makespan_s, 1),
        "dispositions": {
            status: sorted(s.strip_id for s in strips.values() if s.status == status)
            for status in ("complete", "scrapped", "on hold")
        },
        "reasons": {s.strip_id: s.reason for s in strips.values() if s.reason},
        "yield": {
            "per_step": per_step,
            "overall_pct": round(100.0 * good_units / total_units, 2) if total_units else None,
            "good_units": good_units,
            "total_units": total_units,
        },
        "defects": defects,
        "alarms": [
            {
                "time_s": round((a.time - start) * time_scale, 1),
                "station": a.station,
                "strips": list(a.strip_ids),
                "code": a.code,
                "class": a.alarm_class,
                "text": a.text,
                "handling": a.handling,
                "held_s": round(held_wall_s(a, events_of.get(a.station, [])) * time_scale, 1),
            }
            for a in recorder.alarms
        ],
        "notes": link_notes(recorder, cycles, time_scale),
        "stations": station_rows,
        "throughput": {
            "strips_per_hour": round(throughput, 3),
            "bound_strips_per_hour": round(bound_throughput, 3),
            "ratio_pct": round(100.0 * bound["bound_s"] / makespan_s, 1) if makespan_s else None,
            **bound,
        },
    }


def held_wall_s(alarm: AlarmRecord, events: Sequence[StateEvent]) -> float:
    """How long (wall s) the alarm held its station: from the alarm to the station leaving
    HELD (resumed or aborted); 0 when it never held it (a warning, a deferred hold)."""
    mine = sorted(
        (e for e in events if e.station == alarm.station and e.time >= alarm.time - 1e-3),
        key=lambda e: e.time,
    )
    if not mine or mine[0].to_state not in (PackState.HOLDING, PackState.HELD):
        return 0.0  # the next change of the station is not this alarm's hold
    held = next((e for e in mine if e.to_state is PackState.HELD), None)
    if held is None:
        return 0.0
    left = next((e for e in mine if e.time >= held.time and e.from_state is PackState.HELD), None)
    return max(0.0, (left.time if left is not None else held.time) - alarm.time)


def link_notes(
    recorder: MemoryRecorder, cycles: Sequence[CycleRecord], time_scale: float
) -> list[str]:
    """A cycle that lived through a lost link is long for a reason that is not the tool's:
    link timeouts and reconnects take wall time, which the time scale multiplies."""
    if time_scale <= 1:
        return []
    notes = []
    for alarm in recorder.alarms:
        if alarm.alarm_class != "LINK":
            continue
        cycle = next(
            (
                c
                for c in cycles
                if c.station == alarm.station and c.setup_started <= alarm.time <= c.ended
            ),
            None,
        )
        what = (
            f"the {cycle.step} cycle of {', '.join(cycle.strip_ids)} on {cycle.station} "
            f"({(cycle.ended - cycle.started) * time_scale:.0f} s)"
            if cycle is not None
            else f"{alarm.station}'s time"
        )
        notes.append(
            f"{what} includes a lost link ({alarm.text}): link timeouts and the reconnect take "
            f"wall seconds, which time scale {time_scale:g} shows as {time_scale:g} times as many "
            "tool seconds; an artefact of time compression, not a cycle time to expect"
        )
    return notes


def bottleneck_bound(
    plan: LotPlan,
    per_step: Sequence[Mapping[str, Any]],
    station_rows: Sequence[Mapping[str, Any]],
    stations: Sequence[StationInfo],
    cycles: Sequence[CycleRecord],
    time_scale: float,
) -> dict[str, Any]:
    """The bottleneck station kind, the lower bound it puts on the makespan, and its
    steady-state figures (all tool seconds)."""
    mean = [row["mean_cycle_s"] or 0.0 for row in per_step]
    best: dict[str, Any] = {"bottleneck": None, "bound_s": 0.0}
    for kind in sorted({s.tool for s in stations}):
        served = [i for i, step in enumerate(plan.steps) if step.tool == kind]
        mine = [c for c in cycles if c.tool == kind]
        if not served or not mine:
            continue
        count = sum(1 for s in stations if s.tool == kind)
        busy = sum(row["busy_s"] for row in station_rows if row["tool"] == kind) / count
        # k cannot start before the strips' path upstream, nor before its own first set-up
        # (heat-up from cold) is over.
        first = min(mine, key=lambda c: c.started)
        first_setup = (first.started - first.setup_started) * time_scale
        upstream = max(sum(mean[: served[0]]), first_setup)
        downstream = sum(mean[served[-1] + 1 :])
        bound = upstream + busy + downstream
        if bound > best["bound_s"]:
            span = (max(c.ended for c in mine) - min(c.started for c in mine)) * time_scale
            strips = len({sid for c in mine for sid in c.strip_ids})
            best = {
                "bottleneck": kind,
                "bound_s": round(bound, 1),
                "bottleneck_busy_s": round(busy, 1),
                "upstream_s": round(upstream, 1),
                "downstream_s": round(downstream, 1),
                "bottleneck_span_s": round(span, 1),
                "steady_strips_per_hour": round(strips / span * 3600.0, 3) if span else 0.0,
                "steady_bound_strips_per_hour": round(strips / busy * 3600.0, 3) if busy else 0.0,
                "steady_ratio_pct": round(100.0 * busy / span, 1) if span else None,
            }
    return best


def render_text(report: Mapping[str, Any]) -> str:
    """The report as a terminal page (times h:mm:ss or s, all tool time)."""
    dispositions = report["dispositions"]
    lines = [
        f"Lot {report['lot']} — recipe {report['recipe']} — {plural(report['strips'], 'strip')} × "
        f"{report['sites_per_strip']} sites — "
        + (report.get("clock") or f"time scale {report['time_scale']:g}"),
        f"Makespan {hours(report['makespan_s'])} (tool time); complete {len(dispositions['complete'])}, "
        f"scrapped {len(dispositions['scrapped'])}, on hold {len(dispositions['on hold'])}",
        "",
        "Yield per step",
    ]
    pace = report.get("pace")
    if pace and not pace["kept_scale"]:
        lines.insert(
            2,
            f"FELL BEHIND its time scale: the host woke {pace['lag_s']:.0f} tool s late "
            f"({pace['lag_pct']:.1f} % of the makespan > {pace['max_lag_pct']:g} %); the "
            "throughput below was not measured at that scale",
        )
    for row in report["yield"]["per_step"]:
        y = "   -  " if row["yield_pct"] is None else f"{row['yield_pct']:6.2f}"
        cycle = "" if row["mean_cycle_s"] is None else f"  mean cycle {row['mean_cycle_s']:8.1f} s"
        lines.append(
            f"  {row['step']:<18} {row['tool']:<12} {row['units_passed']:5d}/{row['units_in']:<5d} {y} %{cycle}"
        )
    overall = report["yield"]
    lines.append(
        f"  overall: {overall['good_units']}/{overall['total_units']} good units = {overall['overall_pct']} %"
    )
    lines += ["", "Defect Pareto (units, step, code, text)"]
    for row in report["defects"][:12]:
        lines.append(f"  {row['units']:5d}  {row['step']:<18} {row['defect']:5d} {row['text']}")
    if not report["defects"]:
        lines.append("  none")
    lines += ["", "Alarms (when, station, strips, code, class, text -> handling, time held)"]
    for alarm in report["alarms"]:
        lines.append(
            f"  {hours(alarm['time_s']):>9}  {alarm['station']:<14} "
            f"{','.join(alarm['strips']) or '-'}  {alarm['code']} ({alarm['class']}) "
            f"{alarm['text']} -> {alarm['handling']}, held {hours(alarm.get('held_s', 0.0))}"
        )
    if not report["alarms"]:
        lines.append("  none")
    lines += ["", "Stations (cycle times in tool seconds, START to DONE; E10 in tool h:mm:ss)"]
    for row in report["stations"]:
        if not row["cycles"]:
            lines.append(f"  {row['station']:<14} idle")
            continue
        lines.append(
            f"  {row['station']:<14} {plural(row['cycles'], 'cycle'):>10}  mean {row['mean_cycle_s']:8.1f}  "
            f"min {row['min_cycle_s']:8.1f}  max {row['max_cycle_s']:8.1f}  busy {row['utilization_pct']:5.1f} %"
        )
        e10 = row.get("e10_s") or {}
        if e10:
            lines.append("      E10 " + ", ".join(f"{k} {hours(v)}" for k, v in e10.items() if v))
    t = report["throughput"]
    lines += [
        "",
        f"Throughput: lot {t['strips_per_hour']:.2f} strips/h over the makespan; bottleneck bound "
        f"{t['bound_strips_per_hour']:.2f} strips/h ({t['bottleneck']}: upstream {t.get('upstream_s', 0):.0f} s "
        f"+ busy {t.get('bottleneck_busy_s', 0):.0f} s + downstream {t.get('downstream_s', 0):.0f} s) "
        f"= {t['ratio_pct']} % of the bound",
        f"Steady state: {t.get('steady_strips_per_hour', 0):.2f} strips/h through the {t['bottleneck']} while it ran, "
        f"against {t.get('steady_bound_strips_per_hour', 0):.2f} strips/h if it never waited "
        f"= {t.get('steady_ratio_pct')} %",
    ]
    if report["reasons"]:
        lines += ["", "Strips not complete"]
        for strip_id, reason in sorted(report["reasons"].items()):
            lines.append(f"  {strip_id}: {reason}")
    if report.get("notes"):
        lines += ["", "Notes"]
        lines += [f"  - {note}" for note in report["notes"]]
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    """``1 strip``, ``4 strips``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def hours(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
