"""What the step tests share: drivers opened on fresh simulators and closed after the test, and
a step run at the simulator's pace whose outcomes are checked to be the jobs', of the step."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from drivers.base import Tool
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.base import Pace, ProcessStep, StepControl, run_step
from sim.clock import SimClock
from sim.simulated_tool import SimulatedTool

#: ``start(MoldPress, "mold-press", **options)`` -> connected driver, its simulator.
Start = Callable[..., tuple[Any, SimulatedTool]]


@contextmanager
def opened_drivers(sim_tool: Callable[..., SimulatedTool], *, seed: int) -> Iterator[Start]:
    """A :data:`Start` factory on ``sim_tool`` (simulators seeded ``seed``); every driver it
    opened is closed at the end."""
    with ExitStack() as opened:

        def open_tool(kind: type[Tool], name: str, **options: Any) -> tuple[Any, SimulatedTool]:
            simulated = sim_tool(name, seed=seed, **options)
            return opened.enter_context(kind.open(simulated.address)), simulated

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
