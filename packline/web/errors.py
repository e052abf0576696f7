"""Every refusal as ``{"error": message, "problems": [...]}``, with no Python internals in it.

Domain errors become 400/401/403/404/409/429; a request that fails its model becomes a 400 naming
each field and what was wrong with it; anything unexpected a logged 500 with a generic message
(:class:`packline.web.middleware.HttpRules` catches it, so the server never re-raises).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from packline.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Refused,
    Throttled,
    Unauthenticated,
)
from packline.vocabulary import ID_PATTERN, ID_RULE, RECIPE_NAME_PATTERN, USER_NAME_PATTERN

log = logging.getLogger("packline.daemon.http")

STATUS_OF: dict[type[Refused], int] = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Throttled: 429,
}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="packline"'}


def refusal(status: int, message: str, problems: list[str] | None = None, **headers: str) -> Any:
    return JSONResponse(
        {"error": message, "problems": list(problems or [])}, status, headers=headers or None
    )


#: A pattern's rule as a person reads it, instead of the regular expression.
PATTERN_RULES = {
    ID_PATTERN: f"must be {ID_RULE}",
    RECIPE_NAME_PATTERN: "must be a recipe name (a file name in configs/recipes, no path)",
    USER_NAME_PATTERN: "must be a user name (lower-case letter first, up to 32 characters)",
}


def _plain(error: dict[str, Any]) -> str:
    """Pydantic's message for an error type, said the way the rest of packline says it."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    fixed = {
        "missing": "is required",
        "extra_forbidden": "is not a known field",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "model_type": "must be a JSON object",
        "dict_type": "must be a JSON object",
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s) or character(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items or characters"
    if kind == "string_pattern_mismatch":
        return PATTERN_RULES.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
    if kind == "enum":
        return f"must be {ctx.get('expected')}"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def describe(error: dict[str, Any]) -> str:
    """One pydantic error as a person reads it: ``strips must be at least 1 (got 0)``."""
    where = [str(part) for part in error.get("loc", ()) if part not in ("body", "path", "query")]
    field = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in where).lstrip(".")
    message = _plain(error)
    text = f"{field} {message}" if field and error.get("type") != "value_error" else message
    given = error.get("input")
    if error.get("type") not in ("missing", "extra_forbidden", "value_error") and not isinstance(
        given, dict | list
    ):
        shown = repr(given)
        text += f" (got {shown[:60] + '...' if len(shown) > 60 else shown})"
    return text


def _where(errors: list[dict[str, Any]]) -> str:
    kinds = {str(e.get("loc", ("body",))[0]) for e in errors}
    if kinds == {"body"}:
        return "invalid request body"
    if kinds == {"path"}:
        return "invalid path parameter"
    if kinds == {"query"}:
        return "invalid query parameter"
    return "invalid request"


def allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at the request's path, from its OpenAPI document (the router
    names only the first route that matched)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install(app: FastAPI) -> None:
    """The exception handlers of the app."""

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Any:
        status = next((s for kind, s in STATUS_OF.items() if isinstance(exc, kind)), 400)
        headers = CHALLENGE if status == 401 else {}
        if isinstance(exc, Throttled):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return refusal(status, exc.message, exc.problems, **headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        errors = list(exc.errors())
        problems = [describe(e) for e in errors]
        if any(e.get("type") == "json_invalid" for e in errors):
            return refusal(400, "malformed JSON body", problems)
        return refusal(400, f"{_where(errors)}: {problems[0]}", problems)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Any:
        where = f"{request.method} {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return refusal(404, f"no such route: {where} (see /openapi.json)")
        if exc.status_code == 405:
            allowed = ", ".join(allowed_methods(request))
            return refusal(
                405, f"{where}: method not allowed (allowed: {allowed})", [], Allow=allowed
            )
        return refusal(exc.status_code, str(exc.detail), [], **headers)

    @app.exception_handler(ResponseValidationError)
    async def _bad_answer(request: Request, exc: ResponseValidationError) -> Any:
        log.error("answer of %s %s fails its model: %s", request.method, request.url.path, exc)
        return refusal(500, "internal server error (logged by the daemon)")
