"""What the step tests share: drivers opened on fresh simulators and closed after the test, a
step run at the simulator's pace whose outcomes are checked to be the jobs', of the step, and
the station's answer to a hold alarm."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from drivers.base import Tool
from drivers.errors import PacklineError, ToolAlarm
from drivers.registry import driver_class
from drivers.states import ToolState
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep, StepControl, run_step
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool
from tests.support.integration_cycles import cleared

#: ``start("mold-press", **options)`` -> connected driver, its simulator.
Start = Callable[..., tuple[Any, SimulatedTool]]


@contextmanager
def opened_drivers(sim_tool: Callable[..., SimulatedTool], **defaults: Any) -> Iterator[Start]:
    """A :data:`Start` factory on ``sim_tool`` (simulator options ``defaults`` unless a call
    gives others); every driver it opened is closed at the end."""
    with ExitStack() as opened:

        def open_tool(name: str, **options: Any) -> tuple[Any, SimulatedTool]:
            simulated = sim_tool(name, **{**defaults, **options})
            return opened.enter_context(driver_class(name).open(simulated.address)), simulated

        yield open_tool


def run(
    step: ProcessStep,
    tool: Tool,
    jobs: Sequence[StripJob],
    clock: SimClock,
    control: StepControl | None = None,
    *,
    station: str | None = None,
) -> list[StripOutcome]:
    """:func:`run_step` at ``clock``'s pace on ``station`` (the step's tool kind by default);
    the outcomes are one per job, in job order, of this step."""
    outcomes = run_step(
        step,
        tool,
        jobs,
        station=station or step.tool,
        pace=Pace(clock.time_scale),
        control=control,
    )
    assert [o.strip_id for o in outcomes] == [j.strip_id for j in jobs]
    assert all(o.step == step.name for o in outcomes)
    return outcomes


def resuming(alarms: list[ToolAlarm], fix: Callable[[int], object] | None = None) -> StepControl:
    """A station that answers a hold alarm: note it in ``alarms``, ``fix`` its cause (the
    operator), clear the alarms (the tool PAUSED) and resume the strip."""

    def on_alarm(tool: Tool, problem: PacklineError) -> str:
        assert isinstance(problem, ToolAlarm)
        alarms.append(problem)
        if fix is not None:
            fix(problem.code)
        assert cleared(tool) is ToolState.PAUSED
        tool.resume()
        return "resume"

    return StepControl(on_alarm=on_alarm)


def calls_to(monkeypatch: pytest.MonkeyPatch, tool: Tool, method: str) -> list[tuple[Any, ...]]:
    """The arguments of each call of ``tool``'s ``method`` from now on (still made)."""
    calls: list[tuple[Any, ...]] = []
    made = getattr(tool, method)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return made(*args, **kwargs)

    monkeypatch.setattr(tool, method, counted)
    return calls
