"""Request errors of the daemon: each becomes an HTTP 4xx with a message saying what was wrong."""

from __future__ import annotations


class RequestError(Exception):
    """A request the daemon refuses; ``status`` is the HTTP status, ``problems`` the details."""

    status = 400

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.message = message
        self.problems = problems or []
        super().__init__(message)


class BadRequest(RequestError):
    status = 400


class Unauthorized(RequestError):
    status = 401


class NotFound(RequestError):
    status = 404


class Conflict(RequestError):
    """The request is well formed but not allowed now (e.g. a station command in the wrong state)."""

    status = 409
