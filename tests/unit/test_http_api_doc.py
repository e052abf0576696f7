"""docs/http-api.md against the served OpenAPI document: every route in both, in both directions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_controller import FakeController
from tests.support.web import running_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
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


def test_the_doc_lists_exactly_the_routes_of_the_served_document() -> None:
    document = served_document()
    served = {(m.upper(), path) for path, methods in document["paths"].items() for m in methods}
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
