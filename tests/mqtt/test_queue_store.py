"""The MQTT queue in the store: in order, per line, across a reopen, bounded (oldest dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.store import Store
from packline.store.mqtt_queue import MqttQueue
from tests.conftest import Db


def test_queued_messages_come_back_in_order_after_reopening(db: Db) -> None:
    with Store(db("line.db"), line="line-a") as store:
        queue = MqttQueue(store)
        first = queue.put("packline/line-a/lots/L1", {"event": "lot_queued"}, retain=False, limit=9)
        assert first == 0
        queue.put("packline/line-a/stations/s1", {"state": "EXECUTE"}, retain=True, limit=9)
        queue.put("packline/line-a/lots/L1", {"event": "lot_started"}, retain=False, limit=9)
        queue.remove_through(queue.first(limit=1)[0].seq)
    with Store(db("line.db"), line="line-a") as store:
        queue = MqttQueue(store)
        kept = queue.first()
        assert [(m.topic, m.payload, m.retain) for m in kept] == [
            ("packline/line-a/stations/s1", {"state": "EXECUTE"}, True),
            ("packline/line-a/lots/L1", {"event": "lot_started"}, False),
        ]
        assert kept[0].seq < kept[1].seq and queue.count() == 2


def test_each_line_sees_only_its_own_queue(db: Db) -> None:
    with (
        Store(db("plant.db"), line="line-a") as a,
        Store(db("plant.db"), line="line-b") as b,
    ):
        MqttQueue(a).put("packline/line-a/status", {"n": 1}, retain=True, limit=9)
        assert MqttQueue(b).first() == [] and MqttQueue(b).count() == 0
        assert [m.payload for m in MqttQueue(a).first()] == [{"n": 1}]


def test_past_the_limit_the_oldest_messages_are_dropped(db: Db) -> None:
    with Store(db("line.db"), line="line-a") as store:
        queue = MqttQueue(store)
        dropped = [queue.put("t", {"n": n}, retain=False, limit=3) for n in range(5)]
        assert dropped == [0, 0, 0, 1, 1]
        assert [m.payload["n"] for m in queue.first()] == [2, 3, 4]


def test_a_queue_needs_a_line_and_a_positive_limit(tmp_path: Path) -> None:
    with Store(tmp_path / "x.db") as store, pytest.raises(ValueError, match="belongs to a line"):
        MqttQueue(store)
    with Store(tmp_path / "x.db", line="l") as store, pytest.raises(ValueError, match="limit 0"):
        MqttQueue(store).put("t", {}, retain=False, limit=0)


def test_seq_counts_on_after_the_queue_was_emptied(db: Db) -> None:
    """Numbers are never reused: a subscriber tells a new message from a repeat by its seq."""
    with Store(db("line.db"), line="line-a") as store:
        queue = MqttQueue(store)
        queue.put("t", {"n": 1}, retain=False, limit=9)
        queue.remove_through(queue.first()[0].seq)
    with Store(db("line.db"), line="line-a") as store:
        queue = MqttQueue(store)
        queue.put("t", {"n": 2}, retain=False, limit=9)
        assert [m.seq for m in queue.first()] == [2]
