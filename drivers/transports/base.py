"""What every transport to a tool holds alike: the tool's address and name (for errors and
logs), a lock, and how its connection is closed and opened again."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import TypeVar

from drivers.errors import ConnectionLost, PacklineError

E = TypeVar("E", bound=PacklineError)


class Transport(ABC):
    """One connection to one tool at ``address``. ``lock`` (re-entrant) is held around an
    exchange of several messages, so that a poller thread and a sequence can share the link."""

    def __init__(self, address: str, *, tool: str, logger: logging.Logger | None = None) -> None:
        self.address = address
        self.tool = tool
        self.lock = threading.RLock()
        self.log = logger or logging.getLogger(f"packline.drivers.{tool}")

    @abstractmethod
    def open(self) -> None:
        """Connect (nothing if connected); :class:`ConnectionLost` names the address if not."""

    @abstractmethod
    def _drop(self) -> None:
        """Close the connection quietly (it may be gone already) and forget it."""

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def error(self, kind: type[E], message: str, sent: str = "") -> E:
        """A ``kind`` error naming this link's tool and address and what was sent."""
        return kind(message, **self.where(sent))

    def where(self, sent: str = "") -> dict[str, str]:
        """This link's tool, its address and what was sent, as every error names them."""
        return {"tool": self.tool, "address": self.address, "sent": sent}

    def _lost(self, message: str, sent: str = "") -> ConnectionLost:
        """Drop the connection: the link is gone; the error says why."""
        self._drop()
        return self.error(ConnectionLost, message, sent)

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self.lock:
            self._drop()

    def reopen(self) -> None:
        """A fresh connection (recovery after a lost link)."""
        with self.lock:
            self._drop()
            self.open()
