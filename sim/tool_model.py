"""The common tool behaviour of README §5-§7, shared by every simulated tool.

:class:`ToolModel` is the process side of a simulated tool: the state model (INIT ... SETUP),
the command/state matrix, alarms with classes A/H/W and their clearing rules, interlocks,
and a cycle engine that runs a list of :class:`Step` on the sim clock with hold points,
deferred holds and aborts. A tool model subclasses it and supplies physics (``physics``),
the cycle's steps (``build_cycle``), settings checks and results. Protocol fronts call the
``do_*`` methods and turn :class:`Reject` into their own error form.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from sim.clock import SimClock
from sim.faults import CycleContext, FaultInjector, ProcessFault
from sim.world import World

log = logging.getLogger("packline.sim.tool")


class State(IntEnum):
    """README §5 state codes."""

    INIT = 0
    IDLE = 1
    HEATING = 2
    READY = 3
    RUNNING = 4
    PAUSED = 5
    ALARM = 6
    DONE = 7
    ABORTED = 8
    SETUP = 9

    def __str__(self) -> str:
        return self.name


class Reject(Exception):
    """A command refused with a catalogue code (README §7) and optional detail.

    ``scpi`` picks the SCPI form where the catalogue code has several (code 12: -104, -108,
    -109, -224, -151; code 10: -113, -114).
    """

    def __init__(self, code: int, detail: str = "", *, scpi: int | None = None) -> None:
        self.code = code
        self.detail = detail
        self.scpi = scpi
        super().__init__(f"{code} {detail}".strip())


CATALOGUE_TEXT = {
    1: "Checksum error",
    2: "Framing error",
    3: "Frame too long",
    10: "Unknown command",
    11: "Syntax error",
    12: "Bad parameter",
    13: "Out of range",
    14: "Settings conflict",
    20: "Not allowed in state",
    21: "Busy",
    22: "Interlock active",
    23: "Alarm active",
    24: "No recipe loaded",
    25: "Recipe not found",
    26: "Map length mismatch",
    27: "No results available",
    28: "Storage full",
}


@dataclass(frozen=True)
class AlarmDef:
    """A row of a tool's alarm table."""

    code: int
    text: str
    alarm_class: str  # "A", "H" or "W"
    word_bit: tuple[int, int] | None = None  # Modbus ALARM_WORD n.m


@dataclass
class Step:
    """One timed piece of a cycle. ``phase`` is the tool phase reported while it runs.

    ``until``: the step ends when it returns True (``duration_s`` is then only a guard for the
    model's time step). ``hold_point``: PAUSE and hold-class alarms may take effect when this
    step ends.
    """

    phase: str
    duration_s: float
    on_start: Callable[[], None] | None = None
    on_end: Callable[[], None] | None = None
    hold_point: bool = True
    site: int | None = None
    until: Callable[[], bool] | None = None


@dataclass
class SiteResult:
    """One per-site (or per-position) outcome with its formatted value fields."""

    site: int
    result: str = "N"
    defect: int = 0
    values: tuple[str, ...] = ()


@dataclass
class CycleResults:
    """What the last cycle left: readable until the next START or reset."""

    strip_id: str = ""
    rows: list[SiteResult] = field(default_factory=list)
    cycle_s: float = 0.0
    summary_extra: tuple[str, ...] = ()

    def count(self, char: str) -> int:
        return [r.result for r in self.rows].count(char)

    @property
    def result_map(self) -> str:
        return "".join(r.result for r in self.rows)


#: Armed states in which the in-band dwell is counted (ALARM also in a cycle; _evaluate_band).
_BAND_COUNTED = frozenset(
    {State.HEATING, State.READY, State.ALARM, State.SETUP, State.DONE, State.ABORTED}
)

_MATRIX: dict[str, dict[State, int | str]] = {
    # "ok", "nop", or an error code; missing states are "ok".
    "reset": {
        State.INIT: 21,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.SETUP: 21,
    },
    "arm": {
        State.INIT: 21,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "disarm": {
        State.INIT: 21,
        State.IDLE: "nop",
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "set": {
        State.INIT: 21,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "start": {
        State.INIT: 21,
        State.IDLE: 24,
        State.HEATING: 22,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "pause": {
        State.INIT: 21,
        State.IDLE: 20,
        State.HEATING: 20,
        State.READY: 20,
        State.PAUSED: "nop",
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "resume": {
        State.INIT: 21,
        State.IDLE: 20,
        State.HEATING: 20,
        State.READY: 20,
        State.RUNNING: "nop",
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "abort": {
        State.INIT: 21,
        State.IDLE: 20,
        State.HEATING: 20,
        State.READY: 20,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
    "ack": {
        State.INIT: 21,
        State.IDLE: 20,
        State.HEATING: 20,
        State.READY: 20,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.SETUP: 21,
    },
    "setup": {
        State.INIT: 21,
        State.RUNNING: 20,
        State.PAUSED: 20,
        State.ALARM: 23,
        State.DONE: 20,
        State.ABORTED: 20,
        State.SETUP: 21,
    },
}


class ToolModel:
    """Common state machine, alarms, interlocks and cycle engine of a simulated tool."""

    tool_name: ClassVar[str] = "tool"
    model_name: ClassVar[str] = "XX-0"
    serial: ClassVar[str] = "XX0-00001"
    firmware: ClassVar[str] = "1.0.0"
    #: The tool's alarm table, in manual order.
    alarm_defs: ClassVar[tuple[AlarmDef, ...]] = ()
    #: Interlock names in table order, each with the command groups it blocks.
    interlock_table: ClassVar[tuple[tuple[str, frozenset[str]], ...]] = ()
    #: Condition name -> alarm raised when it arises during a cycle (ESTOP also outside one).
    condition_alarms: ClassVar[dict[str, int]] = {}
    #: "HEATING" (thermal tools) or "WARMUP" (saw, laser): the name of state 2.
    heating_name: ClassVar[str] = "HEATING"
    #: Interlock reported when START is refused in state 2 (README §5 note 3).
    warm_interlock: ClassVar[str] = "TEMP"
    init_s: ClassVar[float] = 15.0
    #: Sim seconds conditions must stay in band before READY.
    stable_s: ClassVar[float] = 30.0
    #: Longest sim time step of the physics integration.
    max_step_s: ClassVar[float] = 1.0

    def __init__(
        self, clock: SimClock, world: World, *, seed: int = 0, faults: FaultInjector | None = None
    ) -> None:
        self.clock = clock
        self.world = world
        self.rng = random.Random(seed)
        self.faults = faults or FaultInjector()
        self.lock = threading.RLock()
        self.alarm_by_code = {a.code: a for a in self.alarm_defs}
        self.faults.know_alarms(self.tool_name, self.alarm_by_code)
        self.time_s = clock.now()
        # What the clock is does not change (class attributes of SimClock/VirtualClock): looked
        # up once, not on every request.
        self._clock_virtual = bool(getattr(clock, "virtual", False))
        self._clock_on_request: Callable[[], None] | None = getattr(clock, "on_request", None)
        #: Called on every request (a wall-scaled tool's ticker wakes to re-plan its sleep).
        self.on_sync: Callable[[], None] | None = None
        self.state = State.INIT
        self.init_elapsed_s = 0.0
        self.armed = False
        self.in_band_s = 0.0
        # Alarms: active codes in order of occurrence; cause expiry (sim time) per code.
        self.active_alarms: list[int] = []
        self.alarm_cause_until: dict[int, float] = {}
        self.alarm_state_before = State.IDLE
        self.conditions: dict[str, bool] = {}
        self.condition_until: dict[str, float] = {}
        # Cycle engine.
        self.cycle_active = False
        self.cycle_number = 0
        self.cycle_count = 0
        self.cycle_start_s = 0.0
        self.steps: deque[Step] = deque()
        self.step_started = False
        self.step_elapsed_s = 0.0
        self.phase = "NONE"
        self.phase_elapsed_s = 0.0
        self.current_site: int | None = None
        self.halt_pending: str | None = None  # "pause" or "hold": stop at the next hold point
        self.halted = False
        self.abort_on_clear = False
        #: An A-class alarm or an ABORT in ALARM stopped the cycle; the sim seconds it had run.
        self.cycle_stopped = False
        self.stopped_elapsed_s = 0.0
        self.deferred_hold = False
        self.results: CycleResults | None = None
        # SETUP operations.
        self.setup_remaining_s: float | None = None
        self.setup_done: Callable[[], None] | None = None
        self.state_before_setup = State.IDLE

    # == time ================================================================================
    def sync(self) -> None:
        """A request arrived (fronts call this once per request): count it on the clock and
        advance the model to the clock's time; on a virtual clock only to the last step
        boundary at or before it (see :meth:`advance`). The model's own code and commands
        (:meth:`check`) advance exactly."""
        on_request = self._clock_on_request  # a test's hand clock has only now()
        if on_request is not None:
            on_request()
        if self.on_sync is not None:
            self.on_sync()
        self.advance(exact=not self._clock_virtual)

    @property
    def _virtual(self) -> bool:
        return self._clock_virtual

    def advance(self, *, exact: bool = True) -> None:
        """Advance the model to the clock's current time, step by step and event by event.

        The model is lazy: nothing runs between requests, and its state at a requested time
        does not depend on how often it was asked before. On a virtual clock steps fall on a
        grid of ``max_step_s`` split at the model's own events, and a read (``exact=False``)
        stops at the last step boundary at or before the clock's time instead of taking a part
        step: so a model that draws noise per step draws the same noise whatever requests
        came (a retried read, a poll more or less), and a run is deterministic. Continuous
        values then lag the clock by less than one step; events (phase ends, alarms) are
        exact.
        """
        with self.lock:
            target = self.clock.now()
            on_grid = self._clock_virtual
            while target - self.time_s > 1e-9:
                if self._event_driven():
                    if not self.step_started and self.steps and self._cycle_moving():
                        self._tick(0.0)  # start the step first: its start may unsettle physics
                        continue
                    # Events up to the clock happen; a read without one stops on the grid.
                    h = self._time_to_next_event(math.inf)
                    if h > target - self.time_s + 1e-9:
                        stop_s = target if exact or not on_grid else self._grid_floor(target)
                        h = stop_s - self.time_s
                        if h <= 1e-9:
                            break
                    self.time_s += h
                    self.physics(h)
                    self._tick(h)
                    continue
                step_s = self.max_step_s
                if on_grid:
                    to_grid = self.max_step_s - math.fmod(self.time_s, self.max_step_s)
                    step_s = to_grid if to_grid > 1e-9 else self.max_step_s
                h = max(1e-6, min(step_s, self._time_to_next_event()))
                if h > target - self.time_s + 1e-9:
                    if not exact:
                        return
                    h = target - self.time_s
                self.time_s += h
                self.physics(h)
                self._tick(h)
            if exact:
                self.time_s = max(self.time_s, target)

    def idle_for_s(self) -> float | None:
        """Tool seconds during which nothing happens unless a request comes (the model is
        settled and its next event is that far off), or None while it must be stepped.
        A wall-scaled tool's ticker sleeps that long."""
        with self.lock:
            if not self._event_driven():
                return None
            return self._time_to_next_event(math.inf)

    def observable(self) -> tuple[object, ...]:
        """What a host or a log watcher sees change at an event: state, phase, step, alarms,
        cycles done (a ticker that finds it changed was late for that event)."""
        with self.lock:
            return (
                self.state,
                self.phase,
                len(self.steps),
                tuple(sorted(self.active_alarms)),
                self.cycle_count,
            )

    def _grid_floor(self, time_s: float) -> float:
        """The last point of the ``max_step_s`` grid at or before ``time_s``."""
        return math.floor(time_s / self.max_step_s + 1e-9) * self.max_step_s

    def _event_driven(self) -> bool:
        """Whether the model may jump from event to event now: its physics is settled
        (:meth:`physics_settled`) and no running step ends on a condition (``until``) that
        only stepping would see."""
        steps = self.steps  # cheapest test first: most steps have no ``until``
        if steps and steps[0].until is not None and self._cycle_moving():
            return False
        return self.physics_settled()

    def _time_to_next_event(self, cap_s: float | None = None) -> float:
        """Tool seconds to the model's next own event (phase end, setup or init done, a fault
        or a condition due), at most ``cap_s`` (default ``max_step_s``). With a cap beyond
        the grid (event-driven advance) it also counts the events a settled model's physics
        and band dwell announce."""
        # A running minimum in the order the candidates were once listed in: ``x < soonest``
        # is the comparison min() makes, so the result is the same float, without a list.
        soonest = self.max_step_s if cap_s is None else cap_s
        if cap_s is not None:
            physics_event = self.physics_event_in_s()
            if physics_event is not None and physics_event < soonest:
                soonest = physics_event
            heating = self.state is State.HEATING and self.armed and not self.cycle_active
            to_stable_s = self.stable_s - self.in_band_s
            if heating and self.in_band_s < self.stable_s and self.conditions_in_band():
                soonest = min(soonest, to_stable_s)
        if self.state is State.INIT and self.init_s - self.init_elapsed_s < soonest:
            soonest = self.init_s - self.init_elapsed_s
        if self.setup_remaining_s is not None and self.setup_remaining_s < soonest:
            soonest = self.setup_remaining_s
        if self.steps and self._cycle_moving():
            step = self.steps[0]
            if step.until is None and step.duration_s - self.step_elapsed_s < soonest:
                soonest = step.duration_s - self.step_elapsed_s
            if self.faults.process and self.faults.has_pending_process():  # none: no call
                wait = self.faults.pending_in_phase_after(self._cycle_context())
                if wait is not None and wait < soonest:
                    soonest = wait
        time_s = self.time_s
        for untils in (self.alarm_cause_until, self.condition_until):
            for until in untils.values():
                if until > time_s and until - time_s < soonest:
                    soonest = until - time_s
        return max(1e-6, soonest)

    def _tick(self, h: float) -> None:
        self._apply_due_faults(immediate=True)
        if self.condition_until:
            self._expire_conditions()
        if self.state is State.INIT:
            self.init_elapsed_s += h
            if self.init_elapsed_s >= self.init_s - 1e-9:
                self._set_state(State.IDLE)
            return
        if self.setup_remaining_s is not None:
            self.setup_remaining_s -= h
            if self.setup_remaining_s <= 1e-9:
                self._finish_setup()
        if (
            self.armed
            and self.state in _BAND_COUNTED
            and (not self.cycle_active or self.state is State.ALARM)
        ):
            self._evaluate_band(h)
        if self._cycle_moving():
            self._advance_cycle(h)

    # == hooks for tool models ===============================================================
    def physics(self, dt_s: float) -> None:
        """Advance continuous process variables (temperatures, pressures...) by ``dt_s``."""

    def physics_settled(self) -> bool:
        """True when :meth:`physics` is exact for a step of any length up to the next event
        (heaters at their goal, no dwell counting towards an alarm, no per-step noise): the
        model then advances from event to event in one step each instead of on its
        ``max_step_s`` grid, so a settled tool costs no CPU between requests however long
        the span. A model that says so must announce the time-based events of its physics
        in :meth:`physics_event_in_s`. Default False: integrate on the grid."""
        return False

    def physics_event_in_s(self) -> float | None:
        """Tool seconds until settled physics has something to do (a calibration falling
        due, an hour counter passing its limit); None when nothing is due."""
        return None

    def conditions_in_band(self) -> bool:
        """True when process conditions allow READY (heaters at set-point, spindle warm...)."""
        return True

    def check_settings(self) -> None:
        """Raise ``Reject(14)`` for inconsistent parameters (called at ARM and START)."""

    def build_cycle(self) -> list[Step]:
        """The steps of one cycle, built at START from the working parameters."""
        return []

    def on_cycle_start(self) -> None:
        """Prepare per-cycle data (results placeholders, world strips) at START."""

    def on_cycle_done(self) -> None:
        """Finalize results when the last step has ended."""

    def on_abort(self, by_alarm: bool) -> None:
        """Mark the interrupted and remaining units in the results (README §6)."""

    def interlock_active(self, name: str) -> bool:
        """Whether an interlock condition holds; by default the condition of the same name."""
        if name == self.warm_interlock:
            return self.state is State.HEATING
        return self.conditions.get(name, False)

    def pause_allowed(self) -> bool:
        """Whether PAUSE is accepted now (some tools only in early phases)."""
        return True

    def defers_hold(self) -> bool:
        """Whether a hold raised now is deferred to the end of the cycle (mold press, etch)."""
        return False

    def holds_at_once(self, code: int) -> bool:
        """Whether a hold-class alarm stops the cycle at once rather than at a hold point."""
        return False

    def alarm_cause_persists(self, code: int) -> bool:
        """Whether an alarm's cause is still present (it then survives an alarm clear)."""
        for name, alarm in self.condition_alarms.items():
            if alarm == code and self.conditions.get(name, False):
                return True
        return False

    def on_arm(self) -> None:
        """Switch heaters/spindle/source on (tool-specific)."""

    def on_disarm(self) -> None:
        """Switch heaters/spindle/source off (tool-specific)."""

    def on_abort_class_alarm(self) -> None:
        """Tool-specific safe state after an A-class alarm (heaters off, spindle stop...)."""

    # == state and alarms ====================================================================
    def state_name(self, state: State | None = None) -> str:
        state = self.state if state is None else state
        return self.heating_name if state is State.HEATING else state.name

    def _set_state(self, state: State) -> None:
        self.state = state

    def alarm_def(self, code: int) -> AlarmDef:
        return self.alarm_by_code[code]

    def raise_alarm(self, code: int, *, cause_for_s: float | None = None) -> None:
        """Raise an alarm of the table with the README §6 effect of its class."""
        with self.lock:
            alarm = self.alarm_by_code[code]
            if cause_for_s is not None:
                self.alarm_cause_until[code] = self.time_s + cause_for_s
            if code in self.active_alarms:
                return
            self.active_alarms.append(code)
            if alarm.alarm_class == "W":
                return
            if self.state is State.SETUP:
                # A blocking alarm abandons the setup operation (its result stays invalid);
                # after the clear the tool goes back to where it was before the setup.
                self.setup_remaining_s = None
                self.setup_done = None
                self._set_state(self.state_before_setup)
            if self.state is not State.ALARM and not (self.deferred_hold and self.cycle_active):
                self.alarm_state_before = self.state
            if alarm.alarm_class == "A":
                self.on_abort_class_alarm()
                if self.cycle_active and not self.abort_on_clear:
                    self.on_abort(by_alarm=True)
                    self.steps.clear()
                    self._stop_cycle()
                    self.abort_on_clear = True
                    self.halted = True
                self.halt_pending = None
                self._set_state(State.ALARM)
                return
            # Hold class.
            if self.cycle_active and not self.halted and not self.abort_on_clear:
                if self.defers_hold() or self.deferred_hold:
                    self.deferred_hold = True
                    return
                if self.holds_at_once(code):
                    self.halted = True
                    self.halt_pending = None
                else:
                    self.halt_pending = "hold"
            self._set_state(State.ALARM)

    def clear_alarms(self) -> None:
        """Alarm clear: remove alarms whose cause has gone, then leave ALARM if none blocks."""
        with self.lock:
            for code in list(self.active_alarms):
                if self.alarm_cause_until.get(
                    code, -1.0
                ) > self.time_s or self.alarm_cause_persists(code):
                    continue
                self.active_alarms.remove(code)
                self.alarm_cause_until.pop(code, None)
            if self.state is not State.ALARM or self.blocking_alarm():
                return
            if self.cycle_active:
                if self.abort_on_clear:
                    self._finish_aborted()
                elif not self.steps and self.results is not None:
                    self._set_state(State.DONE)
                    self.cycle_active = False
                else:
                    self._set_state(State.PAUSED)
                    if not self.halted:
                        self.halt_pending = "pause"
            elif self.deferred_hold:
                self.deferred_hold = False
                self._set_state(State.DONE)
            else:
                state = self._reevaluate(self.alarm_state_before)
                if state is State.INIT:
                    # README §5: INIT ends in IDLE when the power-up self-test and homing are
                    # done; one stopped by an alarm is run again from its start.
                    self.init_elapsed_s = 0.0
                self._set_state(state)

    def blocking_alarm(self) -> int | None:
        """Lowest active A/H code, or None."""
        codes = [c for c in self.active_alarms if self.alarm_by_code[c].alarm_class in ("A", "H")]
        return min(codes) if codes else None

    def _reevaluate(self, state: State) -> State:
        if state in (State.HEATING, State.READY):
            return (
                State.READY
                if self.conditions_in_band() and self.in_band_s >= self.stable_s
                else State.HEATING
            )
        if state is State.INIT:
            return State.INIT
        if state in (State.RUNNING, State.PAUSED, State.ALARM, State.SETUP):
            return State.IDLE if not self.armed else State.HEATING
        return state

    def set_condition(self, name: str, active: bool) -> None:
        """Switch a physical condition; raises its alarm where the tool's table says so."""
        with self.lock:
            name = name.upper()
            was = self.conditions.get(name, False)
            self.conditions[name] = active
            code = self.condition_alarms.get(name)
            if active and not was and code is not None and (self.cycle_active or name == "ESTOP"):
                self.raise_alarm(code)

    def fix(self, code: int) -> None:
        """Operator remedy: the cause of ``code`` is gone (condition restored, supply refilled)."""
        with self.lock:
            self.alarm_cause_until.pop(code, None)
            for name, alarm in self.condition_alarms.items():
                if alarm == code:
                    self.conditions[name] = False

    def _apply_fault(self, fault: ProcessFault) -> None:
        if fault.link is not None:
            self.faults.arm_link_fault(fault.link)
        if fault.condition is not None:
            self.set_condition(fault.condition, fault.active)
            if fault.clear_after_s is not None and fault.active:
                self.condition_until[fault.condition.upper()] = self.time_s + fault.clear_after_s
        if fault.alarm is not None:
            if fault.alarm in self.alarm_by_code:
                self.raise_alarm(fault.alarm, cause_for_s=fault.clear_after_s)
            else:  # FaultInjector refuses these; a fault queued around it must not kill a thread
                log.error("%s: fault with unknown alarm %r ignored", self.tool_name, fault.alarm)

    def _expire_conditions(self) -> None:
        for name, until in list(self.condition_until.items()):
            if self.time_s >= until - 1e-9:
                del self.condition_until[name]
                self.set_condition(name, False)

    # == command checks ======================================================================
    def check(self, group: str) -> bool:
        """Apply the README §5 matrix for a command group; return False for a no-op."""
        with self.lock:
            self.advance()
            entry = _MATRIX[group].get(self.state, "ok")
            if group == "abort" and self.state is State.ALARM:
                entry = "ok" if self.cycle_active else 23
            if entry == "nop":
                return False
            if entry == "ok":
                return True
            assert isinstance(entry, int)
            raise Reject(entry, self._detail(entry))

    def _detail(self, code: int) -> str:
        if code == 20:
            return self.state_name()
        if code == 21:
            return "INIT" if self.state is State.INIT else "SETUP"
        if code == 23:
            return str(self.blocking_alarm() or "")
        if code == 22:
            return self.warm_interlock
        return ""

    def first_interlock(self, group: str) -> str | None:
        """The first active interlock (table order) that blocks a command group."""
        for name, blocks in self.interlock_table:
            if group in blocks and self.interlock_active(name):
                return name
        return None

    def check_interlocks(self, group: str) -> None:
        name = self.first_interlock(group)
        if name is not None:
            raise Reject(22, name)

    def active_interlocks(self) -> list[str]:
        return [name for name, _ in self.interlock_table if self.interlock_active(name)]

    # == commands ============================================================================
    def do_arm(self) -> None:
        """Load recipe / arm: -> HEATING (or READY for tools without heating)."""
        with self.lock:
            self.check("arm")
            self.check_settings()
            self.armed = True
            self.in_band_s = 0.0
            self.on_arm()
            self._set_state(State.HEATING)

    def do_disarm(self) -> None:
        with self.lock:
            if not self.check("disarm"):
                return
            self.armed = False
            self.on_disarm()
            self._set_state(State.IDLE)

    def do_start(self) -> None:
        with self.lock:
            self.check("start")
            self.check_settings()
            self.check_interlocks("start")
            self.steps = deque(self.build_cycle())
            self.cycle_number += 1
            self.cycle_active = True
            self.cycle_start_s = self.time_s
            self.step_started = False
            self.step_elapsed_s = 0.0
            self.phase_elapsed_s = 0.0
            self.halt_pending = None
            self.halted = False
            self.abort_on_clear = False
            self.cycle_stopped = False
            self.stopped_elapsed_s = 0.0
            self.deferred_hold = False
            self.results = None
            self.on_cycle_start()
            self._set_state(State.RUNNING)
            if self.steps:
                self._start_step(self.steps[0])

    def do_pause(self) -> None:
        with self.lock:
            if not self.check("pause"):
                return
            if not self.pause_allowed():
                raise Reject(20, self.state_name())
            self.halt_pending = "pause"
            self._set_state(State.PAUSED)

    def do_resume(self) -> None:
        with self.lock:
            if not self.check("resume"):
                return
            self.check_interlocks("resume")
            self.halted = False
            self.halt_pending = None
            self._set_state(State.RUNNING)

    def do_abort(self) -> None:
        with self.lock:
            self.check("abort")
            if self.state is State.ALARM:
                if not self.abort_on_clear:
                    self.on_abort(by_alarm=False)
                    self.steps.clear()
                    self._stop_cycle()
                    self.abort_on_clear = True
                return
            self.on_abort(by_alarm=False)
            self.steps.clear()
            self._finish_aborted()

    def do_ack(self) -> None:
        with self.lock:
            self.check("ack")
            self.cycle_active = False
            self.phase = "NONE"
            self.on_ack()
            if self.armed:
                self.in_band_s = 0.0 if not self.conditions_in_band() else self.in_band_s
                self._set_state(
                    State.READY
                    if self.conditions_in_band() and self.in_band_s >= self.stable_s
                    else State.HEATING
                )
            else:
                self._set_state(State.IDLE)

    def on_ack(self) -> None:
        """Clear per-cycle data (strip id, input map) after ACK."""

    def do_setup(self, duration_s: float, on_done: Callable[[], None]) -> None:
        """Start a SETUP operation (calibration, blade setup) returning to the previous state."""
        with self.lock:
            self.state_before_setup = self.state
            self.setup_remaining_s = duration_s
            self.setup_done = on_done
            self._set_state(State.SETUP)

    def _finish_setup(self) -> None:
        done = self.setup_done
        self.setup_remaining_s = None
        self.setup_done = None
        self._set_state(
            self._reevaluate(self.state_before_setup)
            if self.state_before_setup in (State.HEATING, State.READY)
            else self.state_before_setup
        )
        if done is not None:
            done()

    # == cycle engine ========================================================================
    @property
    def cycle_elapsed_s(self) -> float:
        """Sim seconds since START; held from the moment an A-class alarm or ABORT stopped the
        cycle (README §6: it stops at once; ALARM only waits for the clear) and at the cycle's
        end in DONE/ABORTED (README §9.2): it never runs on and then jumps back."""
        if self.cycle_active:
            if self.cycle_stopped:
                return self.stopped_elapsed_s
            return self.time_s - self.cycle_start_s
        return self.results.cycle_s if self.results is not None else self.stopped_elapsed_s

    def cycle_watched(self) -> bool:
        """What a manual's "during a cycle" means for a process deviation alarm: a cycle that
        runs, is paused or is held, not one an A-class alarm or an ABORT has stopped (README
        §6: it stops at once and only waits for the clear to ABORTED; the safe state the alarm
        left, heaters off, is no process deviation)."""
        return self.cycle_active and not self.cycle_stopped

    def _cycle_moving(self) -> bool:
        if not self.cycle_active or self.halted or not self.steps:
            return False
        if self.state is State.RUNNING:
            return True
        # After PAUSE or a hold the cycle runs on to its next hold point.
        return self.state in (State.PAUSED, State.ALARM) and self.halt_pending is not None

    def _cycle_context(self) -> CycleContext:
        return CycleContext(
            self.cycle_number,
            self.phase,
            self.cycle_elapsed_s,
            self.phase_elapsed_s,
            self.current_site,
        )

    def _apply_due_faults(self, *, immediate: bool = False) -> None:
        """Apply the process faults due now: those without a trigger (``immediate``), else
        those whose trigger matches the cycle's position (none pending, the common case on
        every step: no context is built)."""
        faults = self.faults
        if not faults.process or not faults.has_pending_process():  # none queued: no call
            return
        for fault in faults.immediate() if immediate else faults.due(self._cycle_context()):
            self._apply_fault(fault)

    def _advance_cycle(self, h: float) -> None:
        step = self.steps[0]
        if not self.step_started:
            self._start_step(step)
            if not self.steps or self.steps[0] is not step:
                return
        self.step_elapsed_s += h
        self.phase_elapsed_s += h
        self._apply_due_faults()
        if not self.steps or self.steps[0] is not step or self.halted:
            return
        finished = (
            step.until()
            if step.until is not None
            else self.step_elapsed_s >= step.duration_s - 1e-9
        )
        if finished:
            self._end_step(step)

    def _start_step(self, step: Step) -> None:
        if step.phase != self.phase:
            self.phase_elapsed_s = 0.0
        self.phase = step.phase
        self.current_site = step.site
        self.step_started = True
        self.step_elapsed_s = 0.0
        self._apply_due_faults()
        if step.on_start is not None and self.steps and self.steps[0] is step:
            step.on_start()

    def _end_step(self, step: Step) -> None:
        if step.on_end is not None:
            step.on_end()
        if self.steps and self.steps[0] is step:
            self.steps.popleft()
        self.step_started = False
        self.step_elapsed_s = 0.0
        if not self.steps:
            if not self.abort_on_clear:  # an A-class alarm raised by on_end aborts, not completes
                self._finish_cycle()
            return
        if self.halt_pending is not None and step.hold_point:
            self.halted = True
            self.halt_pending = None

    def _finish_cycle(self) -> None:
        self.on_cycle_done()
        self.cycle_count += 1
        self.phase = "NONE"
        self.current_site = None
        self.halt_pending = None
        if self.results is not None:
            self.results.cycle_s = self.cycle_elapsed_s
        if self.deferred_hold and self.blocking_alarm():
            self.cycle_active = False
            self.alarm_state_before = State.DONE
            self._set_state(State.ALARM)
            return
        self.deferred_hold = False
        self.cycle_active = False
        if self.state is State.ALARM:
            # A hold raised on the very last step: the cycle is complete.
            self.alarm_state_before = State.DONE
            self.deferred_hold = True
            return
        self._set_state(State.DONE)

    def _freeze_cycle_time(self) -> None:
        """The cycle's time as of now, kept as its result's (an abort or the last strip
        drained); a stopped cycle's time is the one it stopped at."""
        if not self.cycle_active:
            return
        self.stopped_elapsed_s = self.cycle_elapsed_s
        if self.results is not None:
            self.results.cycle_s = self.stopped_elapsed_s

    def _stop_cycle(self) -> None:
        """An A-class alarm or an ABORT in ALARM stopped the cycle now (README §6): its time
        does not grow while ALARM waits for the clear."""
        self._freeze_cycle_time()
        self.cycle_stopped = True

    def _finish_aborted(self) -> None:
        if not self.abort_on_clear:
            self._freeze_cycle_time()
        self.cycle_active = False
        self.abort_on_clear = False
        self.halted = False
        self.halt_pending = None
        self.phase = "NONE"
        self.current_site = None
        self._set_state(State.ABORTED)

    def _evaluate_band(self, h: float) -> None:
        """Count the time conditions have been in band (README §5 HEATING -> READY: READY only
        after the tool's stable time in band), reset it when they leave. Counted in every armed
        state outside a cycle, ALARM, SETUP, DONE and ABORTED too, and in ALARM within a cycle:
        the clear, setup end or ACK that re-decides READY / HEATING then sees whether the
        conditions really were in band that long, not a dwell from before a heater-off alarm
        (E-stop, heater fault) let them cool. Only HEATING and READY change state on it."""
        if self.conditions_in_band():
            self.in_band_s += h
            if self.state is State.HEATING and self.in_band_s >= self.stable_s:
                self._set_state(State.READY)
        else:
            self.in_band_s = 0.0
            if self.state is State.READY:
                self._set_state(State.HEATING)

    # == common queries ======================================================================
    def progress(self) -> tuple[int, int, int, int]:
        """(done, total, elapsed s, remaining s) of the active or finished cycle."""
        return (0, 0, 0, 0)

    def snapshot_state(self) -> State:
        with self.lock:
            self.advance(exact=not self._virtual)
            return self.state
