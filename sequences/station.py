"""A line station: one tool behind its PackML state machine, running one step at a time.

The station turns what happens at the tool into PackML states and records why: a hold-class
alarm or a lost link holds the station (HELD) with its strips; what happens next is the
line's alarm policy:

- ``retry``: clear the alarm (reconnect after a lost link) until its cause has gone, then
  resume the cycle; an abort-class alarm ends the cycle ABORTED and the strips go on hold;
  if the cause does not go within ``retry_tool_s`` the cycle is aborted;
- ``abort-strip``: abort the cycle at once; the strips are scrapped with the alarm as reason;
- ``wait``: stay HELD until an operator command (``unhold`` clears and resumes, ``abort``
  aborts the cycle).

Tool work runs in the caller's thread, never inside the state machine's lock, so a status
poll of :attr:`state` never waits behind a step.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drivers.base import Tool
from drivers.errors import CommunicationError, ConnectionLost, PacklineError, ToolAlarm
from drivers.states import ToolState
from sequences.jobs import StripJob, StripOutcome
from sequences.packml import PackState
from sequences.records import AlarmRecord
from sequences.station_machine import DISABLED_CAUSE, CommandRefused, StateEvent, StationMachine
from sequences.steps.base import (
    NO_CYCLE,
    AlarmDecision,
    Detached,
    Pace,
    ProcessStep,
    ReportsInterlocks,
    StepControl,
    run_step,
)
from sequences.steps.etch import EtchStep
from sequences.steps.held import note_state
from sequences.upkeep import (
    OPERATOR_REQUESTS,
    PLACEMENT_OUT_OF_TOLERANCE,
    OperatorRequest,
    active_interlocks,
    calibrate_gauge_if_due,
    calibrate_laser_if_due,
    calibrate_placement_if_due,
    low_warnings_latched,
    record_answer,
    requests_due,
    upkeep_label,
    watches_low,
)

#: Wall seconds between closing a lost link and opening it again.
RECONNECT_PAUSE_S = 0.2


class AlarmPolicy(StrEnum):
    """What a station does when its tool alarms mid-cycle (line config ``on_alarm``)."""

    RETRY = "retry"
    ABORT_STRIP = "abort-strip"
    WAIT = "wait"


@dataclass(frozen=True)
class StationRun:
    """What one step run on the station gave: outcomes, and why the cycle was aborted ("": it
    was not)."""

    outcomes: list[StripOutcome]
    aborted: str


class StationNotReady(CommandRefused):
    """The station cannot start a cycle now: an operator aborted, stopped or held it."""


class LinkDown(PacklineError):
    """The tool stopped answering during a cycle (or came back without it): the station is DOWN
    and the cycle is to be reconciled when the link returns, by the crash-recovery rules
    (:func:`~sequences.steps.base.run_step`'s ``resume``), never run twice nor lost."""


class OutOfService(CommandRefused):
    """A command refused because the station is DOWN or disabled (``why`` says which)."""

    def __init__(self, station: str, command: str, state: PackState, why: str) -> None:
        super().__init__(station, command, state)
        self.args = (f"station {station}: '{command}' refused: {why}",)


class Station:
    """One station of the line (``wire-bonder-1``): a connected driver and its PackML machine."""

    def __init__(
        self,
        name: str,
        tool_kind: str,
        driver: Tool,
        *,
        pace: Pace,
        policy: AlarmPolicy = AlarmPolicy.RETRY,
        retry_tool_s: float = 3600.0,
        listeners: Iterable[Callable[[StateEvent], None]] = (),
        on_alarm: Callable[[AlarmRecord], None] | None = None,
        on_request: Callable[[OperatorRequest], None] | None = None,
        on_link_lost: Callable[[Station], None] | None = None,
    ) -> None:
        """``on_request``: told of each operator request (a dry run's simulated operator).
        ``on_link_lost``: told when a lost link makes the station DOWN mid-cycle (the daemon
        reconnects it); without it a lost link is retried inside the cycle (a dry run)."""
        self.name = name
        self.tool_kind = tool_kind
        self.driver = driver
        self.pace = pace
        self.policy = policy
        self.retry_tool_s = retry_tool_s
        self.clock = pace.host_clock
        self.machine = StationMachine(name, listeners=listeners, clock=self.clock.timestamp)
        self.alarm_sink = on_alarm
        self.on_request = on_request
        self.on_link_lost = on_link_lost
        self.control = StepControl(on_alarm=self._on_alarm)
        self.busy = threading.Lock()
        self.current_strips: tuple[str, ...] = ()
        self.current_step = ""
        self._operator = threading.Event()
        self._operator_choice = ""
        self._cycle_aborted = ""
        self.facts: dict[str, Any] = {}

    # -- the link to the tool ---------------------------------------------------------------
    #: Why the tool cannot be reached ("" while it can): the station is DOWN.
    down_reason = ""

    def mark_down(self, reason: str) -> None:
        """The tool does not answer: the station is ABORTED with the link as cause (E10
        unscheduled down) and takes no work until :meth:`link_back`."""
        with self.machine.lock:  # DOWN and ABORTED are seen together (:meth:`condition`)
            self.down_reason = reason or "link down"
            self._acknowledged_last = False
            if self.machine.may("abort"):
                self.machine.command("abort", cause=f"link down: {self.down_reason}")

    def link_back(self) -> None:
        """The tool answers again (its driver is connected): re-read what it is set up for and
        come back to IDLE. A cycle it finished meanwhile is acknowledged before the next one
        (:meth:`_acknowledge_leftover`), as after a restart.

        The station stays :attr:`down` until it is back in its state (STOPPED when disabled,
        else IDLE): a reader that sees it up sees where it came back to; a failed read of its
        settings (a :class:`PacklineError`, raised) leaves it down."""
        with self.busy:  # a cycle that lost its link has unwound first
            self._read_settings()
            with self.machine.lock:  # no reader sees the state back and the station DOWN
                if self.machine.state is PackState.ABORTED:
                    cause = "link back"  # to STOPPED; a disabled station's STOPPED says so (E10)
                    if self.disabled_reason:
                        cause = f"{DISABLED_CAUSE}, link back: {self.disabled_reason}"
                    self.machine.command("clear", cause=cause)
                if self.machine.state is PackState.STOPPED and not self.disabled_reason:
                    self.machine.command("reset", cause="link back")  # a disabled one stays out
                self.down_reason = ""

    @property
    def down(self) -> bool:
        return bool(self.down_reason)

    def condition(self) -> tuple[PackState, str, str]:
        """The state, why the station is DOWN and why it is out of service ("" for not),
        read together: never torn by :meth:`mark_down`, :meth:`link_back`, :meth:`disable`
        or :meth:`enable` running meanwhile (a status page shows no IDLE station DOWN)."""
        with self.machine.lock:
            return self.machine.state, self.down_reason, self.disabled_reason

    # -- out of service (an operator's scheduled down) ---------------------------------------
    #: Why an operator took the station out of service ("" while in service).
    disabled_reason = ""

    def disable(self, reason: str, by: str) -> PackState:
        """Take the station out of service: PackML ``stop`` (no new cycle; a running one
        finishes and its results are kept), counted as E10 scheduled down until :meth:`enable`."""
        if self.disabled_reason:
            raise OutOfService(self.name, "disable", self.state, f"already: {self.disabled_reason}")
        cause = f"{DISABLED_CAUSE} by {by}: {reason}"
        with self.machine.lock:
            if self.machine.state is PackState.STOPPED and not self.down:
                self.machine.command("reset", cause=cause)  # never used yet: STOPPED -> IDLE,
            if not self.machine.may("stop"):  # so that the STOPPED that follows says why
                raise CommandRefused(self.name, "disable", self.state)
            state = self.machine.command("stop", cause=cause)
            self.disabled_reason = reason
            return state

    def enable(self, by: str) -> PackState:
        """Back in service: STOPPED -> IDLE; the station takes work again."""
        if not self.disabled_reason:
            raise OutOfService(self.name, "enable", self.state, "the station is not disabled")
        with self.machine.lock:
            self.disabled_reason = ""
            if self.machine.state is PackState.STOPPED and not self.down:
                self.machine.command("reset", cause=f"enabled by {by}")
            return self.state

    # -- lifecycle ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Reset the machine to IDLE and read the settings the tool holds (etch chemistry)."""
        if self.machine.state is PackState.STOPPED and not (self.down or self.disabled_reason):
            with suppress(CommandRefused):  # another lot's runner reset it meanwhile
                self.machine.command("reset", cause="line start")  # a disabled one stays out
        self._read_settings()

    @property
    def state(self) -> PackState:
        return self.machine.state

    def suits(self, step: ProcessStep) -> bool:
        """Whether this station can run ``step``: its tool kind, and the station settings the
        step declares it needs (the etch chemistry the bath holds) as last read."""
        if step.tool != self.tool_kind:
            return False
        return all(self.facts.get(member) in (None, v) for member, v in step.needs().items())

    def _read_settings(self) -> None:
        """Read the settings the tool holds that steps on it declare (``station_settings``)."""
        for member in ProcessStep.station_settings_of(self.tool_kind):
            self.facts[member] = getattr(self.driver, member)

    # -- running a step -------------------------------------------------------------------
    def run(
        self,
        step: ProcessStep,
        jobs: Sequence[StripJob],
        *,
        on_results: Callable[[list[StripOutcome]], None] | None = None,
        resume: bool = False,
    ) -> StationRun:
        """Run one cycle of ``step`` for ``jobs`` (EXECUTE ... COMPLETE ... IDLE).

        ``on_results`` receives the outcomes before the tool is acknowledged (to commit them);
        ``resume`` reconciles a cycle that was running when the controller stopped instead of
        starting one.
        """
        with self.busy:
            self.current_strips = tuple(job.strip_id for job in jobs)
            self.current_step = step.name
            self._cycle_aborted = ""
            self._back_to_idle = False
            strips = ",".join(self.current_strips)
            if not self.machine.may("start"):
                self.current_strips, self.current_step = (), ""
                raise StationNotReady(self.name, "start", self.state)
            # An IDLE station holds nothing: no operator flag of an earlier cycle carries over.
            self.control.hold.clear()
            self.control.abort.clear()
            self.control.interlocks_seen = None  # only this run's upkeep reads them fresh
            self.machine.command("start", cause=f"{step.name} {strips}")
            lost = False
            try:
                upkept, upkeep_started = False, 0.0
                self._cu_limit = step.recipe.cu_load_max_g_l if isinstance(step, EtchStep) else None
                if not resume:
                    if not self._acknowledged_last:
                        self._acknowledge_leftover()
                    upkeep_started = self.clock.timestamp()
                    upkept = self._upkeep()
                self._acknowledged_last = False
                outcomes = run_step(
                    step,
                    self.driver,
                    jobs,
                    station=self.name,
                    pace=self.pace,
                    control=self.control,
                    on_results=on_results,
                    resume=resume,
                )
                self._acknowledged_last = True  # the step acknowledged its cycle
                if upkept:  # the upkeep was part of this cycle's set-up (E10 scheduled down)
                    self.control.setup_started = upkeep_started
            except Detached:
                raise  # the controller is stopping: the machine stays where the tool is
            except LinkDown:
                lost = True  # DOWN already (see _retry)
                raise
            except Exception as error:
                if isinstance(error, ConnectionLost) and self.on_link_lost is not None:
                    lost = True  # lost outside the cycle's wait (set-up, collect, acknowledge)
                    self.mark_down(str(error))
                    raise LinkDown(f"{step.name}: {error}") from error
                if self.machine.may("abort"):
                    self.machine.command("abort", cause=f"{step.name} failed: {error}")
                raise
            finally:
                self.current_strips = ()
                self.current_step = ""
                if lost and self.on_link_lost is not None:
                    self.on_link_lost(self)  # its link_back waits for this run to unwind
            if not self._cycle_aborted and self.control.final_state is ToolState.ABORTED:
                self._cycle_aborted = "cycle ended ABORTED"
            aborted = self._cycle_aborted
            if self.machine.may("complete"):
                self.machine.command(
                    "complete", cause=f"{step.name} {strips} {'aborted' if aborted else 'done'}"
                )
                self.machine.command("reset", cause="next cycle")
            elif self._back_to_idle:
                self.recover()  # a lot abort ended the held cycle: the station takes work again
            # else an operator abort or stop took the station out of EXECUTE mid-cycle: it stays
            # there until the operator clears and resets it; the lot gives it no work meanwhile.
            return StationRun(outcomes, aborted)

    def _upkeep(self) -> bool:
        """The tool's upkeep that is due (:mod:`sequences.upkeep`), before the next cycle;
        recorded with its result and duration. A failed upkeep is recorded and the cycle runs
        (its own checks refuse it if the tool cannot run). Whether any upkeep ran."""
        started = self.clock.timestamp()
        strips = self.current_strips
        # One reading of the alarms for the placement calibration and the low warnings (a
        # failed read fails the run, as the low warnings' own read did).
        alarms = self.driver.active_alarms() if watches_low(self.driver) else None
        try:
            done = (
                calibrate_placement_if_due(
                    self.driver, self.pace, after_2105=self._placement_out, alarms=alarms
                )
                or calibrate_laser_if_due(self.driver, self.pace)
                or calibrate_gauge_if_due(self.driver, self.pace)
            )
        except PacklineError as exc:
            took_tool_s = (self.clock.timestamp() - started) * self.clock.record_scale
            code, command = upkeep_label(self.driver)
            self._record(
                AlarmRecord(started, self.name, strips, code, "W", command, ""),
                f"upkeep failed after {took_tool_s:.0f} tool s: {exc}",
            )
            return True
        if done is not None:
            self._placement_out = False
            self._record(
                AlarmRecord(started, self.name, strips, done.code, "W", done.text, ""),
                f"upkeep {done.result} in {done.duration_tool_s:.0f} tool s",
            )
        # An upkeep that ran (a calibration clears its warning) leaves the alarms to read again.
        return self._ask_operator(alarms=alarms if done is None else None) or done is not None

    def _ask_operator(self, *, in_alarm: bool = False, alarms: Sequence[int] | None = None) -> bool:
        """A consumable out (an interlock in OPERATOR_REQUESTS) would refuse the next cycle and
        hold its strips, and a dicing blade at 90 % of its life would stop a strip midway at
        100 % (7103): instead the station holds (HELD, E10 unscheduled down) with an operator
        request, waits up to ``retry_tool_s`` for the interlock to clear, and records the
        request with its result and duration. ``alarms``: the active alarm codes the upkeep
        read a moment before, if any. Whether a request was made. ``in_alarm``: asked
        from the alarm handler mid-cycle (a syringe emptied during a strip), where the station
        is HELD already and the handler resumes it."""
        low = not in_alarm  # a blade worn to 90 % waits for the cycle's end, not mid-strip
        active = active_interlocks(self.driver)
        due = functools.partial(requests_due, self.driver, low=low, cu_load_max_g_l=self._cu_limit)
        blocking = due(interlocks=active, alarms=alarms)
        if not blocking:
            if not in_alarm and isinstance(self.driver, ReportsInterlocks):
                self.control.interlocks_seen = active  # the step's check uses them
            return False
        text = "; ".join(f"{OPERATOR_REQUESTS[name]} ({name})" for name in blocking)
        clock = self.clock
        started, waited_from = clock.timestamp(), clock.now()
        if not in_alarm:
            self.machine.command("hold", cause=f"operator request: {text}")
        if self.on_request is not None:
            self.on_request(OperatorRequest(self.name, blocking, text))
        deadline = waited_from + self.pace.bound_s(self.retry_tool_s)
        while self.machine.state is PackState.HELD and clock.now() < deadline:
            if low and low_warnings_latched(self.driver):
                self.driver.clear_alarms()  # a refilled supply's warning goes (README §6)
            if not due():
                break
            clock.sleep(self.pace.poll_after_s(self.driver, clock.now() - waited_from))
        if not in_alarm and self.machine.state in (PackState.UNHOLDING, PackState.EXECUTE):
            # Released by the operator (``station release``): what is still due was done by
            # hand; a blade change the saw cannot see is recorded on it (BLADe:CHANge).
            record_answer(self.driver, due())
            if low_warnings_latched(self.driver):
                self.driver.clear_alarms()
        took_tool_s = (clock.timestamp() - started) * clock.record_scale
        answered = not due()
        result = "answered" if answered else "not answered"
        self._record(
            AlarmRecord(started, self.name, self.current_strips, 0, "REQUEST", text, ""),
            f"operator request {result} in {took_tool_s:.0f} tool s",
        )
        if in_alarm:
            return True
        if self.machine.state is PackState.HELD:
            self.machine.command("unhold", cause=f"operator request {result}")
        if self.machine.state is not PackState.EXECUTE:  # an operator aborted or stopped it
            raise StationNotReady(self.name, "start", self.state)
        return True

    _placement_out = False  # a 2105 since the last placement calibration
    #: This controller acknowledged the tool's last cycle itself, and nothing since (a lost
    #: link, a restart) can have left a finished cycle: no leftover to look for.
    _acknowledged_last = False
    _cu_limit: float | None = None  # the copper limit of the etch step the cycle runs

    @property
    def ready(self) -> bool:
        """Whether the station can take a cycle (IDLE: not aborted, stopped or held by an operator)."""
        return self.machine.state is PackState.IDLE

    def _acknowledge_leftover(self) -> None:
        """A tool still in DONE/ABORTED from a cycle whose results are already recorded (the
        controller stopped between recording and acknowledging): acknowledge it first."""
        state = self.driver.state()
        if state in (ToolState.DONE, ToolState.ABORTED):
            self.driver.acknowledge()
        else:  # the set-up that follows a moment later need not ask again
            note_state(self.driver, self.clock.now(), state)

    def recover(self) -> None:
        """After a failed run: clear ABORTED back to IDLE so the station can take work again."""
        if self.machine.state is PackState.ABORTED:
            self.machine.command("clear", cause="recovered")
        if self.machine.state is PackState.STOPPED:
            self.machine.command("reset", cause="recovered")

    # -- operator commands ------------------------------------------------------------------
    def command(self, command: str, cause: str = "operator") -> PackState:
        """An operator command: hold, unhold, stop, abort, clear, reset.

        Taken whole or refused whole: a command PackML does not allow now raises
        :class:`CommandRefused` before anything is touched (a hold refused on an IDLE station
        must not pause its next cycle)."""
        if not self.machine.may(command):
            raise CommandRefused(self.name, command, self.state)
        if self.down and command in ("clear", "reset"):
            raise OutOfService(
                self.name,
                command,
                self.state,
                f"the tool does not answer ({self.down_reason}); the station comes back by"
                " itself when it does",
            )
        if self.disabled_reason and command in ("clear", "reset"):
            raise OutOfService(
                self.name, command, self.state, f"disabled ({self.disabled_reason}); enable it"
            )
        if command == "hold":
            # The machine first: if the cycle ended meanwhile, the hold is refused and the
            # flag that pauses the tool is never set.
            state = self.machine.command(command, cause)
            self.control.hold.set()
            return state
        if command == "unhold":
            self.control.hold.clear()
            self._operator_choice = "resume"
            self._operator.set()
        elif command == "abort":
            self._operator_choice = "abort"
            self._operator.set()
            if self.current_strips:
                self._cycle_aborted = self._cycle_aborted or f"cycle aborted ({cause})"
                self.control.abort.set()
        if (
            command in ("unhold", "abort")
            and self.machine.state is PackState.HELD
            and self._waiting_for_operator
        ):
            return self.machine.state  # the waiting alarm handler applies it
        return self.machine.command(command, cause)

    _waiting_for_operator = False
    _back_to_idle = False

    def abort_held_cycle(self, strip_ids: Iterable[str], reason: str) -> bool:
        """Lot abort: a cycle of the lot's strips that is HELD would never end by itself, so it
        is aborted; the station clears back to IDLE when the cycle has ended (the station was
        not at fault). Running cycles are left to finish. Whether it aborted one."""
        if self.state is not PackState.HELD or not set(self.current_strips) & set(strip_ids):
            return False
        try:
            self.command("abort", cause=reason)
        except CommandRefused:
            return False  # the cycle ended meanwhile
        self._back_to_idle = True
        return True

    # -- alarm handling (called from the step's wait, in the station's thread) ----------------
    def _on_alarm(self, tool: Tool, problem: PacklineError) -> AlarmDecision:
        record = self._describe(problem)
        if record.code == PLACEMENT_OUT_OF_TOLERANCE:
            self._placement_out = True  # calibrated before the next cycle
        if self.machine.may("hold"):
            self.machine.command("hold", cause=f"{record.code} {record.text}".strip())
        if self.policy is AlarmPolicy.ABORT_STRIP:
            decision = self._abort_cycle(tool, f"alarm {record.code} {record.text}; strip scrapped")
        elif self.policy is AlarmPolicy.WAIT:
            decision = self._wait_for_operator(tool, record)
        else:
            if isinstance(problem, ToolAlarm):
                self._ask_operator(in_alarm=True)  # a consumable ran out mid-cycle
            try:
                decision = self._retry(tool, problem, record)
            except LinkDown as down:
                self._record(
                    record, f"station DOWN ({down.reason}); the cycle is reconciled when it answers"
                )
                raise
        handling = "resumed" if decision == "resume" else f"cycle aborted ({self._cycle_aborted})"
        self._record(record, handling)
        if self.machine.state is PackState.HELD:
            self.machine.command("unhold", cause=handling)
        return decision

    def _describe(self, problem: PacklineError) -> AlarmRecord:
        if isinstance(problem, ToolAlarm):
            code, alarm_class, text = problem.code, problem.alarm_class, problem.text
        else:
            code, alarm_class, text = 0, "LINK", f"link lost: {problem.reason}"
        return AlarmRecord(
            self.clock.timestamp(), self.name, self.current_strips, code, alarm_class, text, ""
        )

    def _record(self, record: AlarmRecord, handling: str) -> None:
        if self.alarm_sink is not None:
            self.alarm_sink(dataclasses.replace(record, handling=handling))

    def _retry(self, tool: Tool, problem: PacklineError, record: AlarmRecord) -> AlarmDecision:
        clock = self.clock
        started = clock.now()
        deadline = started + self.pace.bound_s(self.retry_tool_s)
        while clock.now() < deadline:
            poll = self.pace.poll_after_s(tool, clock.now() - started)
            try:
                if isinstance(problem, CommunicationError):
                    tool.close()
                    time.sleep(RECONNECT_PAUSE_S)  # let the tool notice the old link is gone
                    tool.connect()
                state = tool.state()
                if state is ToolState.ALARM:
                    tool.clear_alarms()
                    state = tool.state()
            except CommunicationError as error:
                if self.on_link_lost is not None:  # the daemon: DOWN, reconnected outside
                    self.mark_down(str(error))
                    raise LinkDown(f"link lost mid-cycle: {error}") from error
                clock.sleep(poll)
                continue
            lost_link = isinstance(problem, CommunicationError)
            if lost_link and self.on_link_lost is not None and state in NO_CYCLE:
                reason = f"the tool answers again in {state.name}: its cycle is gone"
                self.mark_down(reason)  # reconciled like a restart: the step runs now
                raise LinkDown(reason)
            if state is ToolState.PAUSED:
                tool.resume()
                return "resume"
            if state is ToolState.ABORTED:
                self._cycle_aborted = f"abort-class alarm {record.code} {record.text}"
                return "abort"
            if state is not ToolState.ALARM:
                return "resume"  # running on, or DONE after a deferred hold
            clock.sleep(poll)
        return self._abort_cycle(
            tool, f"alarm {record.code} not cleared within {self.retry_tool_s:.0f} tool s"
        )

    def _abort_cycle(self, tool: Tool, reason: str) -> AlarmDecision:
        self._cycle_aborted = reason
        clock = self.clock
        started = clock.now()
        deadline = started + self.pace.bound_s(self.retry_tool_s)
        try:
            if tool.state() in (ToolState.RUNNING, ToolState.PAUSED, ToolState.ALARM):
                tool.abort()
            while clock.now() < deadline and tool.state() is ToolState.ALARM:
                tool.clear_alarms()
                clock.sleep(self.pace.poll_after_s(tool, clock.now() - started))
        except PacklineError:
            pass
        return "abort"

    def _wait_for_operator(self, tool: Tool, record: AlarmRecord) -> AlarmDecision:
        self._operator.clear()
        self._waiting_for_operator = True
        started = self.clock.now()
        try:
            # Polled on the line's clock (not an Event wait), so that a virtual clock sees
            # this thread waiting and runs the rest of the line meanwhile.
            while not self._operator.is_set():
                self.clock.sleep(self.pace.poll_after_s(tool, self.clock.now() - started))
        finally:
            self._waiting_for_operator = False
        if self._operator_choice == "abort":
            return self._abort_cycle(tool, f"operator aborted after alarm {record.code}")
        return self._retry(tool, ToolAlarm(record.code, record.alarm_class, record.text), record)
