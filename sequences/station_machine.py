"""One station's PackML state machine (built with ``transitions``), its state events and its
E10 time accounting.

The machine is only bookkeeping and rules: which command is allowed when, and what happened
when. Tool work never runs inside it (a callback under the machine's lock would block every
other thread): the station's worker does the work outside and fires triggers when it ends, and a
status poll reads :attr:`state` without waiting behind a step.

Thread safety: every trigger (``command`` and the model's trigger methods) runs under one
re-entrant lock of the station's own. It is not a ``transitions`` ``LockedMachine``: that one
routes every public attribute read of the machine, its own internal ones included, through
``__getattribute__`` and a lock wrapper (about 20 of them per transition in a dry run),
for the same guarantee (docs/decisions.md "s8perf").
"""

from __future__ import annotations

import functools
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine, MachineError
from transitions.extensions import GraphMachine

from sequences.packml import ACTING_NEXT, E10, E10_OF_STATE, PackState, transition_table

if TYPE_CHECKING:  # records imports this module (StateEvent)
    from sequences.records import CycleRecord


class CommandRefused(Exception):
    """An operator or process command that PackML does not allow in the current state."""

    def __init__(self, station: str, command: str, state: PackState) -> None:
        self.station = station
        self.command = command
        self.state = state
        super().__init__(f"station {station}: '{command}' is not allowed in {state}")


@dataclass(frozen=True)
class StateEvent:
    """A state change: when (epoch seconds), which station, from/to, and why."""

    time: float
    station: str
    from_state: PackState
    to_state: PackState
    cause: str


#: State changes a :class:`StationMachine` keeps in memory (about a day of a busy station).
EVENTS_KEPT = 2000


class StationMachine:
    """PackML states of one station. ``auto_complete``: acting states that end by themselves."""

    def __init__(
        self,
        station: str,
        *,
        initial: PackState = PackState.STOPPED,
        auto_complete: Iterable[PackState] = tuple(ACTING_NEXT),
        clock: Callable[[], float] = time.time,
        listeners: Iterable[Callable[[StateEvent], None]] = (),
    ) -> None:
        self.station = station
        self.clock = clock
        self.auto_complete = frozenset(auto_complete)
        self.listeners = list(listeners)
        #: The latest state changes, newest last (a look at a running station; the listeners,
        #: e.g. the daemon's store, keep every one). Bounded: a daemon runs for months.
        self.events: deque[StateEvent] = deque(maxlen=EVENTS_KEPT)
        self._events_lock = threading.Lock()
        self._cause = "init"
        #: Held by every trigger (re-entrant: a callback may fire the next). Hold it to change
        #: or read the state together with a fact kept beside it (a station's DOWN).
        self.lock = threading.RLock()
        self._machine = Machine(
            model=self,
            states=[s.value for s in PackState],
            transitions=transition_table(),
            initial=initial.value,
            send_event=True,
            queued=True,
            auto_transitions=False,
            after_state_change=self._record,
            model_attribute="_state_name",
        )
        for trigger in self._machine.events:
            setattr(self, trigger, self._locked(getattr(self, trigger)))

    def _locked(self, trigger: Callable[..., bool]) -> Callable[..., bool]:
        """``trigger`` run under the machine's lock (re-entrant: a callback may fire the next)."""

        @functools.wraps(trigger)
        def locked(*args: Any, **kwargs: Any) -> bool:
            with self.lock:
                return trigger(*args, **kwargs)

        return locked

    @property
    def state(self) -> PackState:
        """The current state (read without taking the machine lock)."""
        return PackState(self._state_name)  # type: ignore[attr-defined]

    def command(self, command: str, cause: str = "operator") -> PackState:
        """Fire a PackML command (``start``, ``hold``, ``stop``...); return the state after it."""
        trigger = getattr(self, command, None)
        if command not in self._machine.events or trigger is None:
            raise CommandRefused(self.station, command, self.state)
        with self.lock:  # the cause belongs to this trigger, not to another thread's
            self._cause = cause
            try:
                trigger()
            except MachineError:
                raise CommandRefused(self.station, command, self.state) from None
            return self.state

    def may(self, command: str) -> bool:
        """Whether ``command`` is allowed now."""
        event = self._machine.events.get(command)
        return event is not None and self._state_name in event.transitions  # type: ignore[attr-defined]

    def finish_acting(self, cause: str = "done") -> PackState:
        """End the current acting state (STARTING, HOLDING, ...) when its work is done."""
        return self.command("state_completed", cause)

    def _record(self, event: EventData) -> None:
        assert event.transition is not None
        source = PackState(event.transition.source)
        dest = PackState(str(event.transition.dest))
        record = StateEvent(self.clock(), self.station, source, dest, self._cause)
        with self._events_lock:
            self.events.append(record)
        for listener in self.listeners:
            listener(record)
        if dest in self.auto_complete:
            # The wait state that follows keeps the cause that started the acting state
            # (HELD says which alarm, not "holding done").
            self.state_completed()  # type: ignore[attr-defined]

    def restore(self, state: PackState) -> None:
        """Put the machine in ``state`` without callbacks (recovery after a restart)."""
        with self.lock:
            self._machine.set_state(state.value, model=self)


#: The cause that starts a station's out-of-service stop: its STOPPED time is E10 scheduled down
#: (an operator's decision), not non-scheduled.
DISABLED_CAUSE = "disabled"


#: A stretch of wall time that E10 counts otherwise than the PackML state it falls in:
#: (from, to, category). See :func:`cycle_phases`.
Phase = tuple[float, float, E10]


def cycle_phases(cycles: Iterable[CycleRecord], *, until: float) -> list[Phase]:
    """The parts of a station's EXECUTE time that are not its tool processing.

    PackML keeps a station in EXECUTE from the cycle's start command until the results are
    collected, but the tool processes only from START to DONE: before that, set-up (recipe
    armed, heat-up to band, strips loaded) is E10 scheduled down (set-up); after DONE, while
    the host reads results and acknowledges, the tool waits on the host: standby. So E10
    productive time is never more than the station's busy time (its cycles, START to DONE).
    """
    ordered = sorted(cycles, key=lambda c: c.setup_started)
    phases: list[Phase] = []
    for index, cycle in enumerate(ordered):
        phases.append((cycle.setup_started, cycle.started, E10.SCHEDULED_DOWN))
        after = ordered[index + 1].setup_started if index + 1 < len(ordered) else until
        phases.append((cycle.ended, max(cycle.ended, after), E10.STANDBY))
    return phases


def e10_seconds(
    events: Iterable[StateEvent],
    *,
    until: float,
    start: float | None = None,
    phases: Iterable[Phase] = (),
) -> dict[E10, float]:
    """Seconds per E10 category from a station's state events, from ``start`` (default: the
    first event; before it the station was in the first event's ``from_state``) to ``until``:
    the categories add up to exactly ``until - start``. ``phases`` (see :func:`cycle_phases`)
    recount productive time that was set-up or waiting on the host."""
    totals = dict.fromkeys(E10, 0.0)
    ordered = sorted(events, key=lambda e: e.time)
    if not ordered:
        return totals
    low = ordered[0].time if start is None else start
    spans: list[tuple[float, float, PackState, str]] = []
    current, since, cause = ordered[0].from_state, min(low, ordered[0].time), ""
    for event in ordered:
        spans.append((since, event.time, current, cause))
        current, since, cause = event.to_state, event.time, event.cause
    spans.append((since, max(since, until), current, cause))
    # One sweep: spans come in time order, so a phase that ends before a span begins can
    # overlap no later span (linear in events + phases, not their product).
    recount = sorted(phases, key=lambda phase: phase[0])
    upcoming = 0
    active: list[Phase] = []
    for begin, end, state, why in spans:
        begin, end = max(begin, low), min(end, until)
        if end <= begin:
            continue
        category = E10_OF_STATE[state]
        if state is PackState.STOPPED and why.startswith(DISABLED_CAUSE):
            category = E10.SCHEDULED_DOWN  # out of service by an operator's decision
        if category is E10.PRODUCTIVE:
            while upcoming < len(recount) and recount[upcoming][0] < end:
                active.append(recount[upcoming])
                upcoming += 1
            active = [phase for phase in active if phase[1] > begin]
            for p0, p1, other in active:
                overlap = min(end, p1) - max(begin, p0)
                if overlap > 0:
                    totals[other] += overlap
                    totals[category] -= overlap
        totals[category] += end - begin
    return totals


def mermaid_diagram() -> str:
    """The station machine as Mermaid ``stateDiagram-v2`` text, generated from the tables."""

    model: Any = types.SimpleNamespace()  # the graph's holder: no station behind it
    GraphMachine(
        model=model,
        states=[s.value for s in PackState],
        transitions=transition_table(),
        initial=PackState.STOPPED.value,
        auto_transitions=False,
        graph_engine="mermaid",
        title="packline station (PackML)",
    )
    return str(model.get_graph().draw(None))
