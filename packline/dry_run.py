"""``packline dry-run``: a lot through the simulated line with the real drivers over real
transports, live progress, and a lot report (terminal + a folder with JSON, text, HTML and
a station-occupancy chart)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from packline.progress import live_display, plain_progress
from packline.recipe_check import resolve_recipe
from packline.report import plural, render_text
from packline.report_files import write_report_folder
from packline.simulated_lot import LotRun, run_simulated_lot
from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sequences.recipe import load_recipe
from sequences.route import route_for
from sim.scenario import load_scenario

DEFAULT_RECIPE = (
    Path(__file__).resolve().parent.parent / "configs" / "recipes" / "heat-slug-die-equal.yaml"
)


def run_dry_run(
    *,
    recipe_path: str | Path | None,
    strips: int,
    time_scale: float,
    seed: int,
    scenario_path: Path | None,
    config_path: Path | None,
    report_dir: Path,
    lot_id: str | None,
) -> int:
    """Run the lot and write its report; 0 once every strip has ended (complete, scrapped or on hold)."""
    route = route_for(load_recipe(resolve_recipe(recipe_path) if recipe_path else DEFAULT_RECIPE))
    config = load_line_config(config_path)
    scenario = (
        load_scenario(scenario_path, stations=[(s.name, s.tool) for s in config.expanded()])
        if scenario_path
        else None
    )
    lot_id = lot_id or time.strftime("DR%m%d%H%M%S")
    folder = usable_report_folder(report_dir / lot_id)
    print(f"dry run: lot {lot_id}, {plural(strips, 'strip')}, time scale {time_scale:g}")
    for line in route.describe():
        print(f"  {line}")
    run = run_simulated_lot(
        route,
        [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)],
        lot_id=lot_id,
        config=config,
        time_scale=time_scale,
        seed=seed,
        scenario=scenario,
        watch=lambda runner: live_display(runner, time_scale),
        on_change=plain_progress(time_scale),
    )
    paths, problem = _write_report(folder, run, lot_id, time_scale)
    print()
    print(render_text(run.report))
    print()
    if problem:
        print(problem, file=sys.stderr)
    if paths is None:
        return 1
    print(f"report: {paths['text']}  {paths['html']}  {paths['json']}  chart: {paths['chart']}")
    return 0


def _write_report(
    folder: Path, run: LotRun, lot_id: str, time_scale: float
) -> tuple[dict[str, Path] | None, str]:
    """Write the report folder before anything else is printed (a reader that goes away, as
    ``| head`` does, must not cost the report). If the folder fails now (removed, full), a fresh
    temporary folder takes the report; the second value says what happened."""
    try:
        return write_report_folder(
            folder, run.report, run.recorder.cycles, run.stations, time_scale=time_scale
        ), ""
    except OSError as exc:
        first = f"cannot write the report to {folder} ({exc})"
    try:
        spare = Path(tempfile.mkdtemp(prefix=f"packline-{lot_id}-"))
        paths = write_report_folder(
            spare, run.report, run.recorder.cycles, run.stations, time_scale=time_scale
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
