"""A thread per station that works until the daemon stops (status polls, reconnects): a slow
or dead tool delays only its own thread, and a stop ends them all, each join bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

#: Wall seconds :meth:`StationThreads.stop` waits for each thread (a poll or a connect in
#: progress); a thread still blocked then is a daemon thread and does not hold the exit.
JOIN_S = 5.0


class Named(Protocol):
    """A station as far as its thread is concerned: its name."""

    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=Named)


class StationThreads:
    """Threads named ``<kind>-<station>``, each running ``work(station)``; ``work`` paces
    itself with :meth:`wait`, which returns True once :meth:`stop` was called."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, station: S, work: Callable[[S], None]) -> None:
        thread = threading.Thread(
            target=work, args=(station,), name=f"{self.kind}-{station.name}", daemon=True
        )
        with self._lock:  # finished ones (a station reconnected) are dropped
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            # Started under the lock: a stop() meanwhile must not find it listed and unstarted
            # (joining it would raise "cannot join thread before it is started").
            thread.start()

    @property
    def alive(self) -> int:
        """How many of the threads are still working."""
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive())

    @property
    def kept(self) -> int:
        """How many threads are kept for :meth:`stop` to join (finished ones are dropped when
        the next one starts)."""
        with self._lock:
            return len(self._threads)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` wall s, or less if stopped meanwhile; whether stopped."""
        return self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(JOIN_S)
