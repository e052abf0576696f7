"""Line events as MQTT messages: topic, JSON payload (with the schema version) and retain flag.

Every topic is under ``packline/<line>/``; docs/mqtt.md lists them with their payloads. A lot's
events share one topic so that MQTT's per-topic ordering delivers them in the order raised.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packline.daemon.line_events import LineEvent
from packline.store.records import AlarmEntry
from sequences.packml import PackState
from sequences.station_machine import StateEvent

#: The payloads' schema version: bumped when a field changes meaning or goes away (a new field
#: does not bump it).
SCHEMA_VERSION = 1
#: A station back in one of these has dealt with its alarms: they are published as cleared
#: (as the GEM front clears them).
ALARMS_CLEARED_IN = {PackState.IDLE, PackState.EXECUTE, PackState.COMPLETE}
#: The alarm class of an operator request (a consumable out), which is upkeep, not an alarm.
REQUEST_CLASS = "REQUEST"
#: How the station's recorder words an upkeep action it ran itself (placement calibration).
UPKEEP_HANDLING = "upkeep "


@dataclass(frozen=True)
class Message:
    topic: str
    payload: dict[str, Any]
    retain: bool


def envelope(line: str, event: str, at: float, **fields: Any) -> dict[str, Any]:
    """The fields every payload has, then the event's own."""
    return {"schema": SCHEMA_VERSION, "line": line, "event": event, "time": at, **fields}


def status_message(line: str, state: str, reason: str) -> Message:
    """The line's retained status: ``online`` (birth), ``offline`` (will, or a clean stop)."""
    payload = envelope(line, "status", time.time(), state=state, reason=reason)
    return Message(f"packline/{line}/status", payload, retain=True)


class EventMessages:
    """Turns the line's events into messages, remembering which alarms each station has set
    (so that a station back at work publishes them as cleared)."""

    def __init__(self, line: str, still_set: Mapping[str, Mapping[int, str]] | None = None) -> None:
        """``still_set``: alarms set before a restart and not cleared since (station -> code ->
        text; :func:`alarms_still_set`), so that they are published as cleared in time too."""
        self.line = line
        self.prefix = f"packline/{line}"
        self._set: dict[str, dict[int, str]] = {  # station -> code -> text
            station: dict(codes) for station, codes in (still_set or {}).items() if codes
        }

    def messages(self, event: LineEvent) -> list[Message]:
        data = event.data
        if event.kind == "station_state":
            return self._station_state(data["record"])
        if event.kind == "alarm":
            return [self._alarm(data["lot_id"], data["record"])]
        if event.kind == "alarm_acked":
            acked = envelope(self.line, "alarm_acked", event.time, **data)
            return [Message(f"{self.prefix}/alarms", acked, retain=False)]
        if event.kind == "cycle_done":
            return [self._cycle(data["record"])]
        lot_id, fields = self._lot_fields(event.kind, data)
        at = float(getattr(data.get("record"), "time", 0.0) or event.time)
        if event.kind == "step_started":
            at = data["record"].started
        elif event.kind == "step_done":
            at = data["record"].ended
        payload = envelope(self.line, event.kind, at, lot_id=lot_id, **fields)
        return [Message(f"{self.prefix}/lots/{lot_id}", payload, retain=False)]

    def _lot_fields(self, kind: str, data: Any) -> tuple[str, dict[str, Any]]:
        if kind in ("lot_queued", "lot_started", "lot_finished", "lot_command"):
            fields = {k: v for k, v in data.items() if k != "lot_id"}
            return str(data["lot_id"]), fields
        record = data["record"]
        if kind == "step_started":
            return record.lot_id, {
                "strip_ids": list(record.strip_ids),
                "step_index": record.step_index,
                "step": record.step,
                "station": record.station,
            }
        if kind == "step_done":
            outcome = record.outcome
            return record.lot_id, {
                "strip_id": record.strip_id,
                "step_index": record.step_index,
                "step": record.step,
                "station": record.station,
                "tool": record.tool,
                "started": record.started,
                "ended": record.ended,
                "result_map": outcome.result_map,
                "sites": dict(sorted(Counter(outcome.result_map).items())),
                "tool_summary": dict(outcome.tool_summary),
            }
        if kind == "strip_finished":
            return str(data["lot_id"]), {
                "strip_id": record.strip_id,
                "status": record.status,
                "reason": record.reason,
            }
        raise ValueError(f"no MQTT message for line event {kind!r}")

    def _station_state(self, record: Any) -> list[Message]:
        station, new = record.station, record.to_state
        payload = envelope(
            self.line,
            "station_state",
            record.time,
            station=station,
            state=new.value,
            previous=record.from_state.value,
            cause=record.cause,
        )
        messages = [Message(f"{self.prefix}/stations/{station}/state", payload, retain=True)]
        if new in ALARMS_CLEARED_IN:
            for code, text in sorted(self._set.pop(station, {}).items()):
                cleared = envelope(
                    self.line, "alarm_cleared", record.time, station=station, code=code, text=text
                )
                messages.append(Message(f"{self.prefix}/alarms", cleared, retain=False))
        return messages

    def _cycle(self, record: Any) -> Message:
        payload = envelope(
            self.line,
            "cycle_done",
            record.ended,
            station=record.station,
            tool=record.tool,
            step=record.step,
            strip_ids=list(record.strip_ids),
            setup_started=record.setup_started,
            started=record.started,
            ended=record.ended,
            final_state=record.final_state,
        )
        return Message(f"{self.prefix}/stations/{record.station}/cycles", payload, retain=False)

    def station_now(self, station: str, state: PackState, cause: str) -> Message:
        """A station's current state (not a change: ``previous`` is null)."""
        payload = envelope(
            self.line,
            "station_state",
            time.time(),
            station=station,
            state=state.value,
            previous=None,
            cause=cause,
        )
        return Message(f"{self.prefix}/stations/{station}/state", payload, retain=True)

    def _alarm(self, lot_id: str, record: Any) -> Message:
        fields = {
            "station": record.station,
            "lot_id": lot_id or None,
            "strip_ids": list(record.strip_ids),
            "code": record.code,
            "text": record.text,
            "handling": record.handling,
        }
        if record.alarm_class == REQUEST_CLASS:
            payload = envelope(self.line, "operator_request", record.time, **fields)
            return Message(f"{self.prefix}/upkeep", payload, retain=False)
        if not is_alarm(record.alarm_class, record.handling):
            payload = envelope(self.line, "upkeep", record.time, **fields)
            return Message(f"{self.prefix}/upkeep", payload, retain=False)
        self._set.setdefault(record.station, {})[record.code] = record.text
        payload = envelope(
            self.line, "alarm_set", record.time, alarm_class=record.alarm_class, **fields
        )
        return Message(f"{self.prefix}/alarms", payload, retain=False)


def is_alarm(alarm_class: str, handling: str) -> bool:
    """Whether a recorded alarm is published as an alarm (set, later cleared), not as upkeep."""
    return alarm_class != REQUEST_CLASS and not handling.startswith(UPKEEP_HANDLING)


def alarms_still_set(
    alarms: Iterable[AlarmEntry], events: Iterable[StateEvent]
) -> dict[str, dict[int, str]]:
    """From the store's history: the alarms each station raised after it was last back at work
    (a state of :data:`ALARMS_CLEARED_IN`), i.e. those a subscriber saw set and not cleared."""
    back_at_work: dict[str, float] = {}
    for event in events:
        if event.to_state in ALARMS_CLEARED_IN:
            back_at_work[event.station] = max(event.time, back_at_work.get(event.station, 0.0))
    still_set: dict[str, dict[int, str]] = {}
    for alarm in alarms:
        if not is_alarm(alarm["class"], alarm["handling"]):
            continue
        if alarm["time"] > back_at_work.get(alarm["station"], float("-inf")):
            still_set.setdefault(alarm["station"], {})[alarm["code"]] = alarm["text"]
    return still_set
