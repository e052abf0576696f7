"""The daemon's HTTP API (FastAPI on uvicorn) over real HTTP, in front of an in-memory controller:
everything a client sees, from routes and status codes to refusals, roles, bodies and logs."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pytest

from packline import __version__
from packline.store.users import Users
from packline.vocabulary import STATION_COMMANDS
from packline.web.middleware import MAX_BODY_BYTES
from packline.web.security import LOCAL_USER
from packline.web.server import WebServer
from tests.support.fake_controller import FakeController, submit_call
from tests.support.integration_waits import wait_until
from tests.support.web import TOKEN, running_server

LOCAL = LOCAL_USER.name


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def base_url(controller: FakeController, users: Users) -> Iterator[str]:
    with running_server(controller, users=users) as url:
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

#: The tag of the routes answered from the daemon's store, not the controller: a server without
#: one answers them 404 (below); tests/integration/test_lot_reports.py runs each against a real
#: daemon's lot.
REPORTS_TAG = "reports"

#: Path parameters of the sample requests, by name.
SAMPLE_PARAMS = {
    "lot_id": "L1",
    "strip_id": "L1-01",
    "site": "3",
    "name": "mold-press",
    "command": "hold",
    "alarm_id": "1",
    "value": "coplanarity_um",
}
#: Bodies of the routes that need one. Routes are sent in sorted order, so disable comes
#: before enable (and before the station command: ``hold`` of a station back in IDLE).
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/lots"): {"strips": 2},
    ("POST", "/recipes/validate"): {"name": "heat-slug-die-equal"},
    ("PUT", "/lots/{lot_id}/priority"): {"priority": 5},
    ("POST", "/stations/{name}/disable"): {"reason": "preventive maintenance"},
    ("POST", "/session"): {"user": "ana", "password": "ana-password"},
}
#: Path parameters of a route where the shared sample would be refused by the fake's state.
SAMPLE_PARAMS_OF: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/stations/{name}/{command}"): {"name": "laminator", "command": "stop"},
}

Operations = dict[tuple[str, str], dict[str, Any]]


def served_operations(base_url: str) -> tuple[dict[str, Any], Operations]:
    """The served OpenAPI document and its operations by (METHOD, path template): the one
    list of the API's routes every test here takes them from."""
    reply = request(base_url, "GET", "/openapi.json", token=None)
    assert reply.status == 200
    document: dict[str, Any] = reply.body
    operations = {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    return document, operations


def sample_path(method: str, template: str) -> str:
    return template.format(**{**SAMPLE_PARAMS, **SAMPLE_PARAMS_OF.get((method, template), {})})


def success_of(operation: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """The one 2xx status the operation declares and the JSON schema of its body (None: none)."""
    statuses = [status for status in operation["responses"] if status.startswith("2")]
    assert len(statuses) == 1, statuses
    content = operation["responses"][statuses[0]].get("content", {})
    return int(statuses[0]), content.get("application/json", {}).get("schema")


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, name = schema["$ref"].split("/")
        schema = document["components"]["schemas"][name]
    return schema


def assert_has_the_fields_of(document: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    """``body`` is what ``schema`` says: an array of its items, or an object with every field
    the model names (required or not: the models answer every field they name)."""
    schema = resolve(document, schema)
    if schema.get("type") == "array":
        assert isinstance(body, list) and body, body
        for item in body:
            assert_has_the_fields_of(document, schema["items"], item)
    elif schema.get("type") == "object":
        assert isinstance(body, dict), body
        missing = set(schema.get("properties", {})) - set(body)
        assert not missing, (schema.get("title"), missing)
    else:
        raise AssertionError(f"no JSON answer is of type {schema.get('type')!r}")


def test_openapi_lists_the_routes_with_400_not_422(base_url: str) -> None:
    document, operations = served_operations(base_url)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == __version__
    assert set(SAMPLE_BODIES) | set(SAMPLE_PARAMS_OF) <= set(operations), "a sample of no route"
    text = json.dumps(document)
    assert '"422"' not in text and "HTTPValidationError" not in text
    for (method, path), operation in operations.items():
        assert "400" in operation["responses"] or method == "GET", (method, path)
        assert "500" in operation["responses"], (method, path)


def test_every_controller_route_answers_its_success_status_with_the_fields_its_model_names(
    base_url: str, users: Users, controller: FakeController
) -> None:
    users.add("ana", "operator", "ana-password")
    document, operations = served_operations(base_url)
    answered = set()
    for (method, template), operation in sorted(operations.items()):
        if REPORTS_TAG in operation["tags"]:
            continue
        status, schema = success_of(operation)
        path = sample_path(method, template)
        reply = request(base_url, method, path, SAMPLE_BODIES.get((method, template)))
        assert reply.status == status, (method, path, reply.body)
        if schema is None:
            assert reply.body is None, (method, path)
        else:
            assert_has_the_fields_of(document, schema, reply.body)
        answered.add((method, template))
    assert len(answered) >= 20, "the document lost its routes"
    assert {name for name, _ in controller.calls} >= {
        "set_lot_priority",
        "station_service",
        "submit_lot",
        "ack_alarm",
    }


def test_report_routes_without_a_store_are_404_saying_why(base_url: str) -> None:
    _, operations = served_operations(base_url)
    reports = sorted(route for route, op in operations.items() if REPORTS_TAG in op["tags"])
    assert len(reports) == 6, reports
    for method, template in reports:
        reply = request(base_url, method, sample_path(method, template), token=None)
        assert_refused(reply, 404, "keeps no lot records")


def test_disable_needs_a_reason_and_enable_a_disabled_station(
    base_url: str, controller: FakeController
) -> None:
    assert_refused(request(base_url, "POST", "/stations/laminator/disable", {}), 400, "reason")
    assert_refused(request(base_url, "POST", "/stations/laminator/enable"), 409, "not disabled")
    body = {"reason": "lens clean"}
    reply = request(base_url, "POST", "/stations/laminator/disable", body)
    assert reply.status == 200
    assert (reply.body["disabled"], reply.body["state"]) == ("lens clean", "STOPPED")
    assert controller.calls[-1] == (
        "station_service",
        {"name": "laminator", "enable": False, "reason": "lens clean", "by": LOCAL},
    )
    reply = request(base_url, "POST", "/stations/laminator/enable")
    assert reply.status == 200 and (reply.body["disabled"], reply.body["state"]) == (None, "IDLE")
    assert_refused(request(base_url, "POST", "/stations/nope/enable"), 404, "no station 'nope'")


def test_unknown_paths_are_404_with_a_pointer_to_the_document(base_url: str) -> None:
    for path in ("/nope", "/lots/", "/lots/L1/hold/now", "/units/L1-01", "/e10/x"):
        reply = request(base_url, "GET", path, token=None)
        assert_refused(reply, 404, "no such route", "/openapi.json")


def test_wrong_method_is_405_naming_the_allowed_ones(base_url: str) -> None:
    reply = request(base_url, "DELETE", "/lots")
    assert_refused(reply, 405, "DELETE /lots", "not allowed")
    assert set(reply.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert request(base_url, "POST", "/stations/mold-press", {}).status == 405
    assert request(base_url, "PATCH", "/lots/L1").status == 405


def test_head_answers_like_get_without_a_body(base_url: str) -> None:
    for path in ("/health", "/lots", "/lots/L1", "/stations/mold-press", "/alarms"):
        reply = request(base_url, "HEAD", path, token=None)
        get = request(base_url, "GET", path, token=None)
        assert reply.status == get.status == 200, path
        assert reply.body is None
        assert reply.headers["Content-Type"] == get.headers["Content-Type"]
    assert request(base_url, "HEAD", "/lots/L9", token=None).status == 404
    page = http.client.HTTPConnection(urlsplit(base_url).hostname or "", urlsplit(base_url).port)
    page.request("HEAD", "/")
    answer = page.getresponse()
    assert answer.status == 200 and answer.read() == b"", "the page's HEAD has no body"
    assert "text/html" in answer.headers["Content-Type"]
    page.close()


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
    assert controller.calls[-1] == submit_call(**body)


def test_submit_lot_without_a_body_leaves_the_defaults_to_the_controller(
    base_url: str, controller: FakeController
) -> None:
    reply = request(base_url, "POST", "/lots", raw=b"")
    assert_refused(reply, 400, "give strips")  # the controller's own refusal
    assert controller.calls == [submit_call()]


def test_submit_lot_passes_the_priority_and_put_priority_changes_it(
    base_url: str, controller: FakeController
) -> None:
    reply = request(base_url, "POST", "/lots", {"strips": 1, "lot_id": "P", "priority": 7})
    assert reply.status == 201 and controller.calls[-1][1]["priority"] == 7
    reply = request(base_url, "PUT", "/lots/P/priority", {"priority": -3})
    assert reply.status == 200 and reply.body["priority"] == -3
    assert controller.calls[-1] == (
        "set_lot_priority",
        {"lot_id": "P", "priority": -3, "by": LOCAL},
    )
    assert_refused(request(base_url, "PUT", "/lots/P/priority", {}), 400, "priority")
    assert_refused(request(base_url, "PUT", "/lots/NONE/priority", {"priority": 1}), 404, "NONE")
    assert request(base_url, "POST", "/lots/P/abort").status == 200
    assert_refused(request(base_url, "PUT", "/lots/P/priority", {"priority": 1}), 409, "aborted")


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
            {"lot_id": "L1", "command": command, "by": LOCAL},
        )
    assert_refused(request(base_url, "POST", "/lots/L1/release"), 409, "L1 is aborted")
    assert_refused(request(base_url, "GET", "/lots/L9", token=None), 404, "no lot 'L9'")
    assert_refused(
        request(base_url, "POST", "/lots/L1/pause"), 400, "command", "'hold', 'release' or 'abort'"
    )


def test_ids_in_the_path_follow_the_id_rule(base_url: str, controller: FakeController) -> None:
    assert_refused(request(base_url, "GET", "/lots/a%20b", token=None), 400, "lot_id", "'a b'")
    assert_refused(request(base_url, "GET", "/strips/" + "S" * 21, token=None), 400, "strip_id")
    assert controller.calls == []


# -- strips, units, stations, alarms, recipes, E10 ---------------------------------------------------


def test_show_strip_and_unit(base_url: str, controller: FakeController) -> None:
    strip = request(base_url, "GET", "/strips/L1-01", token=None)
    assert strip.status == 200 and strip.body["lot_id"] == "L1"
    unit = request(base_url, "GET", "/units/L1-01/7", token=None)
    assert unit.status == 200 and unit.body["steps"][0]["result"] == "P"
    assert controller.calls[-1] == ("show_unit", {"strip_id": "L1-01", "site": 7})
    assert_refused(request(base_url, "GET", "/units/L1-01/31", token=None), 404, "L1-01:31")


def test_unit_site_must_be_a_positive_integer(base_url: str, controller: FakeController) -> None:
    for site, words in (("seven", ("site", "integer", "'seven'")), ("0", ("site", "1"))):
        assert_refused(request(base_url, "GET", f"/units/L1-01/{site}", token=None), 400, *words)
    assert_refused(request(base_url, "GET", "/units/L1-01/" + "9" * 40, token=None), 400, "site")
    assert controller.calls == []


def test_stations_list_show_and_every_command(base_url: str, controller: FakeController) -> None:
    stations = request(base_url, "GET", "/stations", token=None)
    assert [s["name"] for s in stations.body] == ["mold-press", "laminator"]
    assert request(base_url, "GET", "/stations/mold-press", token=None).body["state"] == "EXECUTE"
    sequence = ["hold", "unhold", "stop", "reset", "abort", "clear"]
    assert sorted(sequence) == sorted(STATION_COMMANDS)
    for command in sequence:
        reply = request(base_url, "POST", f"/stations/mold-press/{command}")
        assert reply.status == 200, (command, reply.body)
        assert controller.calls[-1] == (
            "station_command",
            {"name": "mold-press", "command": command, "by": LOCAL},
        )
    assert_refused(
        request(base_url, "POST", "/stations/laminator/unhold"), 409, "not allowed in IDLE"
    )
    assert_refused(request(base_url, "POST", "/stations/nope/hold"), 404, "no station 'nope'")
    assert_refused(request(base_url, "POST", "/stations/laminator/fly"), 400, "command", "reset")


def test_alarms_filter_on_active_and_ack(base_url: str, controller: FakeController) -> None:
    every = request(base_url, "GET", "/alarms", token=None)
    assert [a["alarm_id"] for a in every.body] == [1, 2]
    assert controller.calls[-1] == ("list_alarms", {"active_only": False})
    active = request(base_url, "GET", "/alarms?active=true", token=None)
    assert [a["alarm_id"] for a in active.body] == [1]
    assert request(base_url, "GET", "/alarms?active=False", token=None).status == 200
    assert controller.calls[-1] == ("list_alarms", {"active_only": False})
    acked = request(base_url, "POST", "/alarms/1/ack")
    assert acked.status == 200 and acked.body["acked_by"] == LOCAL
    assert_refused(request(base_url, "POST", "/alarms/99/ack"), 404, "no alarm 99")
    assert_refused(request(base_url, "POST", "/alarms/one/ack"), 400, "alarm_id", "integer")
    assert_refused(request(base_url, "GET", "/alarms?active=maybe"), 400, "active", "'maybe'")


def test_unknown_or_repeated_query_parameters_are_400_naming_them(
    base_url: str, controller: FakeController
) -> None:
    assert_refused(request(base_url, "GET", "/alarms?actve=true"), 400, "'actve'", "active")
    assert_refused(request(base_url, "GET", "/alarms?active=true&active=false"), 400, "once")
    assert_refused(request(base_url, "GET", "/lots?page=2"), 400, "'page'", "none")
    assert controller.calls == []


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
    assert_refused(request(base_url, "POST", "/recipes/validate", {}), 400, "name and text")
    assert_refused(request(base_url, "POST", "/recipes/validate", raw=b""), 400, "body")
    both = {"name": "heat-slug-die-equal", "text": "x"}
    assert_refused(request(base_url, "POST", "/recipes/validate", both), 400, "exactly one")
    assert_refused(request(base_url, "POST", "/recipes/validate", {"name": "../etc"}), 400, "name")
    assert len(controller.calls) == calls


def test_e10_is_tool_seconds_per_category_per_station_and_says_so(base_url: str) -> None:
    reply = request(base_url, "GET", "/e10", token=None)
    assert reply.body["unit"] == "tool_s"
    assert reply.body["time_scale"] == 1000.0
    assert reply.body["stations"]["laminator"]["productive"] == 5657.2


# -- auth, users and roles ---------------------------------------------------------------------------

COMMANDS = [
    ("/lots", {"strips": 2}),
    ("/lots/L1/hold", None),
    ("/stations/mold-press/hold", None),
    ("/alarms/1/ack", None),
    ("/recipes/validate", {"name": "heat-slug-die-equal"}),
]


def test_every_command_without_a_valid_token_is_401_and_reaches_nothing(
    base_url: str, controller: FakeController
) -> None:
    for path, body in COMMANDS:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            reply = request(base_url, "POST", path, body, token=None, headers=headers)
            assert_refused(reply, 401, "token")
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert controller.calls == []


def test_missing_and_wrong_token_get_different_messages(base_url: str) -> None:
    missing = request(base_url, "POST", "/lots/L1/hold", token=None)
    assert_refused(missing, 401, "missing token", "Authorization: Bearer")
    assert_refused(request(base_url, "POST", "/lots/L1/hold", token="x"), 401, "wrong token")
    assert request(base_url, "POST", "/lots/L1/hold", token=TOKEN[:-1]).status == 401


def test_bearer_scheme_is_case_insensitive(base_url: str) -> None:
    reply = request(
        base_url, "POST", "/lots/L1/hold", token=None, headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert reply.status == 200


def test_reads_need_no_token_on_loopback(base_url: str) -> None:
    _, operations = served_operations(base_url)
    reads = [
        (template, 404 if REPORTS_TAG in operation["tags"] else 200)  # 404: no store here
        for (method, template), operation in sorted(operations.items())
        if method == "GET" and template != "/session"
    ]
    assert len(reads) >= 15, reads
    for template, status in reads:
        path = sample_path("GET", template)
        assert request(base_url, "GET", path, token=None).status == status, path


def test_the_server_refuses_an_empty_token(controller: FakeController) -> None:
    for token in ("", "  ", " padded "):
        with pytest.raises(ValueError, match="token"):
            WebServer(controller, token=token)


def sign_in(base_url: str, user: str, password: str) -> str:
    reply = request(base_url, "POST", "/session", {"user": user, "password": password}, token=None)
    assert reply.status == 201, reply.body
    return str(reply.body["token"])


def test_a_signed_in_user_is_named_in_every_command_and_can_sign_out(
    base_url: str, controller: FakeController, users: Users
) -> None:
    users.add("ana", "operator", "ana-password")
    token = sign_in(base_url, "ana", "ana-password")
    assert request(base_url, "GET", "/session", token=token).body == {
        "user": "ana",
        "role": "operator",
        "token": None,
    }
    assert request(base_url, "POST", "/lots/L1/hold", token=token).status == 200
    assert controller.calls[-1] == ("lot_command", {"lot_id": "L1", "command": "hold", "by": "ana"})
    assert request(base_url, "POST", "/alarms/1/ack", token=token).body["acked_by"] == "ana"
    assert request(base_url, "DELETE", "/session", token=token).status == 204
    assert_refused(request(base_url, "POST", "/lots/L1/hold", token=token), 401, "wrong token")


def test_a_wrong_password_or_user_is_refused_alike(base_url: str, users: Users) -> None:
    users.add("ana", "operator", "ana-password")
    for user, password in (("ana", "nope-nope"), ("bob", "ana-password")):
        reply = request(base_url, "POST", "/session", {"user": user, "password": password})
        assert_refused(reply, 401, "wrong user name or password")


def test_roles_decide_who_may_do_what(
    base_url: str, controller: FakeController, users: Users
) -> None:
    users.add("vic", "viewer", "vic-password")
    users.add("ana", "operator", "ana-password")
    users.add("eng", "engineer", "eng-password")
    viewer, operator, engineer = (
        sign_in(base_url, name, f"{name}-password") for name in ("vic", "ana", "eng")
    )
    assert_refused(request(base_url, "POST", "/lots/L1/hold", token=viewer), 403, "operator role")
    assert (
        request(base_url, "POST", "/recipes/validate", {"text": "x: 1"}, token=viewer).status == 200
    )
    assert request(base_url, "POST", "/stations/mold-press/hold", token=operator).status == 200
    assert_refused(
        request(base_url, "POST", "/lots/L1/abort", token=operator), 403, "only an engineer"
    )
    assert controller.lots["L1"]["status"] == "queued"
    assert request(base_url, "POST", "/lots/L1/abort", token=engineer).status == 200
    assert controller.calls[-1][1]["by"] == "eng"


def test_reads_need_a_user_when_not_on_loopback(controller: FakeController) -> None:
    server = WebServer(controller, host="127.0.0.1", token=TOKEN)
    server.app.state.auth.open_reads = False  # as bound to a non-loopback address
    with server:
        assert_refused(request(server.url, "GET", "/lots", token=None), 401, "missing token")
        assert request(server.url, "GET", "/lots").status == 200
        assert request(server.url, "GET", "/health", token=None).status == 200


# -- request bodies ----------------------------------------------------------------------------------


def test_malformed_json_is_400(base_url: str, controller: FakeController) -> None:
    for raw in (b"{", b'{"strips": 2,}', b"\xff\xfe"):
        assert_refused(request(base_url, "POST", "/lots", raw=raw), 400, "malformed JSON body")
    assert_refused(request(base_url, "POST", "/lots", raw=b'{"strips": NaN}'), 400, "strips")
    for raw in (b"[1, 2]", b'"lot"'):
        assert_refused(request(base_url, "POST", "/lots", raw=raw), 400, "invalid request body")
    assert controller.calls == []


def test_a_body_that_is_not_json_is_415(base_url: str, controller: FakeController) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        reply = request(
            base_url,
            "POST",
            "/lots",
            raw=b'{"strips": 2}',
            headers={"Content-Type": content_type} if content_type else {"Content-Type": ""},
        )
        assert_refused(reply, 415, "Content-Type: application/json")
    assert controller.calls == []


def test_wrong_types_and_values_are_400_naming_the_field(
    base_url: str, controller: FakeController
) -> None:
    cases = [
        ({"strips": "3"}, "strips must be an integer (got '3')"),
        ({"strips": True}, "strips must be an integer (got True)"),
        ({"strips": 2.5}, "strips must be an integer (got 2.5)"),
        ({"strips": 0}, "strips must be at least 1 (got 0)"),
        ({"strips": 201}, "strips must be at most 200 (got 201)"),
        ({"strip_ids": "A,B"}, "strip_ids must be a list (got 'A,B')"),
        ({"strip_ids": []}, "strip_ids must have at least 1 item"),
        ({"strip_ids": ["A", 7]}, "strip_ids[1] must be a string (got 7)"),
        ({"strip_ids": ["A", "A"]}, "strip_ids must be unique"),
        ({"strip_ids": ["A/1"]}, "strip_ids[0] must be 1-20 characters"),
        ({"strip_ids": [f"S{i}" for i in range(201)]}, "strip_ids must have at most 200 items"),
        (
            {"lot_id": ".."},
            "lot_id must be 1-20 characters of A-Z a-z 0-9 - _ . starting with a letter or digit (got '..')",
        ),
        ({"lot_id": "L1\n"}, "lot_id"),
        ({"lot_id": "X" * 21}, "lot_id"),
        ({"recipe": 5}, "recipe must be a string (got 5)"),
        ({"recipe": "../../etc/passwd"}, "recipe"),
        ({"strips": 2, "strip_ids": ["A", "B"]}, "give strips or strip_ids, not both"),
        ({"strips": 2, "colour": "red"}, "colour is not a known field"),
        ({"strips": 2, "priority": "5"}, "priority"),
        ({"strips": 2, "priority": 1001}, "priority"),
    ]
    for body, words in cases:
        reply = request(base_url, "POST", "/lots", body)
        assert_refused(reply, 400, "invalid request body", words)
        shown = json.dumps(reply.body)
        assert "pydantic" not in shown and "Traceback" not in shown
    assert controller.calls == []


def test_every_problem_of_a_body_is_listed(base_url: str) -> None:
    reply = request(base_url, "POST", "/lots", {"strips": 0, "lot_id": 3, "x": 1})
    assert reply.status == 400 and len(reply.body["problems"]) == 3


def test_controller_refusal_keeps_its_message_and_problems(base_url: str) -> None:
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


def test_an_oversized_body_is_refused_on_its_length(base_url: str) -> None:
    status, body = raw_exchange(
        base_url,
        b"POST /lots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n",
    )
    assert status == 413 and "1000000000" in body["error"]


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


def test_an_answer_that_breaks_its_model_is_a_500(
    base_url: str, controller: FakeController
) -> None:
    del controller.stations["laminator"]["state"]
    assert_refused(request(base_url, "GET", "/stations/laminator"), 500, "internal")
    assert request(base_url, "GET", "/stations/mold-press").status == 200


def test_one_log_line_per_request_with_method_path_status_and_duration(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="packline.daemon.http")
    request(base_url, "GET", "/lots/L1")
    request(base_url, "POST", "/lots/L1/hold", token=None)
    raw_exchange(base_url, b"GET /nope%1B HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
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
        wait_until(lambda: controller.calls, 5, "the slow call never reached the controller")
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


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(base_url: str) -> None:
    chunk = b"x" * 65536
    past_the_limit = MAX_BODY_BYTES // len(chunk) + 1  # the client stops there and listens
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(past_the_limit))
    status, answer = raw_exchange(
        base_url,
        f"POST /lots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n".encode()
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        + b"Connection: close\r\n\r\n"
        + body,
    )
    assert status == 413 and "over the limit" in answer["error"]
