"""Sign-in for the page and other clients: a user name and password for an API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from packline.errors import NotFound, Unauthenticated
from packline.web import models as m
from packline.web.api import ERRORS, known_query_only
from packline.web.security import Authenticator, Viewer
from packline.web.throttle import SignInThrottle

#: A sign-in lasts a shift and a half; then the page asks for the password again.
SIGN_IN_LIFETIME_S = 12 * 3600.0

router = APIRouter(responses=ERRORS, tags=["users"], dependencies=[Depends(known_query_only)])

THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": m.Error,
        "description": "Too many failed sign-ins for the user name or from the address; "
        "`Retry-After` says in how many seconds to try again.",
    }
}


@router.post("/session", response_model=m.Session, status_code=201, responses=THROTTLED)
def sign_in(request: Request, body: m.SignIn) -> Any:
    """Check a user's password and answer a new API token that stands for them."""
    auth: Authenticator = request.app.state.auth
    if auth.users is None:
        raise NotFound("this daemon has no user accounts")
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client is not None else "unknown"
    throttle.check(body.user, address)
    try:
        user = auth.users.sign_in(body.user, body.password)
    except Unauthenticated:
        throttle.failed(body.user, address)
        raise
    throttle.succeeded(user.name)
    token = auth.users.issue_token(user.name, "sign-in", lifetime_s=SIGN_IN_LIFETIME_S)
    return {"user": user.name, "role": user.role, "token": token}


@router.get("/session", response_model=m.Session)
def who_am_i(user: Viewer) -> Any:
    """The user the token belongs to."""
    return {"user": user.name, "role": user.role}


@router.delete("/session", status_code=204)
def sign_out(request: Request, user: Viewer) -> None:
    """Revoke the token of the request (the daemon's own token cannot be revoked)."""
    auth: Authenticator = request.app.state.auth
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    if auth.users is not None:
        auth.users.revoke(token)
