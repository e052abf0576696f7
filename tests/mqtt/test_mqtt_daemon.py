"""The MQTT front of a real ``packline serve --simulate --mqtt`` process, against a real
mosquitto broker and a paho subscriber: a lot's events in order, retained station state for a
late subscriber, the last will after kill -9 and the birth message on restart, and the events
raised while the broker was away delivered in order when it is back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from packline.store import Store
from packline.store.mqtt_queue import MqttQueue
from tests.support.daemon_process import DaemonProcess
from tests.support.integration_waits import wait_until
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_subscriber import Received, Subscriber

TOKEN = "mqtt-test-token"
LINE = "package-line-1"  # configs/line.yaml
ROOT = f"packline/{LINE}"
RECIPE = "heat-slug-die-equal"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    running = Mosquitto(tmp_path / "broker").start()
    try:
        yield running
    finally:
        running.stop()


def start_daemon(db: Path | str, broker: Mosquitto, log_dir: Path | None = None) -> DaemonProcess:
    """A daemon of line LINE on ``db`` (an SQLite file, or a PostgreSQL url with ``log_dir``)."""
    return DaemonProcess(db, TOKEN, line=LINE, log_dir=log_dir, extra=("--mqtt", broker.url))


def submit(daemon: DaemonProcess, lot_id: str, strips: int = 2) -> None:
    answer = daemon.post("/lots", {"recipe": RECIPE, "strips": strips, "lot_id": lot_id})
    assert answer.status_code == 201, answer.text


def lot_events(received: list[Received], lot_id: str) -> list[Received]:
    return [r for r in received if r.topic == f"{ROOT}/lots/{lot_id}"]


def lot_done(lot_id: str):  # type: ignore[no-untyped-def]
    return lambda got: any(r.payload["event"] == "lot_finished" for r in lot_events(got, lot_id))


def status_is(state: str, reason: str):  # type: ignore[no-untyped-def]
    def found(got: list[Received]) -> bool:
        statuses = [r.payload for r in got if r.topic == f"{ROOT}/status"]
        return bool(statuses) and (statuses[-1]["state"], statuses[-1]["reason"]) == (state, reason)

    return found


def assert_a_whole_lot_in_order(events: list[Received], lot_id: str, strips: int) -> None:
    """Queued, started, each strip's steps started before done, every strip finished, then the
    lot finished complete; every payload of schema 1 with increasing seq."""
    kinds = [r.payload["event"] for r in events]
    assert kinds[:2] == ["lot_queued", "lot_started"], kinds
    assert kinds[-1] == "lot_finished" and events[-1].payload["status"] == "complete"
    assert all(r.payload["schema"] == 1 and r.payload["line"] == LINE for r in events)
    seqs = [r.payload["seq"] for r in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    done = [r.payload for r in events if r.payload["event"] == "step_done"]
    strip_ids = {f"{lot_id}-{n:02d}" for n in range(1, strips + 1)}
    assert {d["strip_id"] for d in done} == strip_ids
    for d in done:
        assert sum(d["sites"].values()) == len(d["result_map"]) > 0
        started = [
            i
            for i, r in enumerate(events)
            if r.payload["event"] == "step_started"
            and d["strip_id"] in r.payload["strip_ids"]
            and r.payload["step_index"] == d["step_index"]
        ]
        assert started and started[0] < kinds.index("lot_finished")
    finished = [r.payload["strip_id"] for r in events if r.payload["event"] == "strip_finished"]
    assert sorted(finished) == sorted(strip_ids)
    assert not any(r.retained for r in events)


def test_a_subscriber_receives_a_lots_events_in_order_and_a_clean_stop(
    tmp_path: Path, broker: Mosquitto
) -> None:
    with closing(Subscriber(broker.port, f"{ROOT}/#")) as subscriber:
        with start_daemon(tmp_path / "line.db", broker) as daemon:
            subscriber.wait_for(status_is("online", "started"), "birth message")
            submit(daemon, "MQ1")
            got = subscriber.wait_for(lot_done("MQ1"), "MQ1 finished")
            assert_a_whole_lot_in_order(lot_events(got, "MQ1"), "MQ1", strips=2)
            states = [r for r in got if r.topic.endswith("/state")]
            assert states and all(r.payload["event"] == "station_state" for r in states)
            cycles = [r.payload for r in got if r.topic.endswith("/cycles")]
            assert cycles and all(c["event"] == "cycle_done" and c["final_state"] for c in cycles)
            assert daemon.stop() == 0, daemon.log()
        subscriber.wait_for(status_is("offline", "stopped"), "offline on a clean stop", 10)


def test_a_late_subscriber_sees_each_stations_current_state_retained(
    tmp_path: Path, broker: Mosquitto
) -> None:
    with start_daemon(tmp_path / "line.db", broker) as daemon:
        with Store(tmp_path / "line.db", line=LINE) as store:
            queue = MqttQueue(store)
            wait_until(lambda: queue.count() == 0, 10, "a state change never reached the broker")
        # The line's view once every change so far is at the broker (none come without a lot).
        stations = {s["name"]: s["state"] for s in daemon.http.get("/stations").json()}
        with closing(Subscriber(broker.port, f"{ROOT}/stations/+/state")) as late:
            got = late.wait_for(lambda g: len(g) >= len(stations), "every station's state")
        assert all(r.retained for r in got)
        assert {r.payload["station"]: r.payload["state"] for r in got} == stations


def test_kill_9_publishes_the_last_will_and_a_restart_the_birth_message(
    tmp_path: Path, broker: Mosquitto
) -> None:
    with (
        closing(Subscriber(broker.port, f"{ROOT}/status")) as subscriber,
        start_daemon(tmp_path / "line.db", broker) as daemon,
    ):
        subscriber.wait_for(status_is("online", "started"), "birth message")
        daemon.kill()
        got = subscriber.wait_for(status_is("offline", "connection lost"), "last will", 10)
        assert got[-1].payload["schema"] == 1
        daemon.start()
        subscriber.wait_for(status_is("online", "started"), "birth message after restart", 10)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_events_raised_while_the_broker_is_down_arrive_in_order_when_it_returns(
    tmp_path: Path, broker: Mosquitto, engine: str, request: pytest.FixtureRequest
) -> None:
    db = str(request.getfixturevalue("pg_url")) if engine == "postgresql" else tmp_path / "l.db"
    # A persistent session: the broker keeps the subscription while it is down and after.
    with (
        closing(Subscriber(broker.port, f"{ROOT}/lots/#", session="plant-mes")) as subscriber,
        start_daemon(db, broker, tmp_path) as daemon,
    ):
        broker.stop()
        submit(daemon, "MQ2", strips=1)
        daemon.wait_lot("MQ2", 60)
        with Store(db, line=LINE) as store:
            assert MqttQueue(store).count() > 0  # kept in the store while the broker is away
        assert subscriber.received == []
        broker.start()
        got = subscriber.wait_for(lot_done("MQ2"), "MQ2's events after the broker returned")
        assert_a_whole_lot_in_order(lot_events(got, "MQ2"), "MQ2", strips=1)
