"""Overlapping lots on the daemon's controller: three 8-strip lots submitted back to back
against one 24-strip lot of the same recipe, on the simulated line at a wall time scale (a real
store, real transports). Prints both times and their ratio (issue 8's target: <= 1.10).
About two minutes of wall time: a benchmark, run on purpose (``make bench BENCH=overlap``)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from packline.daemon.controller import LineController
from packline.store import Store
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

SCALE = 1000.0
TIMEOUT_S = 600.0


def _lots_wall_s(lots: list[tuple[str, int]]) -> float:
    """Wall seconds from the first submission until every lot is complete."""
    config = load_line_config()
    sims = [StationSim(s.name, s.tool, s.sim) for s in config.expanded()]
    with tempfile.TemporaryDirectory() as tmp, SimulatedLine(sims, time_scale=SCALE) as line:
        line.start()
        store = Store(Path(tmp) / "bench.db")
        addresses = {s.name: line.address(s.name) for s in config.expanded()}
        controller = LineController(
            config=config, store=store, addresses=addresses, time_scale=SCALE
        )
        controller.start()
        try:
            started = time.monotonic()
            for lot_id, strips in lots:
                controller.submit_lot(
                    recipe=None, strips=strips, strip_ids=None, lot_id=lot_id, by="bench"
                )
            while any(controller.show_lot(lot)["status"] != "complete" for lot, _ in lots):
                if time.monotonic() - started > TIMEOUT_S:
                    raise TimeoutError(f"lots not complete within {TIMEOUT_S:.0f} s")
                time.sleep(0.1)
            return time.monotonic() - started
        finally:
            controller.stop()
            store.close()


def main() -> Iterable[str]:
    one = _lots_wall_s([("ONE", 24)])
    three = _lots_wall_s([("TA", 8), ("TB", 8), ("TC", 8)])
    return [
        f"overlapping lots at time scale {SCALE:.0f}: 1x24 strips {one:.1f} s wall,"
        f" 3x8 strips back to back {three:.1f} s wall, ratio {three / one:.2f} (target <= 1.10)"
    ]
