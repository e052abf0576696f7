"""A :class:`LineController` on a real SQLite store, driving the default line's simulators over
real transports in this process: the controller tests' common set-up."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from packline.daemon.controller import LineController
from packline.store import Store
from sequences.line_config import load_line_config
from sim.line import SimulatedLine, StationSim

SCALE = 5000.0


@contextlib.contextmanager
def running_controller(
    db: Path,
    *,
    before_start: Callable[[SimulatedLine], None] | None = None,
    sim_options: dict[str, dict[str, Any]] | None = None,
) -> Iterator[tuple[LineController, Store, SimulatedLine]]:
    """Simulators started, ``before_start(line)`` (to set a tool up), the controller started;
    all stopped at the end. ``sim_options``: a station's simulator options instead of the
    config's (a fixed TCP port, to restart it at the same address)."""
    config = load_line_config()
    options = sim_options or {}
    stations = [StationSim(s.name, s.tool, options.get(s.name, s.sim)) for s in config.expanded()]
    store = Store(db)
    with SimulatedLine(stations, time_scale=SCALE).start() as line:
        if before_start is not None:
            before_start(line)
        addresses = {s.name: line.address(s.name) for s in config.expanded()}
        controller = LineController(
            config=config, store=store, addresses=addresses, time_scale=SCALE
        )
        controller.start()
        try:
            yield controller, store, line
        finally:
            controller.stop()
            store.close()


def wait_lot_status(
    controller: LineController, lot_id: str, status: str, timeout_s: float = 40
) -> dict[str, Any]:
    """The lot once it has ``status``; fails naming the status it is stuck in."""
    deadline = time.monotonic() + timeout_s
    while (lot := controller.show_lot(lot_id))["status"] != status:
        assert time.monotonic() < deadline, f"lot {lot_id} still {lot['status']}"
        time.sleep(0.05)
    return lot


def wait_strips_at(
    store: Store, lot_ids: Iterable[str], step_index: int, timeout_s: float = 40
) -> None:
    """Until every strip of ``lot_ids`` waits for step ``step_index`` (a station out of service
    there keeps them); fails naming the strips not there."""
    lots = list(lot_ids)
    deadline = time.monotonic() + timeout_s
    while True:
        away = [
            f"{strip_id} ({p.status} before step {p.next_step})"
            for lot in lots
            for strip_id, p in store.strip_progress(lot).items()
            if not (p.status == "waiting" and p.next_step == step_index)
        ]
        if not away:
            return
        assert time.monotonic() < deadline, f"not waiting at step {step_index}: {away}"
        time.sleep(0.05)
