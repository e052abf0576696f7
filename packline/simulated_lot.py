"""A lot on a simulated line: the same lot runner the daemon uses, with the real drivers over
real transports to the simulators. Used by ``packline dry-run`` and by the tests.

By default the line and the host share one virtual clock (``sim.clock.VirtualClock``): tool
time jumps whenever every host thread waits, so a lot takes the wall time of its exchanges,
not of its process, and a run is deterministic. With a ``time_scale`` the simulators run on a
wall-scaled clock and the host waits in wall time; the run then measures how far the host fell
behind (:data:`MAX_LAG_PCT`) and says whether it kept its scale.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from drivers.clock import HostClock, WallClock
from drivers.registry import driver_class
from drivers.transports.wall_timeouts import stretched_link_timeouts
from packline.paced_link import DEFAULT_HOST_LATENCY_S, Tally, WallTally, pace_driver
from packline.report import StationInfo, build_report
from sequences.line_config import LineConfig
from sequences.line_factory import Wiring, open_line
from sequences.lot import LotPlan, LotRunner, LotSnapshot, StripProgress
from sequences.records import MemoryRecorder
from sequences.route import Route
from sequences.station import AlarmPolicy
from sequences.steps.base import Pace
from sequences.steps.judging import HOST_DEFECT_TEXTS
from sequences.upkeep import OperatorRequest
from sim.clock import SimClock, VirtualClock
from sim.line import SimulatedLine, StationSim

#: A wall-scaled run kept its scale if no host thread woke late by more than this share of
#: the makespan in all: beyond it the figures describe the machine's load, not the line.
MAX_LAG_PCT = 2.0
#: On the virtual clock every link timeout (wall seconds) is this many times the manual's: a
#: simulated tool answers late only when the machine is loaded, and a retry would change the run.
VIRTUAL_LINK_TIMEOUT_STRETCH = 10.0
#: Tool seconds the simulated operator of a dry run takes to answer a request (a new syringe).
OPERATOR_RESPONSE_TOOL_S = 600.0


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
    #: Tool seconds of the most-delayed host thread's late wake-ups (0 on a virtual clock).
    lag_s: float = 0.0
    #: Requests the simulators served and clock jumps (virtual clock only; else 0).
    exchanges: int = 0
    clock_jumps: int = 0
    #: Messages the host sent, by (tool, message kind) (virtual clock only; else empty).
    sent: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: Wall seconds of those messages' exchanges, by the same keys (virtual clock only).
    sent_wall_s: Mapping[tuple[str, str], float] = field(default_factory=dict)
    #: Wall seconds from the call to the lot's start: simulators started, drivers opened.
    startup_wall_s: float = 0.0

    @property
    def kept_scale(self) -> bool:
        """False when a wall-scaled run fell behind (see :data:`MAX_LAG_PCT`)."""
        return bool(self.report.get("pace", {}).get("kept_scale", True))


def run_simulated_lot(
    route: Route,
    strip_ids: Iterable[str],
    *,
    lot_id: str,
    config: LineConfig,
    time_scale: float | None = None,
    host_latency_s: float = DEFAULT_HOST_LATENCY_S,
    max_lag_pct: float = MAX_LAG_PCT,
    seed: int = 1,
    scenario: Iterable[dict[str, Any]] | None = None,
    policies: Mapping[str, AlarmPolicy] | None = None,
    watch: Callable[[LotRunner], contextlib.AbstractContextManager[Any]] | None = None,
    on_change: Callable[[LotSnapshot], None] | None = None,
    operator_response_tool_s: float = OPERATOR_RESPONSE_TOOL_S,
) -> LotRun:
    """Run one lot of ``route`` on the simulated stations of ``config`` that the route needs.

    ``time_scale`` None runs on a virtual clock whose host pays ``host_latency_s`` tool
    seconds per exchange; a number runs wall-scaled, and the run kept its scale if the host
    woke late by at most ``max_lag_pct`` of the makespan. ``policies`` overrides the config's alarm
    policy per station; ``watch`` wraps the run (a live display), ``on_change`` receives
    snapshots (plain progress). The simulated line plays the operator: it answers each
    operator request (a syringe to replace) after ``operator_response_tool_s``.
    """
    called = time.monotonic()
    plan = LotPlan(lot_id, route.steps, route.rows, route.cols, tuple(strip_ids))
    if host_latency_s < 0:
        raise ValueError(f"host latency must be >= 0 s, got {host_latency_s}")
    virtual = VirtualClock() if time_scale is None else None
    sim_clock: SimClock = virtual if virtual is not None else SimClock(time_scale or 1.0)
    host_clock: HostClock = virtual if virtual is not None else WallClock(time_scale or 1.0)
    pace = Pace(time_scale or 1.0, min_bound_wall_s=5.0, clock=host_clock)
    needed = {step.tool for step in route.steps}
    used = [s for s in config.expanded() if s.tool in needed]
    recorder = MemoryRecorder()
    sent: Tally = Tally()
    sent_wall: WallTally = {}
    sims = [StationSim(s.name, s.tool, s.sim) for s in used]
    with (
        SimulatedLine(sims, seed=seed, clock=sim_clock).start() as line,
        contextlib.ExitStack() as timeouts,
    ):
        if virtual is not None:  # late replies there come from a shared CPU, not from the tools
            timeouts.enter_context(stretched_link_timeouts(VIRTUAL_LINK_TIMEOUT_STRETCH))
        if scenario is not None:
            line.load_scenario(list(scenario))
        wiring = Wiring(
            pace,
            [recorder.state_event],
            on_alarm=lambda record: recorder.alarm(lot_id, record),
            on_request=simulated_operator(line, host_clock, operator_response_tool_s),
            policies=policies or {},
            on_connected=(
                None
                if virtual is None
                else partial(
                    pace_driver, clock=virtual, latency_s=host_latency_s, tally=sent, wall=sent_wall
                )
            ),
        )
        addresses = {entry.name: line.address(entry.name) for entry in used}
        with open_line(used, addresses, wiring) as opened:
            stations = list(opened.stations.values())
            runner = LotRunner(plan, stations, recorder, on_change=on_change)
            startup_wall_s = time.monotonic() - called
            with watch(runner) if watch is not None else contextlib.nullcontext():
                final = runner.run()
        world = line.world
    infos = tuple(StationInfo(s.name, s.tool) for s in used)
    report = build_report(
        plan,
        recorder,
        final,
        infos,
        time_scale=host_clock.record_scale,
        recipe_name=route.recipe_name,
        defect_texts=defect_texts(needed),
        span=(runner.started, runner.finished),
    )
    lag_s = (
        0.0 if virtual is not None or not isinstance(host_clock, WallClock) else host_clock.lag_s()
    )
    report = {**report, "clock": _clock_text(time_scale, host_latency_s)}
    if virtual is None:
        report["pace"] = _pace(lag_s, float(report["makespan_s"]), max_lag_pct)
    return LotRun(
        plan,
        route,
        recorder,
        final,
        infos,
        report,
        world,
        lag_s=lag_s,
        exchanges=virtual.exchanges if virtual is not None else 0,
        clock_jumps=virtual.jumps if virtual is not None else 0,
        sent=dict(sent),
        sent_wall_s=dict(sent_wall),
        startup_wall_s=startup_wall_s,
    )


#: Requests made before the tool has an alarm for them -> the alarm whose remedy answers them:
#: an FeCl3 bath renewed at 90 % of CU_LOAD_MAX is the remedy of 5123 "Copper loading high".
REMEDY_BEFORE_ALARM = {"CU_LOAD": 5123}


def simulated_operator(
    line: SimulatedLine, clock: HostClock, response_tool_s: float
) -> Callable[[OperatorRequest], None]:
    """The operator of a dry run: comes after ``response_tool_s`` (the station waits HELD, so
    the time counts as down time) and remedies every active alarm of the station's tool (a new
    syringe for 2101, a spool for 3109...), as the simulators' ``fix`` does."""

    def answer(request: OperatorRequest) -> None:
        clock.sleep(response_tool_s)
        model = line.tools[request.station].model
        for code in list(model.active_alarms):
            model.fix(code)
        for name in request.interlocks:  # asked before the tool alarms (no alarm to fix yet)
            if name in REMEDY_BEFORE_ALARM:
                model.fix(REMEDY_BEFORE_ALARM[name])

    return answer


def _clock_text(time_scale: float | None, host_latency_s: float) -> str:
    if time_scale is None:
        return f"virtual clock, host latency {1000 * host_latency_s:g} ms per exchange"
    return f"time scale {time_scale:g}"


def _pace(lag_s: float, makespan_s: float, max_lag_pct: float) -> dict[str, Any]:
    """Whether a wall-scaled run kept its scale: the worst host thread's late wake-ups."""
    lag_pct = 100.0 * lag_s / makespan_s if makespan_s > 0 else 0.0
    return {
        "lag_s": round(lag_s, 1),
        "lag_pct": round(lag_pct, 2),
        "max_lag_pct": max_lag_pct,
        "kept_scale": lag_pct <= max_lag_pct,
    }


def defect_texts(tools: set[str]) -> dict[int, str]:
    """Defect code -> text: the host's own codes, then the drivers that know their manual's
    defect table."""
    texts: dict[int, str] = dict(HOST_DEFECT_TEXTS)
    for tool in tools:
        texts.update(getattr(driver_class(tool), "defect_texts", {}) or {})
    return texts
