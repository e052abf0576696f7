"""The MQTT front's queue in the store: messages for the broker in the order raised, per line.

A message stays until the broker has acknowledged it (PUBACK), so one raised while the broker
is away, or not yet acknowledged when the daemon died, is published after it returns, ahead of
anything newer. The queue is bounded: past ``limit`` messages the oldest are dropped (the newest
state is worth more to a dashboard than the oldest). docs/mqtt.md, "Queue".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from packline.store.store import Store


@dataclass(frozen=True)
class QueuedMessage:
    """One message waiting for the broker: ``seq`` orders the queue (increasing, not dense)."""

    seq: int
    topic: str
    payload: dict[str, Any]
    retain: bool


class MqttQueue:
    """The queued MQTT messages of ``store``'s line (a store opened with a line)."""

    def __init__(self, store: Store) -> None:
        if store.line is None:
            raise ValueError("the MQTT queue belongs to a line: open the store with line=")
        self.store = store
        self.line = store.line

    def put(self, topic: str, payload: dict[str, Any], *, retain: bool, limit: int) -> int:
        """Keep a message after every earlier one, dropping the oldest beyond ``limit``; how
        many were dropped."""
        if limit < 1:
            raise ValueError(f"MQTT queue limit {limit} must be at least 1")
        with self.store.write(f"queue MQTT {topic}") as conn:
            conn.execute(
                "INSERT INTO mqtt_queue (line, created, topic, payload_json, retain)"
                " VALUES (?, ?, ?, ?, ?)",
                (self.line, self.store.clock(), topic, json.dumps(payload), int(retain)),
            )
            over = (
                int(
                    conn.execute(
                        "SELECT COUNT(*) FROM mqtt_queue WHERE line = ?", (self.line,)
                    ).fetchone()[0]
                )
                - limit
            )
            if over <= 0:
                return 0
            conn.execute(
                "DELETE FROM mqtt_queue WHERE seq IN (SELECT seq FROM mqtt_queue"
                " WHERE line = ? ORDER BY seq LIMIT ?)",
                (self.line, over),
            )
            return over

    def first(self, limit: int = 100) -> list[QueuedMessage]:
        """The oldest kept messages, in the order raised."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT seq, topic, payload_json, retain FROM mqtt_queue WHERE line = ?"
                " ORDER BY seq LIMIT ?",
                (self.line, limit),
            ).fetchall()
        return [QueuedMessage(int(r[0]), str(r[1]), json.loads(r[2]), bool(r[3])) for r in rows]

    def remove(self, seq: int) -> None:
        """Forget a message the broker has acknowledged."""
        with self.store.write(f"MQTT queue remove {seq}") as conn:
            conn.execute("DELETE FROM mqtt_queue WHERE seq = ?", (seq,))

    def count(self) -> int:
        with self.store.read() as conn:
            query = "SELECT COUNT(*) FROM mqtt_queue WHERE line = ?"
            return int(conn.execute(query, (self.line,)).fetchone()[0])
