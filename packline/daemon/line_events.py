"""What happened on the line, for the daemon's fronts (SECS/GEM today; MQTT later).

The controller and its recorder publish one :class:`LineEvent` per committed fact (a lot queued,
a step done, an alarm, a station state change...) to every subscribed listener, after the
store has it. A front turns them into its own protocol; the controller knows no front.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("packline.daemon")

#: Kinds of event, with the keys of ``data`` each one carries.
LINE_EVENT_KINDS = {
    "lot_queued": ("lot_id", "recipe", "strip_ids"),
    "lot_started": ("lot_id", "recipe", "strip_ids", "resumed"),
    "lot_finished": ("lot_id", "status", "reason"),  # status: complete or aborted
    "step_started": ("record",),  # sequences.records.StepStart
    "step_done": ("record",),  # sequences.records.StepRecord
    "strip_finished": ("lot_id", "record"),  # sequences.records.StripDisposition
    "alarm": ("lot_id", "record"),  # sequences.records.AlarmRecord
    "station_state": ("record",),  # sequences.station_machine.StateEvent
    "cycle_done": ("record",),  # sequences.records.CycleRecord
    "lot_command": ("lot_id", "command", "by", "status"),  # an operator's hold/release/abort
    "alarm_acked": ("alarm_id", "station", "code", "by"),
}


@dataclass(frozen=True)
class LineEvent:
    """One committed fact of the line: ``kind`` from :data:`LINE_EVENT_KINDS` and its data."""

    kind: str
    data: Mapping[str, Any]
    time: float = field(default_factory=time.time)


LineListener = Callable[[LineEvent], None]


class LineEvents:
    """The listeners of a controller. A listener runs on the thread that made the event and
    must return quickly (queue the work); one that raises is logged and the others still run."""

    def __init__(self) -> None:
        self._listeners: list[LineListener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: LineListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: LineListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def publish(self, kind: str, **data: Any) -> None:
        if kind not in LINE_EVENT_KINDS:
            raise ValueError(f"unknown line event kind {kind!r}")
        event = LineEvent(kind, data)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a front's failure must not stop the line
                log.exception("line event listener failed on %s", kind)
