"""The daemon's HTTP API: JSON over the standard library's threading HTTP server.

``make_server(controller, token=...)`` returns a bound server; the caller runs
``serve_forever()`` in a thread and ``shutdown()`` + ``server_close()`` to stop it.

Routes come from :data:`packline.daemon.openapi.OPENAPI` (served at ``/openapi.json``); each
``operationId`` maps to one function here that checks nothing itself and calls one
:class:`~packline.daemon.controller_api.ControllerAPI` method: path and query parameters and
request bodies have been checked against the document's schemas first. Reads are open; every
POST needs ``Authorization: Bearer <token>`` (compared in constant time).

Every answer is JSON; every refusal is ``{"error": message, "problems": [...]}``. No request can
stop the server: an unexpected exception becomes a 500 with a generic message and a logged
traceback. One log line per request (logger ``packline.daemon.http``): method, path, status,
duration.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from packline import __version__
from packline.daemon.controller_api import ControllerAPI
from packline.daemon.errors import RequestError
from packline.daemon.openapi import OPENAPI, Schema, problems_in
from packline.gem.strip_map import strip_map_xml

log = logging.getLogger("packline.daemon.http")

MAX_BODY_BYTES = 1 << 20
#: After an early answer (401, 404, 413...) the unread body is read and dropped up to this size,
#: so that a client still sending it gets the answer instead of a connection reset.
DISCARD_BODY_BYTES = 16 << 20
DISCARD_BODY_S = 5.0
#: Who the single token's holder is, for the controller's operator-command log.
OPERATOR = "operator"


@dataclass
class Call:
    """One checked request, as an operation function sees it."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    by: str
    server: PacklineHTTPServer


Operation = Callable[[ControllerAPI, Call], Any]


def _health(api: ControllerAPI, call: Call) -> Any:
    uptime_s = time.monotonic() - call.server.started_monotonic
    return {"status": "ok", "version": __version__, "uptime_s": round(uptime_s, 3)}


def _strip_map(api: ControllerAPI, strip_id: str) -> Any:
    strip = api.show_strip(strip_id)
    return {"strip_id": strip_id, "xml": strip_map_xml(strip, api.show_lot(strip["lot_id"]))}


OPERATIONS: dict[str, Operation] = {
    "getOpenapi": lambda api, call: OPENAPI,
    "getHealth": _health,
    "listLots": lambda api, call: api.list_lots(),
    "submitLot": lambda api, call: api.submit_lot(
        recipe=call.body.get("recipe"),
        strips=call.body.get("strips"),
        strip_ids=call.body.get("strip_ids"),
        lot_id=call.body.get("lot_id"),
        by=call.by,
    ),
    "showLot": lambda api, call: api.show_lot(call.path["lot_id"]),
    "lotCommand": lambda api, call: api.lot_command(
        call.path["lot_id"], call.path["command"], by=call.by
    ),
    "showStrip": lambda api, call: api.show_strip(call.path["strip_id"]),
    "showStripMap": lambda api, call: _strip_map(api, call.path["strip_id"]),
    "showUnit": lambda api, call: api.show_unit(call.path["strip_id"], call.path["site"]),
    "listStations": lambda api, call: api.list_stations(),
    "showStation": lambda api, call: api.show_station(call.path["name"]),
    "stationCommand": lambda api, call: api.station_command(
        call.path["name"], call.path["command"], by=call.by
    ),
    "listAlarms": lambda api, call: api.list_alarms(active_only=call.query.get("active", False)),
    "ackAlarm": lambda api, call: api.ack_alarm(call.path["alarm_id"], by=call.by),
    "listRecipes": lambda api, call: api.list_recipes(),
    "validateRecipe": lambda api, call: api.validate_recipe(
        name=call.body.get("name"), text=call.body.get("text")
    ),
    "getE10": lambda api, call: api.e10(),
}


@dataclass(frozen=True)
class Route:
    """One (method, path template) of the OpenAPI document, ready to match."""

    method: str
    template: str
    operation_id: str
    segments: tuple[str, ...]
    path_params: dict[str, Schema]
    query_params: dict[str, Schema]
    body_schema: Schema | None
    body_required: bool
    status: int
    needs_token: bool

    def match(self, segments: list[str]) -> tuple[dict[str, str], list[str]] | None:
        """The raw path parameters if the path fits, and the enum problems of a near miss
        (``/stations/x/fly``: the path's shape fits but no such command)."""
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        problems: list[str] = []
        for pattern, segment in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                if not segment:
                    return None
                name = pattern[1:-1]
                params[name] = segment
                allowed = self.path_params[name].get("enum")
                if allowed is not None and segment not in allowed:
                    problems.append(f"{name} must be one of {', '.join(allowed)}, got {segment!r}")
            elif pattern != segment:
                return None
        return params, problems


def _routes() -> list[Route]:
    routes = []
    for template, methods in OPENAPI["paths"].items():
        for method, operation in methods.items():
            if operation["operationId"] not in OPERATIONS:
                raise RuntimeError(f"no function for operation {operation['operationId']}")
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody")
            routes.append(
                Route(
                    method=method.upper(),
                    template=template,
                    operation_id=operation["operationId"],
                    segments=tuple(template[1:].split("/")),
                    path_params={p["name"]: p["schema"] for p in parameters if p["in"] == "path"},
                    query_params={p["name"]: p["schema"] for p in parameters if p["in"] == "query"},
                    body_schema=body["content"]["application/json"]["schema"] if body else None,
                    body_required=bool(body and body.get("required")),
                    status=int(next(iter(operation["responses"]))),
                    needs_token="security" in operation,
                )
            )
    # Literal segments before parameters, so that a literal path is never taken for a parameter.
    routes.sort(key=lambda r: tuple(s.startswith("{") for s in r.segments))
    return routes


ROUTES: list[Route] = _routes()


class HttpError(RequestError):
    """A refusal of the HTTP layer itself (404, 405, 413...), with extra response headers."""

    def __init__(
        self,
        status: int,
        message: str,
        problems: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, problems)
        self.status = status
        self.headers = headers or {}


def _convert(raw: str, schema: Schema, where: str) -> Any:
    """A path or query parameter's text as its schema's type (HttpError 400 naming it)."""
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,18}", raw):
            raise HttpError(400, f"{where} must be an integer, got {raw!r}")
        value: Any = int(raw)
    elif kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise HttpError(400, f"{where} must be true or false, got {raw!r}")
        value = raw.lower() == "true"
    else:
        value = raw
    problems = problems_in(value, schema, where)
    if problems:
        raise HttpError(400, problems[0], problems)
    return value


@dataclass
class _Answer:
    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; ``do_*`` for every method, so a wrong method gets 405, not 501."""

    server: PacklineHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = f"packline/{__version__}"
    #: Socket timeout: a client that stalls mid-request is dropped after this long.
    timeout = 30
    #: Headers and body are two writes; without this a keep-alive client waits 40 ms for each.
    disable_nagle_algorithm = True

    _started = 0.0
    _body_pending = 0

    def version_string(self) -> str:
        return self.server_version

    # -- request flow ---------------------------------------------------------------------------
    def handle_one_request(self) -> None:
        self._started = time.perf_counter()  # for a request refused before parse_request (414)
        super().handle_one_request()

    def parse_request(self) -> bool:
        self._started = time.perf_counter()
        self._body_pending = 0
        return super().parse_request()

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it (curl asks first past 1 MiB)."""
        length = self._content_length_or_none()
        if length is not None and length > self.server.max_body_bytes:
            self._reply(_Answer(413, _error(self._too_large(length))))
            self.close_connection = True
            return False
        return super().handle_expect_100()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        transfer_encoding = self.headers.get("Transfer-Encoding")
        self._body_pending = 0 if transfer_encoding else max(0, self._content_length_or_none() or 0)
        try:
            answer = self._dispatch()
        except RequestError as exc:
            headers = exc.headers if isinstance(exc, HttpError) else {}
            answer = _Answer(exc.status, _error(exc.message, exc.problems), headers)
        except Exception:
            log.exception("unexpected error answering %s %s", self.command, _printable(self.path))
            answer = _Answer(500, _error("internal server error (logged by the daemon)"))
        if transfer_encoding:
            self.close_connection = True
        self._reply(answer)
        if self._body_pending:
            self._discard_body()

    def _dispatch(self) -> _Answer:
        if "Transfer-Encoding" in self.headers:
            raise HttpError(411, "send the body with Content-Length (no chunked encoding)")
        url = urlsplit(self.path)
        route, raw_params = self._route(url.path)
        if route.needs_token:
            self._authorize()
        path = {
            name: _convert(raw, route.path_params[name], name) for name, raw in raw_params.items()
        }
        query = self._query(route, url.query)
        body = self._body(route)
        call = Call(path=path, query=query, body=body, by=OPERATOR, server=self.server)
        result = OPERATIONS[route.operation_id](self.server.controller, call)
        headers = {}
        if route.operation_id == "submitLot" and isinstance(result, dict) and "lot_id" in result:
            headers["Location"] = f"/lots/{quote(str(result['lot_id']), safe='')}"
        return _Answer(route.status, result, headers)

    def _route(self, raw_path: str) -> tuple[Route, dict[str, str]]:
        # Split before decoding, so that an id may hold an encoded "/" (%2F); "/lots/" is not "/lots".
        segments = [unquote(s) for s in raw_path[1:].split("/")] if raw_path[:1] == "/" else []
        allowed: list[str] = []
        near_misses: list[str] = []
        for route in ROUTES:
            matched = route.match(segments)
            if matched is None:
                continue
            params, problems = matched
            if problems:
                near_misses += problems
            elif route.method == self.command:
                return route, params
            elif route.method not in allowed:
                allowed.append(route.method)
        where = f"{self.command} {_printable(raw_path)}"
        if allowed:
            raise HttpError(
                405,
                f"{where}: method not allowed (allowed: {', '.join(allowed)})",
                headers={"Allow": ", ".join(allowed)},
            )
        raise HttpError(404, f"no such route: {where} (see /openapi.json)", near_misses)

    def _authorize(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="packline"'}
        if not header:
            raise HttpError(
                401, "missing token: send 'Authorization: Bearer <token>'", [], challenge
            )
        valid = scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), self.server.token.encode()
        )
        if not valid:
            raise HttpError(401, "wrong token in the Authorization header", [], challenge)

    def _query(self, route: Route, text: str) -> dict[str, Any]:
        pairs = parse_qs(text, keep_blank_values=True)
        query: dict[str, Any] = {}
        for name, values in pairs.items():
            if name not in route.query_params:
                known = ", ".join(route.query_params) or "none"
                raise HttpError(400, f"unknown query parameter {name!r} (known: {known})")
            if len(values) > 1:
                raise HttpError(400, f"query parameter {name!r} given {len(values)} times")
            query[name] = _convert(values[0], route.query_params[name], name)
        return query

    def _body(self, route: Route) -> dict[str, Any]:
        """The request body, checked against the route's schema; ``{}`` when there is none."""
        raw = self._read_body()
        if route.body_schema is None:
            return {}
        if not raw.strip():
            if route.body_required:
                problems = problems_in({}, route.body_schema)
                raise HttpError(400, "a JSON body is required", problems)
            return {}
        try:
            body = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise HttpError(400, f"malformed JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "the body must be a JSON object", [f"got {type(body).__name__}"])
        problems = problems_in(body, route.body_schema)
        if problems:
            raise HttpError(400, f"invalid request body: {problems[0]}", problems)
        return body

    # -- body bytes -----------------------------------------------------------------------------
    def _content_length_or_none(self) -> int | None:
        text = self.headers.get("Content-Length")
        if text is None:
            return None
        if not text.strip().isdigit():
            return -1
        return int(text)

    def _too_large(self, length: int) -> str:
        limit = self.server.max_body_bytes
        return f"request body of {length} bytes is over the limit of {limit} bytes"

    def _read_body(self) -> bytes:
        length = self._content_length_or_none()
        if length is None:
            return b""
        if length < 0:
            self._body_pending = 0
            self.close_connection = True
            raise HttpError(400, f"bad Content-Length {self.headers.get('Content-Length')!r}")
        if length > self.server.max_body_bytes:
            raise HttpError(413, self._too_large(length))
        self._body_pending = 0
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            raise HttpError(408, "timed out reading the request body") from None
        if len(raw) < length:
            self.close_connection = True
            raise HttpError(400, f"body ended after {len(raw)} of {length} bytes")
        return bytes(raw)

    def _discard_body(self) -> None:
        """Read and drop a body answered early, then close: the client can read the answer."""
        self.close_connection = True
        remaining, self._body_pending = self._body_pending, 0
        if remaining > DISCARD_BODY_BYTES:
            return
        deadline = time.monotonic() + DISCARD_BODY_S
        try:
            self.connection.settimeout(DISCARD_BODY_S)
            while remaining > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return

    # -- answers --------------------------------------------------------------------------------
    def _reply(self, answer: _Answer) -> None:
        try:
            data = json.dumps(answer.payload, allow_nan=False).encode()
        except (TypeError, ValueError):
            log.exception("the answer to %s %s is not JSON", self.command, _printable(self.path))
            answer = _Answer(500, _error("internal server error (logged by the daemon)"))
            data = json.dumps(answer.payload).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self._log(answer.status)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _log(self, status: int) -> None:
        duration_ms = (time.perf_counter() - self._started) * 1000
        log.info(
            "method=%s path=%s status=%d duration_ms=%.1f client=%s",
            self.command or "-",
            _printable(self.path or "-"),
            status,
            duration_ms,
            self.client_address[0],
            extra={
                "http_method": self.command,
                "http_path": self.path,
                "http_status": status,
                "duration_ms": duration_ms,
            },
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's own refusals (bad request line, header too long...) as JSON."""
        if not hasattr(self, "command") or self.command is None:
            self.command = ""
        if not hasattr(self, "path"):
            self.path = ""
        phrase = message or HTTPStatus(code).phrase
        self.close_connection = True
        self._reply(_Answer(code, _error(phrase, [explain] if explain else [])))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged once, by :meth:`_reply`, with their duration."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s", self.address_string(), format % args)


def _error(message: str, problems: list[str] | None = None) -> dict[str, Any]:
    return {"error": message, "problems": list(problems or [])}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _printable(text: str) -> str:
    """A request path fit for one log line: control characters escaped."""
    return "".join(c if c.isprintable() and c != " " else f"%{ord(c):02X}" for c in text)


class PacklineHTTPServer(ThreadingHTTPServer):
    """The threading HTTP server with the controller, token and limits it serves with."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        controller: ControllerAPI,
        token: str,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.controller = controller
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.started_monotonic = time.monotonic()
        super().__init__(address, RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (reset, timeout): log it and go on."""
        log.warning("connection from %s failed", client_address[0], exc_info=True)


class _PacklineHTTPServer6(PacklineHTTPServer):
    address_family = socket.AF_INET6


def make_server(
    controller: ControllerAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> PacklineHTTPServer:
    """A server bound to ``host:port`` (port 0: a free port, see ``server_address``).

    The caller runs ``serve_forever()`` (in a thread) and stops it with ``shutdown()`` and
    ``server_close()``. ``token`` is the bearer token every POST must present.
    """
    if not token or not token.strip() or token != token.strip():
        raise ValueError("the API token must be a non-empty string without surrounding spaces")
    server_class = _PacklineHTTPServer6 if ":" in host else PacklineHTTPServer
    server = server_class((host, port), controller, token, max_body_bytes=max_body_bytes)
    if not _is_loopback(host):
        log.warning("HTTP API listening on %s, not only on loopback: reads need no token", host)
    log.info("HTTP API on http://%s:%d", *server.server_address[:2])
    return server


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["MAX_BODY_BYTES", "OPERATOR", "ROUTES", "PacklineHTTPServer", "Route", "make_server"]
