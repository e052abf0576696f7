"""A paho MQTT subscriber that keeps what it receives, for the MQTT tests."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

WAIT_S = 30.0


@dataclass(frozen=True)
class Received:
    topic: str
    payload: dict[str, Any]
    retained: bool


class Subscriber:
    """Subscribed to ``topic`` on the broker at ``port`` (QoS 1). ``session``: a persistent
    session under that client id (the broker keeps the subscription and queues for it while
    the subscriber is away)."""

    def __init__(self, port: int, topic: str, *, session: str | None = None) -> None:
        self.topic = topic
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session or f"test-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
            clean_session=session is None,
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            self.close()
            raise RuntimeError(f"no SUBACK for {topic}")

    def _on_message(self, client: mqtt.Client, userdata: object, message: Any) -> None:
        received = Received(message.topic, json.loads(message.payload), bool(message.retain))
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()

    def wait_for(
        self, found: Callable[[list[Received]], bool], what: str, timeout_s: float = WAIT_S
    ) -> list[Received]:
        """Everything received once ``found`` holds; fails naming ``what`` after the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not found(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.topic, r.payload.get("event")) for r in self.received]
                    raise AssertionError(f"no {what} within {timeout_s} s; received {seen}")
                self._changed.wait(left)
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
