"""The MQTT front's queue in the store: messages for the broker in the order raised, per line.

A message stays until the broker has acknowledged it (PUBACK), so one raised while the broker
is away, or not yet acknowledged when the daemon died, is published after it returns, ahead of
anything newer. The queue is bounded: past ``limit`` messages the oldest are dropped (the newest
state is worth more to a dashboard than the oldest). docs/mqtt.md, "Queue".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packline.store.store import Store


@dataclass(frozen=True)
class QueuedMessage:
    """One message waiting for the broker: ``seq`` numbers the line's messages 1, 2, 3..."""

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
        return self.put_many([(topic, payload, retain)], limit=limit)

    def put_many(self, messages: Sequence[tuple[str, dict[str, Any], bool]], *, limit: int) -> int:
        """Keep ``(topic, payload, retain)`` messages in order, in one transaction, dropping
        the oldest beyond ``limit``; how many were dropped."""
        if limit < 1:
            raise ValueError(f"MQTT queue limit {limit} must be at least 1")
        if not messages:
            return 0
        with self.store.write(f"queue {len(messages)} MQTT messages") as conn:
            last = int(
                conn.execute(
                    "INSERT INTO mqtt_counters (line, last_seq) VALUES (?, ?) ON CONFLICT (line)"
                    " DO UPDATE SET last_seq = mqtt_counters.last_seq + ? RETURNING last_seq",
                    (self.line, len(messages), len(messages)),
                ).fetchone()[0]
            )
            created = self.store.clock()
            conn.executemany(
                "INSERT INTO mqtt_queue (line, seq, created, topic, payload_json, retain)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (self.line, seq, created, topic, json.dumps(payload, default=str), int(retain))
                    for seq, (topic, payload, retain) in enumerate(
                        messages, start=last - len(messages) + 1
                    )
                ],
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
                "DELETE FROM mqtt_queue WHERE line = ? AND seq IN (SELECT seq FROM mqtt_queue"
                " WHERE line = ? ORDER BY seq LIMIT ?)",
                (self.line, self.line, over),
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

    def remove_through(self, seq: int) -> None:
        """Forget the messages up to ``seq``, which the broker has acknowledged."""
        with self.store.write(f"MQTT queue remove through {seq}") as conn:
            conn.execute("DELETE FROM mqtt_queue WHERE line = ? AND seq <= ?", (self.line, seq))

    def count(self) -> int:
        with self.store.read() as conn:
            query = "SELECT COUNT(*) FROM mqtt_queue WHERE line = ?"
            return int(conn.execute(query, (self.line,)).fetchone()[0])
