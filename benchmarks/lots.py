"""Dry runs on the virtual clock: speed-up (makespan / wall) and percent of the bottleneck
bound for every recipe, determinism (two runs, same seed), wall time against lot size, and
the fingerprint of the default lot's report (to hold a pure speed change to the same bits)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packline.simulated_lot import LotRun, run_simulated_lot
from sequences.line_config import load_line_config
from sequences.recipe import load_recipe
from sequences.route import Route, route_for

RECIPES = Path(__file__).resolve().parent.parent / "configs" / "recipes"
DEFAULT_RECIPE = RECIPES / "heat-slug-die-equal.yaml"
#: The default line with consumables for a week (see the file).
WEEK_LINE = Path(__file__).resolve().parent / "line-week.yaml"


@dataclass(frozen=True)
class Timed:
    """One lot on the virtual clock and the wall and CPU time it took."""

    run: LotRun
    wall_s: float
    cpu_s: float

    @property
    def makespan_s(self) -> float:
        return float(self.run.report["makespan_s"])

    @property
    def bound_pct(self) -> float:
        return float(self.run.report["throughput"]["ratio_pct"] or 0.0)

    def line(self, label: str) -> str:
        report = self.run.report
        return (
            f"  {label:<26} makespan {self.makespan_s / 3600:6.2f} h  wall {self.wall_s:6.1f} s "
            f"(cpu {self.cpu_s:5.1f} s)  speed-up {self.makespan_s / self.wall_s:7.0f}x  "
            f"{self.bound_pct:5.1f} % of bound  good {report['yield']['good_units']}/"
            f"{report['yield']['total_units']}  exchanges {self.run.exchanges}"
        )


def timed_lot(route: Route, strips: int, *, seed: int = 1, line: Path | None = None) -> Timed:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    ids = [f"B-{k:03d}" for k in range(1, strips + 1)]
    config = load_line_config(line)
    wall, cpu = time.monotonic(), time.process_time()
    run = run_simulated_lot(route, ids, lot_id="B", config=config, seed=seed)
    return Timed(run, time.monotonic() - wall, time.process_time() - cpu)


def every_recipe(strips: int = 20) -> Iterator[str]:
    yield f"every recipe, {strips} strips, virtual clock, default host latency, {WEEK_LINE.name}"
    for path in sorted(RECIPES.glob("*.yaml")):
        yield timed_lot(route_for(load_recipe(path)), strips, line=WEEK_LINE).line(path.stem)


def _timeless(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report but its ``started_at``, the epoch time the run began (every other time in
    it is tool time since then)."""
    return {k: v for k, v in report.items() if k != "started_at"}


def _unit_results(run: LotRun) -> list[Any]:
    return sorted((r.strip_id, r.step_index, r.outcome.result_map) for r in run.recorder.steps)


def determinism(strips: int = 20) -> Iterator[str]:
    route = route_for(load_recipe(DEFAULT_RECIPE))
    yield f"determinism: {DEFAULT_RECIPE.stem}, {strips} strips, seed 7, twice"
    first = timed_lot(route, strips, seed=7, line=WEEK_LINE)
    yield first.line("run 1")
    second = timed_lot(route, strips, seed=7, line=WEEK_LINE)
    yield second.line("run 2")
    same_units = _unit_results(first.run) == _unit_results(second.run)
    same_report = _timeless(first.run.report) == _timeless(second.run.report)
    yield (
        f"  unit results identical: {same_units}; makespan identical: "
        f"{first.makespan_s == second.makespan_s}; whole report identical: {same_report}"
    )


def fingerprint(sizes: tuple[int, ...] = (5, 20)) -> Iterator[str]:
    """The default lot (seed 1, the week line) and a hash of its whole report but
    ``started_at`` and of its unit results: two trees that print the same hashes gave the
    same report bit for bit (what a change meant only to be faster must keep)."""
    route = route_for(load_recipe(DEFAULT_RECIPE))
    yield f"report fingerprint: {DEFAULT_RECIPE.stem}, seed 1, {WEEK_LINE.name}"
    for strips in sizes:
        timed = timed_lot(route, strips, line=WEEK_LINE)
        yield timed.line(f"{strips} strips")
        report = json.dumps(_timeless(timed.run.report), sort_keys=True, default=str)
        units = json.dumps(_unit_results(timed.run), sort_keys=True, default=str)
        yield f"    report {_digest(report)}  units {_digest(units)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lot_size(sizes: tuple[int, ...] = (20, 100, 500)) -> Iterator[str]:
    route = route_for(load_recipe(DEFAULT_RECIPE))
    yield f"wall time against lot size: {DEFAULT_RECIPE.stem}, virtual clock, {WEEK_LINE.name}"
    base: Timed | None = None
    for strips in sizes:
        timed = timed_lot(route, strips, line=WEEK_LINE)
        base = base or timed
        growth = (timed.wall_s / base.wall_s) / (strips / sizes[0])
        yield (
            timed.line(f"{strips} strips")
            + f"  wall per strip {timed.wall_s / strips:5.2f} s (x{growth:4.2f} of linear)"
        )


def exchanges(strips: int = 20, top: int = 25) -> Iterator[str]:
    """The messages the host sends in a default lot, by tool and kind, most first."""
    timed = timed_lot(route_for(load_recipe(DEFAULT_RECIPE)), strips, line=WEEK_LINE)
    sent = timed.run.sent
    total = sum(sent.values())
    yield f"messages the host sent: {DEFAULT_RECIPE.stem}, {strips} strips, {WEEK_LINE.name}"
    yield timed.line(f"{strips} strips")
    by_tool: dict[str, int] = {}
    for (tool, _kind), count in sent.items():
        by_tool[tool] = by_tool.get(tool, 0) + count
    yield f"  {total} messages; by tool: " + ", ".join(
        f"{tool} {count}" for tool, count in sorted(by_tool.items(), key=lambda kv: -kv[1])
    )
    for (tool, kind), count in sorted(sent.items(), key=lambda kv: -kv[1])[:top]:
        yield f"  {count:6d}  {100 * count / total:5.1f} %  {tool:<12} {kind}"
    yield from wall_budget(timed)


def wall_budget(timed: Timed) -> Iterator[str]:
    """Where a lot's wall time went: start-up (call to the lot's start), and the exchanges by
    tool (wall from send to reply while the clock stood still), most first."""
    run = timed.run
    messages: dict[str, int] = {}
    wall: dict[str, float] = {}
    for (tool, _kind), seconds in run.sent_wall_s.items():
        wall[tool] = wall.get(tool, 0.0) + seconds
    for (tool, _kind), count in run.sent.items():
        messages[tool] = messages.get(tool, 0) + count
    total = sum(wall.values())
    yield (
        f"  wall {timed.wall_s:.2f} s: start-up {run.startup_wall_s:.2f} s, exchanges "
        f"{total:.2f} s ({100 * total / timed.wall_s:.0f} %), the rest (host and simulator "
        "work between exchanges, clock turns, report) "
        f"{timed.wall_s - run.startup_wall_s - total:.2f} s"
    )
    for tool, seconds in sorted(wall.items(), key=lambda kv: -kv[1]):
        count = messages.get(tool, 0)
        yield (
            f"  {tool:<12} {seconds:6.2f} s wall in {count:5d} exchanges "
            f"({1e6 * seconds / max(1, count):6.0f} µs each)"
        )
