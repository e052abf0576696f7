"""The lot runner: strips of a lot flow through the route's steps on the line's stations.

Each station works in its own thread and takes the next work it can do, downstream steps
first (to drain work in progress). A batch station fills its batch, or starts a part batch
when nothing else can still reach that step. Stations of the same kind share the work. With
overlapping lots (the daemon), a batch load is filled from every running lot whose strips wait
at an equal step (same tool recipe and set-points) on strips of the same layout (see
:meth:`LotRunner.lend`); each strip's results are recorded under its own lot. A
failed site is skipped downstream through the input maps; a strip with no good site left is
scrapped; an aborted cycle puts its strips on hold (or scraps them under the abort-strip
policy). Every strip ends complete, scrapped with a reason, or on hold with a reason.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from drivers.clock import HostClock, WallClock
from drivers.errors import PacklineError
from sequences.jobs import StripJob, StripOutcome
from sequences.records import CycleRecord, LotRecorder, StepRecord, StepStart, StripDisposition
from sequences.station import AlarmPolicy, LinkDown, Station, StationNotReady
from sequences.steps.base import Detached, ProcessStep

TERMINAL = ("complete", "scrapped", "on hold")
#: Wall seconds a resumed runner waits for the other lots of a batch load that was on a tool at
#: a restart (the cycle is reconciled once, for all of them); past it their strips go on hold.
LOAD_MATES_WAIT_S = 60.0
log = logging.getLogger("packline.lot")


@dataclass(frozen=True)
class LotPlan:
    """A lot: id, the route's steps, the strip layout, and the strips."""

    lot_id: str
    steps: tuple[ProcessStep, ...]
    rows: int
    cols: int
    strip_ids: tuple[str, ...]


@dataclass
class StripProgress:
    """Where one strip is: its next step, its input map, and its status."""

    strip_id: str
    input_map: str
    next_step: int = 0
    status: str = "waiting"  # waiting, processing, complete, scrapped, on hold
    reason: str = ""
    station: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class StationView:
    """A station as the progress display sees it."""

    name: str
    state: str
    step: str
    strips: tuple[str, ...]


@dataclass(frozen=True)
class LotSnapshot:
    """The lot at one moment (thread-safe copy for displays and APIs)."""

    lot_id: str
    strips: tuple[StripProgress, ...]
    stations: tuple[StationView, ...]
    step_names: tuple[str, ...]
    started: float
    finished: bool
    #: Tool seconds since the lot started, on the line's clock.
    tool_elapsed_s: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for s in self.strips if s.status == status)


@dataclass(frozen=True)
class _Census:
    """One pass over a lot's strips: waiting strips by next step (in plan order), the stations
    holding some of them, and whether all are terminal."""

    waiting_at: dict[int, list[StripProgress]]
    busy_on: set[str]
    all_terminal: bool


@dataclass(frozen=True)
class _Share:
    """One lot's strips in a cycle (a batch load may hold several lots'), at its step index."""

    runner: LotRunner
    index: int
    strips: list[StripProgress]


@dataclass
class LotRunner:
    """Runs one lot on the given stations, reporting to ``recorder``.

    ``initial`` resumes a lot a previous controller had started (strip positions from the
    store); ``in_flight`` are the cycles that were running when it stopped: each is reconciled
    with its tool's own state before the station takes new work, never started again.
    """

    plan: LotPlan
    stations: Sequence[Station]
    recorder: LotRecorder
    on_change: Callable[[LotSnapshot], None] | None = None
    initial: Mapping[str, StripProgress] | None = None
    in_flight: Sequence[StepStart] = ()
    #: Whether this lot lets a station go to another lot first (overlapping lots, FIFO): asked
    #: before each pick; see :meth:`wants`.
    defer: Callable[[Station], bool] | None = None
    #: The other running lots, highest priority first, then FIFO (overlapping lots): a batch
    #: load this lot starts takes their strips waiting at an equal step after its own.
    partners: Callable[[], Sequence[LotRunner]] | None = None
    #: Batch cycles still on a tool at a restart that held strips of other lots too:
    #: (station, started) -> the lot ids of the load (from the store's step starts).
    load_mates: Mapping[tuple[str, float], frozenset[str]] = field(default_factory=dict)
    strips: dict[str, StripProgress] = field(init=False)
    started: float = field(init=False, default=0.0)
    #: When :meth:`run` returned (epoch s): after the last progress report of the lot.
    finished: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        full_map = "1" * (self.plan.rows * self.plan.cols)
        self.strips = {sid: StripProgress(sid, full_map) for sid in self.plan.strip_ids}
        for strip_id, progress in (self.initial or {}).items():
            if strip_id in self.strips:
                self.strips[strip_id] = StripProgress(**vars(progress))
        clocks = {id(st.clock): st.clock for st in self.stations}
        if len(clocks) > 1:
            raise ValueError("the stations of a lot must share one clock")
        self.clock: HostClock = next(iter(clocks.values()), None) or WallClock()
        self._cond = self.clock.condition()
        # A wall clock: wake now and then (tool seconds); a virtual clock: only when notified
        # (a timed wake would cost a clock jump for nothing).
        self._idle_s: float | None = None if self.clock.virtual else 0.05 * self.clock.record_scale
        self._stop = threading.Event()
        # Each station's worker rests on its own condition, woken only by a change that may
        # give it work (see _after): a wake-up of every worker at each cycle's end cost a
        # thread hand-off each, nine in ten of them for nothing.
        self._rests = {st.name: self.clock.condition() for st in self.stations}
        self._poked = dict.fromkeys(self._rests, False)
        self._rest_since: dict[str, int] = {}
        self._rest_count = itertools.count()
        self._lot_waits_for_each_change = True
        self._held = False
        self._aborted = ""
        #: Strips whose cycle's results are recorded, still on the tool's hands until the cycle
        #: ends (unload, acknowledge): see :meth:`wants`.
        self._recorded: set[str] = set()
        self._reconcile: dict[str, list[StepStart]] = {}
        self._mates: dict[tuple[str, float], frozenset[str]] = dict(self.load_mates)
        self._mates_deadline = 0.0
        for start in self.in_flight:
            strips = self._strips_of(start)
            if start.station not in self._rests:  # by station name
                for strip in strips:
                    self._finish(
                        strip,
                        "on hold",
                        f"{start.step} was on {start.station}, which is not on this line",
                    )
                continue
            self._reconcile.setdefault(start.station, []).append(start)
            for strip in strips:
                strip.status, strip.station = "processing", start.station
        missing = [s.name for s in self.plan.steps if not any(st.suits(s) for st in self.stations)]
        # path_s[a][b]: expected tool seconds from step a to step b (summed as _coming did).
        steps = self.plan.steps
        self._path_s = [
            [
                sum(steps[k].expected_cycle_tool_s for k in range(a, b))
                for b in range(len(steps) + 1)
            ]
            for a in range(len(steps) + 1)
        ]
        if missing:
            raise ValueError(f"no station of the line can run: {', '.join(missing)}")

    # -- running ----------------------------------------------------------------------------
    def run(self, *, timeout_s: float | None = None) -> dict[str, StripProgress]:
        """Run until every strip is terminal, the lot is stopped (:meth:`stop`), or ``timeout_s``
        wall seconds have passed (the strips not finished then go on hold).

        On a virtual clock this thread and the station workers take part in the clock, enrolled
        in station order, so that a run makes the same choices in the same order every time.
        """
        with self.clock.participant("lot"):
            workers = self._run_lot(timeout_s)
        for worker in workers:
            worker.join()
        self.finished = self.clock.timestamp()
        self._changed()
        return dict(self.strips)

    def _run_lot(self, timeout_s: float | None) -> list[threading.Thread]:
        self.started = self.clock.timestamp()
        self._mates_deadline = time.monotonic() + LOAD_MATES_WAIT_S
        for station in self.stations:
            station.prepare()
        with self._cond:  # before a worker may take them
            self._dispose_restored()
        workers = [
            threading.Thread(
                target=self._work_on_clock,
                args=(station, self.clock.enroll(f"lot-{station.name}")),
                name=f"lot-{station.name}",
                daemon=True,
            )
            for station in self.stations
        ]
        for worker in workers:
            worker.start()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._lot_waits_for_each_change = deadline is not None
        wake_s = None if self._idle_s is None else 2 * self._idle_s
        with self._cond:
            while not all(s.terminal for s in self.strips.values()) and not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    self._stop.set()
                    names = [*(step.name for step in self.plan.steps), "end"]
                    for strip in self.strips.values():
                        if strip.status == "waiting":
                            before = names[min(strip.next_step, len(names) - 1)]
                            reason = f"lot timed out after {timeout_s:.0f} s before {before}"
                            self._finish(strip, "on hold", reason)
                    break
                self._cond.wait(wake_s)
            self._stop.set()
            self._wake()
        return workers

    def stop(self) -> None:
        """Graceful stop: no new cycle starts, and steps waiting on a running cycle detach from
        it without aborting it. :meth:`run` returns; the strips not finished stay ``waiting`` or
        in flight on their tools, and a restart picks them up (reconciling the in-flight ones)."""
        self._stop.set()
        for station in self.stations:
            station.control.detach.set()
        with self._cond:
            self._wake()

    def hold(self) -> None:
        """Lot hold: no new cycle starts for this lot; running cycles finish."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._wake()

    def abort(self, reason: str) -> None:
        """Lot abort: waiting strips go on hold now, processing strips when their cycle ends;
        a HELD cycle of the lot's strips (paused, it would never end) is aborted."""
        with self._cond:
            self._aborted = reason
            for strip in self.strips.values():
                if strip.status == "waiting":
                    self._finish(strip, "on hold", reason)
            self._wake()
        for station in self.stations:
            station.abort_held_cycle(self.strips, reason)
        self._changed()

    def wants(self, station: Station) -> bool:
        """Whether a strip of this lot waits for a step ``station`` runs (a lot behind this one
        then leaves the station to it).

        The order at a free station must not depend on thread timing, so two more strips
        count: one whose results are recorded, for its next step, though its cycle has not
        ended yet (the tool still unloads it; the store already shows it there, and a shared
        batch load settles its lots one after the other); and one this lot has picked for
        ``station`` itself, until its cycle ends (between the pick and the cycle's start the
        station still looks free to a lot behind)."""
        with self._cond:
            if self._held or self._aborted or self._stop.is_set():
                return False
            steps = self.plan.steps

            def next_step(s: StripProgress) -> int | None:
                if s.status == "waiting":
                    return s.next_step
                if s.status != "processing":
                    return None
                if s.strip_id in self._recorded:
                    return s.next_step + 1
                return s.next_step if s.station == station.name else None

            return any(
                (k := next_step(s)) is not None and k < len(steps) and station.suits(steps[k])
                for s in self.strips.values()
            )

    @property
    def held(self) -> bool:
        return self._held

    def snapshot(self) -> LotSnapshot:
        with self._cond:
            strips = tuple(StripProgress(**vars(s)) for s in self.strips.values())
        stations = tuple(
            StationView(st.name, st.state.value, st.current_step, st.current_strips)
            for st in self.stations
        )
        return LotSnapshot(
            self.plan.lot_id,
            strips,
            stations,
            tuple(step.name for step in self.plan.steps),
            self.started,
            all(s.terminal for s in strips),
            (self.clock.timestamp() - self.started) * self.clock.record_scale
            if self.started
            else 0.0,
        )

    # -- one station's worker ----------------------------------------------------------------
    def _work_on_clock(self, station: Station, ticket: object) -> None:
        with self.clock.attach(ticket):
            self._work(station)

    def _work(self, station: Station) -> None:
        while not self._stop.is_set():
            with self._cond:
                pending = self._reconcile.get(station.name)
                down = bool(pending) and station.down
                # Its cycles (of a previous run, or whose link dropped) are reconciled when
                # the tool answers again.
                starts = [] if down else self._reconcile.pop(station.name, [])
                # A load shared with other lots is reconciled by its first lot (by id), once.
                led = [s for s in starts if self._leads(s)]
                if len(led) < len(starts):
                    self._reconcile[station.name] = [s for s in starts if s not in led]
            if down:
                self._rest(station)
                continue
            for start in led:
                self._resume(station, start)
            if led:
                continue
            if starts:  # left to the load's first lot: no new cycle here before it is done
                if not self._follow_timed_out(station):
                    self._rest(station)
                continue
            with self._cond:
                census = self._census()
                idle = self._held or self._aborted or not station.ready
                # Strips of this lot in another lot's load on this station (lent, or a shared
                # load being reconciled): that cycle goes first.
                idle = idle or station.name in census.busy_on
                idle = idle or (self.defer is not None and self.defer(station))
                work = None if idle else self._pick(station, census.waiting_at)
                if work is not None:
                    index, batch = work
                    for strip in batch:
                        strip.status, strip.station = "processing", station.name
            if work is None:
                if census.all_terminal:
                    return
                self._rest(station)
                continue
            shares = [_Share(self, index, batch), *self._borrow(station, index, len(batch))]
            self._changed()
            self._run(station, shares)

    def _rest(self, station: Station) -> None:
        """Wait, without the lot's lock, until :meth:`_wake` pokes ``station`` (or, on a wall
        clock, the idle interval has passed). A poke while it was busy is not lost: the next
        rest returns at once."""
        name = station.name
        rest = self._rests[name]
        with rest:
            if not self._poked[name]:
                self._rest_since.setdefault(name, next(self._rest_count))
                rest.wait(self._idle_s)
            self._poked[name] = False
            self._rest_since.pop(name, None)

    def _wake(self, stations: Iterable[str] | None = None) -> None:
        """Wake the resting workers of ``stations`` (None: all, and the lot thread), those
        resting longest first (the order one condition for all would wake them in). The lot
        thread waits for the end of the lot (or a stop): a cycle's end that leaves strips
        to run does not wake it, unless it watches a deadline."""
        if stations is None or self._lot_waits_for_each_change:
            self._cond.notify_all()
        names = list(self._rests) if stations is None else [n for n in stations if n in self._rests]
        since = self._rest_since
        for name in sorted(names, key=lambda n: since.get(n, math.inf)):
            rest = self._rests[name]
            with rest:
                self._poked[name] = True
                rest.notify_all()

    def _after(self, index: int, station: Station) -> set[str] | None:
        """The stations a cycle of step ``index`` on ``station`` may have given work: its own
        (strips of this lot it held are free), those of the next step (strips waiting there),
        those of batch steps downstream (their part-batch decision reads what is upstream);
        None (all, and the lot thread) once every strip has ended."""
        if all(s.terminal for s in self.strips.values()):
            return None
        steps = self.plan.steps
        woken = {station.name}
        for later in range(index + 1, len(steps)):
            step = steps[later]
            if later == index + 1 or step.batch_max > 1:
                woken.update(st.name for st in self.stations if st.suits(step))
        return woken

    def _census(self) -> _Census:
        """Where this lot's strips are, in one pass over them (caller holds the lock)."""
        waiting_at: dict[int, list[StripProgress]] = {}
        busy_on: set[str] = set()
        all_terminal = True
        for strip in self.strips.values():
            status = strip.status
            if status == "waiting":
                waiting_at.setdefault(strip.next_step, []).append(strip)
            elif status == "processing":
                busy_on.add(strip.station)
            all_terminal = all_terminal and status in TERMINAL
        return _Census(waiting_at, busy_on, all_terminal)

    def _pick(
        self, station: Station, waiting_at: Mapping[int, list[StripProgress]]
    ) -> tuple[int, list[StripProgress]] | None:
        """The work ``station`` takes: the furthest step it runs with strips waiting (in plan
        order), a full batch or a part batch when no more can come in time."""
        steps = self.plan.steps
        for index in reversed(range(len(steps))):
            step = steps[index]
            ready = waiting_at.get(index)
            if not ready or not station.suits(step):
                continue
            full = len(ready) + self._waiting_elsewhere(step) >= step.batch_max
            if full or not self._more_coming(index):
                return index, ready[: step.batch_max]
        return None

    def _waiting_elsewhere(self, step: ProcessStep) -> int:
        """How many strips of partner lots wait at a step equal to ``step`` (they would fill
        the load with this lot's: see :meth:`lend`). Read without their locks (an estimate)."""
        if step.batch_max == 1:
            return 0
        count = 0
        for partner in self._partners():
            other = partner._equal_step(step, self.plan)
            if other is not None:
                count += sum(
                    1
                    for s in list(partner.strips.values())
                    if s.status == "waiting" and s.next_step == other
                )
        return count

    def _more_coming(self, index: int) -> bool:
        """Whether a strip upstream of step ``index`` can reach it within one cycle of that step,
        of this lot or of a partner lot at an equal step (they may share the load).

        A batch station starts a part batch rather than wait longer than its own cycle for
        the next strip: strips still far upstream (e.g. behind the next press load) will make
        a batch of their own. Arrival is estimated from the steps' expected cycle times.
        """
        step = self.plan.steps[index]
        if self._coming(index, step.expected_cycle_tool_s):
            return True
        if step.batch_max == 1:
            return False
        for partner in self._partners():
            other = partner._equal_step(step, self.plan)
            if other is not None and partner._coming(other, step.expected_cycle_tool_s):
                return True
        return False

    def _coming(self, index: int, horizon: float) -> bool:
        """Whether a strip of this lot upstream of step ``index`` arrives within ``horizon``
        tool s. Read without this lot's lock (an estimate; a partner may ask while holding its
        own)."""
        steps = self.plan.steps
        path_s = self._path_s
        for strip in list(self.strips.values()):
            if strip.terminal or strip.next_step >= index:
                continue
            arrival = path_s[strip.next_step][index]
            if strip.status == "processing":
                arrival -= steps[strip.next_step].expected_cycle_tool_s / 2  # half done, on average
            if arrival <= horizon:
                return True
        return False

    # -- batch loads shared between lots -----------------------------------------------------
    def _partners(self) -> Sequence[LotRunner]:
        """The other running lots that can share a load now, in priority then FIFO order."""
        return [
            p
            for p in (self.partners() if self.partners else ())
            if p is not self and not (p._held or p._aborted or p._stop.is_set())
        ]

    def _equal_step(self, step: ProcessStep, plan: LotPlan) -> int | None:
        """The index of this lot's step equal to ``step`` (same tool, tool recipe and
        set-points) if its strips have ``plan``'s layout and the step takes a batch; else None."""
        if step.batch_max == 1 or (self.plan.rows, self.plan.cols) != (plan.rows, plan.cols):
            return None
        return next((k for k, mine in enumerate(self.plan.steps) if mine == step), None)

    def _borrow(self, station: Station, index: int, taken: int) -> list[_Share]:
        """The partner lots' strips that fill the rest of a batch load of step ``index``, in
        the partners' order (priority, then FIFO). Taken outside this lot's lock."""
        step = self.plan.steps[index]
        room = step.batch_max - taken
        shares: list[_Share] = []
        for partner in self._partners() if room > 0 else ():
            share = partner.lend(station, step, self.plan, room)
            if share is not None:
                shares.append(share)
                room -= len(share.strips)
                if room == 0:
                    break
        return shares

    def lend(self, station: Station, step: ProcessStep, plan: LotPlan, room: int) -> _Share | None:
        """Up to ``room`` of this lot's strips waiting at a step equal to ``step``, for a batch
        load another lot (``plan``) starts on ``station``: they are processing there from now on
        and the cycle's results come back through :meth:`_settle`. None if none can go (this
        lot held, aborted or stopping, another layout, or none waiting there)."""
        index = self._equal_step(step, plan)
        if index is None or not station.suits(step):
            return None
        with self._cond:
            if self._held or self._aborted or self._stop.is_set():
                return None
            ready = [
                s for s in self.strips.values() if s.status == "waiting" and s.next_step == index
            ][:room]
            for strip in ready:
                strip.status, strip.station = "processing", station.name
        if not ready:
            return None
        self._changed()
        return _Share(self, index, ready)

    def _leads(self, start: StepStart) -> bool:
        """Whether this lot reconciles ``start``: a load of this lot alone, or shared with
        others of which this one has the first id."""
        mates = self._mates.get((start.station, start.started), frozenset())
        return not mates or min(mates | {self.plan.lot_id}) == self.plan.lot_id

    def claim_in_flight(self, start: StepStart) -> _Share | None:
        """This lot's part of the shared load ``start`` (same station and start), for the lot
        that reconciles it; None if this lot has none waiting to be reconciled."""
        with self._cond:
            pending = self._reconcile.get(start.station, [])
            mine = next(
                (p for p in pending if p.started == start.started and p.step == start.step), None
            )
            if mine is None:
                return None
            pending.remove(mine)
            strips = self._strips_of(mine)
            self._wake()  # this lot's worker on that station may take work again
        return _Share(self, mine.step_index, strips)

    def _resume(self, station: Station, start: StepStart) -> None:
        """Reconcile ``start`` with its tool; a load shared with other lots once, with all of
        them (their runners may start a little later: waited for, up to LOAD_MATES_WAIT_S)."""
        own = _Share(self, start.step_index, self._strips_of(start))
        mates = self._mates.get((start.station, start.started), frozenset()) - {self.plan.lot_id}
        found: dict[str, _Share] = {}
        while mates - set(found):
            for partner in self._partners():
                lot_id = partner.plan.lot_id
                if lot_id in mates and lot_id not in found:
                    share = partner.claim_in_flight(start)
                    if share is not None:
                        found[lot_id] = share
            if not mates - set(found) or self._stop.is_set():
                break
            if time.monotonic() >= self._mates_deadline:
                missing = ", ".join(sorted(mates - set(found)))
                for share in [own, *found.values()]:
                    share.runner._hold(
                        share.strips,
                        f"{start.step} on {start.station} shared its load with lot(s) {missing}, "
                        "not running at the restart: an operator must decide",
                    )
                return
            self._stop.wait(0.1)
        if self._stop.is_set():
            return
        self._run(station, [own, *found.values()], resume=True)

    def _follow_timed_out(self, station: Station) -> bool:
        """Starts on ``station`` led by another lot that did not claim them in time: their
        strips go on hold (the load cannot be reconciled without its other lots)."""
        if time.monotonic() < self._mates_deadline:
            return False
        with self._cond:
            starts = self._reconcile.pop(station.name, [])
        for start in starts:
            leader = min(self._mates.get((start.station, start.started), frozenset()))
            self._hold(
                self._strips_of(start),
                f"{start.step} on {start.station} shared its load with lot {leader}, which did "
                "not reconcile it at the restart: an operator must decide",
            )
        return bool(starts)

    def _strips_of(self, start: StepStart) -> list[StripProgress]:
        """This lot's strips of a recorded step start."""
        return [self.strips[s] for s in start.strip_ids if s in self.strips]

    def _hold(self, strips: list[StripProgress], reason: str) -> None:
        with self._cond:
            for strip in strips:
                self._finish(strip, "on hold", reason)
            self._wake()
        self._changed()

    # -- one cycle -----------------------------------------------------------------------------
    def _run(self, station: Station, shares: list[_Share], *, resume: bool = False) -> None:
        """One cycle of the step of ``shares`` (this lot's strips first, then any partner
        lots' of a shared batch load); each strip's results go to its own lot."""
        step = self.plan.steps[shares[0].index]
        # Load positions in lot order (a restart's reconcile rebuilds the same order); which
        # strips got into the load was decided by priority and FIFO (_borrow).
        shares = sorted(shares, key=lambda share: share.runner.plan.lot_id)
        jobs = [
            StripJob(s.strip_id, sh.runner.plan.rows, sh.runner.plan.cols, s.input_map)
            for sh in shares
            for s in sh.strips
        ]
        owner = {s.strip_id: sh for sh in shares for s in sh.strips}
        started = self.clock.timestamp()
        if not resume and not station.ready:  # an operator aborted or stopped it since the pick
            for share in shares:
                share.runner._not_started(share.strips)
            return
        starts = [
            StepStart(
                sh.runner.plan.lot_id,
                tuple(s.strip_id for s in sh.strips),
                sh.index,
                step.name,
                station.name,
                started,
            )
            for sh in shares
        ]
        if not resume:
            for share, start in zip(shares, starts, strict=True):
                share.runner.recorder.step_started(start)
        committed: list[StripOutcome] = []

        def commit(outcomes: list[StripOutcome]) -> None:
            """Record the results before the tool is acknowledged (see run_step)."""
            ended = self.clock.timestamp()
            for outcome in outcomes:
                share = owner[outcome.strip_id]
                share.runner.recorder.step_done(
                    StepRecord(
                        share.runner.plan.lot_id,
                        outcome.strip_id,
                        share.index,
                        step.name,
                        station.name,
                        station.tool_kind,
                        started,
                        ended,
                        outcome,
                    )
                )
            committed.extend(outcomes)
            for share in shares:
                share.runner._results_in(
                    {o.strip_id for o in outcomes if owner[o.strip_id] is share}
                )

        aborted = ""  # why the cycle was aborted, "" if it was not
        try:
            run = station.run(step, jobs, on_results=commit, resume=resume)
            aborted = run.aborted
        except Detached:
            log.info("%s on %s: detached for shutdown; the cycle runs on", step.name, station.name)
            return
        except LinkDown as down:
            if not committed:  # the strips stay on the station until its tool answers
                log.warning(
                    "%s on %s: %s; reconciled when it answers", step.name, station.name, down
                )
                lots = frozenset(sh.runner.plan.lot_id for sh in shares)
                for share, start in zip(shares, starts, strict=True):
                    share.runner._await_link(start, lots if len(lots) > 1 else frozenset())
                return
            log.warning("%s on %s: results recorded, then %s", step.name, station.name, down)
        except StationNotReady as refused:  # an operator command got in first
            log.info("%s on %s: not started (%s)", step.name, station.name, refused)
            for share in shares:
                if not resume:
                    share.runner._not_started(share.strips)  # try again later
                else:  # a cycle left on the tool at a restart: not to be run again
                    share.runner._hold(
                        share.strips,
                        f"{step.name} was on {station.name} at the restart and the station is "
                        f"{refused.state}: an operator must decide",
                    )
            return
        except Exception as error:  # a worker must never die silently
            if not isinstance(error, PacklineError):
                log.exception("%s on %s: unexpected error", step.name, station.name)
            station.recover()
            if not committed:
                self._cycle_record(station, step, jobs, started, "FAILED")
                for share in shares:
                    share.runner._hold(
                        share.strips, f"{step.name} on {station.name} failed: {error}"
                    )
                return
            log.warning("%s on %s: results recorded, then %s", step.name, station.name, error)
        self._cycle_record(station, step, jobs, started, "ABORTED" if aborted else "DONE")
        outcomes = {o.strip_id: o for o in committed}
        for share in shares:
            share.runner._settle(
                share, [outcomes[s.strip_id] for s in share.strips], station, aborted
            )

    def _await_link(self, start: StepStart, lots: frozenset[str]) -> None:
        """A cycle whose link dropped before its results: reconciled when the tool answers
        (with the other ``lots`` of its load, if shared)."""
        with self._cond:
            if lots:
                self._mates[(start.station, start.started)] = lots
            self._reconcile.setdefault(start.station, []).append(start)
            self._wake()

    def _results_in(self, strip_ids: set[str]) -> None:
        """The results of these strips' cycle are recorded (they leave the tool next)."""
        if strip_ids:
            with self._cond:
                self._recorded |= strip_ids

    def _settle(
        self,
        share: _Share,
        outcomes: list[StripOutcome],
        station: Station,
        aborted: str,
    ) -> None:
        """This lot's strips after a cycle: next step, complete, scrapped or on hold."""
        step = self.plan.steps[share.index]
        with self._cond:
            for strip, outcome in zip(share.strips, outcomes, strict=True):
                strip.station = ""
                self._recorded.discard(strip.strip_id)
                if aborted and self._aborted:  # the lot's abort is the reason, not its echo
                    self._finish(strip, "on hold", self._aborted)
                elif aborted:
                    status = "scrapped" if station.policy is AlarmPolicy.ABORT_STRIP else "on hold"
                    self._finish(strip, status, f"{step.name} on {station.name}: {aborted}")
                elif "P" not in outcome.result_map:
                    self._finish(strip, "scrapped", f"no good unit left after {step.name}")
                else:
                    strip.input_map = outcome.next_input_map
                    strip.next_step = share.index + 1
                    if strip.next_step == len(self.plan.steps):
                        self._finish(strip, "complete", "")
                    elif self._aborted:
                        self._finish(strip, "on hold", self._aborted)
                    else:
                        strip.status = "waiting"
            self._wake(None if self._aborted else self._after(share.index, station))
        self._changed()

    def _not_started(self, batch: list[StripProgress]) -> None:
        """Strips picked for a cycle that did not start wait again (or go on hold if the lot
        was aborted meanwhile)."""
        with self._cond:
            for strip in batch:
                strip.status, strip.station = "waiting", ""
                if self._aborted:
                    self._finish(strip, "on hold", self._aborted)
            self._wake()
        self._changed()

    def _cycle_record(
        self,
        station: Station,
        step: ProcessStep,
        jobs: Sequence[StripJob],
        started: float,
        final: str,
    ) -> None:
        control = station.control
        self.recorder.cycle_done(
            CycleRecord(
                station.name,
                station.tool_kind,
                step.name,
                tuple(j.strip_id for j in jobs),
                started,
                max(started, control.cycle_started),
                max(started, control.cycle_ended) if final != "FAILED" else self.clock.timestamp(),
                final,
            )
        )

    def _dispose_restored(self) -> None:
        """Strips a previous controller left without the end :meth:`_settle` gives them: it
        stopped between recording a cycle's results and the strip's disposition. After the last
        step the strip is complete; a last result with no good unit scraps it; else it waits for
        its next step (caller holds ``_cond``)."""
        steps = self.plan.steps
        for strip in self.strips.values():
            if strip.status != "waiting" or strip.next_step == 0:
                continue
            if "1" not in strip.input_map:
                after = steps[min(strip.next_step, len(steps)) - 1].name
                self._finish(strip, "scrapped", f"no good unit left after {after}")
            elif strip.next_step >= len(steps):
                self._finish(strip, "complete", "")

    def _finish(self, strip: StripProgress, status: str, reason: str) -> None:
        strip.status, strip.reason, strip.station = status, reason, ""
        self.recorder.strip_finished(
            self.plan.lot_id,
            StripDisposition(strip.strip_id, status, reason, self.clock.timestamp()),
        )

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.snapshot())
