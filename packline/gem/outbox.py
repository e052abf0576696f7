"""The GEM spool: every S6F11 and S5F1 goes into the store first and is sent from there, one
at a time and in the order raised, and removed only when the host has replied.

So a message raised while the host is away (link down, or not yet back online) waits in the
store, survives a restart of the daemon, and goes out ahead of anything newer when the host
returns: E30 spooling, with the store as the spool. A message the host does not answer within
T3 stays first in line and is sent again once the link is back (E37: T3 expiry is a transaction
failure, not a link failure, so the link itself stays up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from packline.store import Store, StoreError

log = logging.getLogger("packline.gem")

RETRY_PAUSE_S = 1.0  # after a message the host did not answer
CHECK_S = 0.2  # how often a closed outbox looks whether the host can take messages again

#: ``send(stream, function, body)``: True once the host replied, False if it did not.
Sender = Callable[[int, int, Any], bool]


class Outbox:
    """Keeps messages in ``store`` and sends them with ``send`` while ``can_send()``."""

    def __init__(self, store: Store, send: Sender, can_send: Callable[[], bool]) -> None:
        self.store = store
        self._send = send
        self._can_send = can_send
        self._stopping = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="gem-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._thread.join(timeout_s)

    def put(self, stream: int, function: int, body: Any) -> None:
        """Keep a message after every earlier one; it goes out when the host can take it."""
        try:
            self.store.spool_put(stream, function, body)
        except StoreError:
            log.exception("GEM: could not spool S%dF%d; it is lost", stream, function)
            return
        self.kick()

    def kick(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def purge(self) -> int:
        return self.store.spool_purge()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and not (self._can_send() and self.store.spool_count()):
                    self._wake.wait(CHECK_S)
                if self._stopping:
                    return
            for seq, stream, function, body in self.store.spool_first(limit=50):
                if self._stopping or not self._can_send():
                    break
                if not self._send(stream, function, body):
                    log.warning("GEM: host did not answer S%dF%d #%d; kept", stream, function, seq)
                    with self._wake:
                        self._wake.wait(RETRY_PAUSE_S)
                    break
                self.store.spool_remove(seq)
