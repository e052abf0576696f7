"""Event-driven models: a settled tool jumps from event to event instead of stepping its grid,
and its events still come at their exact tool times; a wall-scaled tool's ticker sleeps
while nothing is due."""

from __future__ import annotations

import time

from sim.clock import SimClock
from sim.die_bonder.model import CALIBRATION_DUE_S, DieBonderModel
from sim.registry import serve_function
from sim.tool_model import State, ToolModel
from sim.world import World


class VirtualHandClock(SimClock):
    """A virtual clock the test moves by hand (the model steps on its grid)."""

    virtual = True

    def __init__(self) -> None:
        super().__init__(1.0)
        self.t = 0.0

    def now(self) -> float:
        return self.t


def count_steps(model: ToolModel) -> list[float]:
    """Record every step the model takes (its length in tool seconds)."""
    steps: list[float] = []
    physics = model.physics

    def counted(dt_s: float) -> None:
        steps.append(dt_s)
        physics(dt_s)

    model.physics = counted  # type: ignore[method-assign]
    return steps


def heated_die_bonder() -> tuple[VirtualHandClock, DieBonderModel]:
    clock = VirtualHandClock()
    model = DieBonderModel(clock, World(), seed=3)
    clock.t = 40.0
    model.sync()
    model.load_recipe("A-EQUAL")
    clock.t = 1000.0  # the cure track takes 8 min to heat
    model.sync()
    assert model.state is State.READY
    return clock, model


def test_a_settled_tool_idles_a_day_in_a_few_steps_and_raises_its_calibration_alarm_on_time() -> (
    None
):
    clock, model = heated_die_bonder()
    steps = count_steps(model)
    due_s = model.calibration_ref_s + CALIBRATION_DUE_S
    clock.t = due_s - 1.0
    model.sync()
    assert 2203 not in model.active_alarms
    assert len(steps) <= 3, "a settled tool does not step through its idle day"
    clock.t = due_s + 0.5  # between two grid points: the event before the clock still happens
    model.sync()
    assert 2203 in model.active_alarms, "the calibration falls due at its tool time"
    assert len(steps) <= 6


def test_a_settled_tool_steps_its_grid_again_while_a_zone_heats() -> None:
    clock, model = heated_die_bonder()
    model.conditions["CURE_COLD"] = True  # the cure track loses heat: its PV drifts
    steps = count_steps(model)
    clock.t += 100.0
    model.sync()
    assert len(steps) >= 100 / model.max_step_s - 1, "a moving temperature is integrated"
    assert model.zones["CURE"].pv_c < 175.0


def test_a_settled_wall_scaled_tool_sleeps_until_a_request_comes() -> None:
    clock = SimClock(1000.0)
    with serve_function("die-bonder")(clock=clock, world=World(), seed=1) as tool:
        deadline = time.monotonic() + 5.0
        while tool.model.snapshot_state() is not State.IDLE:  # 30 tool s of INIT
            assert time.monotonic() < deadline, "the die bonder never settled"
            time.sleep(0.05)
        steps = count_steps(tool.model)
        time.sleep(0.5)  # 500 tool s, 25 ticks of a stepping ticker
        assert len(steps) <= 1, steps
        assert tool.lag_s >= 0.0
