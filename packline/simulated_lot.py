"""A lot on a simulated line: the same lot runner the daemon uses, with the real drivers over
real transports to the simulators. Used by ``packline dry-run`` and by the tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drivers.base import Tool
from drivers.registry import driver_class
from packline.report import StationInfo, build_report
from sequences.line_config import LineConfig
from sequences.lot import LotPlan, LotRunner, LotSnapshot, StripProgress
from sequences.records import MemoryRecorder
from sequences.route import Route
from sequences.station import AlarmPolicy, Station
from sequences.steps.base import Pace
from sim.line import SimulatedLine, StationSim


@dataclass(frozen=True)
class LotRun:
    """Everything a finished simulated lot left: plan, records, dispositions, the report."""

    plan: LotPlan
    route: Route
    recorder: MemoryRecorder
    strips: Mapping[str, StripProgress]
    stations: tuple[StationInfo, ...]
    report: Mapping[str, Any]
    world: Any


def run_simulated_lot(
    route: Route,
    strip_ids: Iterable[str],
    *,
    lot_id: str,
    config: LineConfig,
    time_scale: float,
    seed: int = 1,
    scenario: Iterable[dict[str, Any]] | None = None,
    policies: Mapping[str, AlarmPolicy] | None = None,
    watch: Callable[[LotRunner], contextlib.AbstractContextManager[Any]] | None = None,
    on_change: Callable[[LotSnapshot], None] | None = None,
) -> LotRun:
    """Run one lot of ``route`` on the simulated stations of ``config`` that the route needs.

    ``policies`` overrides the config's alarm policy per station; ``watch`` wraps the run (a
    live display), ``on_change`` receives snapshots (plain progress).
    """
    plan = LotPlan(lot_id, route.steps, route.rows, route.cols, tuple(strip_ids))
    pace = Pace(time_scale, min_bound_wall_s=5.0)
    needed = {step.tool for step in route.steps}
    used = [s for s in config.expanded() if s.tool in needed]
    recorder = MemoryRecorder()
    sims = [StationSim(s.name, s.tool, s.sim) for s in used]
    with (
        SimulatedLine(sims, time_scale=time_scale, seed=seed).start() as line,
        contextlib.ExitStack() as drivers,
    ):
        if scenario is not None:
            line.load_scenario(list(scenario))
        stations = []
        for entry in used:
            driver: Tool = drivers.enter_context(
                driver_class(entry.tool).open(line.address(entry.name))
            )
            policy = (policies or {}).get(entry.name, AlarmPolicy(entry.on_alarm))
            stations.append(
                Station(
                    entry.name,
                    entry.tool,
                    driver,
                    pace=pace,
                    policy=policy,
                    retry_tool_s=entry.retry_tool_s,
                    listeners=[recorder.state_event],
                    on_alarm=lambda record: recorder.alarm(lot_id, record),
                )
            )
        runner = LotRunner(plan, stations, recorder, on_change=on_change)
        with watch(runner) if watch is not None else contextlib.nullcontext():
            final = runner.run()
        world = line.world
    infos = tuple(StationInfo(s.name, s.tool) for s in used)
    report = build_report(
        plan,
        recorder,
        final,
        infos,
        time_scale=time_scale,
        recipe_name=route.recipe_name,
        defect_texts=defect_texts(needed),
        span=(runner.started, runner.finished),
    )
    return LotRun(plan, route, recorder, final, infos, report, world)


def defect_texts(tools: set[str]) -> dict[int, str]:
    """Defect code -> text from the drivers that know their manual's defect table."""
    texts: dict[int, str] = {}
    for tool in tools:
        texts.update(getattr(driver_class(tool), "defect_texts", {}) or {})
    return texts
