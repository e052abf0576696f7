"""The daemon's ASGI app: the JSON API, sign-in, the operator page and its live events."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI

from packline import __version__
from packline.daemon.controller_api import ControllerAPI
from packline.lot_reports import LotReports
from packline.web import api, errors, page, reports, sessions
from packline.web.middleware import MAX_BODY_BYTES, HttpRules
from packline.web.security import Authenticator
from packline.web.throttle import SignInThrottle

DESCRIPTION = (
    "The line controller daemon of packline. Reads are open on loopback; every command needs "
    "`Authorization: Bearer <token>` of a user whose role allows it. Every refusal is "
    '`{"error": message, "problems": [...]}`.'
)


def create_app(
    controller: ControllerAPI,
    auth: Authenticator,
    *,
    lot_reports: LotReports | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    sign_in_throttle: SignInThrottle | None = None,
) -> FastAPI:
    """The app for one controller; ``auth`` tells users from tokens; ``lot_reports``: the
    reports of the daemon's store (None: the report routes answer 404); ``sign_in_throttle``:
    the bounds on failed sign-ins (None: the defaults of :mod:`packline.web.throttle`)."""
    app = FastAPI(
        title="packline daemon",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.controller = controller
    app.state.auth = auth
    app.state.reports = lot_reports
    app.state.sign_in_throttle = sign_in_throttle or SignInThrottle()
    app.state.started_monotonic = time.monotonic()
    errors.install(app)

    app.include_router(api.router)
    app.include_router(sessions.router)
    app.include_router(reports.router)
    app.include_router(page.router)
    app.mount("/static", page.static_files(), name="static")
    app.add_middleware(HttpRules, max_body_bytes=max_body_bytes)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its 422 answers replaced: validation errors are 400 here."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for methods in document["paths"].values():
            for operation in methods.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            document.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = document
    return app.openapi_schema
