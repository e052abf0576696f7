"""The lot report's files: JSON, a text page, an HTML page, and a PNG of station occupancy."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packline.report import StationInfo, render_text
from sequences.records import CycleRecord


def write_report_folder(
    folder: Path,
    report: Mapping[str, Any],
    cycles: Sequence[CycleRecord],
    stations: Sequence[StationInfo],
    *,
    time_scale: float,
) -> dict[str, Path]:
    """Write report.json, report.txt, report.html and occupancy.png into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "report.json",
        "text": folder / "report.txt",
        "html": folder / "report.html",
        "chart": folder / "occupancy.png",
    }
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    text = render_text(report)
    paths["text"].write_text(text + "\n")
    occupancy_chart(
        paths["chart"], cycles, stations, time_scale=time_scale, title=f"Lot {report['lot']}"
    )
    paths["html"].write_text(render_html(report, text, paths["chart"].name))
    return paths


def occupancy_chart(
    path: Path,
    cycles: Sequence[CycleRecord],
    stations: Sequence[StationInfo],
    *,
    time_scale: float,
    title: str,
) -> None:
    """A Gantt chart of station occupancy over tool time, one colour per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    start = min((c.setup_started for c in cycles), default=0.0)
    steps = list(dict.fromkeys(c.step for c in cycles))
    colours = plt.get_cmap("tab20")
    colour_of = {step: colours(i % 20) for i, step in enumerate(steps)}
    names = [s.name for s in stations]
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(names) + 1.6), dpi=110)

    def hours(t0: float, t1: float) -> tuple[float, float]:
        return (t0 - start) * time_scale / 3600.0, (t1 - t0) * time_scale / 3600.0

    for row, name in enumerate(names):
        mine = [c for c in cycles if c.station == name]
        setups = [hours(c.setup_started, c.started) for c in mine if c.started > c.setup_started]
        if setups:
            ax.broken_barh(
                setups, (row - 0.2, 0.4), facecolors="lightgrey", edgecolors="grey", linewidth=0.3
            )
        bars = [hours(c.started, c.ended) for c in mine]
        fills = [colour_of[c.step] for c in mine]
        edges = ["red" if c.final_state != "DONE" else "black" for c in mine]
        if bars:
            ax.broken_barh(
                bars, (row - 0.38, 0.76), facecolors=fills, edgecolors=edges, linewidth=0.4
            )
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()
    ax.set_xlabel("tool time since lot start (h)")
    ax.set_title(f"{title}: station occupancy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(facecolor="lightgrey", edgecolor="grey", label="set-up / heat-up"),
            *(Patch(facecolor=colour_of[s], edgecolor="black", label=s) for s in steps),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=min(6, max(1, len(steps))),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render_html(report: Mapping[str, Any], text: str, chart_name: str) -> str:
    """A readable HTML page: the text report and the chart."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Lot {html.escape(str(report['lot']))}</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}</style>"
        "</head><body>"
        f"<h1>Lot {html.escape(str(report['lot']))}</h1>"
        f"<img src='{html.escape(chart_name)}' alt='station occupancy' style='max-width:100%'>"
        f"<pre>{html.escape(text)}</pre>"
        "</body></html>\n"
    )
