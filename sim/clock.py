"""Simulated process time: a monotonic clock running ``time_scale`` times faster than the wall.

Only process time is scaled (cure, heat-up, cycle phases). Link timing such as the wire
bonder's 100 ms inter-byte gap stays real: fronts use the wall clock for that.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class SimClock:
    """Sim seconds since the clock was made, at ``time_scale`` sim seconds per wall second."""

    virtual = False

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        # (wall origin, sim time at that origin, scale): replaced as one tuple so that a
        # reader in another thread never sees half of a scale change.
        self._origin = (time.monotonic(), 0.0, float(time_scale))

    @property
    def time_scale(self) -> float:
        return self._origin[2]

    def now(self) -> float:
        """Current sim time in seconds."""
        wall, sim, scale = self._origin
        return sim + (time.monotonic() - wall) * scale

    def set_scale(self, time_scale: float) -> None:
        """Change the time scale from now on; sim time stays continuous.

        Tests use it to heat a tool up fast and then run a cycle slowly enough to catch a phase.
        """
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        wall = time.monotonic()
        old_wall, old_sim, old_scale = self._origin
        self._origin = (wall, old_sim + (wall - old_wall) * old_scale, float(time_scale))

    def wall_seconds(self, sim_seconds: float) -> float:
        """Wall seconds that ``sim_seconds`` of process time take."""
        return sim_seconds / self.time_scale

    def skip(self, sim_seconds: float) -> None:
        """Move sim time forward by ``sim_seconds`` at once (the lazy models catch up on their
        next request, event by event). Tests use it to land inside a window of process time
        however loaded the machine is, instead of racing the wall clock to it."""
        if sim_seconds < 0:
            raise ValueError(f"sim time cannot go back, got {sim_seconds}")
        wall = time.monotonic()
        old_wall, old_sim, scale = self._origin
        self._origin = (wall, old_sim + (wall - old_wall) * scale + sim_seconds, scale)

    def sleep(self, sim_seconds: float) -> None:
        """Sleep for ``sim_seconds`` of process time."""
        time.sleep(max(0.0, self.wall_seconds(sim_seconds)))

    def on_request(self) -> None:
        """A simulator is about to serve a request (a virtual clock counts it)."""


class ClockDeadlock(RuntimeError):
    """Every participant of a virtual clock waits and nothing is due: nothing can ever happen."""


@dataclass(eq=False)
class _Place:
    """One participant thread's place on a virtual clock."""

    name: str
    event: threading.Event = field(default_factory=threading.Event)
    #: "ready" (its turn will come at the current time), "timed" (due at ``due_s``),
    #: "blocked" (until notified), "running" (holds the clock), "gone".
    status: str = "ready"
    due_s: float = 0.0
    generation: int = 0
    notified: bool = False
    error: BaseException | None = None
    #: What must be done before it gives up the clock (see :meth:`VirtualClock.defer_settle`).
    settle: Callable[[], object] | None = None


class VirtualClock(SimClock):
    """Tool time that advances only when every participant waits on it, then jumps.

    Participants are the host threads of the process (the lot runner and its station workers).
    One participant runs at a time, in a fixed order: the first of those due now, in the order
    they became due; when it waits (:meth:`sleep`, :meth:`condition` ``.wait``) the next one
    runs. When none is due now, the clock jumps to the earliest due time. So a run does the
    same things in the same order at the same tool times, however loaded the machine is.

    Simulators are not participants: their models are computed at :meth:`now` when a request
    arrives, and a request only arrives from the participant that holds the clock, which
    stands still meanwhile. Bytes still travel over real sockets and ptys in wall time.

    A participant that waits while no other participant is due and none can be notified gets
    :class:`ClockDeadlock` instead of hanging.
    """

    virtual = True

    def __init__(self, *, epoch_s: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now_s = 0.0
        self._epoch_s = time.time() if epoch_s is None else epoch_s
        self._ready: deque[_Place] = deque()
        self._timed: list[tuple[float, int, int, _Place]] = []
        self._seq = itertools.count()
        self._holder: _Place | None = None
        self._places: dict[int, _Place] = {}  # thread id -> place
        self._blocked: list[_Place] = []
        #: Clock jumps and requests served so far (figures for benchmarks).
        self.jumps = 0
        self.exchanges = 0
        self._served = threading.Condition(self._lock)
        self._awaiting_served = 0  # threads in await_served: only then is a request notified

    # -- the SimClock face (simulators) ---------------------------------------------------
    @property
    def time_scale(self) -> float:
        return math.inf

    @property
    def record_scale(self) -> float:
        return 1.0

    def now(self) -> float:
        return self._now_s

    def timestamp(self) -> float:
        """Epoch seconds of the current tool time (records read like times of day)."""
        return self._epoch_s + self._now_s

    def set_scale(self, time_scale: float) -> None:
        raise TypeError("a virtual clock has no time scale")

    def wall_seconds(self, sim_seconds: float) -> float:
        return 0.0

    # -- participants -------------------------------------------------------------------------
    def enroll(self, name: str) -> object:
        """Reserve a place, in the caller's (deterministic) order, for a thread about to start."""
        place = _Place(name)
        with self._lock:
            self._ready.append(place)
            self._dispatch()
        return place

    @contextlib.contextmanager
    def attach(self, ticket: object) -> Iterator[None]:
        """The calling thread takes its reserved place and runs when its turn comes."""
        assert isinstance(ticket, _Place)
        ident = threading.get_ident()
        with self._lock:
            if ident in self._places:
                raise RuntimeError(f"{ticket.name}: this thread already takes part in the clock")
            self._places[ident] = ticket
        self._await_turn(ticket)
        try:
            yield
        finally:
            self._leave(ident)

    def participant(self, name: str) -> contextlib.AbstractContextManager[None]:
        """The calling thread takes part for the ``with`` block (nested: no effect)."""
        if threading.get_ident() in self._places:
            return contextlib.nullcontext()
        return self.attach(self.enroll(name))

    def on_request(self) -> None:
        """A simulator is about to serve a request: counted (a benchmark figure). The host's
        latency is paid by the host before it sends (``packline.paced_link``), never here: a
        simulator thread cannot know which participant sent a request (a late retry may
        arrive while another one runs)."""
        with self._lock:
            self.exchanges += 1
            if self._awaiting_served:
                self._served.notify_all()

    def await_served(self, served_before: int, timeout_wall_s: float) -> bool:
        """Wait (wall time, bounded) until a simulator has taken a request after
        ``served_before`` requests in all. A host that sends a message and goes on without a
        reply (an SCPI command) calls this before it lets time pass: otherwise the simulator
        might take the command only after the clock moved on, at another tool time on another
        run. While one participant runs, only its own requests can arrive."""
        with self._served:
            if self.exchanges > served_before:  # the common case: taken already
                return True
            self._awaiting_served += 1
            try:
                return self._served.wait_for(lambda: self.exchanges > served_before, timeout_wall_s)
            finally:
                self._awaiting_served -= 1

    def defer_settle(self, settle: Callable[[], object]) -> bool:
        """Have ``settle`` run before the calling participant next gives up the clock (a
        sleep, a condition wait, leaving) or calls :meth:`settle`, instead of now: a host that
        sent a message without waiting for a reply (an SCPI command or query) must know the
        tool took it before time moves, but a query's reply, read meanwhile, makes that wait a
        check (one thread hand-off less per query). A settle already deferred runs first.
        False (nothing deferred) when the caller takes no part in the clock: run it now."""
        place = self._places.get(threading.get_ident())
        if place is None:
            return False
        self._settle(place)
        place.settle = settle
        return True

    def settle(self) -> None:
        """Run the calling participant's deferred settle, if any, now (before it sends the
        next message: a settle counts requests, so it must not count that one)."""
        place = self._places.get(threading.get_ident())
        if place is not None and place.settle is not None:
            self._settle(place)

    @staticmethod
    def _settle(place: _Place) -> None:
        settle, place.settle = place.settle, None
        if settle is not None:
            settle()

    # -- waiting ---------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        place = self._places.get(threading.get_ident())
        if place is None:  # a thread that takes no part yet: for this sleep
            with self.participant("sleeper"):
                self.sleep(seconds)
            return
        self._park(place, self._now_s + max(0.0, seconds))

    def condition(self) -> ClockCondition:
        return ClockCondition(self)

    def _park(self, place: _Place, due_s: float | None) -> bool:
        """Give up the clock until ``due_s`` (None: until notified); True if notified."""
        if place.settle is not None:
            self._settle(place)
        with self._lock:
            place.generation += 1
            place.notified = False
            if due_s is None:
                place.status = "blocked"
                self._blocked.append(place)
            else:
                place.status = "timed"
                place.due_s = max(due_s, self._now_s)
                heapq.heappush(self._timed, (place.due_s, next(self._seq), place.generation, place))
            self._holder = None
            self._dispatch(place)
            again = self._holder is place  # due first itself: it goes on, no hand-off
        if again:
            self._raise_error(place)
        else:
            self._await_turn(place)
        return place.notified

    def _wake(self, place: _Place) -> None:
        """Make a waiting participant due now (a notify)."""
        with self._lock:
            if place.status not in ("timed", "blocked"):
                return
            if place.status == "blocked":
                self._blocked.remove(place)
            place.status = "ready"
            place.notified = True
            place.generation += 1
            self._ready.append(place)
            self._dispatch()

    def _await_turn(self, place: _Place) -> None:
        place.event.wait()
        place.event.clear()
        self._raise_error(place)

    @staticmethod
    def _raise_error(place: _Place) -> None:
        if place.error is not None:
            error, place.error = place.error, None
            raise error

    def _leave(self, ident: int) -> None:
        self._settle(self._places[ident])
        with self._lock:
            place = self._places.pop(ident)
            place.status = "gone"
            if self._holder is place:
                self._holder = None
            self._dispatch()

    def _dispatch(self, parking: _Place | None = None) -> None:
        """Hand the clock to the next participant due (caller holds ``_lock``); ``parking``,
        the caller's own place, is not woken if it is next: it just goes on."""
        if self._holder is not None:
            return
        while True:
            if self._ready:
                self._run(self._ready.popleft(), parking)
                return
            while self._timed:
                due_s, _seq, generation, place = heapq.heappop(self._timed)
                if place.generation == generation and place.status == "timed":
                    if due_s > self._now_s:
                        self._now_s = due_s
                        self.jumps += 1
                    self._run(place, parking)
                    return
            if not self._blocked:
                return
            # Everyone waits for a notify nobody can send.
            names = ", ".join(p.name for p in self._blocked)
            for place in self._blocked:
                place.status = "ready"
                place.error = ClockDeadlock(
                    f"deadlock at tool time {self._now_s:.1f} s: every participant waits and "
                    f"nothing is due ({names})"
                )
                self._ready.append(place)
            self._blocked.clear()

    def _run(self, place: _Place, parking: _Place | None = None) -> None:
        place.status = "running"
        self._holder = place
        if place is not parking:
            place.event.set()


class ClockCondition(threading.Condition):
    """A condition variable whose waits are waits on a :class:`VirtualClock` (timeouts in tool
    seconds); a notified participant runs after the notifier has waited in its turn."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(threading.RLock())
        self._clock = clock
        self._places: list[_Place] = []

    def wait(self, timeout: float | None = None) -> bool:
        if not self._is_owned():  # type: ignore[attr-defined]
            raise RuntimeError("cannot wait on an un-acquired condition")
        clock = self._clock
        place = clock._places.get(threading.get_ident())
        if place is None:
            raise RuntimeError(
                "only a participant of the virtual clock may wait on its condition "
                "(use clock.participant(name))"
            )
        self._places.append(place)
        saved = self._release_save()  # type: ignore[attr-defined]
        try:
            due_s = None if timeout is None else clock.now() + max(0.0, timeout)
            return clock._park(place, due_s)
        finally:
            self._acquire_restore(saved)  # type: ignore[attr-defined]
            if place in self._places:
                self._places.remove(place)

    def notify(self, n: int = 1) -> None:
        super().notify(n)
        for place in self._places[:n]:
            self._clock._wake(place)
        del self._places[:n]

    def notify_all(self) -> None:
        self.notify(len(self._places))
