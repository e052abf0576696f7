"""A 150-strip lot of the default recipe on the virtual clock (more than a day of tool time):
the die bonder's placement calibration falls due and its syringe runs out. Prints whether every
strip completed, the die-attach yield (target >= 99 %), and the upkeep and operator requests
recorded. Minutes of wall time: a benchmark, run on purpose (``make bench BENCH=long-lot``)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from packline.simulated_lot import run_simulated_lot
from sequences.line_config import load_line_config
from sequences.recipe import RECIPES_DIR, load_recipe
from sequences.route import route_for

STRIPS = 150
RECIPE = "heat-slug-die-equal"


def main() -> Iterable[str]:
    route = route_for(load_recipe(RECIPES_DIR / f"{RECIPE}.yaml"))
    strip_ids = [f"LL-{k:03d}" for k in range(1, STRIPS + 1)]
    wall = time.monotonic()
    run = run_simulated_lot(route, strip_ids, lot_id="LL", config=load_line_config(), seed=1)
    wall_s = time.monotonic() - wall
    statuses = [s.status for s in run.strips.values()]
    die_attach = next(r for r in run.report["yield"]["per_step"] if r["step"] == "die attach")
    upkeep = [a for a in run.recorder.alarms if a.handling.startswith("upkeep")]
    requests = [a for a in run.recorder.alarms if a.alarm_class == "REQUEST"]
    return [
        f"long lot: {STRIPS} strips of {RECIPE}, makespan {run.report['makespan_s'] / 3600:.1f} h"
        f" of tool time in {wall_s:.0f} s wall",
        f"  strips complete: {statuses.count('complete')}/{STRIPS}"
        f" (on hold {statuses.count('on hold')}, scrapped {statuses.count('scrapped')})",
        f"  die-attach yield: {die_attach['yield_pct']} % (target >= 99 %)",
        f"  upkeep: {len(upkeep)} ({'; '.join(f'{a.text}: {a.handling}' for a in upkeep)})",
        f"  operator requests: {len(requests)}"
        f" ({'; '.join(f'{a.text}: {a.handling}' for a in requests)})",
    ]
