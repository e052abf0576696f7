"""Dry runs on the virtual clock (deterministic, idle simulators cost nothing) and the
falling-behind report of a wall-scaled run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from packline.dry_run import run_dry_run
from packline.simulated_lot import LotRun
from tests.support.integration_lots import heat_slug_route, simulated_lot

ROUTE = heat_slug_route()


def virtual_lot(strips: int) -> LotRun:
    return simulated_lot(ROUTE, strips, lot_id="V", seed=3)


def outcome(run: LotRun) -> dict[str, Any]:
    """What must not change between runs: unit results, makespan, the report's figures (all
    but ``started_at``, the epoch time the run began; its alarms' times are relative: kept)."""
    units = sorted(
        (r.strip_id, r.step_index, r.station, r.outcome.result_map) for r in run.recorder.steps
    )
    cycles = [
        (c.station, c.step, c.strip_ids, round(c.ended - c.started, 3), c.final_state)
        for c in run.recorder.cycles
    ]
    report = {k: v for k, v in run.report.items() if k != "started_at"}  # the run's epoch start
    return {"units": units, "cycles": sorted(cycles), "report": report}


def test_same_lot_and_seed_on_the_virtual_clock_gives_identical_results_and_report() -> None:
    first, second = virtual_lot(3), virtual_lot(3)
    assert first.report["dispositions"]["complete"] == ["V-01", "V-02", "V-03"]
    assert outcome(first) == outcome(second), (
        first.report["reasons"],
        second.report["reasons"],
        first.report["alarms"],
        second.report["alarms"],
    )
    assert first.report["makespan_s"] == second.report["makespan_s"] > 3600, (
        "a laminator load alone takes over 1.5 h of tool time"
    )


def test_a_virtual_lot_takes_much_less_wall_time_than_tool_time() -> None:
    import time

    started = time.monotonic()
    run = virtual_lot(2)
    wall_s = time.monotonic() - started
    assert run.report["clock"].startswith("virtual clock")
    assert run.report["makespan_s"] / wall_s > 200, "tool time must not follow wall time"
    assert run.exchanges > 0 and run.clock_jumps > 0
    # A cycle costs a handful of exchanges (counted by tool and kind): the die bonder's 15
    # settings go once for both strips, share their SYST:ERR? (19 a strip before), and each
    # 88 s cycle asks its remaining time at its start (and once more if it runs past it).
    sent = run.sent
    assert sent["die-bonder", "CYCLe:STARt"] == 2
    assert sent["die-bonder", "DISPense:VOLume"] == 1, "the second strip's bonder held it"
    assert sent["die-bonder", "SYST:ERR?"] <= 2 * 5
    assert 2 <= sent["die-bonder", "CYCLe:PROGress?"] <= 2 * 2
    # Where the wall went: every message's exchange timed under its key, and the start-up.
    assert set(run.sent_wall_s) == set(sent)
    assert all(seconds > 0 for seconds in run.sent_wall_s.values())
    assert sum(run.sent_wall_s.values()) + run.startup_wall_s < wall_s
    assert run.startup_wall_s > 0


def test_host_latency_is_paid_in_tool_time() -> None:
    def makespan(latency_s: float) -> float:
        run = simulated_lot(ROUTE, 1, lot_id="H", seed=3, host_latency_s=latency_s)
        return float(run.report["makespan_s"])

    assert makespan(2.0) > makespan(0.0) + 200, "set-up and collect exchanges at 2 s each"


def wall_scaled_dry_run(tmp_path: Path, lot_id: str, *, max_lag_pct: float) -> int:
    """A one-strip dry run at time scale 5000 judged against ``max_lag_pct``."""
    return run_dry_run(
        recipe_path=None,
        strips=1,
        time_scale=5000,
        seed=1,
        scenario_path=None,
        config_path=None,
        report_dir=tmp_path,
        lot_id=lot_id,
        max_lag_pct=max_lag_pct,
    )


def test_a_wall_scaled_run_that_falls_behind_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Any real machine wakes a little late; a limit of 0 % makes that a run that fell behind.
    code = wall_scaled_dry_run(tmp_path, "B", max_lag_pct=0.0)
    captured = capsys.readouterr()
    assert code == 1
    assert "fell behind the time scale" in captured.err
    report = json.loads((tmp_path / "B" / "report.json").read_text())
    assert report["pace"]["kept_scale"] is False and report["pace"]["lag_s"] > 0
    assert "FELL BEHIND its time scale" in (tmp_path / "B" / "report.txt").read_text()


def test_a_wall_scaled_run_that_keeps_its_scale_reports_its_lag_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = wall_scaled_dry_run(tmp_path, "K", max_lag_pct=100.0)
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "K" / "report.json").read_text())
    assert report["pace"]["kept_scale"] is True
    assert 0 < report["pace"]["lag_pct"] <= 100.0
    assert "FELL BEHIND" not in (tmp_path / "K" / "report.txt").read_text()


def test_an_idle_line_on_the_virtual_clock_runs_no_ticker_and_its_time_stands_still() -> None:
    import threading
    import time

    from sim.clock import VirtualClock
    from sim.line import SimulatedLine, default_stations

    clock = VirtualClock()
    with SimulatedLine(default_stations(), clock=clock).start():
        time.sleep(0.2)
        tickers = [t.name for t in threading.enumerate() if t.name.endswith("-ticker")]
        assert tickers == []
        assert clock.now() == 0.0
