"""uvicorn serving the app in a thread of the daemon, on a socket bound before it starts.

Binding first gives the real port at once (port 0: a free one) and fails early on a taken port.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time

import uvicorn

from packline.daemon.controller_api import ControllerAPI
from packline.lot_reports import LotReports
from packline.store.users import Users
from packline.web.app import create_app
from packline.web.middleware import MAX_BODY_BYTES
from packline.web.security import Authenticator

log = logging.getLogger("packline.daemon.http")

START_TIMEOUT_S = 10.0
#: Open event streams are closed after this long when the server stops.
GRACEFUL_S = 2


class WebServer:
    """The daemon's HTTP server: ``start()``, ``url``, ``stop()``."""

    def __init__(
        self,
        controller: ControllerAPI,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str,
        users: Users | None = None,
        lot_reports: LotReports | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not token or not token.strip() or token != token.strip():
            raise ValueError("the API token must be a non-empty string without surrounding spaces")
        loopback = is_loopback(host)
        auth = Authenticator(token, users, open_reads=loopback)
        self.app = create_app(
            controller, auth, lot_reports=lot_reports, max_body_bytes=max_body_bytes
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.host, self.port = (str(p) for p in self.socket.getsockname()[:2])
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_S,
            timeout_keep_alive=30,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        if not loopback:
            log.warning("HTTP API listening on %s, not only on loopback: reads need a token", host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self.socket])

    def start(self) -> WebServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server did not start on {self.url}")
            time.sleep(0.01)
        log.info("HTTP API on %s", self.url)
        return self

    def stop(self) -> None:
        self.app.state.stopping = True
        self._server.should_exit = True
        self._thread.join(GRACEFUL_S + 5)
        self.socket.close()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
