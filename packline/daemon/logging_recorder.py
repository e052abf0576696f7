"""The daemon's recorder: every lot event goes to the store (committed) and to the log as one
structured line (``event=step_done lot=L1 strip=L1-03 station=wire-bonder-1 ...``)."""

from __future__ import annotations

import logging
from typing import Any

from packline.daemon.line_events import LineEvents
from sequences.records import (
    AlarmRecord,
    CycleRecord,
    LotRecorder,
    StepRecord,
    StepStart,
    StripDisposition,
)
from sequences.station_machine import StateEvent

log = logging.getLogger("packline.daemon.events")


def kv(**fields: Any) -> str:
    """``key=value`` pairs; values with spaces are quoted."""
    parts = []
    for key, value in fields.items():
        text = str(value)
        parts.append(f'{key}="{text}"' if " " in text or not text else f"{key}={text}")
    return " ".join(parts)


class LoggingRecorder:
    """Forwards to ``inner`` (the store) first, then logs what was committed and publishes it
    to ``events`` (the daemon's fronts)."""

    def __init__(self, inner: LotRecorder, events: LineEvents | None = None) -> None:
        self.inner = inner
        self.events = events or LineEvents()

    def step_started(self, start: StepStart) -> None:
        self.inner.step_started(start)
        self.events.publish("step_started", record=start)
        log.info(
            kv(
                event="step_started",
                lot=start.lot_id,
                strips=",".join(start.strip_ids),
                station=start.station,
                step=start.step,
            )
        )

    def step_done(self, record: StepRecord) -> None:
        self.inner.step_done(record)
        self.events.publish("step_done", record=record)
        log.info(
            kv(
                event="step_done",
                lot=record.lot_id,
                strip=record.strip_id,
                station=record.station,
                step=record.step,
                map=record.outcome.result_map,
            )
        )

    def cycle_done(self, record: CycleRecord) -> None:
        self.inner.cycle_done(record)
        self.events.publish("cycle_done", record=record)
        log.info(
            kv(
                event="cycle_done",
                station=record.station,
                step=record.step,
                strips=",".join(record.strip_ids),
                state=record.final_state,
            )
        )

    def strip_finished(self, lot_id: str, disposition: StripDisposition) -> None:
        self.inner.strip_finished(lot_id, disposition)
        self.events.publish("strip_finished", lot_id=lot_id, record=disposition)
        log.info(
            kv(
                event="strip_finished",
                lot=lot_id,
                strip=disposition.strip_id,
                status=disposition.status,
                reason=disposition.reason,
            )
        )

    def alarm(self, lot_id: str, record: AlarmRecord) -> None:
        self.inner.alarm(lot_id, record)
        self.events.publish("alarm", lot_id=lot_id, record=record)
        log.warning(
            kv(
                event="alarm",
                lot=lot_id,
                station=record.station,
                strips=",".join(record.strip_ids),
                code=record.code,
                text=record.text,
                handling=record.handling,
            )
        )

    def state_event(self, event: StateEvent) -> None:
        self.inner.state_event(event)
        self.events.publish("station_state", record=event)
        log.info(
            kv(
                event="state",
                station=event.station,
                from_state=event.from_state.value,
                to=event.to_state.value,
                cause=event.cause,
            )
        )
