"""What a lot run records, and the interface through which it records it.

The lot runner reports every step result, strip disposition, alarm and station state event
to a :class:`LotRecorder`. :class:`MemoryRecorder` keeps them for a dry run's report; the
line controller daemon records them in its store through the same interface, committing a
result before the station is told to move on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sequences.jobs import StripOutcome
from sequences.station_machine import StateEvent


@dataclass(frozen=True)
class StepRecord:
    """One step on one strip: where, when (wall epoch seconds), with what, and the outcome."""

    lot_id: str
    strip_id: str
    step_index: int
    step: str
    station: str
    tool: str
    started: float
    ended: float
    outcome: StripOutcome


@dataclass(frozen=True)
class AlarmRecord:
    """A tool alarm (or a lost link) and what the line did about it."""

    time: float
    station: str
    strip_ids: tuple[str, ...]
    code: int
    alarm_class: str
    text: str
    handling: str  # "resumed", "aborted cycle", "strip on hold", "operator: ..."


@dataclass(frozen=True)
class StripDisposition:
    """How a strip left the lot: complete, scrapped (with a reason) or on hold (with a reason)."""

    strip_id: str
    status: str  # "complete", "scrapped", "on hold"
    reason: str
    time: float


@dataclass(frozen=True)
class CycleRecord:
    """One tool cycle on a station (for occupancy charts and cycle-time statistics).

    ``setup_started`` .. ``started`` is the set-up (recipe load, heat-up, strip data);
    ``started`` .. ``ended`` the cycle itself, START to DONE/ABORTED.
    """

    station: str
    tool: str
    step: str
    strip_ids: tuple[str, ...]
    setup_started: float
    started: float
    ended: float
    final_state: str


@dataclass(frozen=True)
class StepStart:
    """A step about to start a tool cycle: recorded first, so that after a crash the controller
    knows which strips were on which tool and can reconcile them with the tool's own state."""

    lot_id: str
    strip_ids: tuple[str, ...]
    step_index: int
    step: str
    station: str
    started: float


class LotRecorder(Protocol):
    """Where a lot run reports what happened. Calls may come from several station threads."""

    def step_started(self, start: StepStart) -> object: ...

    def step_done(self, record: StepRecord) -> object: ...

    def cycle_done(self, record: CycleRecord) -> object: ...

    def strip_finished(self, lot_id: str, disposition: StripDisposition) -> object: ...

    def alarm(self, lot_id: str, record: AlarmRecord) -> object: ...

    def state_event(self, event: StateEvent) -> object: ...


@dataclass
class MemoryRecorder:
    """Everything of a lot in memory (dry runs, tests)."""

    starts: list[StepStart] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    cycles: list[CycleRecord] = field(default_factory=list)
    dispositions: dict[str, StripDisposition] = field(default_factory=dict)
    alarms: list[AlarmRecord] = field(default_factory=list)
    events: list[StateEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def step_started(self, start: StepStart) -> None:
        with self.lock:
            self.starts.append(start)

    def step_done(self, record: StepRecord) -> None:
        with self.lock:
            self.steps.append(record)

    def cycle_done(self, record: CycleRecord) -> None:
        with self.lock:
            self.cycles.append(record)

    def strip_finished(self, lot_id: str, disposition: StripDisposition) -> None:
        with self.lock:
            self.dispositions[disposition.strip_id] = disposition

    def alarm(self, lot_id: str, record: AlarmRecord) -> None:
        with self.lock:
            self.alarms.append(record)

    def state_event(self, event: StateEvent) -> None:
        with self.lock:
            self.events.append(event)

    def unit_history(self, strip_id: str, site: int) -> list[Mapping[str, Any]]:
        """Every step of one unit in order: step, station, times, result, defect, values."""
        with self.lock:
            rows: list[Mapping[str, Any]] = []
            for record in sorted(self.steps, key=lambda r: (r.step_index, r.started)):
                if record.strip_id != strip_id:
                    continue
                outcome = next((s for s in record.outcome.sites if s.site == site), None)
                if outcome is None:
                    continue
                rows.append(
                    {
                        "step": record.step,
                        "station": record.station,
                        "tool": record.tool,
                        "started": record.started,
                        "ended": record.ended,
                        "result": outcome.result,
                        "defect": outcome.defect,
                        "values": dict(outcome.values),
                        "recipe_values": dict(record.outcome.recipe_values),
                    }
                )
            return rows
