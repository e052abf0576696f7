"""A simulator model on a hand-driven clock, and the moves every model test makes with it: time
in steps, a wait for a condition, a command run into a state, an alarm cleared once its cause
has gone, and READY after a heater-off alarm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sim.tool_model import State, ToolModel
from sim.world import StripState, World
from tests.support.hand_clock import HandClock
from tests.support.refusal import refusal


class ModelBench:
    """A model of ``model_type`` with its own clock (``virtual``: see :class:`HandClock`) and
    world. ``advance_step_s``: the steps :meth:`advance` syncs in (None: once, at the end);
    ``until_step_s``: those of :meth:`until`."""

    model_type: ClassVar[type[ToolModel]]
    advance_step_s: ClassVar[float | None] = None
    until_step_s: ClassVar[float] = 1.0

    def __init__(
        self, model_type: type[ToolModel] | None = None, *, virtual: bool = False, **options: Any
    ) -> None:
        self.clock = HandClock(virtual=virtual)
        self.world = World()
        self.model: Any = (model_type or self.model_type)(self.clock, self.world, **options)

    @property
    def results(self) -> Any:
        """The model's results of its last cycle, which must be there."""
        assert self.model.results is not None, "no cycle results"
        return self.model.results

    def world_strip(self, strip_id: str) -> StripState:
        """The world's strip ``strip_id``, which must be there."""
        strip = self.world.get(strip_id)
        assert strip is not None, f"{strip_id} not in the world"
        return strip

    def at(self, t_s: float) -> None:
        """Set the clock to sim time ``t_s`` and sync the model."""
        self.clock.t = t_s
        self.model.sync()

    def advance(self, seconds: float, step_s: float | None = None) -> None:
        """Move the clock ``seconds`` on, syncing the model every ``step_s``."""
        step_s = step_s or self.advance_step_s or seconds
        end = self.clock.t + seconds
        while self.clock.t < end - 1e-9:
            self.clock.t = min(end, self.clock.t + step_s)
            self.model.sync()

    def until(
        self, done: Callable[[], bool], limit_s: float = 4 * 3600.0, step_s: float | None = None
    ) -> float:
        """Advance in ``step_s`` steps until ``done``; return the sim seconds it took."""
        began = self.clock.t
        while not done():
            assert self.clock.t - began < limit_s, f"{self.model.state.name} for {limit_s} s"
            self.advance(step_s or self.until_step_s, step_s or self.until_step_s)
        return self.clock.t - began

    def until_in(
        self, *states: State, limit_s: float = 4 * 3600.0, step_s: float | None = None
    ) -> float:
        """:meth:`until` the model is in one of ``states``."""
        return self.until(lambda: self.model.state in states, limit_s, step_s)

    def run(
        self, command: Callable[[], object], state: State, step_s: float | None = None
    ) -> float:
        """Give ``command`` (START, RESUME) and advance until the model is in ``state``."""
        command()
        return self.until_in(state, step_s=step_s)

    def ready_after_heater_off_alarm(
        self, condition: str, alarm: int, off_s: float = 120.0
    ) -> float:
        """``condition`` (heaters off) in READY for ``off_s``, cleared 1 s after it is back in
        band: HEATING, START refused (README §5); the sim seconds until READY then."""
        model = self.model
        model.set_condition(condition, True)
        self.advance(off_s)
        assert model.state is State.ALARM and not model.conditions_in_band()
        model.fix(alarm)
        self.until(model.conditions_in_band, step_s=0.5)
        self.advance(1.0, 0.5)
        assert cleared(model) is State.HEATING
        assert refusal(model.do_start) == (22, "TEMP")
        return self.until_in(State.READY, step_s=0.25)


def cleared(model: ToolModel) -> State:
    """The state an alarm clear leaves (an event alarm goes with the first clear)."""
    model.clear_alarms()
    return model.state


def cleared_after(model: ToolModel, remedy: Callable[[], object]) -> State:
    """The state an alarm clear leaves once ``remedy`` has removed the cause; a clear before
    it leaves the tool in ALARM (README §6: an alarm stays while its cause persists)."""
    assert cleared(model) is State.ALARM, "an alarm cleared while its cause persists"
    remedy()
    return cleared(model)


def fixed(model: ToolModel, code: int) -> State:
    """The state an alarm clear leaves after the operator's remedy for ``code``."""
    model.fix(code)
    return cleared(model)


def released(model: ToolModel, condition: str) -> State:
    """The state an alarm clear leaves once ``condition`` is back to normal."""
    model.set_condition(condition, False)
    return cleared(model)
