"""Client commands for reports: ``lot report``, ``lot export`` and ``spc``, from the daemon.

Each prints a summary for a person and writes the file(s) asked for; ``--json`` prints the
daemon's JSON instead.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packline.client.api import DaemonClient, path_of
from packline.lot_reports import safe_file_part
from packline.report import render_text

Shown = tuple[Any, list[str]]
STDOUT = "-"
Leaf = Callable[..., argparse.ArgumentParser]


def lot_report(client: DaemonClient, args: argparse.Namespace) -> Shown:
    report = client.get(path_of("lots", args.lot_id, "report"))
    lines = [render_text(report)]
    if args.json not in (None, False, STDOUT):  # --json FILE: the JSON goes to the file
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        lines.append(f"JSON written to {args.json}")
        args.json = False
    if args.html is not None:
        args.html.write_bytes(client.get_bytes(path_of("lots", args.lot_id) + "/report.html"))
        lines.append(f"HTML (chart embedded) written to {args.html}")
    return report, lines


def lot_export(client: DaemonClient, args: argparse.Namespace) -> Shown:
    data = client.get_bytes(path_of("lots", args.lot_id) + "/export.csv")
    args.csv.write_bytes(data)
    rows = max(0, data.count(b"\n") - 1)
    return {"lot_id": args.lot_id, "csv": str(args.csv), "rows": rows}, [
        f"lot {args.lot_id}: {rows} rows (one per unit per step) written to {args.csv}"
    ]


def spc_chart(client: DaemonClient, args: argparse.Namespace) -> Shown:
    base = path_of("lots", args.lot, "spc", args.value)
    chart = client.get(base)
    png = args.png or Path(f"spc-{safe_file_part(args.lot)}-{safe_file_part(args.value)}.png")
    png.write_bytes(client.get_bytes(base + ".png"))
    sides = [
        f"{n} {chart[k]:g}" for n, k in (("LSL", "lsl"), ("USL", "usl")) if chart[k] is not None
    ]
    limits = (
        "no recipe limits"
        if chart["cpk"] is None
        else ", ".join([*sides, f"Cpk {chart['cpk']:.2f}"])
    )
    unit = chart["unit"]
    lines = [
        f"lot {args.lot}: {args.value} [{unit}] at {chart['step']}, n={chart['n']}",
        f"mean {chart['mean']:.4g}, sigma (MR/d2) {chart['sigma_within']:.4g}, "
        f"UCL {chart['ucl']:.4g}, LCL {chart['lcl']:.4g}; {limits}",
        f"{len(chart['out_of_control'])} point(s) outside the control limits",
        f"chart written to {png}",
    ]
    return chart, lines


def add_report_commands(lots: Any, commands: Any, leaf: Leaf) -> None:
    """``lot report``, ``lot export`` (under ``lot``) and ``spc`` (top level)."""
    report = leaf(lots, "report", lot_report, "the lot report: yield, defects, alarms, throughput")
    report.add_argument("lot_id", metavar="ID")
    report.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report here")
    # This command's --json takes an optional FILE; it replaces the shared --json flag.
    for container in (report, report._optionals):
        container.conflict_handler = "resolve"
    report.add_argument(
        "--json",
        nargs="?",
        const=STDOUT,
        metavar="FILE",
        help="write the JSON report to FILE (without FILE: print it instead of the text)",
    )
    export = leaf(lots, "export", lot_export, "every unit at every step with its values, as CSV")
    export.add_argument("lot_id", metavar="ID")
    export.add_argument("--csv", type=Path, metavar="FILE", required=True, help="CSV file to write")
    spc = leaf(commands, "spc", spc_chart, "I-MR control chart of a measured value, with Cpk")
    spc.add_argument("value", metavar="VALUE", help="a measured value, e.g. coplanarity_um")
    spc.add_argument("--lot", required=True, metavar="ID", help="the lot")
    spc.add_argument(
        "--png", type=Path, metavar="FILE", help="chart file (default spc-LOT-VALUE.png)"
    )
