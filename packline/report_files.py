"""The lot report's files: JSON, a text page, a self-contained HTML page, and a PNG of station
occupancy (also embedded in the HTML page)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packline.report import StationInfo, hours, plural, render_text
from sequences.records import CycleRecord


def write_report_folder(
    folder: Path,
    report: Mapping[str, Any],
    cycles: Sequence[CycleRecord],
    stations: Sequence[StationInfo],
    *,
    time_scale: float,
) -> dict[str, Path]:
    """Write report.json, report.txt, report.html (self-contained: the chart is embedded) and
    occupancy.png into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "report.json",
        "text": folder / "report.txt",
        "html": folder / "report.html",
        "chart": folder / "occupancy.png",
    }
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    paths["text"].write_text(render_text(report) + "\n")
    occupancy_chart(
        paths["chart"],
        cycles,
        stations,
        time_scale=time_scale,
        title=f"Lot {report['lot']}",
        start=report.get("started_at"),
        alarms=report.get("alarms", ()),
    )
    paths["html"].write_text(render_html(report, paths["chart"].read_bytes()))
    return paths


#: Colour of set-up / heat-up bars; step colours are chosen far from it.
SETUP_GREY = "lightgrey"


def step_colours(count: int) -> list[Any]:
    """``count`` distinct colours, none of them grey (grey is set-up): tab20 without its greys."""
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    palette = [tab20(i) for i in range(20) if i not in (14, 15)]
    return [palette[i % len(palette)] for i in range(count)]


def occupancy_chart(
    path: Path,
    cycles: Sequence[CycleRecord],
    stations: Sequence[StationInfo],
    *,
    time_scale: float,
    title: str,
    start: float | None = None,
    alarms: Sequence[Mapping[str, Any]] = (),
) -> None:
    """A Gantt chart of station occupancy over tool time: one colour per step, set-up grey,
    aborted cycles outlined red, and each alarm as a red mark with its hold hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if start is None:
        start = min((c.setup_started for c in cycles), default=0.0)
    steps = list(dict.fromkeys(c.step for c in cycles))
    colour_of = dict(zip(steps, step_colours(len(steps)), strict=True))
    names = [s.name for s in stations]
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(names) + 1.8), dpi=110)

    def hours(t0: float, t1: float) -> tuple[float, float]:
        return (t0 - start) * time_scale / 3600.0, (t1 - t0) * time_scale / 3600.0

    for row, name in enumerate(names):
        mine = [c for c in cycles if c.station == name]
        setups = [hours(c.setup_started, c.started) for c in mine if c.started > c.setup_started]
        if setups:
            ax.broken_barh(
                setups, (row - 0.2, 0.4), facecolors=SETUP_GREY, edgecolors="grey", linewidth=0.3
            )
        bars = [hours(c.started, c.ended) for c in mine]
        fills = [colour_of[c.step] for c in mine]
        edges = ["red" if c.final_state != "DONE" else "black" for c in mine]
        if bars:
            ax.broken_barh(
                bars, (row - 0.38, 0.76), facecolors=fills, edgecolors=edges, linewidth=0.4
            )
    rows = {name: row for row, name in enumerate(names)}
    for alarm in alarms:
        if alarm["station"] not in rows:
            continue
        row = rows[alarm["station"]]
        at_h = alarm["time_s"] / 3600.0
        held_h = float(alarm.get("held_s") or 0.0) / 3600.0
        if held_h > 0:
            ax.broken_barh(
                [(at_h, held_h)],
                (row - 0.45, 0.9),
                facecolors="none",
                edgecolors="red",
                hatch="////",
                linewidth=0.8,
            )
        ax.plot([at_h], [row - 0.45], marker="v", color="red", markersize=7, zorder=5)
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()
    ax.set_xlabel("tool time since lot start (h)")
    ax.set_title(f"{title}: station occupancy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(facecolor=SETUP_GREY, edgecolor="grey", label="set-up / heat-up"),
            *(Patch(facecolor=colour_of[s], edgecolor="black", label=s) for s in steps),
            Patch(facecolor="white", edgecolor="red", label="aborted cycle (outline)"),
            Line2D([], [], marker="v", color="red", linestyle="none", label="alarm"),
            Patch(facecolor="none", edgecolor="red", hatch="////", label="held by the alarm"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=min(6, max(1, len(steps) + 3)),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render_html(report: Mapping[str, Any], chart_png: bytes) -> str:
    """One self-contained page: summary, the chart (embedded as a data URI), and tables of the
    yield, defects, alarms, stations and throughput."""
    e = html.escape
    t = report["throughput"]
    dispositions = report["dispositions"]
    chart = base64.b64encode(chart_png).decode("ascii")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Lot {e(str(report['lot']))}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
        "th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}"
        "td.n{text-align:right}th{background:#f0f0f0}caption{text-align:left;font-weight:bold}"
        "</style></head><body>",
        f"<h1>Lot {e(str(report['lot']))}</h1>",
        f"<p>Recipe <b>{e(str(report['recipe']))}</b>, {e(plural(report['strips'], 'strip'))} × "
        f"{report['sites_per_strip']} sites, time scale {report['time_scale']:g}. "
        f"Makespan {hours(report['makespan_s'])} (tool time). "
        f"Complete {len(dispositions['complete'])}, scrapped {len(dispositions['scrapped'])}, "
        f"on hold {len(dispositions['on hold'])}. "
        f"Good units {report['yield']['good_units']}/{report['yield']['total_units']} "
        f"= {report['yield']['overall_pct']} %.</p>",
        f"<img src='data:image/png;base64,{chart}' alt='station occupancy' style='max-width:100%'>",
        _table(
            "Yield per step",
            ["step", "tool", "units in", "passed", "yield %", "mean cycle (tool s)"],
            [
                [
                    r["step"],
                    r["tool"],
                    r["units_in"],
                    r["units_passed"],
                    r["yield_pct"],
                    r["mean_cycle_s"],
                ]
                for r in report["yield"]["per_step"]
            ],
        ),
        _table(
            "Defect Pareto",
            ["units", "step", "code", "text"],
            [[d["units"], d["step"], d["defect"], d["text"]] for d in report["defects"]],
        ),
        _table(
            "Alarms",
            [
                "when (tool)",
                "station",
                "strips",
                "code",
                "class",
                "text",
                "handling",
                "held (tool)",
            ],
            [
                [
                    hours(a["time_s"]),
                    a["station"],
                    ", ".join(a["strips"]),
                    a["code"],
                    a["class"],
                    a["text"],
                    a["handling"],
                    hours(a.get("held_s", 0.0)),
                ]
                for a in report["alarms"]
            ],
        ),
        _table(
            "Stations (tool seconds)",
            ["station", "tool", "cycles", "mean", "min", "max", "busy %", "E10 (tool h:mm:ss)"],
            [
                [
                    r["station"],
                    r["tool"],
                    r["cycles"],
                    r["mean_cycle_s"],
                    r["min_cycle_s"],
                    r["max_cycle_s"],
                    r["utilization_pct"],
                    ", ".join(f"{k} {hours(v)}" for k, v in (r.get("e10_s") or {}).items() if v),
                ]
                for r in report["stations"]
            ],
        ),
        _table(
            "Throughput",
            ["figure", "value"],
            [
                ["lot, over the makespan (strips/h)", t["strips_per_hour"]],
                [f"bottleneck bound ({t['bottleneck']}) (strips/h)", t["bound_strips_per_hour"]],
                ["makespan against the bound (%)", t["ratio_pct"]],
                ["steady state through the bottleneck (strips/h)", t.get("steady_strips_per_hour")],
                [
                    "bottleneck's rate if it never waited (strips/h)",
                    t.get("steady_bound_strips_per_hour"),
                ],
            ],
        ),
    ]
    if report["reasons"]:
        parts.append(
            _table(
                "Strips not complete",
                ["strip", "reason"],
                [[strip, reason] for strip, reason in sorted(report["reasons"].items())],
            )
        )
    if report.get("notes"):
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{e(note)}</li>" for note in report["notes"]]
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table; numbers right-aligned; an empty table says "none"."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    if not rows:
        body = f"<tr><td colspan='{len(header)}'>none</td></tr>"
    else:
        body = "".join(
            "<tr>"
            + "".join(
                f"<td class='n'>{value}</td>"
                if isinstance(value, int | float) and not isinstance(value, bool)
                else f"<td>{html.escape('-' if value is None else str(value))}</td>"
                for value in row
            )
            + "</tr>"
            for row in rows
        )
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"
