"""Why the controller or the store refuses a request: domain errors, not HTTP.

Each says in its message what was wrong, with every problem found in ``problems``. The HTTP
layer (:mod:`packline.web.errors`) alone maps them to statuses (400, 403, 404, 409, 429).
"""

from __future__ import annotations


class Refused(Exception):
    """A request refused; ``message`` says why, ``problems`` lists each problem found."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.message = message
        self.problems = problems or []
        super().__init__(message)


class Invalid(Refused):
    """The request itself is wrong (a bad value, a missing field, an unknown recipe)."""


class NotFound(Refused):
    """No such lot, strip, unit, station, alarm or user."""


class Conflict(Refused):
    """Well formed but not allowed now (a command in the wrong state, a lot id taken)."""


class Forbidden(Refused):
    """The user's role does not allow it (only an engineer aborts lots or changes recipes)."""


class Unauthenticated(Refused):
    """No user could be told from the request: no token, a wrong one, a wrong password."""


class Throttled(Refused):
    """Too many attempts (failed sign-ins): refused until ``retry_after_s`` seconds have passed."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
