"""The daemon's HTTP API over real loopback HTTP, in front of an in-memory controller.

The HTTP layer is under test here: routing, auth, request checks, errors, logging, the OpenAPI
document. :class:`FakeController` implements :class:`ControllerAPI` with the shapes of the real
controller's answers and records every call; ``tests/unit/test_client_cli.py`` reuses it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from packline import __version__
from packline.daemon import auth
from packline.daemon.controller_api import ControllerAPI, Json
from packline.daemon.errors import BadRequest, Conflict, NotFound
from packline.daemon.http_api import MAX_BODY_BYTES, OPERATOR, ROUTES, make_server
from packline.daemon.openapi import OPENAPI, STATION_COMMANDS, problems_in

TOKEN = "test-token-0123456789"

# -- an in-memory controller ---------------------------------------------------------------------

_STATION_MOVES = {  # command -> (states it is allowed in, state after); None: any state
    "hold": ({"EXECUTE"}, "HELD"),
    "unhold": ({"HELD"}, "EXECUTE"),
    "suspend": ({"EXECUTE"}, "SUSPENDED"),
    "unsuspend": ({"SUSPENDED"}, "EXECUTE"),
    "stop": (None, "STOPPED"),
    "abort": (None, "ABORTED"),
    "clear": ({"ABORTED"}, "STOPPED"),
    "reset": ({"STOPPED"}, "IDLE"),
}


def _lot(lot_id: str, recipe: str, strip_ids: list[str], status: str = "queued") -> Json:
    return {
        "lot_id": lot_id,
        "recipe_name": recipe,
        "status": status,
        "reason": "",
        "created": 1_795_000_000.0,
        "started": None,
        "finished": None,
        "strip_count": len(strip_ids),
        "strip_ids": strip_ids,
        "steps": ["laminate", "die attach"],
        "rows": 3,
        "cols": 10,
        "counts": {"complete": 0, "scrapped": 0, "on hold": 0, "in progress": len(strip_ids)},
        "progress": [
            {"step_index": 0, "step": "laminate", "strips_done": 1, "units_passed": 30},
            {"step_index": 1, "step": "die attach", "strips_done": 0, "units_passed": 0},
        ],
        "strips": [
            {"strip_id": s, "position": i, "status": "waiting", "next_step": "laminate"}
            for i, s in enumerate(strip_ids)
        ],
    }


class FakeController:
    """:class:`ControllerAPI` on dicts. ``fail_with``: every method raises it (a broken controller)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: BaseException | None = None
        self.block: threading.Event | None = None  # list_stations waits for it when set
        self.lots: dict[str, Json] = {"L1": _lot("L1", "heat-slug-die-equal", ["L1-01", "L1-02"])}
        self.stations: dict[str, Json] = {
            "mold-press": {
                "name": "mold-press",
                "tool": "mold-press",
                "address": "modbus+tcp://127.0.0.1:5020?unit=1",
                "state": "EXECUTE",
                "step": "mold",
                "strips": ["L1-01"],
                "policy": "retry",
                "alarms": [{"code": 4115, "class": "H", "text": "Chase temperature low"}],
                "e10_s": {"productive": 120.5, "standby": 30.0},
            },
            "laminator": {
                "name": "laminator",
                "tool": "laminator",
                "address": "modbus+tcp://127.0.0.1:5021?unit=1",
                "state": "IDLE",
                "step": None,
                "strips": [],
                "policy": "wait",
            },
        }
        self.alarms: list[Json] = [
            {
                "alarm_id": 1,
                "lot_id": "L1",
                "time": 1_795_000_100.0,
                "station": "mold-press",
                "strip_ids": ["L1-01"],
                "code": 4115,
                "class": "H",
                "text": "Chase temperature low",
                "handling": "resumed",
                "acked_at": None,
                "acked_by": None,
                "active": True,
            },
            {
                "alarm_id": 2,
                "lot_id": "L1",
                "time": 1_795_000_050.0,
                "station": "laminator",
                "strip_ids": [],
                "code": 1203,
                "class": "W",
                "text": "Film roll low",
                "handling": "resumed",
                "acked_at": 1_795_000_060.0,
                "acked_by": "operator",
                "active": False,
            },
        ]

    def _called(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        if self.fail_with is not None:
            raise self.fail_with

    def _lot_or_404(self, lot_id: str) -> Json:
        if lot_id not in self.lots:
            raise NotFound(f"no lot {lot_id!r}")
        return self.lots[lot_id]

    # -- lots
    def submit_lot(
        self,
        *,
        recipe: str | None,
        strips: int | None,
        strip_ids: list[str] | None,
        lot_id: str | None,
        by: str,
    ) -> Json:
        self._called(
            "submit_lot", recipe=recipe, strips=strips, strip_ids=strip_ids, lot_id=lot_id, by=by
        )
        if recipe not in (None, "heat-slug-die-equal", "film-laser-wire"):
            raise BadRequest(f"no recipe {recipe!r}", ["known: heat-slug-die-equal"])
        lot_id = lot_id or f"L{len(self.lots) + 1}"
        if lot_id in self.lots:
            raise Conflict(f"lot {lot_id} exists")
        if strip_ids is None:
            if strips is None:
                raise BadRequest("give strips (a count) or strip_ids")
            strip_ids = [f"{lot_id}-{k:02d}" for k in range(1, strips + 1)]
        self.lots[lot_id] = _lot(lot_id, recipe or "heat-slug-die-equal", strip_ids)
        return self.lots[lot_id]

    def list_lots(self) -> list[Json]:
        self._called("list_lots")
        return [
            {k: v for k, v in lot.items() if k not in ("progress", "strips")}
            for lot in self.lots.values()
        ]

    def show_lot(self, lot_id: str) -> Json:
        self._called("show_lot", lot_id=lot_id)
        return self._lot_or_404(lot_id)

    def lot_command(self, lot_id: str, command: str, *, by: str) -> Json:
        self._called("lot_command", lot_id=lot_id, command=command, by=by)
        lot = self._lot_or_404(lot_id)
        if lot["status"] == "aborted":
            raise Conflict(f"lot {lot_id} is aborted")
        lot["status"] = {"hold": "held", "release": "running", "abort": "aborted"}[command]
        lot["reason"] = f"{command} by {by}"
        return lot

    # -- strips and units
    def show_strip(self, strip_id: str) -> Json:
        self._called("show_strip", strip_id=strip_id)
        if strip_id != "L1-01":
            raise NotFound(f"no strip {strip_id!r}")
        return {"strip_id": strip_id, "lot_id": "L1", "status": "waiting", "steps": []}

    def show_unit(self, strip_id: str, site: int) -> Json:
        self._called("show_unit", strip_id=strip_id, site=site)
        if strip_id != "L1-01" or site > 30:
            raise NotFound(f"no unit {strip_id}:{site}")
        step = {
            "step": "laminate",
            "station": "laminator",
            "tool": "laminator",
            "started": 1_795_000_000.0,
            "ended": 1_795_005_657.2,
            "result": "P",
            "defect": 0,
            "values": {"void_pct": 0.8},
            "recipe_values": {"press_temp_c": 180},
        }
        return {"strip_id": strip_id, "site": site, "lot_id": "L1", "steps": [step]}

    # -- stations
    def list_stations(self) -> list[Json]:
        self._called("list_stations")
        if self.block is not None:
            self.block.wait(10)
        return [
            {k: v for k, v in s.items() if k not in ("alarms", "e10_s")}
            for s in self.stations.values()
        ]

    def _station_or_404(self, name: str) -> Json:
        if name not in self.stations:
            raise NotFound(f"no station {name!r}")
        return self.stations[name]

    def show_station(self, name: str) -> Json:
        self._called("show_station", name=name)
        return self._station_or_404(name)

    def station_command(self, name: str, command: str, *, by: str) -> Json:
        self._called("station_command", name=name, command=command, by=by)
        station = self._station_or_404(name)
        allowed, after = _STATION_MOVES[command]
        if allowed is not None and station["state"] not in allowed:
            raise Conflict(f"{command} is not allowed in {station['state']}", [name])
        station["state"] = after
        return station

    # -- alarms
    def list_alarms(self, *, active_only: bool) -> list[Json]:
        self._called("list_alarms", active_only=active_only)
        return [a for a in self.alarms if a["active"] or not active_only]

    def ack_alarm(self, alarm_id: int, *, by: str) -> Json:
        self._called("ack_alarm", alarm_id=alarm_id, by=by)
        for alarm in self.alarms:
            if alarm["alarm_id"] == alarm_id:
                alarm.update(active=False, acked_by=by, acked_at=1_795_000_200.0)
                return alarm
        raise NotFound(f"no alarm {alarm_id}")

    # -- recipes, E10
    def list_recipes(self) -> list[Json]:
        self._called("list_recipes")
        return [
            {"name": "heat-slug-die-equal", "product": "heat-slug", "variant": "die equal"},
            {"name": "broken", "valid": False, "problems": ["die.width_mm: missing"]},
        ]

    def validate_recipe(self, *, name: str | None, text: str | None) -> Json:
        self._called("validate_recipe", name=name, text=text)
        if name == "heat-slug-die-equal" or (text and "product" in text):
            return {"valid": True, "problems": [], "route": ["laminate", "die attach"]}
        return {"valid": False, "problems": ["product: missing"], "route": []}

    def e10(self) -> Json:
        self._called("e10")
        return {
            "laminator": {"productive": 5657.2, "standby": 600.0, "unscheduled down": 0.0},
            "mold-press": {"productive": 183.9, "standby": 6000.0, "unscheduled down": 12.5},
        }


def _is_a_controller(controller: ControllerAPI) -> ControllerAPI:
    return controller  # mypy checks that FakeController implements the protocol


_is_a_controller(FakeController())


@contextmanager
def running_server(controller: ControllerAPI, token: str = TOKEN) -> Iterator[str]:
    """The API on a free loopback port for the block; yields its base URL."""
    server = make_server(controller, token=token)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="test-http", daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def base_url(controller: FakeController) -> Iterator[str]:
    with running_server(controller) as url:
        yield url


# -- an HTTP helper ------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


def request(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = TOKEN,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a new connection; ``body`` as JSON, or ``raw`` bytes as they are."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    sent = dict(headers or {})
    if token is not None:
        sent.setdefault("Authorization", f"Bearer {token}")
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, data, sent)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    parsed = json.loads(payload) if payload else None
    return Reply(response.status, response.headers, parsed)


def raw_exchange(base_url: str, data: bytes) -> tuple[int, Any]:
    """Send bytes as they are, read the answer until the server closes; (status, JSON body)."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname or "", url.port or 0), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else None


def assert_refused(reply: Reply, status: int, *words: str) -> None:
    """A refusal: the status, ``{"error", "problems"}``, and each word in the error or problems."""
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    assert set(reply.body) == {"error", "problems"}
    text = " ".join([reply.body["error"], *reply.body["problems"]])
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


# -- every route -----------------------------------------------------------------------------------

#: The routes of the API as docs/http-api.md lists them.
EXPECTED_ROUTES = {
    ("GET", "/openapi.json"),
    ("GET", "/health"),
    ("POST", "/lots"),
    ("GET", "/lots"),
    ("GET", "/lots/{lot_id}"),
    ("POST", "/lots/{lot_id}/{command}"),
    ("GET", "/strips/{strip_id}"),
    ("GET", "/strips/{strip_id}/map"),
    ("GET", "/units/{strip_id}/{site}"),
    ("GET", "/stations"),
    ("GET", "/stations/{name}"),
    ("POST", "/stations/{name}/{command}"),
    ("GET", "/alarms"),
    ("POST", "/alarms/{alarm_id}/ack"),
    ("GET", "/recipes"),
    ("POST", "/recipes/validate"),
    ("GET", "/e10"),
}

SAMPLE_PARAMS = {
    "lot_id": "L1",
    "strip_id": "L1-01",
    "site": "3",
    "name": "mold-press",
    "command": "hold",
    "alarm_id": "1",
}
SAMPLE_BODIES = {
    "/lots": {"strips": 2},
    "/recipes/validate": {"name": "heat-slug-die-equal"},
}


def _schema_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def test_openapi_lists_exactly_the_routes_the_server_serves(base_url: str) -> None:
    reply = request(base_url, "GET", "/openapi.json", token=None)
    assert reply.status == 200
    document = reply.body
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == __version__
    assert _schema_routes(document) == EXPECTED_ROUTES
    assert {(r.method, r.template) for r in ROUTES} == EXPECTED_ROUTES
    assert document == json.loads(json.dumps(OPENAPI))


def test_openapi_document_is_self_consistent() -> None:
    """Every $ref resolves, every path parameter is declared once, operation ids are unique,
    every POST needs the token and no GET does."""
    text = json.dumps(OPENAPI)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        assert _resolve({"$ref": ref}, OPENAPI), ref
    operation_ids = []
    for path, methods in OPENAPI["paths"].items():
        templated = {s[1:-1] for s in path.split("/") if s.startswith("{")}
        for method, operation in methods.items():
            operation_ids.append(operation["operationId"])
            declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert sorted(declared) == sorted(templated), (method, path)
            assert ("security" in operation) == (method == "post"), (method, path)
            assert "500" in operation["responses"]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_documented_route_answers_with_its_documented_schema(
    base_url: str, controller: FakeController
) -> None:
    for method, template in sorted(EXPECTED_ROUTES):
        path = template.format(**SAMPLE_PARAMS)
        reply = request(base_url, method, path, SAMPLE_BODIES.get(template))
        operation = OPENAPI["paths"][template][method.lower()]
        (status, success), *_ = operation["responses"].items()
        assert reply.status == int(status), (method, path, reply.body)
        schema = success["content"]["application/json"]["schema"]
        assert problems_in(reply.body, schema) == [], (method, path)


def test_paths_outside_the_document_are_404_with_a_pointer_to_it(base_url: str) -> None:
    for path in ("/", "/nope", "/lots/", "/lots/L1/hold/now", "/units/L1-01", "/e10/x", "x"):
        reply = request(base_url, "GET", path, token=None)
        assert_refused(reply, 404, "no such route", "/openapi.json")


def test_wrong_method_is_405_naming_the_allowed_ones(base_url: str) -> None:
    for method, template in sorted(EXPECTED_ROUTES):
        path = template.format(**SAMPLE_PARAMS)
        wrong = "POST" if method == "GET" and template not in ("/lots",) else "PUT"
        reply = request(base_url, wrong, path, {} if wrong == "POST" else None)
        assert_refused(reply, 405, "not allowed")
        assert method in reply.headers["Allow"].split(", "), (wrong, path)
    for method in ("DELETE", "PATCH", "OPTIONS"):
        assert request(base_url, method, "/lots/L1").status == 405


def test_head_is_405_without_a_body(base_url: str) -> None:
    reply = request(base_url, "HEAD", "/health")
    assert reply.status == 405 and reply.body is None and reply.headers["Allow"] == "GET"


def test_health_answers_version_and_uptime(base_url: str) -> None:
    reply = request(base_url, "GET", "/health", token=None)
    assert reply.status == 200
    assert reply.body["status"] == "ok" and reply.body["version"] == __version__
    assert 0 <= reply.body["uptime_s"] < 60


# -- lots --------------------------------------------------------------------------------------------


def test_submit_lot_passes_every_field_and_answers_201_with_location(
    base_url: str, controller: FakeController
) -> None:
    body = {"recipe": "film-laser-wire", "strip_ids": ["A-1", "A-2"], "lot_id": "A"}
    reply = request(base_url, "POST", "/lots", body)
    assert reply.status == 201
    assert reply.body["lot_id"] == "A" and reply.body["status"] == "queued"
    assert reply.headers["Location"] == "/lots/A"
    assert controller.calls[-1] == (
        "submit_lot",
        {**body, "strips": None, "by": OPERATOR},
    )


def test_submit_lot_with_an_empty_body_leaves_the_defaults_to_the_controller(
    base_url: str, controller: FakeController
) -> None:
    reply = request(base_url, "POST", "/lots", raw=b"")
    assert_refused(reply, 400, "give strips")  # the controller's own refusal
    assert controller.calls == [
        (
            "submit_lot",
            {"recipe": None, "strips": None, "strip_ids": None, "lot_id": None, "by": OPERATOR},
        )
    ]


def test_list_and_show_lots(base_url: str) -> None:
    request(base_url, "POST", "/lots", {"strips": 3, "lot_id": "L2"})
    lots = request(base_url, "GET", "/lots", token=None)
    assert [lot["lot_id"] for lot in lots.body] == ["L1", "L2"]
    lot = request(base_url, "GET", "/lots/L2", token=None)
    assert lot.status == 200 and lot.body["strip_ids"] == ["L2-01", "L2-02", "L2-03"]


def test_lot_commands_reach_the_controller_and_its_refusals_keep_their_status(
    base_url: str, controller: FakeController
) -> None:
    for command, status in (("hold", "held"), ("release", "running"), ("abort", "aborted")):
        reply = request(base_url, "POST", f"/lots/L1/{command}")
        assert reply.status == 200 and reply.body["status"] == status
        assert controller.calls[-1] == (
            "lot_command",
            {"lot_id": "L1", "command": command, "by": OPERATOR},
        )
    assert_refused(request(base_url, "POST", "/lots/L1/release"), 409, "L1 is aborted")
    assert_refused(request(base_url, "GET", "/lots/L9", token=None), 404, "no lot 'L9'")
    assert_refused(request(base_url, "POST", "/lots/L1/pause"), 404, "hold, release, abort")


def test_path_segments_are_percent_decoded_whole(base_url: str, controller: FakeController) -> None:
    assert request(base_url, "GET", "/lots/a%2Fb%20c", token=None).status == 404
    assert controller.calls[-1] == ("show_lot", {"lot_id": "a/b c"})


# -- strips, units, stations, alarms, recipes, E10 ---------------------------------------------------


def test_show_strip_and_unit(base_url: str, controller: FakeController) -> None:
    strip = request(base_url, "GET", "/strips/L1-01", token=None)
    assert strip.status == 200 and strip.body["lot_id"] == "L1"
    unit = request(base_url, "GET", "/units/L1-01/7", token=None)
    assert unit.status == 200 and unit.body["steps"][0]["result"] == "P"
    assert controller.calls[-1] == ("show_unit", {"strip_id": "L1-01", "site": 7})
    assert_refused(request(base_url, "GET", "/units/L1-01/31", token=None), 404, "L1-01:31")


def test_unit_site_must_be_a_positive_integer(base_url: str, controller: FakeController) -> None:
    for site, words in (("seven", ("site", "integer")), ("0", ("site", "at least 1"))):
        assert_refused(request(base_url, "GET", f"/units/L1-01/{site}", token=None), 400, *words)
    assert_refused(request(base_url, "GET", "/units/L1-01/" + "9" * 40, token=None), 400, "site")
    assert controller.calls == []


def test_stations_list_show_and_every_command(base_url: str, controller: FakeController) -> None:
    stations = request(base_url, "GET", "/stations", token=None)
    assert [s["name"] for s in stations.body] == ["mold-press", "laminator"]
    assert request(base_url, "GET", "/stations/mold-press", token=None).body["state"] == "EXECUTE"
    sequence = ["hold", "unhold", "suspend", "unsuspend", "stop", "reset", "abort", "clear"]
    assert sorted(sequence) == sorted(STATION_COMMANDS)
    for command in sequence:
        reply = request(base_url, "POST", f"/stations/mold-press/{command}")
        assert reply.status == 200, (command, reply.body)
        assert controller.calls[-1] == (
            "station_command",
            {"name": "mold-press", "command": command, "by": OPERATOR},
        )
    assert_refused(
        request(base_url, "POST", "/stations/laminator/unhold"), 409, "not allowed in IDLE"
    )
    assert_refused(request(base_url, "POST", "/stations/nope/hold"), 404, "no station 'nope'")
    assert_refused(request(base_url, "POST", "/stations/laminator/fly"), 404, "command", "reset")


def test_alarms_filter_on_active_and_ack(base_url: str, controller: FakeController) -> None:
    every = request(base_url, "GET", "/alarms", token=None)
    assert [a["alarm_id"] for a in every.body] == [1, 2]
    assert controller.calls[-1] == ("list_alarms", {"active_only": False})
    active = request(base_url, "GET", "/alarms?active=true", token=None)
    assert [a["alarm_id"] for a in active.body] == [1]
    assert request(base_url, "GET", "/alarms?active=False", token=None).status == 200
    assert controller.calls[-1] == ("list_alarms", {"active_only": False})
    acked = request(base_url, "POST", "/alarms/1/ack")
    assert acked.status == 200 and acked.body["acked_by"] == OPERATOR
    assert_refused(request(base_url, "POST", "/alarms/99/ack"), 404, "no alarm 99")
    assert_refused(request(base_url, "POST", "/alarms/one/ack"), 400, "alarm_id", "integer")


def test_bad_query_parameters_are_400_naming_them(base_url: str) -> None:
    assert_refused(request(base_url, "GET", "/alarms?active=maybe"), 400, "active", "true or false")
    assert_refused(request(base_url, "GET", "/alarms?actve=true"), 400, "'actve'", "active")
    assert_refused(request(base_url, "GET", "/alarms?active=true&active=false"), 400, "2 times")
    assert_refused(request(base_url, "GET", "/lots?page=2"), 400, "'page'", "none")


def test_recipes_list_and_validate(base_url: str, controller: FakeController) -> None:
    recipes = request(base_url, "GET", "/recipes", token=None)
    assert recipes.body[0]["name"] == "heat-slug-die-equal"
    by_name = request(base_url, "POST", "/recipes/validate", {"name": "heat-slug-die-equal"})
    assert by_name.body == {"valid": True, "problems": [], "route": ["laminate", "die attach"]}
    by_text = request(base_url, "POST", "/recipes/validate", {"text": "name: x\n"})
    assert by_text.status == 200 and by_text.body["valid"] is False
    assert controller.calls[-1] == ("validate_recipe", {"name": None, "text": "name: x\n"})


def test_recipe_validate_needs_exactly_one_of_name_and_text(
    base_url: str, controller: FakeController
) -> None:
    calls = len(controller.calls)
    assert_refused(request(base_url, "POST", "/recipes/validate", {}), 400, "name or text")
    assert_refused(request(base_url, "POST", "/recipes/validate", raw=b""), 400, "JSON body")
    both = {"name": "heat-slug-die-equal", "text": "x"}
    assert_refused(request(base_url, "POST", "/recipes/validate", both), 400, "not both")
    assert_refused(request(base_url, "POST", "/recipes/validate", {"name": "../etc"}), 400, "name")
    assert len(controller.calls) == calls


def test_e10_is_seconds_per_category_per_station(base_url: str) -> None:
    reply = request(base_url, "GET", "/e10", token=None)
    assert reply.body["laminator"]["productive"] == 5657.2


# -- auth ----------------------------------------------------------------------------------------------


def test_every_post_without_the_token_is_401_and_reaches_nothing(
    base_url: str, controller: FakeController
) -> None:
    for method, template in sorted(EXPECTED_ROUTES):
        if method != "POST":
            continue
        path = template.format(**SAMPLE_PARAMS)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            reply = request(
                base_url, "POST", path, SAMPLE_BODIES.get(template, {}), token=None, headers=headers
            )
            assert_refused(reply, 401, "token")
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert controller.calls == []


def test_missing_and_wrong_token_get_different_messages(base_url: str) -> None:
    missing = request(base_url, "POST", "/lots/L1/hold", token=None)
    assert_refused(missing, 401, "missing token", "Authorization: Bearer")
    assert_refused(request(base_url, "POST", "/lots/L1/hold", token="x"), 401, "wrong token")
    prefix = request(base_url, "POST", "/lots/L1/hold", token=TOKEN[:-1])
    assert prefix.status == 401


def test_bearer_scheme_is_case_insensitive(base_url: str) -> None:
    reply = request(
        base_url, "POST", "/lots/L1/hold", token=None, headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert reply.status == 200


def test_reads_need_no_token(base_url: str) -> None:
    for method, template in sorted(EXPECTED_ROUTES):
        if method == "GET":
            path = template.format(**SAMPLE_PARAMS)
            assert request(base_url, "GET", path, token=None).status == 200, path


def test_make_server_refuses_an_empty_token(controller: FakeController) -> None:
    for token in ("", "  ", " padded "):
        with pytest.raises(ValueError, match="token"):
            make_server(controller, token=token)


# -- request bodies ----------------------------------------------------------------------------------


def test_malformed_json_is_400(base_url: str, controller: FakeController) -> None:
    for raw, words in (
        (b"{", ("malformed JSON",)),
        (b'{"strips": 2,}', ("malformed JSON",)),
        (b"\xff\xfe", ("malformed JSON",)),
        (b'{"strips": NaN}', ("malformed JSON", "NaN")),
        (b"[" * 100_000 + b"]" * 100_000, ("malformed JSON",)),
        (b"[1, 2]", ("JSON object", "list")),
        (b'"lot"', ("JSON object", "str")),
    ):
        assert_refused(request(base_url, "POST", "/lots", raw=raw), 400, *words)
    assert controller.calls == []


def test_wrong_types_and_values_are_400_naming_the_field(
    base_url: str, controller: FakeController
) -> None:
    cases = [
        ({"strips": "3"}, "strips must be an integer, got string '3'"),
        ({"strips": True}, "strips must be an integer, got boolean"),
        ({"strips": 2.5}, "strips must be an integer, got number"),
        ({"strips": 0}, "strips must be at least 1"),
        ({"strips": 201}, "strips must be at most 200"),
        ({"strip_ids": "A,B"}, "strip_ids must be an array"),
        ({"strip_ids": []}, "strip_ids must have at least 1 item"),
        ({"strip_ids": ["A", 7]}, "strip_ids[1] must be a string"),
        ({"strip_ids": ["A", "A"]}, "strip_ids has 'A' more than once"),
        ({"strip_ids": ["A/1"]}, "strip_ids[0] 'A/1': must be 1-20 characters"),
        ({"strip_ids": [f"S{i}" for i in range(201)]}, "at most 200 items"),
        ({"lot_id": ".."}, "lot_id '..'"),
        ({"lot_id": "L1\n"}, "lot_id"),
        ({"lot_id": "X" * 21}, "lot_id"),
        ({"recipe": 5}, "recipe must be a string"),
        ({"recipe": "../../etc/passwd"}, "recipe"),
        ({"strips": 2, "strip_ids": ["A", "B"]}, "give strips or strip_ids, not both"),
        ({"strips": 2, "colour": "red"}, "colour is not a known field"),
    ]
    for body, words in cases:
        reply = request(base_url, "POST", "/lots", body)
        assert_refused(reply, 400, "invalid request body", words)
    assert controller.calls == []


def test_every_problem_of_a_body_is_listed(base_url: str) -> None:
    reply = request(base_url, "POST", "/lots", {"strips": 0, "lot_id": 3, "x": 1})
    assert reply.status == 400 and len(reply.body["problems"]) == 3


def test_a_command_takes_no_body_or_an_empty_object(base_url: str) -> None:
    assert request(base_url, "POST", "/lots/L1/hold", raw=b"").status == 200
    assert request(base_url, "POST", "/lots/L1/release", {}).status == 200
    assert_refused(request(base_url, "POST", "/lots/L1/hold", {"now": True}), 400, "now")


def test_controller_bad_request_keeps_its_message_and_problems(base_url: str) -> None:
    reply = request(base_url, "POST", "/lots", {"recipe": "nope", "strips": 1})
    assert reply.status == 400
    assert reply.body == {"error": "no recipe 'nope'", "problems": ["known: heat-slug-die-equal"]}
    assert_refused(request(base_url, "POST", "/lots", {"lot_id": "L1", "strips": 1}), 409, "exists")


def test_an_oversized_body_is_413_and_the_server_goes_on(
    base_url: str, controller: FakeController
) -> None:
    big = b'{"recipe": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert_refused(request(base_url, "POST", "/lots", raw=big), 413, "over the limit")
    assert request(base_url, "GET", "/health").status == 200
    assert controller.calls == []


def test_an_oversized_body_is_refused_before_it_is_sent(base_url: str) -> None:
    """A huge Content-Length is answered at once; with Expect: 100-continue nothing is sent."""
    for expect in (b"", b"Expect: 100-continue\r\n"):
        status, body = raw_exchange(
            base_url,
            b"POST /lots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
            b"Content-Length: 1000000000\r\n" + expect + b"\r\n",
        )
        assert status == 413 and "1000000000" in body["error"]


def test_a_body_shorter_than_its_length_or_chunked_is_refused(base_url: str) -> None:
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname or "", url.port or 0), timeout=10) as sock:
        head = f"POST /lots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        sock.sendall(head.encode() + b"Content-Length: 20\r\n\r\n" + b'{"strips"')
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert b" 400 " in answer.split(b"\r\n")[0] and b"ended after 9 of 20 bytes" in answer
    status, body = raw_exchange(
        base_url,
        b"POST /lots HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert status == 411 and "Content-Length" in body["error"]
    status, body = raw_exchange(
        base_url,
        f"POST /lots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n".encode()
        + b"Content-Length: -5\r\n\r\n",
    )
    assert status == 400 and "Content-Length" in body["error"]


def test_a_malformed_request_gets_json_and_the_server_goes_on(base_url: str) -> None:
    status, body = raw_exchange(base_url, b"GET /lots HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n")
    assert status == 431 and "headers" in body["error"]
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname or "", url.port or 0), timeout=10) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")  # no version: answered HTTP/0.9 style, body only
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert json.loads(answer)["error"].startswith("Bad request syntax")
    status, body = raw_exchange(base_url, b"BREW /lots HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 501 and "BREW" in body["error"]


# -- robustness and logs -------------------------------------------------------------------------------


def test_an_exception_in_the_controller_is_a_logged_500_and_the_server_goes_on(
    base_url: str, controller: FakeController, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="packline.daemon.http")
    controller.fail_with = RuntimeError("database is on fire")
    for method, path in (("GET", "/lots"), ("POST", "/lots/L1/hold"), ("GET", "/e10")):
        reply = request(base_url, method, path)
        assert_refused(reply, 500, "internal server error")
        assert "fire" not in json.dumps(reply.body)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and errors[0].exc_info is not None
    assert "database is on fire" in caplog.text and "GET /lots" in errors[0].getMessage()
    controller.fail_with = None
    assert request(base_url, "GET", "/lots").status == 200


def test_an_answer_that_is_not_json_is_a_500(base_url: str, controller: FakeController) -> None:
    controller.stations["laminator"]["strips"] = {object()}
    assert_refused(request(base_url, "GET", "/stations/laminator"), 500, "internal")
    controller.stations["laminator"]["strips"] = [float("nan")]
    assert_refused(request(base_url, "GET", "/stations/laminator"), 500, "internal")
    assert request(base_url, "GET", "/stations/mold-press").status == 200


def test_one_log_line_per_request_with_method_path_status_and_duration(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="packline.daemon.http")
    request(base_url, "GET", "/lots/L1")
    request(base_url, "POST", "/lots/L1/hold", token=None)
    raw_exchange(base_url, b"GET /nope\x1b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    lines = [r.getMessage() for r in caplog.records if r.name == "packline.daemon.http"]
    assert len(lines) == 3, lines
    assert lines[0].startswith("method=GET path=/lots/L1 status=200 duration_ms=")
    assert lines[1].startswith("method=POST path=/lots/L1/hold status=401 duration_ms=")
    assert "path=/nope%1B status=404" in lines[2]
    record = next(r for r in caplog.records if r.name == "packline.daemon.http")
    assert record.__dict__["http_status"] == 200 and record.__dict__["duration_ms"] >= 0


def test_a_slow_controller_call_does_not_block_other_requests(
    base_url: str, controller: FakeController
) -> None:
    controller.block = threading.Event()
    answers: list[int] = []
    slow = threading.Thread(
        target=lambda: answers.append(request(base_url, "GET", "/stations").status)
    )
    slow.start()
    try:
        deadline = time.monotonic() + 5
        while not controller.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert request(base_url, "GET", "/health").status == 200
        assert answers == []
    finally:
        controller.block.set()
        slow.join(10)
    assert answers == [200]


def test_keep_alive_serves_several_requests_on_one_connection(base_url: str) -> None:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        for path in ("/health", "/lots", "/nope", "/stations"):
            connection.request("GET", path)
            response = connection.getresponse()
            json.loads(response.read())
        assert response.status == 200
    finally:
        connection.close()


# -- the token -------------------------------------------------------------------------------------


def test_server_token_is_made_once_beside_the_database_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "line.db"
    token = auth.server_token(db, environ={})
    path = tmp_path / "line.db.token"
    assert path.read_text().strip() == token and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.server_token(db, environ={}) == token
    assert list(tmp_path.iterdir()) == [path], "no temporary file is left behind"


def test_server_token_from_env_wins_and_makes_no_file(tmp_path: Path) -> None:
    assert auth.server_token(tmp_path / "x.db", environ={"PACKLINE_TOKEN": " abc "}) == "abc"
    assert list(tmp_path.iterdir()) == []


def test_server_token_file_can_be_given(tmp_path: Path) -> None:
    given = tmp_path / "secret" / "api.token"
    given.parent.mkdir()
    token = auth.server_token(tmp_path / "x.db", given, environ={})
    assert given.read_text().strip() == token


def test_server_token_refuses_a_file_others_can_read_or_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "t.token"
    path.write_text("abc\n")
    os.chmod(path, 0o644)
    with pytest.raises(auth.TokenError, match="chmod 600"):
        auth.server_token(tmp_path / "x.db", path, environ={})
    path.write_text("\n")
    os.chmod(path, 0o600)
    with pytest.raises(auth.TokenError, match="one token"):
        auth.server_token(tmp_path / "x.db", path, environ={})
    with pytest.raises(auth.TokenError, match="cannot create"):
        auth.server_token(tmp_path / "no" / "such" / "dir.db", environ={})


def test_client_token_from_env_then_file_then_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert auth.client_token(environ={}) is None
    (tmp_path / "packline.db.token").write_text("from-default-file\n")
    assert auth.client_token(environ={}) == "from-default-file"
    other = tmp_path / "other.token"
    other.write_text("from-given-file")
    assert auth.client_token(other, environ={}) == "from-given-file"
    assert auth.client_token(other, environ={"PACKLINE_TOKEN": "from-env"}) == "from-env"
    with pytest.raises(auth.TokenError, match="cannot read"):
        auth.client_token(tmp_path / "missing.token", environ={})


def test_token_file_for_a_database() -> None:
    assert auth.token_file_for(Path("var/packline.db")) == Path("var/packline.db.token")
