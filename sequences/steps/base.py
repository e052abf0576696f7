"""The phase logic every process step shares, and the contract a step implements.

A step runs one cycle of one tool on one strip (or a batch of strips):

1. ``check``: interlocks and recipe windows, before anything is sent to the tool;
2. ``set_up``: load the tool recipe, write the recipe's set-points, strip ids, size and input
   maps, and wait (bounded) for READY;
3. start the cycle and wait for DONE/ABORTED, polling, bounded in tool seconds divided by the
   line's time scale; operator holds and aborts and tool alarms are handled on the way by the
   station through :class:`StepControl`;
4. ``collect``: read the per-site results and judge them against the recipe's limits;
5. acknowledge.

Steps are plain data (a dataclass per step kind, built from the master recipe by the route),
so a route reads like the route sheet and a step can be tested on its own against one
simulated tool.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from drivers.base import Tool
from drivers.clock import HostClock, WallClock
from drivers.errors import (
    CommunicationError,
    NotAllowedInState,
    PacklineError,
    ParameterOutOfRange,
    ToolAlarm,
    ToolTimeout,
)
from drivers.setpoints import SetPoints
from drivers.states import ToolState
from sequences.jobs import StripJob, StripOutcome
from sequences.steps.held import (
    CHECKED_INTERLOCKS,
    forget_calibration,
    forget_held,
    held_recipe,
    note_reading,
    note_recipe,
    note_state,
    state_seen,
)
from sequences.steps.judging import cycle_ended_in, recording_windows

FINISHED = frozenset({ToolState.DONE, ToolState.ABORTED})
#: States in which a tool has no cycle (none started, or it restarted): a cycle found recorded
#: as started is reconciled by running it now, for the first time.
NO_CYCLE = (ToolState.INIT, ToolState.IDLE, ToolState.HEATING, ToolState.READY, ToolState.SETUP)
#: A tool reports a cycle's remaining time in whole seconds (interfaces README §9: NR1, a u32
#: register; the simulators truncate): the end lies up to this much after the time reported,
#: so the host looks then, not a moment before it and again after.
REMAINING_RESOLUTION_S = 1.0
#: A long cycle's end is met polling at the manual's rate over this many poll intervals.
APPROACH_POLLS = 10


class StepRefused(PacklineError):
    """A step that must not start: an interlock or a recipe window, named."""


class Detached(Exception):
    """The controller is stopping: it stops waiting on a running cycle without aborting it.

    The tool runs the cycle on; the step's start is already recorded, so the next controller
    reconciles it (:func:`run_step` with ``resume``)."""


@dataclass(frozen=True)
class Pace:
    """How the host waits on this line: its clock (tool time), and how it polls.

    Every bound and poll interval here is in tool seconds of ``clock`` (a :class:`WallClock`
    at ``time_scale`` unless another clock is given, e.g. a dry run's virtual clock).

    ``min_bound_wall_s`` keeps a bound (heat-up, cycle, retry) on a wall clock from shrinking
    below what a loaded machine needs to react: at scale 1000 a 90 s metrology cycle bound is
    90 ms of wall time. Lots use a few seconds; a unit test of a bound may use 0. A virtual
    clock does not need it: host work costs no tool time there.

    On a virtual clock (polls cost no tool time there, but each costs wall time):
    ``watch_s``: a running cycle is waited for in one sleep to the end the tool reports (or
    the step expects), but never longer than this, so an alarm mid-cycle is seen within it;
    ``stretch``: a wait for a state (READY after a heat-up) polls at the manual's rate at first,
    then at this share of the time waited so far (at most ``watch_s``): a 30 min heat-up costs
    ~130 polls instead of 3600, and its end is seen within 5 %;
    ``watch_share``: a cycle expected to last longer than ``watch_s`` / ``watch_share`` (20
    min) is watched at this share of its length instead: a 94 min lamination ~20 looks, not
    ~95, an alarm that interrupts it seen within 5 % of the cycle, as a state's end is.
    """

    time_scale: float = 1.0
    min_bound_wall_s: float = 0.0
    clock: HostClock | None = None
    watch_s: float = 60.0
    stretch: float = 0.05
    watch_share: float = 0.05

    def __post_init__(self) -> None:
        if self.clock is None:
            object.__setattr__(self, "clock", WallClock(self.time_scale))

    @property
    def host_clock(self) -> HostClock:
        assert self.clock is not None  # set by __post_init__
        return self.clock

    @property
    def virtual(self) -> bool:
        return self.host_clock.virtual

    def bound_s(self, tool_s: float) -> float:
        """A bound of ``tool_s`` tool seconds, in tool seconds of the clock."""
        if self.virtual:
            return tool_s
        return max(tool_s, self.min_bound_wall_s * self.time_scale)

    def poll_s(self, tool: Tool) -> float:
        """The manual's poll interval; on a wall clock shortened at high time scales (>= 2 ms)."""
        if self.virtual:
            return tool.poll_interval_s
        wall = max(0.002, tool.poll_interval_s * min(1.0, 10.0 / self.time_scale))
        return wall * self.time_scale

    def cycle_watch_s(self, expected_cycle_s: float) -> float:
        """Tool seconds between looks at a running cycle of ``expected_cycle_s`` (virtual clock)."""
        return max(self.watch_s, self.watch_share * expected_cycle_s)

    def poll_after_s(self, tool: Tool, waited_s: float) -> float:
        """Tool seconds to the next poll of a wait that has lasted ``waited_s`` (``stretch``)."""
        poll = self.poll_s(tool)
        if not self.virtual:
            return poll
        return min(max(poll, self.stretch * waited_s), max(self.watch_s, poll))

    def typical_s(self, tool: Tool) -> dict[ToolState, float]:
        """The manual's durations of states the tool leaves by itself (:attr:`Tool.typical_s`),
        on a virtual clock (else none): a heat-up or SETUP is polled at ``stretch`` of it from
        the first poll, and its end, which the host still sees, is seen at most that late."""
        return dict(tool.typical_s) if self.virtual else {}

    def wait_for_state(
        self,
        tool: Tool,
        targets: Iterable[ToolState],
        bound_tool_s: float,
        *,
        entered_s: float | None = None,
    ) -> ToolState:
        """``tool.wait_for_state`` on this line's clock, bound and poll rate; ``entered_s``: when
        the host's own command began the state waited out, looked at when the manual has it end
        (:attr:`Tool.state_durations_s`)."""
        return tool.wait_for_state(
            targets,
            timeout_s=self.bound_s(bound_tool_s),
            poll_s=self.poll_s(tool),
            clock=self.host_clock,
            stretch=self.stretch if self.virtual else 0.0,
            max_poll_s=self.watch_s,
            typical_s=self.typical_s(tool),
            entered_s=entered_s,
        )


AlarmDecision = str  # "resume" (alarm cleared, cycle resumed) or "abort" (cycle aborted)


@dataclass
class StepControl:
    """What the station tells a running step, and how the step asks the station for help.

    ``hold`` and ``abort`` are set by operator commands; ``on_alarm`` is called by the step's
    wait when the tool goes to ALARM (or the link is lost) and blocks until the station's
    policy or an operator has decided; it returns ``"resume"`` or ``"abort"``.
    """

    hold: threading.Event = field(default_factory=threading.Event)
    abort: threading.Event = field(default_factory=threading.Event)
    #: Set when the controller stops: a waiting step raises :class:`Detached`.
    detach: threading.Event = field(default_factory=threading.Event)
    on_alarm: Callable[[Tool, PacklineError], AlarmDecision] | None = None
    #: The tool's state when the last cycle ended (DONE or ABORTED), set by :func:`run_step`.
    final_state: ToolState | None = None
    #: Wall times (epoch s) of the last run: set-up began, the cycle started, the cycle ended.
    setup_started: float = 0.0
    cycle_started: float = 0.0
    #: The tool's active interlocks as the station read them a moment before the next run
    #: (its upkeep), with nothing sent to the tool since: that run's check uses them instead
    #: of asking again. :func:`run_step` takes them (None: not read, or not fresh).
    interlocks_seen: list[str] | None = None
    cycle_ended: float = 0.0


@runtime_checkable
class ReportsInterlocks(Protocol):
    """A tool that names its active interlocks (SCPI ``SYSTem:INTerlock?``, Modbus
    INTERLOCK_WORD)."""

    def interlocks(self) -> list[str]: ...


#: The interlocks :attr:`StepControl.interlocks_seen` hands to the check of the step running.
_INTERLOCKS_SEEN: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "interlocks_seen", default=None
)


def refuse(step: str, tool: Tool, reason: str) -> StepRefused:
    """A :class:`StepRefused` naming the step, the tool and why."""
    return tool.error(StepRefused, f"{step}: {reason}")


class ProcessStep(ABC):
    """One step of a route on one kind of tool, whose class attributes declare what it needs
    from the tool. Subclasses are frozen dataclasses."""

    #: Manual name of the tool kind that runs this step (``die-bonder``...).
    tool: ClassVar[str]
    #: The driver class the step runs on; any other tool is refused before anything is sent.
    driver: ClassVar[type[Tool]]
    #: Interlocks the step's set-up clears or waits out (heating TEMP, a LOAD mask the step
    #: writes, a warm-up): they do not refuse the step. Every other active interlock does.
    cleared_by_set_up: ClassVar[frozenset[str]] = frozenset()
    #: Driver members (a setting the tool holds, e.g. the etch bath's CHEMISTRY) that a station
    #: must agree on with the step: it reads them from its driver (:meth:`needs`).
    station_settings: ClassVar[tuple[str, ...]] = ()
    #: Most strips one cycle takes (mold shot 4, etch carrier 10, magazine 20...).
    batch_max: ClassVar[int] = 1
    #: Bound in tool seconds of the heat-up/warm-up to READY.
    heat_up_tool_s: ClassVar[float] = 3600.0
    #: A cycle's bound is this many times the expected cycle.
    cycle_bound_factor: ClassVar[float] = 3.0

    def __init_subclass__(
        cls,
        *,
        tool: str | None = None,
        driver: type[Tool] | None = None,
        clears: Iterable[str] = (),
        settings: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        """The declarations as class arguments: ``class MoldStep(ProcessStep,
        tool="mold-press", driver=MoldPress, clears={"TEMP", "LOAD"})``."""
        super().__init_subclass__(**kwargs)
        if tool is not None:
            cls.tool = tool
        if driver is not None:
            cls.driver = driver
        if clears:
            cls.cleared_by_set_up = frozenset(clears)
        if settings:
            cls.station_settings = tuple(settings)

    @property
    @abstractmethod
    def name(self) -> str:
        """Step name on the route sheet and in reports (``die attach``, ``inspect ball``...)."""

    @property
    @abstractmethod
    def expected_cycle_tool_s(self) -> float:
        """Nominal tool seconds of one cycle from the manual's §8 timing (for the line's
        bottleneck bound and the cycle bound)."""

    @property
    def cycle_tool_s(self) -> float:
        """The cycle's bound: ``cycle_bound_factor`` times the expected cycle."""
        return self.cycle_bound_factor * self.expected_cycle_tool_s

    @abstractmethod
    def setpoint_text(self) -> str:
        """The key set-points of the step, one line of the route sheet."""

    @classmethod
    def station_settings_of(cls, tool: str) -> frozenset[str]:
        """The ``station_settings`` every step kind on ``tool`` declares (all imported kinds)."""
        kinds = [cls]
        settings: set[str] = set()
        while kinds:
            kind = kinds.pop()
            kinds.extend(kind.__subclasses__())
            if getattr(kind, "tool", None) == tool:
                settings.update(kind.station_settings)
        return frozenset(settings)

    def needs(self) -> dict[str, Any]:
        """The station settings this step needs, by driver member (``{"chemistry": KOH}``)."""
        return {member: getattr(self, member) for member in self.station_settings}

    @property
    def setpoints(self) -> SetPoints | None:
        """The set-points the step writes, as its driver's set-point record: its ``settings``
        field unless it says otherwise (None: the step writes none of its driver's settings)."""
        setpoints: SetPoints | None = getattr(self, "settings", None)
        return setpoints

    def check(self, tool: Tool) -> None:
        """The declared driver and interlocks, then every set-point in its declared range and
        the manual's cross-field rules, before anything is sent (raise :class:`StepRefused`);
        a step adds its recipe windows."""
        driver_for(self, tool, self.driver)
        if isinstance(tool, ReportsInterlocks):  # else the tool checks them at START
            seen = _INTERLOCKS_SEEN.get()  # read by the station's upkeep a moment ago
            active = tool.interlocks() if seen is None else seen
            note_reading(tool, CHECKED_INTERLOCKS, tuple(active))  # for the set-up to take
            blocking = [name for name in active if name not in self.cleared_by_set_up]
            if blocking:
                raise refuse(self.name, tool, f"interlock(s) active: {', '.join(blocking)}")
        if self.setpoints is not None:
            try:
                self.setpoints.check()
            except ParameterOutOfRange as problem:
                reason = f"recipe outside the tool's window: {problem.reason}"
                raise refuse(self.name, tool, reason) from None

    @abstractmethod
    def set_up(self, tool: Tool, jobs: Sequence[StripJob], pace: Pace) -> None:
        """Load the recipe, write set-points and strip data, wait (bounded) for READY."""

    def start(self, tool: Tool) -> None:
        tool.start()

    @abstractmethod
    def collect(self, tool: Tool, jobs: Sequence[StripJob], station: str) -> list[StripOutcome]:
        """Read results (one outcome per job, in job order) and judge them."""

    def finish(self, tool: Tool) -> None:
        tool.acknowledge()

    def recipe_values(self) -> dict[str, Any]:
        """The set-points this step uses, for the unit records (dataclass fields by default)."""
        if dataclasses.is_dataclass(self):
            return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and hasattr(value, "name"):  # enums
        return value.name
    return value


def wait_ready(
    tool: Tool, pace: Pace, heat_up_tool_s: float, *, entered_s: float | None = None
) -> None:
    """Wait (bounded) until the tool is READY; ``entered_s`` as for :meth:`Pace.wait_for_state`.

    A tool found HEATING whose manual gives its heat-up rate (:meth:`Tool.heat_up_left_s`)
    is not polled through the heat-up: the host sleeps the least time it can still take,
    looking at the state every ``pace.cycle_watch_s`` of it to see an alarm, then polls."""
    clock = pace.host_clock
    began_s = clock.now()
    deadline = began_s + pace.bound_s(heat_up_tool_s)
    state = tool.state()
    if state is ToolState.READY:
        return
    if state is ToolState.HEATING:
        ahead_s = min(tool.heat_up_left_s(), deadline - clock.now())
        watch_s = pace.cycle_watch_s(ahead_s)  # a long heat-up is watched like a long cycle
        while ahead_s > 0.0:
            nap_s = min(ahead_s, watch_s)
            clock.sleep(nap_s)
            ahead_s -= nap_s
            state = tool.state()
            if state is ToolState.READY:
                return
            if state is ToolState.ALARM:
                raise tool.alarm_error()
            if state is not ToolState.HEATING:
                break
    tool.wait_for_state(
        [ToolState.READY],
        timeout_s=max(0.0, deadline - clock.now()),
        poll_s=pace.poll_after_s(tool, clock.now() - began_s),
        clock=clock,
        stretch=pace.stretch if pace.virtual else 0.0,
        max_poll_s=pace.watch_s,
        typical_s=pace.typical_s(tool),
        entered_s=entered_s,
    )


def run_step(
    step: ProcessStep,
    tool: Tool,
    jobs: Sequence[StripJob],
    *,
    station: str,
    pace: Pace,
    control: StepControl | None = None,
    on_results: Callable[[list[StripOutcome]], None] | None = None,
    resume: bool = False,
) -> list[StripOutcome]:
    """Run one cycle of ``step`` on ``tool`` for ``jobs``; return one outcome per job.

    ``on_results`` is called with the outcomes *before* the tool is acknowledged, so that a
    controller can commit them first: a crash between the two leaves the tool in DONE with its
    results, which a ``resume`` reads again, rather than results nowhere.

    Raises :class:`StepRefused` before touching the tool, the tool's errors on the way, and
    :class:`ToolTimeout` when the cycle outlasts its bound.

    ``resume``: reconcile a cycle that was running when the controller stopped, from the
    tool's state:

    - RUNNING/PAUSED/ALARM: wait for it as a run would;
    - DONE: read its results (the step's ``collect`` checks that the tool's strip ids are the
      jobs');
    - IDLE/HEATING/READY/SETUP: the controller stopped during set-up, before START (results are
      always recorded before a cycle is acknowledged, so a finished cycle would still be DONE):
      the step never ran and runs now, for the first time;
    - ABORTED or anything else: :class:`StepRefused` — the strips need an operator's decision.
    """
    control = control or StepControl()
    if resume and (state := tool.state()) not in NO_CYCLE:
        control.setup_started = control.cycle_started = pace.host_clock.timestamp()
        if state in (ToolState.RUNNING, ToolState.PAUSED, ToolState.ALARM):
            state = _wait_for_cycle_end(step, tool, pace, control)
        control.final_state = state
        control.cycle_ended = pace.host_clock.timestamp()
        if state is not ToolState.DONE:
            raise tool.error(
                StepRefused,
                f"{step.name} interrupted by a controller restart; the tool is {state.name}: "
                "an operator must decide",
            )
        return _collect(step, tool, jobs, station, on_results, state)
    if not 1 <= len(jobs) <= step.batch_max:
        raise ValueError(f"{step.name} takes 1..{step.batch_max} strips per cycle, got {len(jobs)}")
    control.setup_started = pace.host_clock.timestamp()
    seen, control.interlocks_seen = control.interlocks_seen, None
    try:
        token = _INTERLOCKS_SEEN.set(seen)
        try:
            step.check(tool)
        finally:
            _INTERLOCKS_SEEN.reset(token)
        with grouped_checks(tool):
            step.set_up(tool, jobs, pace)
        control.cycle_started = pace.host_clock.timestamp()
        step.start(tool)
        control.final_state = _wait_for_cycle_end(step, tool, pace, control, just_started=True)
        control.cycle_ended = pace.host_clock.timestamp()
        outcomes = _collect(step, tool, jobs, station, on_results, control.final_state)
        note_state(tool, pace.host_clock.now(), tool.acknowledged_to)
        return outcomes
    except BaseException:
        forget_held(tool)  # what the tool holds is no longer known for sure
        forget_calibration(tool)
        raise


def grouped_checks(tool: Tool) -> contextlib.AbstractContextManager[None]:
    """The tool's way of checking consecutive set-points together (SCPI: one ``SYST:ERR?``
    for a group, :meth:`drivers.scpi.ScpiTool.grouped_checks`); else each as it is sent."""
    group = getattr(tool, "grouped_checks", None)
    return group() if callable(group) else contextlib.nullcontext()


def _collect(
    step: ProcessStep,
    tool: Tool,
    jobs: Sequence[StripJob],
    station: str,
    on_results: Callable[[list[StripOutcome]], None] | None,
    ended_in: ToolState | None,
) -> list[StripOutcome]:
    """Read and judge the results (of a cycle the wait saw end in ``ended_in``), hand them to
    ``on_results``, then acknowledge the tool. Each outcome's recipe values get
    ``judged_windows``: the window the host judged each value against, ``[low, high]`` (None:
    an open side), so that a unit's record says what its values were held to."""
    with cycle_ended_in(ended_in), recording_windows() as windows:
        outcomes = step.collect(tool, jobs, station)
    judged = {name: list(window) for name, window in sorted(windows.items()) if window}
    if judged:
        outcomes = [
            dataclasses.replace(o, recipe_values={**o.recipe_values, "judged_windows": judged})
            for o in outcomes
        ]
    if on_results is not None:
        on_results(outcomes)
    step.finish(tool)
    return outcomes


def _wait_for_cycle_end(
    step: ProcessStep, tool: Tool, pace: Pace, control: StepControl, *, just_started: bool = False
) -> ToolState:
    """Poll until DONE/ABORTED. Operator holds and aborts are passed to the tool; an alarm or a
    lost link is handed to the station (``control.on_alarm``), which decides and acts; the
    cycle bound does not run while the station holds. On a virtual clock a running cycle is
    looked at when :func:`_next_look_s` says.

    ``just_started``: the tool took the START a moment ago, so it is RUNNING; on a virtual
    clock the first look is then not at once but as :func:`_next_look_s` says, from the
    remaining time it reports (:func:`reported_remaining_s`, asked instead of the state)."""
    clock = pace.host_clock
    bound_s = pace.bound_s(step.cycle_tool_s)
    started_s = clock.now()
    deadline = started_s + bound_s
    poll = pace.poll_s(tool)
    watch_s = pace.cycle_watch_s(step.expected_cycle_tool_s)
    held = False
    gave_up = False
    #: Clock time the tool's last reported remaining time points to (virtual clock).
    reported_end_s: float | None = None
    while True:
        if control.detach.is_set():
            raise Detached(f"{step.name}: controller stopping; the cycle runs on, to be reconciled")
        if control.abort.is_set():
            control.abort.clear()
            just_started = False  # look at once: the cycle is aborting
            if tool.state() in (ToolState.RUNNING, ToolState.PAUSED, ToolState.ALARM):
                # The cycle may end between that look and the abort: the tool then refuses
                # it (not allowed in DONE) and the look below finds the cycle finished.
                with contextlib.suppress(NotAllowedInState):
                    tool.abort()
        if control.hold.is_set() != held:
            held = control.hold.is_set()
            state = tool.state()
            if held and state is ToolState.RUNNING:
                # Past its last hold point (mold press after CLAMP, etch bath after ETCH) a
                # tool refuses PAUSE: the hold then takes effect when the cycle ends.
                with contextlib.suppress(NotAllowedInState):
                    tool.pause()
            elif not held and state is ToolState.PAUSED:
                tool.resume()
        if just_started:
            just_started = False
            if pace.virtual and not held:
                remaining_s = reported_remaining_s(tool)
                now = clock.now()
                if remaining_s is not None:
                    reported_end_s = now + remaining_s + REMAINING_RESOLUTION_S
                expected_end_s = started_s + step.expected_cycle_tool_s
                clock.sleep(_next_look_s(pace, watch_s, poll, now, reported_end_s, expected_end_s))
                continue
        try:
            # The bound is judged at the moment the state was asked, not when the reply came:
            # on a loaded host a late reply must not turn a finished cycle into a timeout.
            polled_at = clock.now()
            state, remaining_s = tool.cycle_look()
            if state is ToolState.ALARM:
                raise tool.alarm_error()
        except (ToolAlarm, CommunicationError) as problem:
            forget_held(tool)  # an alarm or a lost link: the set-points are written again
            if gave_up:
                # The station aborted the cycle, yet the tool still alarms (a cause that stays,
                # such as an empty syringe, keeps an aborted cycle in ALARM): asking again
                # would loop for ever. The step fails; its strips go on hold with the alarm.
                raise problem
            gave_up = _ask_station(tool, problem, control) == "abort"
            deadline = clock.now() + bound_s
            continue
        if state in FINISHED:
            return state
        if held:
            deadline = clock.now() + bound_s
        elif polled_at >= deadline:
            message = f"{step.name}: cycle not finished within {step.cycle_tool_s:.0f} tool s"
            raise tool.error(ToolTimeout, message)
        if pace.virtual and state is ToolState.RUNNING and not held:
            now = clock.now()
            if remaining_s is None and (reported_end_s is None or now >= reported_end_s):
                # Asked again only once the last answer has run out: a cycle that runs to
                # its reported end costs one remaining-time query.
                remaining_s = reported_remaining_s(tool)
            if remaining_s is not None and remaining_s > 0:
                reported_end_s = now + remaining_s + REMAINING_RESOLUTION_S
            expected_end_s = started_s + step.expected_cycle_tool_s
            clock.sleep(_next_look_s(pace, watch_s, poll, now, reported_end_s, expected_end_s))
        else:
            clock.sleep(poll)


def _next_look_s(
    pace: Pace,
    watch_s: float,
    poll_s: float,
    now_s: float,
    reported_end_s: float | None,
    expected_end_s: float,
) -> float:
    """Tool seconds until the next look at a running cycle: to the end the tool reported
    (``CYCLe:PROGress?``, ``PROG?``, CYCLE_REMAINING_S) while it lies ahead, else to the end
    the step expects, never less than the manual's poll interval nor more than ``watch_s``
    (:meth:`Pace.cycle_watch_s`). A cycle watched longer than ``pace.watch_s`` (a press load)
    is met at the manual's poll rate over the last ``APPROACH_POLLS`` poll intervals before
    that end: its remaining time is an estimate (README §9.2)."""
    if reported_end_s is not None and reported_end_s > now_s:
        left = reported_end_s - now_s
    else:
        left = expected_end_s - now_s
    if left > watch_s:
        return max(watch_s, poll_s)
    if watch_s > pace.watch_s:
        approach_s = APPROACH_POLLS * poll_s
        return left - approach_s if left > approach_s else poll_s
    return max(left, poll_s)


def reported_remaining_s(tool: Tool) -> float | None:
    """The running cycle's remaining seconds from the tool's progress query (``CYCLe:PROGress?``,
    ``PROG?``), or None if it has none or reports none. Tools whose state read reports them
    (the Modbus status block) say so in :meth:`Tool.cycle_look` instead."""
    progress = getattr(tool, "progress", None)
    if not callable(progress):
        return None  # the wire bonder's STAT? counts units, not seconds
    try:
        value = getattr(progress(), "remaining_s", None)
    except PacklineError:
        return None  # the next state poll meets the problem and hands it to the station
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _ask_station(tool: Tool, alarm: PacklineError, control: StepControl) -> AlarmDecision:
    if control.on_alarm is None:
        raise alarm
    decision = control.on_alarm(tool, alarm)
    if decision not in ("resume", "abort"):
        raise ValueError(f"on_alarm must return 'resume' or 'abort', not {decision!r}")
    return decision


# -- shared by the steps on recipe-loading tools (SCPI tools, metrology) -----------------------
D = TypeVar("D", bound=Tool)


def driver_for(step: ProcessStep, tool: Tool, kind: type[D]) -> D:
    """``tool`` as the driver class ``step`` runs on; any other tool is refused."""
    if not isinstance(tool, kind):
        actual = type(tool).__name__
        raise tool.error(
            StepRefused, f"{step.name} runs on {kind.__name__} ({kind.model}), not {actual}"
        )
    return tool


@runtime_checkable
class RecipeTool(Protocol):
    """A tool armed by loading one of its stored recipes by name."""

    def recipe_name(self) -> tuple[str, bool]: ...

    def load_recipe(self, name: str) -> None: ...


#: States a set-up may go on from; INIT and SETUP pass by themselves, ALARM raises ToolAlarm.
_SETTLED = frozenset(ToolState) - {ToolState.INIT, ToolState.SETUP, ToolState.ALARM}


def load_tool_recipe(tool: Tool, name: str, pace: Pace, bound_tool_s: float) -> ToolState | None:
    """Load the stored recipe ``name`` unless it is loaded and armed already: the state the
    tool was found in with it kept (HEATING or READY), None when it was loaded now.

    Waits (bounded) while the tool is in INIT or SETUP. Loading an armed recipe again would
    restart the warm-up (laser, saw: 60 s) or the heating band (ball attach: 60 s) for every
    strip, so a recipe in use is kept: the step writes its set-points over it anyway. The
    recipe the host loaded is held like a set-point (:mod:`sequences.steps.held`): the tool
    is asked its name only when the host does not know it.
    """
    if not isinstance(tool, RecipeTool):
        raise TypeError(f"{type(tool).__name__} does not load stored recipes by name")
    # The state an ACK the tool took (or a look) a moment ago (within the manual's poll
    # interval: no sooner would the host look again) left it in, else a look.
    state = state_seen(tool, pace.host_clock.now(), tool.poll_interval_s)
    if state not in _SETTLED:
        state = pace.wait_for_state(tool, _SETTLED, bound_tool_s)
    loaded = held_recipe(tool)
    if loaded is None:
        loaded, _edited = tool.recipe_name()
    keep = loaded == name and state in (ToolState.HEATING, ToolState.READY)
    if state is ToolState.IDLE:
        # No recipe armed: a reset, or a power-up the host did not see (a serial link stays
        # open through it), which also loses a calibration (laser, metrology): ask again.
        forget_calibration(tool)
    if not keep:
        tool.load_recipe(name)
        forget_held(tool)  # the stored recipe replaces the working set
    note_recipe(tool, name)
    return state if keep else None


def wait_ready_after_set_up(
    tool: Tool, pace: Pace, heat_up_tool_s: float, kept_in: ToolState | None, wrote: bool
) -> None:
    """:func:`wait_ready` at the end of a recipe tool's set-up, unless the tool was found READY
    with its recipe kept (``kept_in``, :func:`load_tool_recipe`) and the set-up wrote no
    set-point since (``wrote``, :func:`sequences.steps.setup.apply_setpoints`): strip ids,
    maps and sizes do not leave READY (README §5), so it is READY still; a change since (an
    alarm) meets the START, which the tool then refuses."""
    if kept_in is ToolState.READY and not wrote:
        return
    # A recipe loaded in this set-up began its warm-up (saw, laser) by now at the latest.
    entered_s = pace.host_clock.now() if kept_in is None else None
    wait_ready(tool, pace, heat_up_tool_s, entered_s=entered_s)
