"""How fast the MQTT front moves line events to a subscriber: live (events raised while the
broker is up) and a backlog (raised while it was down, drained when it returns), through the
store's queue (SQLite, synchronous FULL) and a local mosquitto. Needs mosquitto (``make
services``).

    .venv/bin/python -m benchmarks.mqtt_publish [EVENTS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from packline.daemon.controller import LineController
from packline.daemon.line_events import LineEvents
from packline.mqtt.front import MqttFront
from packline.mqtt.settings import mqtt_settings
from packline.store import Store
from sequences.packml import PackState
from sequences.station_machine import StateEvent
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_subscriber import Subscriber

LINE = "bench"


def raise_events(events: LineEvents, count: int) -> None:
    states = (PackState.IDLE, PackState.EXECUTE)
    for n in range(count):
        change = StateEvent(time.time(), f"s{n % 10}", states[n % 2], states[1 - n % 2], "bench")
        events.publish("station_state", record=change)


def main(count: int = 2000) -> None:
    folder = Path(tempfile.mkdtemp(prefix="mqtt-bench-"))
    broker = Mosquitto(folder / "broker").start()
    store = Store(folder / "line.db", line=LINE)
    events = LineEvents()
    controller = SimpleNamespace(
        config=SimpleNamespace(line=LINE), events=events, store=store, stations={}
    )
    settings = mqtt_settings({}, "bench", url=broker.url, line=LINE)
    front = MqttFront(cast(LineController, controller), settings)
    subscriber = Subscriber(broker.port, f"packline/{LINE}/stations/#", session="bench")
    front.start()
    try:
        start = time.perf_counter()
        raise_events(events, count)
        raised = time.perf_counter() - start
        subscriber.wait_for(lambda got: len(got) >= count, "live events", 600)
        took = time.perf_counter() - start
        print(f"live: {count} events raised in {raised:.2f} s ({count / raised:.0f} /s on the")
        print(f"  raising threads), all received after {took:.2f} s: {count / took:.0f} /s")
        broker.stop()
        time.sleep(0.5)
        raise_events(events, count)
        time.sleep(1.0)  # in the store
        subscriber.received.clear()
        start = time.perf_counter()
        broker.start()
        subscriber.wait_for(lambda got: len(got) >= count, "the backlog", 600)
        took = time.perf_counter() - start
        print(f"backlog: {count} queued while the broker was down, received {took:.2f} s")
        print(f"  after it returned (reconnect back-off included): {count / took:.0f} /s")
    finally:
        front.stop()
        subscriber.close()
        store.close()
        broker.stop()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
