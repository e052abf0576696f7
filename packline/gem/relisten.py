"""A passive HSMS endpoint listens again only after the dropped link is torn down.

secsgem 0.3's passive connection starts listening again from the first of its disconnect
handlers, while the receiver thread of the link that dropped is still tearing it down (the
protocol's own disconnect handling, then the connection's flags). A host that reconnects at
once is accepted meanwhile, and that teardown then lands on the new link: seen on a loaded
machine, the new select refused, the dispatcher of the new link stopped, its linktest failed,
and the listener dying on "Address already in use", which left the GEM port dead for the rest
of the daemon's life. Here the listening starts again once the old receiver thread has ended,
and once the listener thread that accepted the dropped link has closed its listening socket: a
link that drops before that thread is done with its connect handlers (a host that selects and
resets at once, on a loaded machine) would otherwise have two listener threads sharing
``_server_sock``, the old one shutting down the new one's socket (ENOTCONN) and leaving its own
bound, the new one's bind failing ("Address already in use").
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from secsgem.common.tcp_server_connection import TcpServerConnection

log = logging.getLogger("packline.gem")

#: Longest the new listener waits for the dropped link's teardown before it listens anyway.
TEARDOWN_WAIT_S = 5.0


class ListenAgain:
    """Replaces ``connection``'s listen-again-at-once disconnect handler with one that waits
    for the dropped link's receiver thread to end. :meth:`close` before disabling the
    connection: no listener is started after it (secsgem's listener thread is no daemon)."""

    def __init__(self, connection: TcpServerConnection) -> None:
        self.connection: Any = connection
        self._lock = threading.Lock()
        self._closing = False
        connection.on_disconnected.unregister(connection._disconnected)
        connection.on_disconnected.register(self._on_disconnected)

    def open(self) -> None:
        with self._lock:
            self._closing = False

    def close(self) -> None:
        with self._lock:
            self._closing = True

    def _on_disconnected(self, _: Any) -> None:
        """On the dropped link's receiver thread: wait on another thread for its end and for
        the end of the listener thread that accepted the link."""
        teardown = [threading.current_thread(), self.connection._server_thread]
        threading.Thread(
            target=self._listen_after, args=(teardown,), name="gem-listen-again", daemon=True
        ).start()

    def _listen_after(self, teardown: list[threading.Thread | None]) -> None:
        deadline_s = time.monotonic() + TEARDOWN_WAIT_S
        for thread in teardown:
            if thread is not None:
                thread.join(max(0.0, deadline_s - time.monotonic()))
        if any(thread is not None and thread.is_alive() for thread in teardown):
            log.warning(
                "GEM: the dropped link's teardown took over %gs; listening anyway",
                TEARDOWN_WAIT_S,
            )
        with self._lock:
            if not self._closing and self.connection._enabled:
                self.connection._TcpServerConnection__start_server_thread()
