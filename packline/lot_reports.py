"""Reports of any lot the daemon ran, from its store: the dry run's lot report (JSON, and HTML
with the occupancy chart embedded) and the unit export (CSV: one row per unit per step).

Built from :func:`packline.store.lot_records.lot_records` with the dry run's own report code
(:mod:`packline.report`), so both report the same way. No HTTP here: the web layer and the CLI
call these.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from packline.report import StationInfo, build_report
from packline.report_files import occupancy_chart, render_html
from packline.simulated_lot import defect_texts
from packline.store.lot_records import LotRecords, lot_records
from packline.store.store import Store
from sequences.line_config import LineConfig
from sequences.lot import LotPlan
from sequences.recipe import validate_recipe
from sequences.route import Route, route_for
from sequences.units import unit_of

FIXED_COLUMNS = (
    "lot",
    "strip",
    "site",
    "step_index",
    "step",
    "station",
    "tool",
    "start_utc",
    "end_utc",
    "result",
    "defect_code",
    "defect_text",
)


def value_header(name: str) -> str:
    """A CSV column for a measured value: ``coplanarity_um [µm]``."""
    return f"{name} [{unit_of(name, unitless='1')}]"


class LotReports:
    """Reports of the lots in one store, for the line of ``config``."""

    def __init__(self, store: Store, config: LineConfig, *, time_scale: float = 1.0) -> None:
        self.store = store
        self.config = config
        self.time_scale = time_scale

    def records(self, lot_id: str) -> LotRecords:
        return lot_records(self.store, lot_id)

    def route(self, records: LotRecords) -> Route:
        data = yaml.safe_load(records.recipe_text)
        name = f"lot {records.lot_id} recipe"
        return route_for(validate_recipe(data, name, file_stem=records.recipe_name))

    def _stations(self, route: Route) -> list[StationInfo]:
        tools = {step.tool for step in route.steps}
        return [StationInfo(s.name, s.tool) for s in self.config.expanded() if s.tool in tools]

    def report(self, lot_id: str) -> dict[str, Any]:
        """The lot report as data: yield per step, defect Pareto, alarms, cycle times,
        throughput against the bottleneck. A lot not yet run reports zeros."""
        records = self.records(lot_id)
        route = self.route(records)
        return self._report(records, route)

    def _report(self, records: LotRecords, route: Route) -> dict[str, Any]:
        plan = LotPlan(records.lot_id, route.steps, route.rows, route.cols, records.strip_ids)
        report = build_report(
            plan,
            records.recorded,
            records.strips,
            self._stations(route),
            time_scale=self.time_scale,
            recipe_name=records.recipe_name,
            defect_texts=defect_texts({step.tool for step in route.steps}),
        )
        lot = self.store.lot(records.lot_id)
        report["status"] = lot["status"] if lot is not None else ""
        return report

    def html(self, lot_id: str) -> str:
        """The report as one self-contained HTML page: the occupancy chart is embedded."""
        records = self.records(lot_id)
        route = self.route(records)
        report = self._report(records, route)
        with tempfile.TemporaryDirectory(prefix="packline-report-") as folder:
            chart = Path(folder) / "occupancy.png"
            occupancy_chart(
                chart,
                records.recorded.cycles,
                self._stations(route),
                time_scale=self.time_scale,
                title=f"Lot {lot_id}",
            )
            return render_html(report, chart.read_bytes())

    def csv(self, lot_id: str) -> str:
        """One row per unit per step: where and when, result and defect, and every measured
        value in its own column with its unit in the header (empty where a step has none)."""
        records = self.records(lot_id)
        route = self.route(records)
        texts = defect_texts({step.tool for step in route.steps})
        steps = sorted(records.recorded.steps, key=lambda r: (r.strip_id, r.step_index))
        names = sorted({name for r in steps for site in r.outcome.sites for name in site.values})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*FIXED_COLUMNS, *(value_header(n) for n in names)])
        for record in steps:
            for site in record.outcome.sites:
                writer.writerow(
                    [
                        lot_id,
                        record.strip_id,
                        site.site,
                        record.step_index,
                        record.step,
                        record.station,
                        record.tool,
                        _utc(record.started),
                        _utc(record.ended),
                        site.result,
                        site.defect,
                        texts.get(site.defect, "") if site.defect else "",
                        *("" if site.values.get(n) is None else site.values[n] for n in names),
                    ]
                )
        return out.getvalue()


def _utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")


def safe_file_part(text: str) -> str:
    """``text`` fit for a download's file name."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text)
