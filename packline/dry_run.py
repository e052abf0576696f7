"""``packline dry-run``: a lot through the simulated line with the real drivers over real
transports, live progress, and a lot report (terminal + a folder with JSON, text, HTML and
a station-occupancy chart)."""

from __future__ import annotations

import time
from pathlib import Path

from packline.progress import live_display, plain_progress
from packline.report import render_text
from packline.report_files import write_report_folder
from packline.simulated_lot import run_simulated_lot
from sequences.line_config import load_line_config
from sequences.recipe import load_recipe
from sequences.route import route_for
from sim.scenario import load_scenario

DEFAULT_RECIPE = (
    Path(__file__).resolve().parent.parent / "configs" / "recipes" / "heat-slug-die-equal.yaml"
)


def run_dry_run(
    *,
    recipe_path: Path | None,
    strips: int,
    time_scale: float,
    seed: int,
    scenario_path: Path | None,
    config_path: Path | None,
    report_dir: Path,
    lot_id: str | None,
) -> int:
    """Run the lot and write its report; 0 once every strip has ended (complete, scrapped or on hold)."""
    route = route_for(load_recipe(recipe_path or DEFAULT_RECIPE))
    config = load_line_config(config_path)
    scenario = (
        load_scenario(scenario_path, stations=[(s.name, s.tool) for s in config.expanded()])
        if scenario_path
        else None
    )
    lot_id = lot_id or time.strftime("DR%m%d%H%M%S")
    print(f"dry run: lot {lot_id}, {strips} strips, time scale {time_scale:g}")
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
    paths = write_report_folder(
        report_dir / lot_id, run.report, run.recorder.cycles, run.stations, time_scale=time_scale
    )
    print()
    print(render_text(run.report))
    print()
    print(f"report: {paths['text']}  {paths['html']}  {paths['json']}  chart: {paths['chart']}")
    return 0
