"""Who is asking: bearer tokens resolved to users, and the role a route needs.

Two kinds of token are accepted: the daemon's own token (``PACKLINE_TOKEN`` or the token file,
see :mod:`packline.daemon.auth`), which stands for the built-in engineer ``local`` (whoever can
read that file on the daemon's machine already owns the line), and the tokens of named users
kept in the store (``packline user token``, or a sign-in from the page).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from packline.errors import Forbidden, Unauthenticated
from packline.store.users import User, Users
from packline.vocabulary import ROLES, role_allows

#: The holder of the daemon's own token, as the command log names it.
LOCAL_USER = User("local", "engineer")

_bearer = HTTPBearer(
    auto_error=False, description="a token of 'packline user token' or the daemon's"
)


@dataclass
class Authenticator:
    """Tells the user from a token. ``users``: None when the daemon has no user store (tests)."""

    daemon_token: str
    users: Users | None = None
    open_reads: bool = True

    def user_of(self, token: str) -> User | None:
        if hmac.compare_digest(token.encode(), self.daemon_token.encode()):
            return LOCAL_USER
        return self.users.holder(token) if self.users is not None else None


def _user(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    auth: Authenticator = request.app.state.auth
    header = request.headers.get("authorization", "")
    if not header:
        raise Unauthenticated("missing token: send 'Authorization: Bearer <token>'")
    if credentials is None or not credentials.credentials.strip():
        raise Unauthenticated("wrong token in the Authorization header (expected 'Bearer <token>')")
    user = auth.user_of(credentials.credentials.strip())
    if user is None:
        raise Unauthenticated("wrong token in the Authorization header")
    return user


def needs(role: str) -> Callable[..., User]:
    """A dependency: the user asking, who must hold ``role`` or a higher one."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> User:
        user = _user(request, credentials)
        if not role_allows(user.role, role):
            raise Forbidden(f"user {user.name} is {user.role}: this needs the {role} role")
        return user

    return dependency


def reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """Reads are open when the daemon listens on loopback only; elsewhere they need a user."""
    if request.app.state.auth.open_reads:
        return None
    return _user(request, credentials)


Viewer = Annotated[User, Depends(needs("viewer"))]
Operator = Annotated[User, Depends(needs("operator"))]
Engineer = Annotated[User, Depends(needs("engineer"))]
Reader = Annotated[User | None, Depends(reader)]
