"""An operator aborting a running lot and its stations: strips end on hold with the lot's reason,
nothing is logged as an unexpected error, and an aborted station gets no new cycle."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from sequences.lot import LotRunner
from sequences.packml import PackState
from tests.support.integration_lots import heat_slug_route, simulated_lot

REASON = "lot aborted by operator"


@contextlib.contextmanager
def abort_during_wire_bond(runner: LotRunner) -> Iterator[None]:
    """Once a wire bonder runs a cycle: abort the lot, then that station and an idle one."""

    def operator() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            busy = [s for s in runner.stations if s.tool_kind == "wire-bonder" and s.current_strips]
            if busy:
                runner.abort(REASON)
                busy[0].command("abort", cause="abort by operator")
                idle = next(s for s in runner.stations if s.tool_kind == "mold-press")
                idle.command("abort", cause="abort by operator")
                return
            time.sleep(0.005)

    thread = threading.Thread(target=operator, daemon=True)
    thread.start()
    yield
    thread.join(timeout=5)


def test_operator_abort_racing_a_running_lot_puts_every_strip_on_hold_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    run = simulated_lot(
        heat_slug_route("die attach", "mold"),
        3,
        lot_id="A",
        seed=3,
        time_scale=3000,
        watch=abort_during_wire_bond,
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    dispositions = run.recorder.dispositions
    assert set(dispositions) == {"A-01", "A-02", "A-03"}
    unfinished = {s: d for s, d in dispositions.items() if d.status != "complete"}
    assert unfinished, "the abort came before the lot could finish"
    assert {(d.status, d.reason) for d in unfinished.values()} == {("on hold", REASON)}
    aborted_cycles = [c for c in run.recorder.cycles if c.final_state == "ABORTED"]
    assert [c.step for c in aborted_cycles] == ["wire bond"]
    mold_cycles = [c for c in run.recorder.cycles if c.step == "mold"]
    assert mold_cycles == [], "an aborted lot and an aborted press start no mold cycle"
    press_states = [e.to_state for e in run.recorder.events if e.station == "mold-press"]
    assert press_states[-1] is PackState.ABORTED, "the press stays aborted until cleared"
