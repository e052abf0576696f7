"""docs/http-api.md against the served OpenAPI document: every route in both, in both directions;
the routes served outside the document really served; every route the other user docs name real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_controller import FakeController
from tests.support.web import running_server

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "http-api.md"
#: The docs for users that name routes in passing (decisions.md is history: it may name old ones).
USER_DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p != DOC)]
USER_DOCS.remove(ROOT / "docs" / "decisions.md")
#: Served for browsers, listed in the doc's second table, not in the OpenAPI document.
BROWSER_ROUTES = {
    ("GET", "/"),
    ("GET", "/events"),
    ("GET", "/vocabulary.json"),
    ("GET", "/lots/{lot_id}/spc.html"),
    ("GET", "/static/{file}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
}


def documented_routes() -> set[tuple[str, str]]:
    """(method, path) of every table row of the doc that starts with `METHOD /path`."""
    routes = set()
    for match in re.finditer(r"^\| `([A-Z]+) (/[^`?]*)[^`]*`", DOC.read_text(), re.MULTILINE):
        routes.add((match.group(1), match.group(2)))
    for match in re.finditer(r"`GET (/openapi.json|/docs)`", DOC.read_text()):
        routes.add(("GET", match.group(1)))
    return routes


def served_document() -> dict[str, Any]:
    with running_server(FakeController()) as url:
        document: dict[str, Any] = httpx.get(f"{url}/openapi.json").json()
        assert httpx.get(f"{url}/").status_code == 200
    return document


def served_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, methods in document["paths"].items() for m in methods}


def route_pattern(template: str) -> re.Pattern[str]:
    """A path template as a regex: any ``{param}`` is one path segment (or part of one)."""
    parts = re.split(r"\{[^}/]+\}", template)
    return re.compile("[^/]+".join(map(re.escape, parts)) + "$")


def test_the_doc_lists_exactly_the_routes_of_the_served_document() -> None:
    served = served_routes(served_document())
    documented = documented_routes()
    assert served - documented == set(), "served but not in docs/http-api.md"
    assert documented - BROWSER_ROUTES - served == set(), "in docs/http-api.md but not served"
    assert documented >= BROWSER_ROUTES


def test_the_doc_lists_every_error_status_the_document_declares() -> None:
    document = served_document()
    declared = {
        int(status)
        for methods in document["paths"].values()
        for operation in methods.values()
        for status in operation["responses"]
        if int(status) >= 400
    }
    table = set(map(int, re.findall(r"^\| (\d{3}) \|", DOC.read_text(), re.MULTILINE)))
    assert declared <= table and 422 not in declared


def test_the_routes_outside_the_document_are_served() -> None:
    """A browser route the doc lists is answered, not ``no such route`` (the report page: 404
    naming the missing store, as the fake server has none)."""
    samples = {"lot_id": "L1", "file": "app.js"}
    with running_server(FakeController()) as url:
        for method, template in sorted(BROWSER_ROUTES):
            with httpx.stream(method, url + template.format(**samples), timeout=10) as answer:
                if answer.status_code == 404:
                    answer.read()
                    assert "keeps no lot records" in answer.json()["error"], template
                else:
                    assert answer.status_code == 200, template


def test_every_route_the_user_docs_name_is_served() -> None:
    """`METHOD /path` in README.md and docs/*.md names a route there is, whatever it calls the
    path's parameters (`{id}`, `ID`, `E1`)."""
    routes = served_routes(served_document()) | BROWSER_ROUTES
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
