"""Sign-in for the page and other clients: a user name and password for an API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from packline.errors import NotFound
from packline.web import models as m
from packline.web.api import ERRORS, known_query_only
from packline.web.security import Authenticator, Viewer

#: A sign-in lasts a shift and a half; then the page asks for the password again.
SIGN_IN_LIFETIME_S = 12 * 3600.0

router = APIRouter(responses=ERRORS, tags=["users"], dependencies=[Depends(known_query_only)])


@router.post("/session", response_model=m.Session, status_code=201)
def sign_in(request: Request, body: m.SignIn) -> Any:
    """Check a user's password and answer a new API token that stands for them."""
    auth: Authenticator = request.app.state.auth
    if auth.users is None:
        raise NotFound("this daemon has no user accounts")
    user = auth.users.sign_in(body.user, body.password)
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
