"""``packline dry-run``: a lot through the simulated line with the real drivers over real
transports, live progress, and a lot report (terminal + a folder with JSON, text, HTML and
a station-occupancy chart).

On the virtual clock (the default) a run is deterministic and as fast as its exchanges; with
``--time-scale N`` it runs wall-scaled and exits 1 if the host could not keep the scale."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packline.paced_link import DEFAULT_HOST_LATENCY_S
from packline.progress import live_display, plain_progress
from packline.recipe_check import resolve_recipe
from packline.report import plural, render_text
from packline.report_files import write_report_folder
from packline.simulated_lot import MAX_LAG_PCT, LotRun, run_simulated_lot
from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sequences.recipe import load_recipe
from sequences.route import route_for
from sim.clock import ClockDeadlock
from sim.scenario import load_scenario

DEFAULT_RECIPE = (
    Path(__file__).resolve().parent.parent / "configs" / "recipes" / "heat-slug-die-equal.yaml"
)


def run_dry_run(
    *,
    recipe_path: str | Path | None,
    strips: int,
    time_scale: float | None,
    seed: int,
    scenario_path: Path | None,
    config_path: Path | None,
    report_dir: Path,
    lot_id: str | None,
    host_latency_s: float = DEFAULT_HOST_LATENCY_S,
    max_lag_pct: float = MAX_LAG_PCT,
) -> int:
    """Run the lot and write its report; 0 once every strip has ended (complete, scrapped or on
    hold), 1 if a wall-scaled run fell behind its scale, the line deadlocked or the report could
    not be written."""
    route = route_for(load_recipe(resolve_recipe(recipe_path) if recipe_path else DEFAULT_RECIPE))
    config = load_line_config(config_path)
    scenario = (
        load_scenario(scenario_path, stations=[(s.name, s.tool) for s in config.expanded()])
        if scenario_path
        else None
    )
    lot_id = lot_id or time.strftime("DR%m%d%H%M%S")
    folder = usable_report_folder(report_dir / lot_id)
    pace = "virtual clock" if time_scale is None else f"time scale {time_scale:g}"
    print(f"dry run: lot {lot_id}, {plural(strips, 'strip')}, {pace}")
    for line in route.describe():
        print(f"  {line}")
    started = time.monotonic()
    try:
        run = run_simulated_lot(
            route,
            [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)],
            lot_id=lot_id,
            config=config,
            time_scale=time_scale,
            host_latency_s=host_latency_s,
            max_lag_pct=max_lag_pct,
            seed=seed,
            scenario=scenario,
            watch=live_display,
            on_change=plain_progress(),
        )
    except ClockDeadlock as error:
        print(f"packline: dry run stopped: {error}", file=sys.stderr)
        return 1
    wall_s = time.monotonic() - started
    paths, problem = _write_report(folder, run, lot_id)
    print()
    print(render_text(run.report))
    print()
    makespan_s = float(run.report["makespan_s"])
    print(f"wall time {wall_s:.1f} s for {makespan_s:.0f} tool s ({makespan_s / wall_s:.0f}x)")
    if problem:
        print(problem, file=sys.stderr)
    if paths is None:
        return 1
    print(f"report: {paths['text']}  {paths['html']}  {paths['json']}  chart: {paths['chart']}")
    if not run.kept_scale:
        print(f"packline: {fell_behind_text(run.report['pace'])}", file=sys.stderr)
        return 1
    return 0


def _write_report(folder: Path, run: LotRun, lot_id: str) -> tuple[dict[str, Path] | None, str]:
    """Write the report folder before anything else is printed (a reader that goes away, as
    ``| head`` does, must not cost the report). If the folder fails now (removed, full), a fresh
    temporary folder takes the report; the second value says what happened."""
    try:
        return write_report_folder(
            folder,
            run.report,
            run.recorder.cycles,
            run.stations,
            time_scale=float(run.report["time_scale"]),
        ), ""
    except OSError as exc:
        first = f"cannot write the report to {folder} ({exc})"
    try:
        spare = Path(tempfile.mkdtemp(prefix=f"packline-{lot_id}-"))
        paths = write_report_folder(
            spare,
            run.report,
            run.recorder.cycles,
            run.stations,
            time_scale=float(run.report["time_scale"]),
        )
    except OSError as exc:
        return None, f"packline: {first}, nor to a temporary folder ({exc}); the text is above"
    return paths, f"packline: {first}; wrote it to {spare}"


def usable_report_folder(folder: Path) -> Path:
    """Create the lot's report folder before the run, so that an unusable ``--report-dir`` is
    refused in a second rather than after hours of lot."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass  # a folder can exist and still refuse files (permissions, read-only mount)
    except OSError as exc:
        raise ConfigError(
            "--report-dir", [f"cannot write the report to {folder}: {exc.strerror or exc}"]
        ) from exc
    return folder


def fell_behind_text(pace: Mapping[str, Any]) -> str:
    """What a wall-scaled run that could not keep its scale says about it."""
    return (
        f"the host fell behind the time scale: {pace['lag_s']:.0f} tool s late "
        f"({pace['lag_pct']:.1f} % of the makespan, limit {pace['max_lag_pct']:g} %); "
        "the throughput figures describe this machine's load, not the line. "
        "Use the virtual clock (no --time-scale) or a lower scale."
    )
