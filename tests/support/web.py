"""The daemon's web server on a free loopback port, in front of any controller, for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from packline.daemon.controller_api import ControllerAPI
from packline.store.users import Users
from packline.web.server import WebServer

TOKEN = "test-token-0123456789"


@contextmanager
def running_server(
    controller: ControllerAPI, token: str = TOKEN, users: Users | None = None
) -> Iterator[str]:
    """The web server for the block; yields its base URL."""
    with WebServer(controller, token=token, users=users) as server:
        yield server.url
