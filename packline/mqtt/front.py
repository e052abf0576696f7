"""The MQTT front of the daemon: the line's events published to a plant broker with paho-mqtt.

It subscribes to the controller's line events (as the GEM front does) and turns each into one
or more messages; a sender thread writes them into the store's MQTT queue (batched: one commit
for what was raised meanwhile, so the line never waits on it), publishes the queue in order,
QoS 1, and removes a message only when the broker has acknowledged it: messages
raised while the broker is away wait in the store (bounded) and go out, in order, when it is
back, also after a restart of the daemon. On connecting the front publishes the line's status
``online`` (birth, retained); the broker publishes the last will ``offline`` if the daemon dies,
and a clean stop publishes ``offline`` itself. docs/mqtt.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from packline.daemon.controller import LineController
from packline.daemon.line_events import LineEvent
from packline.mqtt.payloads import EventMessages, Message, alarms_still_set, status_message
from packline.mqtt.settings import MqttSettings
from packline.store import StoreError
from packline.store.mqtt_queue import MqttQueue, QueuedMessage

log = logging.getLogger("packline.mqtt")

QOS = 1
#: How long the sender waits for one PUBACK before it looks at the link again (the message
#: stays in flight: paho sends it again after a reconnect, the front does not publish it twice).
PUBACK_WAIT_S = 1.0
#: Reconnect back-off of paho's network loop (doubling from min to max).
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 4
#: A clean stop: how long the queue may take to drain, and the offline status to be acknowledged.
STOP_FLUSH_S = 3.0
#: Messages read from the store at a time.
BATCH = 50


class MqttFront:
    """Publishes ``controller``'s line events to the broker of ``settings``."""

    def __init__(self, controller: LineController, settings: MqttSettings) -> None:
        if settings.url is None:
            raise ValueError("MQTT front without a broker url")
        self.settings = settings
        self.line = controller.config.line
        self.events = controller.events
        self.controller = controller
        self.queue = MqttQueue(controller.store)
        self._messages = EventMessages(self.line, self._alarms_still_set(controller))
        self._raise_lock = threading.Lock()  # one event's messages are queued together
        self._raised: list[Message] = []  # raised, not yet in the store (the sender moves them)
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._acked: set[int] = set()  # mids the broker acknowledged, not yet consumed
        self._in_flight: dict[int, int] = {}  # seq -> mid of a message paho still holds
        self._connects = 0
        self._birth_mid: int | None = None  # its PUBACK is not awaited: not kept in _acked
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"packline-{self.line}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        will = status_message(self.line, "offline", "connection lost")
        self.client.will_set(will.topic, json.dumps(will.payload), qos=QOS, retain=True)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.suppress_exceptions = True  # a failing callback must not end paho's loop
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._sender = threading.Thread(target=self._send_queue, name="mqtt-sender", daemon=True)

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe to the line's events and connect (in the background: a broker that is
        away now is retried with back-off, and the events wait for it in the store)."""
        self.events.subscribe(self._on_event)
        host, port = self.settings.broker()
        self.client.connect_async(host, port, keepalive=self.settings.keepalive_s)
        self.client.loop_start()
        self._sender.start()
        log.info("MQTT: publishing line %s to %s", self.line, self.settings.url)

    def stop(self) -> None:
        """Stop taking events; publish what is queued while the broker takes it (bounded), then
        the status ``offline`` (stopped), and disconnect (so the broker sends no will)."""
        self.events.unsubscribe(self._on_event)
        deadline = time.monotonic() + STOP_FLUSH_S
        while (
            self._connected.is_set()
            and time.monotonic() < deadline
            and (self._raised or self._backlog())
        ):
            time.sleep(0.02)
        self._stopping.set()
        self._kick()
        self._sender.join(PUBACK_WAIT_S + 1.0)
        self._store_raised()  # whatever came after the sender's last look is kept
        if self._connected.is_set():
            stopped = status_message(self.line, "offline", "stopped")
            info = self.client.publish(
                stopped.topic, json.dumps(stopped.payload), qos=QOS, retain=True
            )
            self._wait_acked(info.mid, max(1.0, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()
        left = self._backlog()
        if left:
            log.info("MQTT: %d messages kept in the store for the next start", left)

    @staticmethod
    def _alarms_still_set(controller: LineController) -> dict[str, dict[int, str]]:
        """Alarms published as set before a restart and not yet cleared (empty if the store
        cannot say: they are then never published as cleared, as before)."""
        store = controller.store
        try:
            return alarms_still_set(store.alarms(active_only=False), store.station_events())
        except StoreError:
            log.exception("MQTT: cannot read the alarms set before this start")
            return {}

    def _backlog(self) -> int:
        """Messages in the store's queue (0 if the store cannot say: a stop goes on)."""
        try:
            return self.queue.count()
        except StoreError:
            log.exception("MQTT: cannot count the queue")
            return 0

    def publish_stations(self, cause: str) -> None:
        """Queue every station's current state (retained): a station's state is otherwise
        published only when it changes, and a late subscriber wants it from the start."""
        with self._raise_lock:
            for station in list(self.controller.stations.values()):
                self._raised.append(self._messages.station_now(station.name, station.state, cause))
        self._kick()

    # -- events -> memory -> the store's queue ----------------------------------------------
    def _on_event(self, event: LineEvent) -> None:
        """On the thread that raised the event: only turn it into messages (the store write
        is the sender's, batched, so a station never waits on a second commit)."""
        with self._raise_lock:
            self._raised.extend(self._messages.messages(event))
        self._kick()

    def _store_raised(self) -> None:
        """Move the raised messages into the store's queue, in order, in one transaction."""
        with self._raise_lock:
            raised, self._raised = self._raised, []
        if not raised:
            return
        try:
            dropped = self.queue.put_many(
                [(m.topic, m.payload, m.retain) for m in raised], limit=self.settings.queue_limit
            )
        except StoreError:
            log.exception("MQTT: could not queue %d messages; they are lost", len(raised))
            return
        if dropped:
            log.warning(
                "MQTT: queue full (%d messages): dropped the %d oldest",
                self.settings.queue_limit,
                dropped,
            )

    # -- the store's queue -> the broker (sender thread) -----------------------------------
    def _send_queue(self) -> None:
        while not self._stopping.is_set():
            self._store_raised()
            try:
                batch = self.queue.first(BATCH) if self._connected.is_set() else []
            except StoreError:
                log.exception("MQTT: cannot read the queue")
                batch = []
            if not batch:
                with self._wake:
                    if not self._raised and not self._stopping.is_set():
                        self._wake.wait(0.5)
                continue
            self._publish(batch)

    def _publish(self, batch: list[QueuedMessage]) -> None:
        """Publish ``batch`` in order (paho keeps up to 20 in flight), then forget the prefix
        the broker acknowledged, in one transaction. A message not acknowledged stays in flight
        (paho sends it again after a reconnect): it is waited for, not published twice."""
        for queued in batch:
            if self._stopping.is_set() or not self._connected.is_set():
                break
            if queued.seq not in self._in_flight:
                body = json.dumps({**queued.payload, "seq": queued.seq})
                info = self.client.publish(queued.topic, body, qos=QOS, retain=queued.retain)
                self._in_flight[queued.seq] = info.mid
        acked = 0
        for queued in batch:
            mid = self._in_flight.get(queued.seq)
            if mid is None or not self._wait_acked(mid, PUBACK_WAIT_S):
                break
            del self._in_flight[queued.seq]
            acked = queued.seq
        if acked:
            try:
                self.queue.remove_through(acked)
            except StoreError:
                log.exception("MQTT: cannot remove through #%d; may be published twice", acked)

    def _wait_acked(self, mid: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._wake:
            while mid not in self._acked:
                left = deadline - time.monotonic()
                if left <= 0 or (self._stopping.is_set() and not self._connected.is_set()):
                    return False
                self._wake.wait(min(left, 0.1))
            self._acked.discard(mid)
            return True

    def _kick(self) -> None:
        with self._wake:
            self._wake.notify_all()

    # -- paho callbacks (its network thread) -------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: object,
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT: broker %s refused the connection: %s", self.settings.url, reason)
            return
        birth = status_message(self.line, "online", "started")
        info = client.publish(birth.topic, json.dumps(birth.payload), qos=QOS, retain=True)
        # Its PUBACK is handled on this (paho's) thread, so after this callback returns.
        self._birth_mid = info.mid
        log.info("MQTT: connected to %s", self.settings.url)
        if self._connects:  # a broker that restarted may have lost the retained states
            try:
                self.publish_stations("broker reconnected")
            except Exception:
                log.exception("MQTT: could not queue the stations' states")
        self._connects += 1
        self._connected.set()
        self._kick()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: object,
    ) -> None:
        if self._connected.is_set() and not self._stopping.is_set():
            log.warning("MQTT: lost the broker (%s); queueing in the store", reason)
        self._connected.clear()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: object,
    ) -> None:
        if mid == self._birth_mid:
            return
        with self._wake:
            self._acked.add(mid)
            self._wake.notify_all()
