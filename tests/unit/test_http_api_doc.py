"""docs/http-api.md against the routes the app serves, in both directions: the OpenAPI
document's routes in the first table, the app's other routes (for browsers) in the second; and
every route the other user docs name in passing is one the app serves."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from packline.web.server import WebServer
from tests.support.fake_controller import FakeController
from tests.support.web import TOKEN

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "http-api.md"
#: The docs for users that name routes in passing (decisions.md is history: it may name old ones).
USER_DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p != DOC)]
USER_DOCS.remove(ROOT / "docs" / "decisions.md")

Route = tuple[str, str]


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with WebServer(FakeController(), token=TOKEN) as running:
        yield running


def documented_routes() -> set[Route]:
    """(method, path) of every table row of the doc that starts with `METHOD /path`."""
    routes = set()
    for match in re.finditer(r"^\| `([A-Z]+) (/[^`?]*)[^`]*`", DOC.read_text(), re.MULTILINE):
        routes.add((match.group(1), match.group(2)))
    for match in re.finditer(r"`GET (/openapi.json|/docs)`", DOC.read_text()):
        routes.add(("GET", match.group(1)))
    return routes


def served_document(server: WebServer) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    return document


def document_routes(document: dict[str, Any]) -> set[Route]:
    return {(m.upper(), path) for path, methods in document["paths"].items() for m in methods}


def app_routes(routes: Iterable[Any]) -> Iterator[tuple[Route, bool]]:
    """((method, path), in the OpenAPI document?) of every route of the app, HEAD left out (it
    answers with GET); a mounted folder as ``{path}/{file}``. FastAPI from 0.160 on keeps an
    included router as one route that holds the router's own (``original_router``)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from app_routes(inner.routes)
        elif isinstance(route, Mount):
            yield ("GET", f"{route.path}/{{file}}"), False
        else:
            for method in sorted(set(route.methods) - {"HEAD"}):
                yield (method, route.path), route.include_in_schema


def browser_routes(app: FastAPI) -> set[Route]:
    """The routes the app serves outside its OpenAPI document (the page, its files, events)."""
    return {route for route, in_document in app_routes(app.routes) if not in_document}


def route_pattern(template: str) -> re.Pattern[str]:
    """A path template as a regex: any ``{param}`` is one path segment (or part of one)."""
    parts = re.split(r"\{[^}/]+\}", template)
    return re.compile("[^/]+".join(map(re.escape, parts)) + "$")


def test_the_doc_lists_exactly_the_routes_the_app_serves(server: WebServer) -> None:
    document = document_routes(served_document(server))
    browser = browser_routes(server.app)
    assert {route for route, _ in app_routes(server.app.routes)} == document | browser
    assert ("GET", "/") in browser and ("GET", "/static/{file}") in browser, browser
    documented = documented_routes()
    assert document - documented == set(), "served but not in docs/http-api.md"
    assert browser - documented == set(), "served (for browsers) but not in docs/http-api.md"
    assert documented - browser - document == set(), "in docs/http-api.md but not served"


def test_the_doc_lists_every_error_status_the_document_declares(server: WebServer) -> None:
    document = served_document(server)
    declared = {
        int(status)
        for methods in document["paths"].values()
        for operation in methods.values()
        for status in operation["responses"]
        if int(status) >= 400
    }
    table = set(map(int, re.findall(r"^\| (\d{3}) \|", DOC.read_text(), re.MULTILINE)))
    assert declared <= table and 422 not in declared


def test_the_routes_outside_the_document_are_answered(server: WebServer) -> None:
    """Each browser route answers, not ``no such route`` (the SPC page: 404 naming the missing
    store, as this server has none)."""
    samples = {"lot_id": "L1", "file": "app.js"}
    for method, template in sorted(browser_routes(server.app)):
        with httpx.stream(method, server.url + template.format(**samples), timeout=10) as answer:
            if answer.status_code == 404:
                answer.read()
                assert "keeps no lot records" in answer.json()["error"], template
            else:
                assert answer.status_code == 200, template


def test_every_route_the_user_docs_name_is_served(server: WebServer) -> None:
    """`METHOD /path` in README.md and docs/*.md names a route there is, whatever it calls the
    path's parameters (`{id}`, `ID`, `E1`)."""
    routes = {route for route, _ in app_routes(server.app.routes)}
    patterns = {(method, route_pattern(template)) for method, template in routes}
    named = 0
    for doc in USER_DOCS:
        text = doc.read_text()
        for match in re.finditer(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)[^`]*`", text):
            method, path = match.groups()
            concrete = re.sub(r"\{[^}/]+\}", "x", path)
            named += 1
            assert any(m == method and pattern.match(concrete) for m, pattern in patterns), (
                f"{doc.name}: {method} {path} is no route"
            )
    assert named >= 10, "the pattern found no route in the docs"
