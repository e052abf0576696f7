"""Line events as MQTT messages (topics, payloads, retain), and the MQTT settings' checks."""

from __future__ import annotations

import pytest

from packline.cli import build_parser
from packline.daemon.line_events import LineEvent
from packline.mqtt.payloads import SCHEMA_VERSION, EventMessages, alarms_still_set
from packline.mqtt.settings import mqtt_settings
from packline.store import Store
from sequences.config_errors import ConfigError
from sequences.packml import PackState
from sequences.records import AlarmRecord, CycleRecord
from sequences.station_machine import StateEvent
from tests.conftest import Db

T0 = 1_800_000_000.0


def alarm(code: int, alarm_class: str, handling: str) -> LineEvent:
    record = AlarmRecord(T0, "die-bonder", ("L1-01",), code, alarm_class, f"text {code}", handling)
    return LineEvent("alarm", {"lot_id": "L1", "record": record})


def state(new: PackState, old: PackState = PackState.HELD) -> LineEvent:
    return LineEvent("station_state", {"record": StateEvent(T0 + 1, "die-bonder", old, new, "x")})


def test_an_alarm_is_set_then_cleared_when_its_station_is_back_at_work() -> None:
    messages = EventMessages("line-a")
    (set_,) = messages.messages(alarm(2101, "E", "strip on hold"))
    assert set_.topic == "packline/line-a/alarms" and not set_.retain
    assert set_.payload["event"] == "alarm_set" and set_.payload["code"] == 2101
    assert set_.payload["schema"] == SCHEMA_VERSION and set_.payload["lot_id"] == "L1"
    held = messages.messages(state(PackState.HELD, PackState.EXECUTE))
    assert [m.payload["event"] for m in held] == ["station_state"]  # still set while held
    idle = messages.messages(state(PackState.IDLE))
    assert [(m.topic, m.retain) for m in idle] == [
        ("packline/line-a/stations/die-bonder/state", True),
        ("packline/line-a/alarms", False),
    ]
    assert idle[0].payload["state"] == "IDLE" and idle[0].payload["previous"] == "HELD"
    assert idle[1].payload["event"] == "alarm_cleared" and idle[1].payload["code"] == 2101
    assert len(messages.messages(state(PackState.IDLE))) == 1  # cleared once


def test_an_alarm_set_before_a_restart_is_published_as_cleared_after_it(db: Db) -> None:
    held, idle = PackState.HELD, PackState.IDLE
    with Store(db("line.db"), line="line-a") as store:  # the daemon's life before the restart
        store.state_event(StateEvent(T0 - 20, "die-bonder", held, idle, "reset"))
        store.state_event(StateEvent(T0 - 20, "wire-bonder", held, idle, "reset"))
        store.alarm("", AlarmRecord(T0 - 30, "die-bonder", (), 2105, "E", "old", "resumed"))
        store.alarm("", AlarmRecord(T0 - 10, "die-bonder", (), 2101, "E", "epoxy", "hold"))
        store.alarm("", AlarmRecord(T0 - 9, "die-bonder", (), 0, "REQUEST", "syringe", "asked"))
        store.alarm("", AlarmRecord(T0 - 8, "die-bonder", (), 2203, "W", "cal", "upkeep done"))
        store.alarm("", AlarmRecord(T0 - 5, "wire-bonder", (), 3101, "E", "wire", "hold"))
        store.state_event(StateEvent(T0 - 2, "wire-bonder", held, idle, "clear"))
    with Store(db("line.db"), line="line-a") as store:  # after the restart
        still_set = alarms_still_set(store.alarms(active_only=False), store.station_events())
    # Only die-bonder 2101: 2105 came before the station was back at work, the request and
    # the calibration are upkeep, and the wire bonder went back to IDLE after its 3101.
    assert still_set == {"die-bonder": {2101: "epoxy"}}
    messages = EventMessages("line-a", still_set)
    back = messages.messages(state(PackState.IDLE))
    assert [(m.payload["event"], m.payload.get("code")) for m in back] == [
        ("station_state", None),
        ("alarm_cleared", 2101),
    ]


def test_upkeep_and_operator_requests_go_to_the_upkeep_topic_not_the_alarms() -> None:
    messages = EventMessages("line-a")
    (request,) = messages.messages(alarm(0, "REQUEST", "operator request answered in 40 tool s"))
    (upkeep,) = messages.messages(alarm(2203, "W", "upkeep done in 40 tool s"))
    assert request.topic == upkeep.topic == "packline/line-a/upkeep"
    assert (request.payload["event"], upkeep.payload["event"]) == ("operator_request", "upkeep")
    assert [m.topic for m in messages.messages(state(PackState.IDLE))] == [
        "packline/line-a/stations/die-bonder/state"
    ]  # nothing to clear


def test_the_command_line_url_wins_over_the_config() -> None:
    section = {"url": "mqtt://broker.plant:1883", "queue_limit": 5}
    settings = mqtt_settings(section, "line.yaml", url="mqtt://127.0.0.1:1999", line="l")
    assert settings.broker() == ("127.0.0.1", 1999) and settings.queue_limit == 5
    assert mqtt_settings({}, "line.yaml", url=None, line="l").url is None
    assert mqtt_settings({"url": "mqtt://h"}, "x", url=None, line="l").broker() == ("h", 1883)
    assert mqtt_settings(section, "line.yaml", url="none", line="l").url is None, (
        "--mqtt none publishes nothing, whatever the config says"
    )


@pytest.mark.parametrize(
    ("section", "url", "line", "named"),
    [
        ({}, "http://broker:1883", "l", "scheme http not served"),
        ({}, "mqtt://:1883", "l", "no host"),
        ({}, "mqtt://broker:99999", "l", "out of range"),
        ({}, "mqtt://broker:1883/x", "l", "no path"),
        ({}, "mqtt://broker", "line/1", "line name 'line/1'"),
        ({"url": "mqtt://b", "queue_limit": 0}, None, "l", "mqtt.queue_limit"),
        ({"url": "mqtt://b", "qos": 2}, None, "l", "mqtt.qos"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(
    section: dict[str, object], url: str | None, line: str, named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace("(", r"\(")):
        mqtt_settings(section, "line.yaml", url=url, line=line)


def test_cycles_operator_lot_commands_and_alarm_acks_are_published_too() -> None:
    messages = EventMessages("line-a")
    cycle = CycleRecord(
        "die-bonder", "die-bonder", "die attach", ("L1-01",), T0, T0 + 5, T0 + 45, "DONE"
    )
    (done,) = messages.messages(LineEvent("cycle_done", {"record": cycle}))
    assert done.topic == "packline/line-a/stations/die-bonder/cycles"
    assert (done.payload["final_state"], done.payload["ended"]) == ("DONE", T0 + 45)
    command = {"lot_id": "L1", "command": "hold", "by": "ann", "status": "held"}
    (held,) = messages.messages(LineEvent("lot_command", command))
    assert held.topic == "packline/line-a/lots/L1"
    assert (held.payload["event"], held.payload["status"], held.payload["by"]) == (
        "lot_command",
        "held",
        "ann",
    )
    ack = {"alarm_id": 7, "station": "die-bonder", "code": 2101, "by": "ann"}
    (acked,) = messages.messages(LineEvent("alarm_acked", ack))
    assert acked.topic == "packline/line-a/alarms" and acked.payload["alarm_id"] == 7


def test_the_environment_gives_the_broker_when_the_command_line_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PACKLINE_MQTT", "mqtt://broker.plant:1883")
    assert build_parser().parse_args(["serve"]).mqtt == "mqtt://broker.plant:1883"
    given = build_parser().parse_args(["serve", "--mqtt", "mqtt://other:1"])
    assert given.mqtt == "mqtt://other:1"
